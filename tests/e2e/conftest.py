"""Run the real program: `python -m console ...` as a subprocess with an isolated home."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(app_home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """cli("send", "--url", url, input=text, env={...}) -> CompletedProcess (text mode)."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 60, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
        environ["EVENT_CONSOLE_HOME"] = str(app_home)
        environ.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "console", *args], input=input, capture_output=True,
            text=True, env=environ, cwd=cwd, timeout=timeout, check=False,
        )

    return run

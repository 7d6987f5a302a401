"""`send` closes its history on a thread while it prints the lines; what closing raised
still reaches the command, after the lines are out."""

from __future__ import annotations

import threading

import pytest

from console.commands.send import _Closing
from console.services.history_schema import HistoryError


def test_what_closing_raised_is_raised_by_wait() -> None:
    ran_on: list[str] = []

    def close() -> None:
        ran_on.append(threading.current_thread().name)
        raise HistoryError("cannot write the history: disk full")

    closing = _Closing(close)
    with pytest.raises(HistoryError, match="disk full"):
        closing.wait()
    assert ran_on == ["history-close"]


def test_wait_returns_once_closing_is_done() -> None:
    done = threading.Event()
    closing = _Closing(done.set)
    closing.wait()
    assert done.is_set()


def test_ctrl_c_while_a_command_loads_exits_130_without_a_traceback(monkeypatch, capsys):
    """Ctrl+C in the first tenth of a second (httpx and rich still importing) printed a
    35-line traceback: the imports ran outside the handler."""
    import importlib

    from console import cli

    def interrupted(name: str, package: str | None = None):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib, "import_module", interrupted)
    assert cli.main(["send", "-"]) == 130
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


SIGNAL_TO_ANOTHER_THREAD = """
import asyncio, signal, threading, time
from console.commands.common import interruptible

async def sleeper():
    try:
        await asyncio.sleep(20)
        return "slept"
    except asyncio.CancelledError:
        return "cancelled"

async def main():
    other = threading.Thread(target=threading.Event().wait, args=(30,), daemon=True)
    other.start()  # as the history writer: SIGINT may be handed to it, not to the loop's
    asyncio.get_running_loop().call_later(0.2, signal.pthread_kill, other.ident, signal.SIGINT)
    return await interruptible(sleeper())

began = time.monotonic()
print(asyncio.run(main()), round(time.monotonic() - began, 1))
"""


def test_ctrl_c_handed_to_another_thread_still_wakes_the_loop():
    """`send` at Ctrl+C sometimes went on waiting for a hanging request for 30 s: the
    kernel handed SIGINT to the history writer's thread, and asyncio.run's handler waits
    for the loop's thread to run Python again. The loop's own handler wakes it."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", SIGNAL_TO_ANOTHER_THREAD],
                          capture_output=True, text=True, timeout=60, check=False,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    verdict, seconds = done.stdout.split()
    assert verdict == "cancelled" and float(seconds) < 5, done.stdout

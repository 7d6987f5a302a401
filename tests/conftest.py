"""Shared fixtures: an isolated app home, the real keyring, CI strictness."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Shared 2-core CI machines stall now and then: a per-example deadline would turn that into
# flaky failures, so properties are judged on their results only.
settings.register_profile("event-console", deadline=None, print_blob=True)
settings.load_profile("event-console")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, what: str) -> None:
    """A missing prerequisite fails the test with what to install: tests/run provides all
    of them, and a skipped test would prove nothing (locally or under CI=true)."""
    if not condition:
        where = " under CI" if IN_CI else ""
        pytest.fail(f"prerequisite missing{where}: {what}")


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """EVENT_CONSOLE_HOME in a tmp dir; no INNGEST_* variables leak in from the shell."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("EVENT_CONSOLE_HOME", str(home))
    for var in list(os.environ):
        if var.startswith("INNGEST_"):
            monkeypatch.delenv(var)
    return home


@pytest.fixture
def keyring_backend() -> Iterator[object]:
    """The real Secret Service backend (gnome-keyring in the test D-Bus session)."""
    import keyring
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    try:
        usable = backend.priority > 0
        backend.get_password("event-console-test", "probe")
    except Exception as exc:
        usable = False
        reason = f"{type(exc).__name__}: {exc}"
    else:
        reason = "SecretService backend reports no priority"
    require(usable, f"a Secret Service (run inside tests/run): {reason}")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def _session_qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """One qasync loop for the whole run: creating and closing one per test left Qt timers
    behind that fired into freed objects (a rare segfault in pytest-qt's event processing)."""
    from console.ui.loop import ConsoleEventLoop

    qapp.setQuitOnLastWindowClosed(False)
    loop = ConsoleEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def qloop(_session_qloop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop; tasks a test leaves behind are cancelled when it ends."""
    loop = _session_qloop
    asyncio.set_event_loop(loop)
    yield loop

    async def cancel_leftovers() -> None:
        current = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    loop.run_until_complete(cancel_leftovers())


@pytest.fixture
def run_async(qloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """Run a coroutine on the qasync loop (Qt events are processed while it runs)."""

    def run(coro: Coroutine[Any, Any, Any], timeout: float = 20.0) -> Any:
        return qloop.run_until_complete(asyncio.wait_for(coro, timeout))

    return run

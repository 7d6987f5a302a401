"""Qt + asyncio for widget tests: a real qasync loop on the pytest-qt QApplication."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        loop.run_until_complete(asyncio.sleep(0))
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture
def run_async(qloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """Run a coroutine on the qasync loop (Qt events are processed while it runs)."""

    def run(coro: Coroutine[Any, Any, Any], timeout: float = 20.0) -> Any:
        return qloop.run_until_complete(asyncio.wait_for(coro, timeout))

    return run


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0,
                     message: str = "condition") -> None:
    """Poll while the loop (and Qt) keep running; fail with `message` after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.02)

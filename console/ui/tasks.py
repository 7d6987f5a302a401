"""Every task started from the window has an owner that cancels it on close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


def loop_running() -> bool:
    """Qt may process events before the asyncio loop runs (boot, tests); tasks wait then."""
    try:
        return asyncio.get_event_loop().is_running()
    except RuntimeError:
        return False


class TaskOwner:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            loop = asyncio.get_event_loop()
            loop.call_exception_handler(
                {"message": f"task {task.get_name()} failed", "exception": exc, "task": task}
            )

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

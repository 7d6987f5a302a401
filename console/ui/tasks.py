"""Every task started from the window has an owner that cancels it on close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def loop_running() -> bool:
    """Qt may process events before the asyncio loop runs (boot, tests); tasks wait then."""
    try:
        return asyncio.get_event_loop().is_running()
    except RuntimeError:
        return False


async def on_daemon_thread(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` on a thread of its own that never holds the app open: a keyring read
    waits for as long as its unlock prompt is open, and on the loop's executor
    (`asyncio.to_thread`) the window's close had waited for it (the process stayed,
    unseen, until the prompt was answered). Awaiting it may be cancelled; the thread then
    ends on its own, and what it returns is dropped."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result, error = fn(*args), None
        except BaseException as exc:  # handed to the awaiting task
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name=getattr(fn, "__name__", "work"), daemon=True).start()
    return await done


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

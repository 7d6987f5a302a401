"""Work that must not hold the event loop, nor the process, on a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


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

"""The window's event loop: qasync's, with timers that go away when they are cancelled.

qasync runs each `call_later`/`call_at` handle on a Qt timer and keeps the handle (and the
timer) until the timer fires, cancelled or not. httpx schedules timeouts for every request
and cancels them a moment later, so polling 20,000 events for runs left tens of thousands
of dead handles alive for the whole timeout; the window paused 55-70 ms in each full
garbage collection over them. Here a cancelled handle stops its timer at once.

This reaches into qasync's timer table (a private attribute, checked at start): should a
future qasync change it, the loop keeps qasync's own timers and still works.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from contextvars import Context
from typing import Any

import qasync
from PySide6.QtCore import Qt, QTimerEvent

_TABLE = "_SimpleTimer__callbacks"  # qasync's {timer id: handle}


class _StoppableHandle(asyncio.Handle):
    """A handle whose `cancel()` also stops the Qt timer it waits on."""

    __slots__ = ("_timer",)

    def __init__(self, callback: Callable[..., Any], args: tuple[Any, ...],
                 loop: asyncio.AbstractEventLoop, context: Context | None = None) -> None:
        super().__init__(callback, args, loop, context=context)
        self._timer: tuple[_StoppingTimer, int] | None = None

    def cancel(self) -> None:
        timer, self._timer = self._timer, None
        super().cancel()
        if timer is not None:
            timer[0].stop_timer(timer[1], self)


class _StoppingTimer(qasync._SimpleTimer):  # type: ignore[misc]
    def add_callback(self, handle: asyncio.Handle, delay: float = 0) -> asyncio.Handle:
        # Qt's default (coarse) timers may fire up to 5 % early, and whole milliseconds
        # cut down ended a sleep before its time: a scenario's "wait": "250ms" took 239 ms
        timer_id = self.startTimer(math.ceil(max(0, delay) * 1000), Qt.TimerType.PreciseTimer)
        getattr(self, _TABLE)[timer_id] = handle
        if isinstance(handle, _StoppableHandle):
            handle._timer = (self, timer_id)
        return handle

    def stop_timer(self, timer_id: int, handle: asyncio.Handle) -> None:
        table: dict[int, asyncio.Handle] = getattr(self, _TABLE)
        if table.get(timer_id) is handle:  # not a later timer that got the same id
            del table[timer_id]
            self.killTimer(timer_id)

    def timerEvent(self, event: QTimerEvent) -> None:  # noqa: N802 - Qt's name
        handle = getattr(self, _TABLE).get(event.timerId())
        if handle is None:
            self.killTimer(event.timerId())  # stopped meanwhile: nothing to run
            return
        if isinstance(handle, _StoppableHandle):
            # qasync removes the handle once it has run; a cancel from inside its own
            # callback (anyio's timeouts do that) must leave the table to qasync.
            handle._timer = None
        super().timerEvent(event)


class ConsoleEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stoppable = isinstance(getattr(self, "_timer", None), qasync._SimpleTimer)
        if self.stoppable:
            timer = _StoppingTimer()
            self.stoppable = isinstance(getattr(timer, _TABLE, None), dict)
            if self.stoppable:
                self._timer = timer

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any,
                   context: Context | None = None) -> asyncio.Handle:
        # call_soon (delay 0) runs next: nothing to stop early; qasync refuses bad callbacks
        if (not self.stoppable or delay <= 0 or asyncio.iscoroutinefunction(callback)
                or not callable(callback)):
            return super().call_later(delay, callback, *args, context=context)  # type: ignore[no-any-return]
        handle = _StoppableHandle(callback, args, self, context=context)
        return self._add_callback(handle, delay)  # type: ignore[no-any-return]

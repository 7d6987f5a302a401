"""Sending from the window: one path for a single event and a batch.

Both end in `BatchSendPanel.start_send` (services.sender underneath), with the send log
and, when present, the history recorder listening to every request.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.core.ids import IdSeed
from console.core.plan import BatchPlan
from console.core.redact import scrub
from console.services.client import SendResult
from console.services.targets import ResolvedTarget
from console.ui.batch import BatchSendPanel
from console.ui.context import AppContext
from console.ui.send_log import LogRow, SendLogModel


class LogObserver:
    """Adds a send-log row before each request goes out and fills it in after."""

    def __init__(
        self, model: SendLogModel, resolved: ResolvedTarget, events: Sequence[Any]
    ) -> None:
        self.model = model
        self.resolved = resolved
        self.events = events
        self.rows: dict[int, int] = {}

    def on_pending(self, request_no: int, rng: range, body: bytes, seed: IdSeed) -> None:
        names = [str(self.events[i].get("name", "")) for i in rng]
        row = LogRow(self.resolved.environment.name, names, len(rng), len(body))
        self.rows[request_no] = self.model.append(row)

    def on_done(self, request_no: int, rng: range, result: SendResult) -> None:
        n = self.rows[request_no]
        row = self.model.rows[n]
        row.status, row.ids, row.latency_ms = result.status, result.ids, result.latency_ms
        row.attempts = result.attempts
        row.error = scrub(result.error, self.resolved.secrets) if result.error else None
        self.model.changed(n)


class Observers:
    """Several sender observers as one, called in order."""

    def __init__(self, *observers: Any) -> None:
        self.observers = [o for o in observers if o is not None]

    def on_pending(self, request_no: int, rng: range, body: bytes, seed: IdSeed) -> Any:
        return _all([o.on_pending(request_no, rng, body, seed) for o in self.observers])

    def on_done(self, request_no: int, rng: range, result: SendResult) -> Any:
        return _all([o.on_done(request_no, rng, result) for o in self.observers])


def _all(results: list[Any]) -> Awaitable[Any] | None:
    """One awaitable for the observers that returned one (the sender awaits it)."""
    waits = [r for r in results if inspect.isawaitable(r)]
    return asyncio.gather(*waits) if waits else None


class SendFlow(QObject):
    """Starts sends and reports how they ended (`finished(summary)`)."""

    finished = Signal(str)

    def __init__(self, context: AppContext, log: SendLogModel, panel: BatchSendPanel,
                 history_observer: Callable[..., Any] | None = None) -> None:
        super().__init__()
        self.context = context
        self.log = log
        self.panel = panel
        self.history_observer = history_observer
        self.last: LogObserver | None = None

    @property
    def sending(self) -> bool:
        return self.panel.sending

    def start(self, resolved: ResolvedTarget, events: Sequence[Any], parts: Sequence[bytes],
              plan: BatchPlan, *, concurrency: int = 1) -> asyncio.Task[Any]:
        log = LogObserver(self.log, resolved, events)
        self.last = log
        extra = self.history_observer(resolved, events, parts) if self.history_observer else None
        task = self.panel.start_send(
            self.context.client, resolved.target, parts, plan, concurrency=concurrency,
            observer=Observers(log, extra), spawn=self.context.tasks.spawn,
        )
        task.add_done_callback(lambda t: self._done(t, resolved, log))
        return task

    def _done(self, task: asyncio.Task[Any], resolved: ResolvedTarget, log: LogObserver) -> None:
        if task.cancelled():
            self.finished.emit("Send cancelled: nothing more was sent")
            return
        if task.exception() is not None:
            return
        rows = [self.log.rows[n] for n in log.rows.values()]
        accepted = sum(len(r.ids) for r in rows)
        total = sum(r.events for r in rows)
        failed = [r for r in rows if r.status != 200 or r.error]
        env = resolved.environment.name
        if failed:
            first = failed[0]
            self.finished.emit(
                f"{accepted} of {total} accepted by {env} — "
                f"{first.status or 'no answer'}: {first.error or ''}"
            )
        else:
            self.finished.emit(f"{accepted} accepted by {env}")

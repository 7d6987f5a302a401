"""Sending a batch: progress (events and bytes), Cancel, and what came of each event.

The panel is the sender's observer (`on_pending`/`on_done`/`progress`), so it can follow a
send started elsewhere, or start one itself with `start_send` and own that task (Cancel
cancels it; closing cancels it). After a partial 400 it says which events were accepted
(their ids came back), which one the server named and which were not taken, and offers
"Resend the rest"; the classification itself is `core.batch.tally`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.core.batch import RequestReport, Tally, tally
from console.core.ids import IdSeed
from console.core.plan import BatchPlan
from console.services.sender import send_events
from console.ui import rich
from console.ui.rich import clipped

Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


class _Result(Protocol):
    """The parts of `services.client.SendResult` the panel reads."""

    status: int | None
    ids: list[str]
    accepted: int
    error: str | None
    uncertain: bool

    @property
    def ok(self) -> bool: ...


def _span(rng: Sequence[int]) -> str:
    if not rng:
        return "no events"
    first, last = rng[0] + 1, rng[-1] + 1
    return f"event #{first}" if first == last else f"events #{first}–#{last}"


def _ids(ids: list[str]) -> str:
    if not ids:
        return ""
    return f" (ids {ids[0]})" if len(ids) == 1 else f" (ids {ids[0]} … {ids[-1]})"


BAR_STEPS = 1000


class BatchSendPanel(QWidget):
    """Signals: `cancel_requested()`, `resend_requested(list[int])` (0-based rows of the
    batch as it was sent), `finished(Tally)`."""

    cancel_requested = Signal()
    resend_requested = Signal(list)
    finished = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plan: BatchPlan | None = None
        self._reports: dict[int, RequestReport] = {}
        self._pending: set[int] = set()
        self._task: asyncio.Task[Any] | None = None
        self._answered = ""  # the status once the requests are answered
        self.tally: Tally | None = None

        self.events_bar = QProgressBar()
        self.bytes_bar = QProgressBar()
        for bar in (self.events_bar, self.bytes_bar):
            bar.setRange(0, 1)
            bar.setValue(0)
        self.events_label = QLabel("0 of 0 events")
        self.events_label.setTextFormat(Qt.TextFormat.PlainText)
        self.bytes_label = QLabel("0 of 0 bytes")
        self.bytes_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel("Nothing sent yet")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        rich.wrapping(self.status)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setAccessibleName("Send progress")
        self.log.setMaximumBlockCount(2000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.resend_button = QPushButton("Resend the rest")
        self.resend_button.hide()
        self.resend_button.clicked.connect(self._resend)

        grid = QGridLayout()
        grid.addWidget(QLabel("Events"), 0, 0)
        grid.addWidget(self.events_bar, 0, 1)
        grid.addWidget(self.events_label, 0, 2)
        grid.addWidget(QLabel("Bytes"), 1, 0)
        grid.addWidget(self.bytes_bar, 1, 1)
        grid.addWidget(self.bytes_label, 1, 2)
        grid.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.resend_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.log, 1)

    # -- following a send (the sender's observer) ------------------------------------------
    def start(self, plan: BatchPlan) -> None:
        """Reset for a new send of this plan."""
        self._plan = plan
        self._reports, self._pending, self.tally = {}, set(), None
        events = sum(len(r) for r in plan.requests)
        self.events_bar.setRange(0, max(events, 1))
        self.bytes_bar.setRange(0, BAR_STEPS)
        self.progress(0, 0)
        self.log.clear()
        self.resend_button.hide()
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Sending {events:,} events in {len(plan.requests):,} requests…")

    def on_pending(self, request_no: int, rng: range, body: bytes, seed: IdSeed) -> None:
        self._pending.add(request_no - 1)

    def on_done(self, request_no: int, rng: range, result: _Result) -> None:
        index = request_no - 1
        self._pending.discard(index)
        self._reports[index] = RequestReport(result.status, result.accepted, result.error,
                                             result.uncertain)
        total = len(self._plan.requests) if self._plan else request_no
        head = f"Request {request_no}/{total}: {result.status or 'no answer'} · "
        if result.ok:
            self.log.appendPlainText(head + f"{_span(rng)} accepted{_ids(result.ids)}")
            return
        taken = max(0, min(result.accepted, len(rng)))
        parts = []
        if taken:
            parts.append(f"{_span(rng[:taken])} accepted{_ids(result.ids[:taken])}")
        left = rng[taken:]
        if result.status == 400 and left:
            parts.append(f"event #{left[0] + 1} rejected: {result.error}")
            if len(left) > 1:
                parts.append(f"{_span(left[1:])} not accepted")
        elif left and result.uncertain:  # as the status and the send log say it
            parts.append(f"{_span(left)} unknown (the server may have taken them): "
                         f"{result.error}")
        elif left:
            parts.append(f"{_span(left)} not accepted: {result.error}")
        self.log.appendPlainText(head + "; ".join(parts))

    def progress(self, events_done: int, bytes_done: int) -> None:
        plan = self._plan
        events = sum(len(r) for r in plan.requests) if plan else 0
        total_bytes = plan.total_bytes if plan else 0
        self.events_bar.setValue(events_done)
        # in thousandths: whole KiB left a 135-byte send at 0 %, and an int bar ends at 2 GiB
        self.bytes_bar.setValue(bytes_done * BAR_STEPS // total_bytes if total_bytes else 0)
        self.events_label.setText(f"{events_done:,} of {events:,} events")
        self.bytes_label.setText(f"{bytes_done:,} of {total_bytes:,} bytes")

    def finish(self, *, cancelled: bool = False, error: str | None = None) -> Tally:
        """Close the send: classify every event, say so, offer to resend the rest."""
        plan = self._plan
        requests = plan.requests if plan else []
        result = tally(requests, self._reports, self._pending)
        self.tally = result
        self.cancel_button.setEnabled(False)
        done = len(result.accepted)
        lines = [f"{done:,} of {done + len(result.rest):,} events accepted"]
        if result.rejected:
            first, why = result.rejected[0]
            lines.append(f"event #{first + 1} rejected: {clipped(why)}")
        if result.not_accepted:
            lines.append(f"{len(result.not_accepted):,} not accepted")
        if result.in_flight:
            lines.append(f"{len(result.in_flight):,} were in flight when cancelled "
                         "(the server may have received them)")
        if result.uncertain:
            lines.append(f"{len(result.uncertain):,} unknown: no usable answer (the "
                         "server may have taken them)")
        if result.not_sent:
            lines.append(f"{len(result.not_sent):,} not sent"
                         + (" (cancelled)" if cancelled else ""))
        if error:
            lines.append(clipped(error))
        self.status.setText("; ".join(lines))
        self.resend_button.setText(f"Resend the rest ({len(result.rest):,})")
        self.resend_button.setVisible(bool(result.rest))
        self.finished.emit(result)
        return result

    # -- starting and cancelling a send ----------------------------------------------------------
    def start_send(
        self,
        client: Any,
        target: Any,
        parts: Sequence[bytes],
        plan: BatchPlan,
        *,
        concurrency: int = 1,
        observer: Any = None,
        spawn: Spawn = asyncio.ensure_future,
    ) -> asyncio.Task[Any]:
        """Send with `services.sender.send_events`, this panel following; returns the task.

        `observer` (e.g. the history recorder) hears every request too.
        """
        if not plan.ok:
            raise ValueError("the plan has blocked events; fix or remove them before sending")
        panel = self

        class _Both:
            """The panel follows; the observer's awaitable (if any) goes back to the sender."""

            def on_pending(self, n: int, rng: range, body: bytes, seed: IdSeed) -> Any:
                panel.on_pending(n, rng, body, seed)
                return observer.on_pending(n, rng, body, seed) if observer is not None else None

            def on_done(self, n: int, rng: range, result: Any) -> Any:
                panel.on_done(n, rng, result)
                return observer.on_done(n, rng, result) if observer is not None else None

        async def run() -> Tally:
            try:
                await send_events(client, target, parts, plan, concurrency=concurrency,
                                  observer=_Both(), progress=self.progress)
            except asyncio.CancelledError:
                self.finish(cancelled=True)
                raise
            return self.finish()

        self.start(plan)
        self._task = spawn(run())
        return self._task

    @property
    def sending(self) -> bool:
        return self._task is not None and not self._task.done()

    def lookup_started(self) -> None:
        """The requests are answered and runs are being looked up: Cancel stops that."""
        self._answered = self.status.text()
        self.status.setText(f"{self._answered} — looking up runs (Cancel stops it)…")
        self.cancel_button.setEnabled(True)

    def lookup_done(self, *, cancelled: bool = False) -> None:
        self.cancel_button.setEnabled(False)
        self.status.setText(self._answered + (" — runs lookup cancelled" if cancelled else ""))

    def cancel(self) -> None:
        """Stop: nothing more is sent; an in-flight request is aborted."""
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling…")
        self.cancel_requested.emit()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _resend(self) -> None:
        if self.tally is not None and self.tally.rest:
            self.resend_requested.emit(list(self.tally.rest))

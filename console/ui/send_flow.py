"""Sending from the window: one path for a single event and a batch.

Both end in `BatchSendPanel.start_send` (services.sender underneath), with the send log
and, when present, the history recorder listening to every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.core.dedup import (
    DedupLedger,
    Outcome,
    OutcomeKind,
    Prediction,
    dedup_id_of,
    not_taken_each,
    summary_line,
)
from console.core.errors import UserError
from console.core.ids import IdSeed
from console.core.plan import BatchPlan
from console.core.redact import scrub
from console.services.client import SendResult
from console.services.history import CANCELLED_REASON
from console.services.history_recorder import AsyncHistoryRecorder
from console.services.history_schema import HISTORY_FAILURES
from console.services.sender import Observers
from console.services.targets import ResolvedTarget, not_running_hint
from console.ui.batch import BatchSendPanel
from console.ui.context import AppContext
from console.ui.history.icons import DETAIL_LINES, event_lines, headline
from console.ui.rich import clipped
from console.ui.send_log import LogRow, SendLogModel


class HistoryOff(UserError):
    """The history failed and is now off for the session; nothing was sent."""


class LogObserver:
    """Adds a send-log row before each request goes out and fills it in after."""

    def __init__(
        self, model: SendLogModel, resolved: ResolvedTarget, events: Sequence[Any]
    ) -> None:
        self.model = model
        self.resolved = resolved
        self.events = events
        self.rows: dict[int, int] = {}
        self.ranges: dict[int, range] = {}
        self.outcomes: dict[int, dict[int, Outcome]] = {}
        self._dirty: set[int] = set()
        self._flush_handle: asyncio.TimerHandle | None = None

    def on_pending(self, request_no: int, rng: range, body: bytes, seed: IdSeed) -> None:
        names = [str(self.events[i].get("name", "")) for i in rng]
        row = LogRow(self.resolved.environment.name, names, len(rng), len(body))
        self.rows[request_no] = self.model.append(row)
        self.ranges[request_no] = rng

    def outcome(self, index: int, outcome: Outcome) -> None:
        """One event's confirmed outcome; rows are refreshed in batches (a 5,000-event
        request must not rebuild its summary 5,000 times)."""
        for request_no, rng in self.ranges.items():
            if index in rng:
                self.outcomes.setdefault(request_no, {})[index] = outcome
                self._dirty.add(request_no)
                if self._flush_handle is None:
                    loop = asyncio.get_running_loop()
                    self._flush_handle = loop.call_later(0.2, self.flush)
                return

    def flush(self) -> None:
        self._flush_handle = None
        for request_no in sorted(self._dirty):
            known = self.outcomes[request_no]
            rng = self.ranges[request_no]
            n = self.rows[request_no]
            row = self.model.rows[n]
            first = next(iter(known.values()))
            if len(rng) > 1:
                row.outcome = summary_line(known.values(), accepted=False)
            elif first.kind in (OutcomeKind.NOT_ACCEPTED, OutcomeKind.UNKNOWN) and row.error:
                row.outcome = first.kind.value  # the reason is in the Error column
            else:
                row.outcome = first.text
            row.outcome_kind = headline(o.kind.value for o in known.values())
            shown = sorted(known.items())[:DETAIL_LINES]
            row.outcome_detail = "\n".join(event_lines(
                ((i, self.events[i].get("name", ""), o.text) for i, o in shown), len(known)))
            self.model.changed(n)
        self._dirty.clear()

    def unrecorded(self, recorded: Any, why: str) -> None:
        """Requests whose history row could not be written never went out: said so (not
        "unknown", which would invite a check for a send that never happened)."""
        for request_no, n in self.rows.items():
            row = self.model.rows[n]
            if row.pending and request_no not in recorded:
                row.error = f"not sent: {why}"
                row.outcome = row.outcome_kind = OutcomeKind.NOT_ACCEPTED.value
                row.outcome_detail = f"not sent: {why}"
                self.model.changed(n)

    def cancelled(self, why: str = "the send was cancelled") -> None:
        """The send (or its runs lookup) was cancelled: answered rows say their runs were
        not looked up, and a request still in flight is "unknown" (the server may have
        received it)."""
        for n in self.rows.values():
            row = self.model.rows[n]
            if row.pending:
                row.error = CANCELLED_REASON
                row.outcome = row.outcome_kind = OutcomeKind.UNKNOWN.value
                row.outcome_detail = f"unknown: {CANCELLED_REASON}"
            elif row.ids and not row.outcome:
                row.outcome = row.outcome_kind = OutcomeKind.ACCEPTED.value
                row.outcome_detail = f"Runs were not looked up: {why}"
            else:
                continue
            self.model.changed(n)

    def on_done(self, request_no: int, rng: range, result: SendResult) -> None:
        n = self.rows[request_no]
        row = self.model.rows[n]
        row.status, row.ids, row.latency_ms = result.status, result.ids, result.latency_ms
        row.attempts = result.attempts
        row.error = scrub(result.error, self.resolved.secrets) if result.error else None
        accepted = min(len(result.ids), len(rng))
        if accepted < len(rng):  # shown with its icon now; no runs will be looked up
            known = self.outcomes.setdefault(request_no, {})
            known.update(zip(rng[accepted:], not_taken_each(result, len(rng) - accepted),
                             strict=True))
            self._dirty.add(request_no)
            self.flush()
        self.model.changed(n)


@dataclass(frozen=True, slots=True)
class SentBatch:
    """The events a send sent, as sent, and where to: "Resend the rest" picks from these
    (the batch may have changed since, or the send was the editor's or History's)."""

    env_name: str
    events: Sequence[Any]
    parts: Sequence[bytes]

    def rest(self, rows: Sequence[int]) -> tuple[list[Any], list[bytes]]:
        """The events at these rows of the send, and their bytes (nothing re-serialized)."""
        return [self.events[i] for i in rows], [self.parts[i] for i in rows]


class SendFlow(QObject):
    """Predicts dedup, sends, records history, confirms outcomes; `finished(summary)`."""

    finished = Signal(str)
    progress = Signal(str)  # a status line while the send is still going
    outcomes_known = Signal(object)  # dict[int, Outcome] of the last send

    def __init__(self, context: AppContext, log: SendLogModel, panel: BatchSendPanel) -> None:
        super().__init__()
        self.context = context
        self.log = log
        self.panel = panel
        self.last: LogObserver | None = None
        self.sent: SentBatch | None = None  # what the last send sent ("Resend the rest")
        self._busy = False
        self._task: asyncio.Task[Any] | None = None
        self._looking_up = False  # runs are looked up: the panel's Cancel stops that
        self._lookup_cancelled = False
        panel.cancel_requested.connect(self._cancel_lookup)

    @property
    def sending(self) -> bool:
        return self._busy or self.panel.sending

    async def predict(self, env_name: str, events: Sequence[Any]) -> list[Prediction]:
        """What Inngest will do with each event's `id`, from this console's history. A
        history that fails to answer is turned off for the session (HistoryOff says so)."""
        ids = [i for i in (dedup_id_of(e) for e in events) if i]
        history = self.context.history
        try:
            prior = await history.prior_sends(env_name, ids) if history and ids else []
        except HISTORY_FAILURES as exc:
            reason = await self.context.history_failed(exc)
            raise HistoryOff(f"the history could not be read ({reason}). It is off for "
                             "this session: Send goes without it") from None
        ledger = DedupLedger(prior, env=env_name)
        # off the loop: classifying 20,000 events takes longer than a frame
        return await asyncio.to_thread(ledger.classify, list(events), int(time.time() * 1000))

    def start(self, resolved: ResolvedTarget, events: Sequence[Any], parts: Sequence[bytes],
              plan: BatchPlan, *, concurrency: int = 1,
              predictions: Sequence[Prediction] | None = None) -> asyncio.Task[Any]:
        self._busy = True
        self.sent = SentBatch(resolved.environment.name, events, parts)
        self._task = self.context.tasks.spawn(
            self._run(resolved, events, parts, plan, concurrency, predictions), "send"
        )
        return self._task

    def _cancel_lookup(self) -> None:
        if self._looking_up and self._task is not None and not self._task.done():
            self._lookup_cancelled = True
            self._task.cancel()

    async def _run(self, resolved: ResolvedTarget, events: Sequence[Any],
                   parts: Sequence[bytes], plan: BatchPlan, concurrency: int,
                   predictions: Sequence[Prediction] | None) -> None:
        env = resolved.environment
        log = LogObserver(self.log, resolved, events)
        self.last = log
        recorder = None
        # the events of a big batch are long-lived: keep them out of full collections,
        # whose pauses over 20,000 events were longer than a frame
        gc.freeze()
        try:
            if predictions is None or len(predictions) != len(events):
                predictions = await self.predict(env.history_name, events)
            history = self.context.history
            if history is not None:
                recorder = AsyncHistoryRecorder(
                    history, env.history_name, parts, events=events, predictions=predictions,
                    origin=resolved.target.event_origin, branch=env.branch,
                )
            task = self.panel.start_send(
                self.context.client, resolved.target, parts, plan, concurrency=concurrency,
                observer=Observers(log, recorder), spawn=self.context.tasks.spawn,
            )
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.cancelled():
                    task.cancel()
                log.cancelled()
                self.finished.emit("Send cancelled: nothing more was sent")
                return
            self.progress.emit(f"{self._summary(resolved, log, {})} — looking up runs…")
            self._looking_up, self._lookup_cancelled = True, False
            self.panel.lookup_started()
            try:
                outcomes = await self._confirm(resolved, recorder, log, predictions)
            except asyncio.CancelledError:
                if not self._lookup_cancelled:  # the window closing: not ours to keep
                    raise
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()  # handled: later awaits here must not see it
                log.cancelled("the runs lookup was cancelled")
                self.panel.lookup_done(cancelled=True)
                self.finished.emit(f"{self._summary(resolved, log, {})} — runs lookup "
                                   "cancelled")
                return
            finally:
                self._looking_up = False
            self.panel.lookup_done()
            log.flush()
            self.finished.emit(self._summary(resolved, log, outcomes))
        except HistoryOff as exc:  # before anything went out
            self.finished.emit(f"Not sent: {exc}")
        except HISTORY_FAILURES as exc:  # the history failed mid-session
            if recorder is None and self.context.history is None:
                raise
            reason = scrub(await self.context.history_failed(exc), resolved.secrets)
            log.unrecorded(recorder.requests if recorder is not None else {},
                           "the history could not record it")
            log.cancelled(f"the history could not be written ({reason})")
            recorder = None  # nothing more to write there
            answered = sum(1 for n in log.rows.values() if self.log.rows[n].status)
            said = (f"Stopped after {answered} request{'s' if answered != 1 else ''}: the "
                    "history could not record the next" if answered
                    else "Not sent: the history could not record the send")
            self.finished.emit(f"{said} ({reason}). It is off for this session: Send goes "
                               "without it")
        finally:
            gc.unfreeze()
            self._busy = False
            if recorder is not None:
                with contextlib.suppress(*HISTORY_FAILURES):
                    await recorder.finish()

    async def _confirm(self, resolved: ResolvedTarget, recorder: AsyncHistoryRecorder | None,
                       log: LogObserver, predictions: Sequence[Prediction]) -> dict[int, Outcome]:
        if recorder is None:
            return {}
        outcomes = await recorder.confirm(
            self.context.client, resolved.rest_access, self.context.poll_policy,
            heard=lambda event, outcome: log.outcome(event.index, outcome))
        self.outcomes_known.emit(outcomes)
        return outcomes

    def _summary(self, resolved: ResolvedTarget, log: LogObserver,
                 outcomes: dict[int, Outcome]) -> str:
        rows = [self.log.rows[n] for n in log.rows.values()]
        accepted = sum(min(len(r.ids), r.events) for r in rows)
        total = sum(r.events for r in rows)
        failed = [r for r in rows if not r.answered_ok]  # a proxy's 201 took them too
        env = resolved.environment.name
        if failed:
            first = failed[0]
            hint = not_running_hint(resolved.environment, first.error, window=True)
            if hint:  # first: the status bar cuts a long line (the error is in the log)
                return f"{accepted} of {total} accepted by {env} — {hint}"
            return (f"{accepted} of {total} accepted by {env} — "
                    f"{first.status or 'no answer'}: {clipped(first.error or '')}")
        if outcomes:
            return f"{env}: {summary_line(outcomes.values())}"
        return f"{accepted} accepted by {env}"

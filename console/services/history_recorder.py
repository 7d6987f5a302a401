"""Sender observers that write every request to the history before it leaves.

`send_events(..., observer=...)` calls `on_pending` before a request goes out and `on_done`
after. `HistoryRecorder` writes synchronously on the calling thread. `AsyncHistoryRecorder`
queues the same writes on the `AsyncHistory` worker thread and returns an awaitable: a
sender that awaits it gets "committed before the request leaves" without blocking the
loop; one that ignores it still gets every write, in order.

The CLI's observer, `HistoryWriter`, is in history_writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from console.core.dedup import Outcome, Prediction, SentEvent
from console.services.history import HistoryStore, SendResultLike, Source
from console.services.history_async import AsyncHistory
from console.services.outcomes import (
    JsonGetter,
    OutcomeBatch,
    PollPolicy,
    RestAccess,
    confirm_outcomes,
)


class Recording:
    """What every recorder (these two, history_writer's) remembers of one send: requests
    and their answers."""

    def __init__(self, env_name: str, events_bytes: Sequence[bytes], *,
                 events: Sequence[Any] | None = None,
                 predictions: Sequence[Prediction | None] | None = None,
                 source: Source = "sent", scenario: str | None = None, step: str | None = None,
                 origin: str | None = None, branch: str | None = None) -> None:
        self.env_name = env_name
        self.events_bytes = events_bytes
        self.events = events  # the parsed events, when the caller has them
        self.predictions = predictions
        self.fields: dict[str, Any] = {
            "env": env_name, "source": source, "scenario": scenario, "step": step,
            "origin": origin, "branch": branch,
        }
        self.requests: dict[int, int] = {}  # request_no -> request row id
        self.done: set[int] = set()

    def pending_fields(self, request_no: int, rng: range, body: bytes | int | None,
                       seed: Any) -> dict[str, Any]:
        """record_pending's arguments; `body`: the request body or its length."""
        stored = getattr(self.predictions, "stored", None)  # history_session.LazyPredictions
        preds = (stored(rng) if stored is not None else
                 list(self.predictions[rng.start : rng.stop])
                 if self.predictions is not None else None)
        return {
            **self.fields, "events": self.events_bytes[rng.start : rng.stop],
            "request_bytes": body if not isinstance(body, bytes) else len(body),
            "seed": seed, "request_no": request_no,
            "first_index": rng.start, "predictions": preds,
            "parsed": self.events[rng.start : rng.stop] if self.events is not None else None,
        }

    def mark_unanswered(self, store: HistoryStore) -> None:
        """Requests that never got `on_done` (cancelled in flight) become "unknown"."""
        for request_no, request_id in self.requests.items():
            if request_no not in self.done:
                store.record_unknown(request_id)

    def sent_events(self, store: HistoryStore) -> list[SentEvent]:
        out: list[SentEvent] = []
        for request_no in sorted(self.done):
            for row_id, index, internal, when, dedup, name in store.accepted_events(
                    self.requests[request_no]):
                pred = (self.predictions[index]
                        if self.predictions is not None and index < len(self.predictions)
                        else None)
                out.append(SentEvent(index, internal, when, dedup, name, pred, row_id))
        return out


class HistoryRecorder(Recording):
    """Sender observer writing to a `HistoryStore` on this thread (the CLI)."""

    def __init__(self, store: HistoryStore, env_name: str, events_bytes: Sequence[bytes],
                 **options: Any) -> None:
        super().__init__(env_name, events_bytes, **options)
        self.store = store

    def on_pending(self, request_no: int, rng: range, body: bytes, seed: Any) -> None:
        fields = self.pending_fields(request_no, rng, body, seed)
        self.requests[request_no] = self.store.record_pending(**fields)

    def on_done(self, request_no: int, rng: range, result: SendResultLike) -> None:
        self.store.record_done(self.requests[request_no], result)
        self.done.add(request_no)

    def finish(self) -> None:
        """Requests that never got `on_done` (cancelled in flight) become "unknown" now."""
        self.mark_unanswered(self.store)

    def sent(self) -> list[SentEvent]:
        """Accepted events of this send, for outcome polling."""
        return self.sent_events(self.store)

    def record_outcome(self, event: SentEvent, outcome: Outcome, runs_json: str | None) -> None:
        if event.row_id is not None:
            self.store.set_outcome(event.row_id, outcome, runs_json)


class AsyncHistoryRecorder(Recording):
    """Sender observer for the event loop: writes go to the history worker thread."""

    def __init__(self, history: AsyncHistory, env_name: str, events_bytes: Sequence[bytes],
                 **options: Any) -> None:
        super().__init__(env_name, events_bytes, **options)
        self.history = history
        self._pending: dict[int, Any] = {}

    def on_pending(self, request_no: int, rng: range, body: bytes,
                   seed: Any) -> asyncio.Future[int]:
        fields = self.pending_fields(request_no, rng, body, seed)

        def write(store: HistoryStore) -> int:
            request_id = store.record_pending(**fields)
            self.requests[request_no] = request_id
            return request_id

        future = self.history.submit(write)
        self._pending[request_no] = future
        return asyncio.wrap_future(future)

    def on_done(self, request_no: int, rng: range,
                result: SendResultLike) -> asyncio.Future[None]:
        def write(store: HistoryStore) -> None:
            store.record_done(self.requests[request_no], result)  # ran after the pending write
            self.done.add(request_no)

        return asyncio.wrap_future(self.history.submit(write))

    async def finish(self) -> None:
        await self.history.run(self.mark_unanswered)

    async def sent(self) -> list[SentEvent]:
        return await self.history.run(self.sent_events)

    async def confirm(self, client: JsonGetter, access: RestAccess, policy: PollPolicy, *,
                      heard: Callable[[SentEvent, Outcome], None] | None = None,
                      ) -> dict[int, Outcome]:
        """Poll runs of this send's accepted events. Each outcome goes to `heard` and to the
        history, queued on its thread in batches (in order, never awaited one by one); what
        was heard is kept even when the polling is cancelled."""
        sent = await self.sent()
        history = self.history
        batch = OutcomeBatch(lambda rows: history.submit(lambda store: store.set_outcomes(rows)))

        def on_outcome(event: SentEvent, outcome: Outcome, runs_json: str | None) -> None:
            if heard is not None:
                heard(event, outcome)
            batch.add(event, outcome, runs_json)

        try:
            found = await confirm_outcomes(client, access, sent, policy=policy,
                                           on_outcome=on_outcome)
        finally:
            last_write = batch.flush()
        if last_write is not None:
            await asyncio.wrap_future(last_write)  # and with it every earlier write
        return found

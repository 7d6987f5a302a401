"""Confirmed outcomes: after a send, ask the REST API which runs each event started.

The send response cannot say "deduplicated": Inngest answers 200 with a fresh internal id
either way. So for each accepted event we poll `GET {rest}/v1/events/{internal_id}/runs`
until runs show up or the time budget (about 10 s) is spent, with backoff, at most N
requests in flight, and cancellable at any point. Runs appear asynchronously, and an event
may trigger several functions one after another, so after the first run is seen we look
once more (briefly) before counting.

Per event the answer is one of: `ran: N runs`; `deduplicated: no runs (first seen as <id>
at T)` when the ledger knew an earlier event with the same id; `no runs` (nothing
triggered, or not yet); `unverified` with the reason when there is no REST access (Inngest
Cloud without a signing key, an unreachable or refusing API). The signing key is only ever
sent as a bearer token: it is never recorded and is scrubbed from any message.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from console.core.dedup import Outcome, OutcomeKind, SentEvent, Verdict
from console.core.redact import scrub
from console.core.serialize import json_text

Sleep = Callable[[float], Awaitable[None]]
OnOutcome = Callable[[SentEvent, Outcome, str | None], Any]

CLOUD_REST_HOST = "api.inngest.com"
# the most a poller does without letting the loop run: seconds, events settled
STEP_SECONDS, STEP_EVENTS = 0.005, 100
MAX_RUNS_KEPT = 20


HOLDING = (429, 503)  # answers that hold every lookup back (see _Poller)


class JsonGetter(Protocol):
    """`EventApiClient.get_json`: (status, parsed JSON); (0, None) when there was no answer."""

    async def get_json(self, url: str, *, bearer: str | None = None,
                       branch: str | None = None,
                       timeout: float | None = None) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class PollPolicy:
    total: float = 10.0  # seconds, for the whole batch (events are polled side by side)
    first_delay: float = 0.3
    factor: float = 1.6
    max_delay: float = 2.0
    settle: float = 0.5  # after the first run shows up, look once more this much later
    concurrency: int = 4  # REST requests in flight at once


@dataclass(frozen=True)
class RestAccess:
    """Where runs can be looked up, or why they cannot (`origin` None and a `reason`)."""

    origin: str | None
    bearer: str | None = field(default=None, repr=False)
    branch: str | None = None
    reason: str | None = None

    @classmethod
    def for_environment(cls, *, name: str, kind: str, rest_origin: str | None,
                        branch: str | None = None, signing_key: str | None = None) -> RestAccess:
        """Dev Server and inbox need no auth; Inngest Cloud needs the signing key."""
        origin = (rest_origin or "").strip().rstrip("/")
        if not origin:
            return cls(None, reason=f"no REST API origin is set for {name}")
        cloud = kind == "cloud" or urlsplit(origin).hostname == CLOUD_REST_HOST
        if cloud and not signing_key:
            return cls(None, reason=f"no signing key for {name}: add one to confirm runs")
        return cls(origin, signing_key or None, branch)

    @classmethod
    def unavailable(cls, reason: str) -> RestAccess:
        return cls(None, reason=reason)


async def confirm_outcomes(
    getter: JsonGetter, access: RestAccess, events: Sequence[SentEvent], *,
    policy: PollPolicy = PollPolicy(), sleep: Sleep = asyncio.sleep,
    on_outcome: OnOutcome | None = None,
) -> dict[int, Outcome]:
    """Outcome per event index. `on_outcome(event, outcome, runs_json)` hears each one as it
    is known (it may return an awaitable, e.g. a history write). Cancelling stops all polls."""
    by_index = {e.index: e for e in events}
    results: dict[int, Outcome] = {}

    async def report(event: SentEvent, outcome: Outcome, runs_json: str | None) -> None:
        results[event.index] = outcome
        if on_outcome is not None:
            maybe = on_outcome(event, outcome, runs_json)
            if maybe is not None and hasattr(maybe, "__await__"):
                await maybe

    if access.origin is None:
        reason = access.reason or "no REST API access"
        for event in events:
            await report(event, Outcome(OutcomeKind.UNVERIFIED, reason=reason), None)
        return results
    poller = _Poller(getter, access, policy, sleep)
    await poller.run(events, by_index, report)
    return results


@dataclass
class _Watch:
    """One event's polling state (the scheduler keeps these in a heap by due time)."""

    event: SentEvent
    delay: float
    seen: list[Any] | None = None
    answered: bool = False
    problem: str | None = None
    done: bool = False
    refused: str | None = None


class _Poller:
    """`policy.concurrency` workers share one heap of due polls: a handful of tasks and
    timers whatever the batch size (one task per event put 20,000 timers on the Qt loop,
    all due at once), and the time budget holds (nothing is fetched after the deadline)."""

    def __init__(self, getter: JsonGetter, access: RestAccess, policy: PollPolicy,
                 sleep: Sleep) -> None:
        self.getter = getter
        self.access = access
        self.policy = policy
        self.sleep = sleep
        self.deadline = asyncio.get_running_loop().time() + policy.total
        # a 429 or 503 holds every lookup back (a rate limit is the account's, not one
        # event's) until then, or as long as its Retry-After asked; `limited` says so
        self.not_before = 0.0
        self.limited: str | None = None

    async def fetch(self, internal_id: str) -> tuple[int, Any]:
        """(status, body); a `client.RestAnswer` for a 429 or 503 (its `retry_after`)."""
        assert self.access.origin is not None
        url = f"{self.access.origin}/v1/events/{quote(internal_id, safe='')}/runs"
        # within the budget: a REST API that never answered held a send 30 s per lookup
        left = self.deadline - asyncio.get_running_loop().time()
        return await self.getter.get_json(url, bearer=self.access.bearer,
                                          branch=self.access.branch, timeout=max(left, 0.05))

    async def run(self, events: Sequence[SentEvent], by_index: dict[int, SentEvent],
                  report: Callable[[SentEvent, Outcome, str | None], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        first = loop.time() + self.policy.first_delay
        heap = [(first, e.index, _Watch(e, self.policy.first_delay)) for e in events]
        heapq.heapify(heap)
        busy = 0
        pushed = asyncio.Event()

        async def worker() -> None:
            nonlocal busy
            stepped, quick = loop.time(), 0
            while heap or busy:
                if not heap:
                    pushed.clear()
                    await pushed.wait()
                    continue
                due, order, watch = heapq.heappop(heap)
                busy += 1
                try:
                    wait = due - loop.time()
                    if wait > 0:
                        await self.sleep(wait)
                        stepped, quick = loop.time(), 0
                    # a rate limit's hold (made longer, maybe, while this one waited)
                    while ((held := self.not_before - loop.time()) > 0
                           and self.not_before < self.deadline):
                        await self.sleep(held)
                        stepped, quick = loop.time(), 0
                    # the budget holds: nothing is fetched after the deadline, nor while a
                    # rate limit holds the lookups back past it
                    if self.not_before >= self.deadline:
                        self._held_out(watch)
                    if loop.time() > self.deadline or watch.done:
                        self._out_of_time(watch, len(events))
                        quick += 1  # settled without awaiting anything: let the loop
                        if quick >= STEP_EVENTS or loop.time() - stepped > STEP_SECONDS:
                            await asyncio.sleep(0)  # run now and then (thousands left at
                            stepped, quick = loop.time(), 0  # the deadline took 190 ms)
                    else:
                        answer = await self.fetch(watch.event.internal_id)
                        status, body = answer
                        stepped, quick = loop.time(), 0
                        if status == 0 and loop.time() >= self.deadline:  # cut short by
                            self._out_of_time(watch, len(events))  # the budget
                        else:
                            self._observe(watch, status, body, loop.time(),
                                          getattr(answer, "retry_after", None))
                    if watch.done:
                        await self._finish(watch, by_index, report)
                    else:
                        heapq.heappush(heap, (loop.time() + watch.delay, order, watch))
                        pushed.set()
                finally:
                    busy -= 1
                    pushed.set()

        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, self.policy.concurrency)):
                group.create_task(worker())

    def _out_of_time(self, w: _Watch, events: int) -> None:
        """The budget is spent: runs seen so far are counted; an event never answered for
        says so (or what went wrong before)."""
        w.done = True
        if not w.answered:
            w.problem = w.problem or (
                f"not checked within {self.policy.total:g} s ({events:,} events to check)")

    def _held_out(self, w: _Watch) -> None:
        """A rate limit holds the lookups back past the deadline: an event with no runs
        seen is unverified for that reason (an empty answer before it is no verdict: runs
        usually show up after the first look)."""
        w.done = True
        if not w.seen:
            w.answered, w.problem = False, self.limited

    def _observe(self, w: _Watch, status: int, body: Any, now: float,
                 retry_after: float | None = None) -> None:
        runs = _runs_of(body) if status == 200 else None
        if status in (401, 403):
            what = ("the signing key" if self.access.bearer
                    else "to answer without a signing key")
            w.refused = f"the REST API at {self.access.origin} refused {what} ({status})"
            w.done = True
            return
        if runs is not None:
            w.answered, w.problem = True, None
        elif status == 404:
            # not stored yet: keep looking; but a 404 to the end (a wrong REST origin, an
            # event that API cannot see) confirms nothing: it had read as "no runs"
            w.problem = (f"the REST API at {self.access.origin} answered 404 (no such "
                         "event) to every lookup")
        elif status == 0:
            w.problem = f"the REST API at {self.access.origin} did not answer"
        elif status in HOLDING:
            asked = f"; it asked to wait {_wait(retry_after)}" if retry_after is not None else ""
            w.problem = self.limited = (
                f"the REST API at {self.access.origin} answered {status} "
                f"({'too many requests' if status == 429 else 'unavailable'}{asked})")
        elif status == 200:
            w.problem = (f"the REST API at {self.access.origin} answered 200 with a body "
                         "that is not a list of runs")
        else:
            w.problem = f"the REST API at {self.access.origin} answered {status}"
        if runs:
            if w.seen is not None and len(runs) == len(w.seen):
                w.done = True
                return
            w.seen, w.delay = runs, self.policy.settle
        else:
            w.delay = min(w.delay * self.policy.factor, self.policy.max_delay)
            if w.seen is not None:  # runs vanished? keep what we saw
                w.done = True
                return
        if status in HOLDING:
            held = retry_after if retry_after is not None else w.delay
            self.not_before = max(self.not_before, now + held)
            w.delay = max(w.delay, held)
            if self.not_before >= self.deadline:
                self._held_out(w)
                return
        if now + w.delay > self.deadline:
            w.done = True

    async def _finish(self, w: _Watch, by_index: dict[int, SentEvent],
                      report: Callable[[SentEvent, Outcome, str | None], Awaitable[None]]) -> None:
        event = w.event
        if w.refused is not None:
            await report(event, Outcome(OutcomeKind.UNVERIFIED, reason=self._clean(w.refused)),
                         None)
        elif w.seen:
            await report(event, Outcome(OutcomeKind.RAN, runs=len(w.seen)), _runs_json(w.seen))
        elif w.problem is not None and not w.answered:
            await report(event, Outcome(OutcomeKind.UNVERIFIED, reason=self._clean(w.problem)),
                         None)
        else:
            await report(event, _no_runs(event, by_index, self.policy.total), None)

    def _clean(self, text: str) -> str:
        return scrub(text, [self.access.bearer] if self.access.bearer else [])


OutcomeRow = tuple[int, Outcome, "str | None"]  # (history event row id, outcome, runs JSON)


class OutcomeBatch:
    """Outcomes for the history, written `size` at a time (one transaction each), not one
    transaction per event: 20,000 single-row commits kept a big send's confirmation going
    long after the polling had ended. `write` gets the rows to store; call `flush()` at
    the end (what it returns, e.g. a future, is passed through)."""

    def __init__(self, write: Callable[[list[OutcomeRow]], Any], size: int = 500) -> None:
        self.write = write
        self.size = size
        self.rows: list[OutcomeRow] = []
        self.last: Any = None

    def add(self, event: SentEvent, outcome: Outcome, runs_json: str | None) -> None:
        if event.row_id is None:
            return
        self.rows.append((event.row_id, outcome, runs_json))
        if len(self.rows) >= self.size:
            self.flush()

    def flush(self) -> Any:
        if self.rows:
            rows, self.rows = self.rows, []
            self.last = self.write(rows)
        return self.last


def _wait(seconds: float) -> str:
    """A Retry-After as said to the user: "60 s", "29.4 s", never "inf s" or "1e+09 s"."""
    if not math.isfinite(seconds) or seconds >= 86400:
        return "a day or more"
    return f"{seconds:.0f} s" if seconds >= 100 else f"{seconds:.3g} s"


def _runs_of(body: Any) -> list[Any] | None:
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, list):
            return data
        if data is None:
            return []
    if isinstance(body, list):
        return body
    return None


def _runs_json(runs: list[Any]) -> str:
    kept = [
        {k: r.get(k) for k in ("run_id", "function_id", "status", "run_started_at")
         if k in r} if isinstance(r, dict) else r
        for r in runs[:MAX_RUNS_KEPT]
    ]
    return json_text(kept, separators=(",", ":"))


def _no_runs(event: SentEvent, by_index: dict[int, SentEvent], total: float) -> Outcome:
    """No runs seen: deduplicated when the ledger knew an earlier accepted event."""
    pred = event.prediction
    if pred is not None and pred.verdict is Verdict.DUPLICATE:
        return Outcome(OutcomeKind.DEDUPLICATED, first_internal_id=pred.first_internal_id,
                       first_time_ms=pred.first_time_ms)
    if pred is not None and pred.verdict is Verdict.DUPLICATE_IN_BATCH:
        first = by_index.get(pred.first_index if pred.first_index is not None else -1)
        if first is not None:  # the first one was accepted, so this one was its duplicate
            return Outcome(OutcomeKind.DEDUPLICATED, first_internal_id=first.internal_id,
                           first_time_ms=first.time_ms)
    if pred is not None and pred.verdict is Verdict.MAYBE_DUPLICATE:
        return Outcome(OutcomeKind.DEDUPLICATED, first_time_ms=pred.first_time_ms)
    return Outcome(OutcomeKind.NO_RUNS, reason=f"none within {total:g} s")

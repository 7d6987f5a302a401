"""How the runner learns what Inngest did with a step's events.

Two ways: a history session (the dedup ledger predicts, the history records every request
before it leaves, runs are confirmed and written back), or, without a history,
`RunsVerifier`, which only looks runs up. Both say per event "ran", "deduplicated",
"no runs" or "unverified", which is what `expect.dedup` compares.

History sessions come in two kinds: the CLI's `history_session.SendSession` (synchronous
SQLite, fine in a process that only runs the scenario) and `WindowSession` here, for the
window: every read and write goes to the `AsyncHistory` worker thread and is awaited, so
the Qt loop never waits on SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol, cast

from console.core.dedup import (
    DedupLedger,
    Outcome,
    OutcomeKind,
    Prediction,
    dedup_id_of,
    request_record,
)
from console.services.client import EventApiClient
from console.services.history import now_ms
from console.services.history_async import AsyncHistory
from console.services.history_recorder import AsyncHistoryRecorder
from console.services.history_session import poll_policy_from_env
from console.services.outcomes import PollPolicy, RestAccess
from console.services.sender import RequestOutcome, SendObserver


class OutcomeVerifier(Protocol):
    """Confirms what Inngest did with each accepted event ("ran", "deduplicated", ...)."""

    async def outcomes(self, events: Sequence[Any], ids: Sequence[str],
                       seen: AbstractSet[str]) -> list[Outcome]: ...


class StepSession(Protocol):
    """History around one step's send (services.history_session.SendSession fits): records
    each request before it leaves, predicts dedup, confirms runs on demand."""

    @property
    def observer(self) -> SendObserver: ...

    async def confirm(self, client: Any, outcomes: Sequence[RequestOutcome]
                      ) -> Mapping[int, Any]: ...

    def describe(self, outcome: RequestOutcome, verified: Mapping[int, Any] | None
                 ) -> dict[str, Any]: ...

    def close(self) -> Awaitable[None] | None: ...


SessionFactory = Callable[[Sequence[Any], Sequence[bytes], str],
                          StepSession | Awaitable[StepSession]]


class WindowSession:
    """A `StepSession` on the window's `AsyncHistory`: open with `await WindowSession.open`.

    Requests are recorded (pending before they leave, then answered) with source
    "replayed" and the scenario and step names; the ledger's predictions come from the
    history; confirmed outcomes are written back as they are known."""

    def __init__(self, recorder: AsyncHistoryRecorder, predictions: Sequence[Prediction],
                 access: RestAccess, policy: PollPolicy) -> None:
        self.recorder = recorder
        self.predictions = predictions
        self.access = access
        self.policy = policy

    @property
    def observer(self) -> SendObserver:
        # on_pending's future carries the new row id (Future[int]); the sender only awaits it
        return cast(SendObserver, self.recorder)

    @classmethod
    async def open(cls, history: AsyncHistory, resolved: Any, events: Sequence[Any],
                   parts: Sequence[bytes], *, scenario: str, step: str,
                   policy: PollPolicy | None = None) -> WindowSession:
        """`resolved`: a services.targets.ResolvedTarget (environment, target, signing key)."""
        env = resolved.environment
        ids = [i for i in (dedup_id_of(e) for e in events) if i]
        prior = await history.prior_sends(env.history_name, ids) if ids else []
        predictions = DedupLedger(prior, env=env.history_name).classify(events, now_ms())
        recorder = AsyncHistoryRecorder(
            history, env.history_name, parts, events=events, predictions=predictions,
            source="replayed", scenario=scenario, step=step,
            origin=resolved.target.event_origin, branch=env.branch)
        access = RestAccess.for_environment(
            name=env.name, kind=env.kind, rest_origin=env.rest_origin, branch=env.branch,
            signing_key=resolved.signing_key)
        return cls(recorder, predictions, access, policy or poll_policy_from_env())

    async def confirm(self, client: Any, outcomes: Sequence[RequestOutcome]
                      ) -> dict[int, Outcome]:
        return await self.recorder.confirm(client, self.access, self.policy)

    def describe(self, outcome: RequestOutcome, verified: Mapping[int, Any] | None
                 ) -> dict[str, Any]:
        """`dedup` and `runs` for the events of one request, as `SendSession` gives them."""
        rng = outcome.events
        dedup = [{"verdict": p.verdict.value, "message": p.message}
                 for p in self.predictions[rng.start : rng.stop]]
        return request_record(outcome.result, rng, dedup, verified)

    async def close(self) -> None:
        """Requests that never got an answer (stopped in flight) become "unknown"."""
        await self.recorder.finish()


class RunsVerifier:
    """Looks up each event's runs (`GET /v1/events/{id}/runs`) until some appear or the
    window closes. No runs for an event whose `id` this run sent before: "deduplicated".
    Each answer is an `Outcome`, worded as a history session words it."""

    def __init__(self, client: EventApiClient, rest_origin: str, *, bearer: str | None = None,
                 window: float = 3.0, interval: float = 0.2) -> None:
        self.client = client
        self.rest_origin = rest_origin.rstrip("/")
        self.bearer = bearer
        self.window = window
        self.interval = interval

    async def outcomes(self, events: Sequence[Any], ids: Sequence[str],
                       seen: AbstractSet[str]) -> list[Outcome]:
        jobs = []
        prior = set(seen)
        for event, internal_id in zip(events, ids, strict=False):
            jobs.append(self._one(event, internal_id, frozenset(prior)))
            dedup_id = dedup_id_of(event)
            if dedup_id is not None:
                prior.add(dedup_id)
        return list(await asyncio.gather(*jobs))

    async def _one(self, event: Any, internal_id: str, seen: AbstractSet[str]) -> Outcome:
        url = f"{self.rest_origin}/v1/events/{internal_id}/runs"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window
        while True:
            status, body = await self.client.get_json(url, bearer=self.bearer)
            if status in (401, 403):
                return self._unverified(status)
            runs = body.get("data") if status == 200 and isinstance(body, dict) else None
            if isinstance(runs, list) and runs:
                return Outcome(OutcomeKind.RAN, runs=len(runs))
            if loop.time() >= deadline:
                break
            await asyncio.sleep(self.interval)
        if status != 200:
            return self._unverified(status)
        dedup_id = dedup_id_of(event)
        if dedup_id is not None and dedup_id in seen:
            return Outcome(OutcomeKind.DEDUPLICATED)
        return Outcome(OutcomeKind.NO_RUNS, reason=f"none within {self.window:g} s")

    def _unverified(self, status: int) -> Outcome:
        answer = "did not answer" if status == 0 else f"answered {status}"
        return Outcome(OutcomeKind.UNVERIFIED,
                       reason=f"the REST API at {self.rest_origin} {answer}")

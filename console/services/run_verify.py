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

from collections.abc import Awaitable, Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol, cast

from console.core.dedup import (
    DedupLedger,
    Outcome,
    Prediction,
    SentEvent,
    Verdict,
    dedup_id_of,
    request_record,
)
from console.services.client import EventApiClient
from console.services.history import now_ms
from console.services.history_async import AsyncHistory
from console.services.history_recorder import AsyncHistoryRecorder
from console.services.history_session import poll_policy_from_env
from console.services.outcomes import PollPolicy, RestAccess, confirm_outcomes
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
        return cls(recorder, predictions, resolved.rest_access, policy or poll_policy_from_env())

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
    """Looks up each event's runs as a history session does (`confirm_outcomes`: the
    environment's REST access, with its branch header and Inngest Cloud's need for a
    signing key, backoff, and the time budget over every lookup), without a history. No
    runs for an event whose `id` this run sent before: "deduplicated". It had polled on its
    own: no branch header (a branch environment's runs read "answered 404"), no check for a
    missing signing key, and 30 s per lookup whatever the budget."""

    def __init__(self, client: EventApiClient, access: RestAccess, *,
                 policy: PollPolicy | None = None) -> None:
        self.client = client
        self.access = access
        self.policy = policy or poll_policy_from_env()

    @classmethod
    def for_target(cls, client: EventApiClient, resolved: Any, *,
                   policy: PollPolicy | None = None) -> RunsVerifier:
        """`resolved`: a services.targets.ResolvedTarget (environment, signing key)."""
        return cls(client, resolved.rest_access, policy=policy)

    async def outcomes(self, events: Sequence[Any], ids: Sequence[str],
                       seen: AbstractSet[str]) -> list[Outcome]:
        sent = []
        prior = set(seen)
        when = now_ms()
        for index, (event, internal_id) in enumerate(zip(events, ids, strict=False)):
            dedup_id = dedup_id_of(event)
            again = dedup_id is not None and dedup_id in prior
            sent.append(SentEvent(index, internal_id, when, dedup_id, prediction=Prediction(
                index, dedup_id, Verdict.DUPLICATE, "sent before in this run") if again else None))
            if dedup_id is not None:
                prior.add(dedup_id)
        found = await confirm_outcomes(self.client, self.access, sent, policy=self.policy)
        return [found[event.index] for event in sent]

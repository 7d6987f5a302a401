"""One headless send, recorded and verified: what `event-console send` and `run` use.

Before the send, the dedup ledger (built from the history of this environment) predicts
what Inngest will do with each event; duplicates are announced on stderr. During the send
the recorder writes each request as pending before it leaves. After it, accepted events
are polled for runs (unless the caller skips that) and the confirmed outcome is written
back. The JSON line of each request then carries `dedup` and `runs` per event.

`EVENT_CONSOLE_VERIFY_SECONDS` sets the polling budget (default 10 s).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, overload

from console.core.dedup import (
    DedupLedger,
    Outcome,
    OutcomeKind,
    Prediction,
    dedup_id_of,
    not_taken,
    summary_line,
)
from console.core.plan import BatchPlan
from console.services.history import HistoryStore, Source, now_ms
from console.services.history_writer import HistoryWriter
from console.services.outcomes import (
    JsonGetter,
    OutcomeBatch,
    PollPolicy,
    RestAccess,
    confirm_outcomes,
)
from console.services.paths import app_paths

Notify = Callable[[str], None]
MAX_WARNINGS = 5  # duplicate warnings printed one by one; the rest are counted
_PROBE = "\x00probe"  # an id no event has: asks the ledger what a fresh id gets


def _stderr(message: str) -> None:
    print(f"event-console: {message}", file=sys.stderr)


def poll_policy_from_env() -> PollPolicy:
    raw = os.environ.get("EVENT_CONSOLE_VERIFY_SECONDS", "").strip()
    try:
        total = float(raw) if raw else PollPolicy.total
    except ValueError:
        total = PollPolicy.total
    return PollPolicy(total=max(total, 0.0))


class SendSession:
    """History, ledger and outcome polling around one `send_events` call."""

    def __init__(self, store: HistoryStore, recorder: HistoryWriter,
                 predictions: Sequence[Prediction], access: RestAccess,
                 policy: PollPolicy) -> None:
        self.store = store
        self.observer = recorder
        self.predictions = predictions
        self.access = access
        self.policy = policy
        self.outcomes: dict[int, Outcome] = {}

    @classmethod
    def open(cls, resolved: Any, events: Sequence[Any], parts: Sequence[bytes], *,
             path: Any = None, notify: Notify | None = _stderr, scenario: str | None = None,
             step: str | None = None, source: Source = "sent",
             policy: PollPolicy | None = None, plan: BatchPlan | None = None) -> SendSession:
        """`resolved` is a services.targets.ResolvedTarget (environment, target, signing key).

        `plan`: the requests about to be sent; with it the history writer prepares each
        request's rows while the one before is in flight."""
        env = resolved.environment
        store = HistoryStore(path if path is not None else app_paths().ensure().history_db,
                             handoff=True)
        for message in store.messages:
            if notify is not None:
                notify(message)
        store.apply_retention()
        ids = [dedup_id_of(e) for e in events]
        wanted = [i for i in ids if i]
        prior = store.prior_sends(env.name, wanted)
        ledger = DedupLedger(prior, env=env.name)
        predictions: Sequence[Prediction]
        if not prior and len(set(wanted)) == len(wanted):
            predictions = FreshPredictions(ids, ledger, now_ms())  # nothing can repeat
        else:
            predictions = ledger.classify(events, now_ms())
        if notify is not None:
            duplicates = ([] if isinstance(predictions, FreshPredictions)
                          else [p for p in predictions if p.duplicate])
            for p in duplicates[:MAX_WARNINGS]:
                notify(f"event #{p.index + 1}: {p.message}")
            if len(duplicates) > MAX_WARNINGS:
                notify(f"… and {len(duplicates) - MAX_WARNINGS} more events whose id repeats "
                       "one sent in the last 24 h: Inngest will start no runs for them")
        recorder = HistoryWriter(
            store, env.name, parts, events=events, predictions=predictions, source=source,
            scenario=scenario, step=step, origin=resolved.target.event_origin, branch=env.branch,
            plan=plan,
        )
        access = RestAccess.for_environment(
            name=env.name, kind=env.kind, rest_origin=env.rest_origin, branch=env.branch,
            signing_key=resolved.signing_key,
        )
        return cls(store, recorder, predictions, access, policy or poll_policy_from_env())

    async def confirm(self, client: JsonGetter, outcomes: Sequence[Any]) -> dict[int, Outcome]:
        """Poll runs of every accepted event; outcomes (by batch index) go to the history."""
        sent = self.observer.sent()  # the writer has stopped: the store is this thread's
        batch = OutcomeBatch(self.store.set_outcomes)
        try:
            found = await confirm_outcomes(client, self.access, sent, policy=self.policy,
                                           on_outcome=batch.add)
        finally:
            batch.flush()
        self.outcomes.update(found)
        return found

    def describe(self, outcome: Any, verified: dict[int, Outcome] | None) -> dict[str, Any]:
        """`dedup` and `runs` for the events of one request (a sender RequestOutcome)."""
        rng: range = outcome.events
        accepted = min(len(outcome.result.ids), len(rng))
        predictions = self.predictions
        dedup = (predictions.entries(rng) if isinstance(predictions, FreshPredictions) else
                 [{"verdict": p.verdict.value, "message": p.message}
                  for p in predictions[rng.start : rng.stop]])
        not_accepted = not_taken(outcome.result)
        ok = Outcome(OutcomeKind.ACCEPTED)
        kinds: list[Outcome] = []
        for offset, index in enumerate(rng):
            if offset >= accepted:
                kinds.append(not_accepted)
            elif verified is not None and index in verified:
                kinds.append(verified[index])
            else:
                kinds.append(ok)
        record: dict[str, Any] = {"dedup": dedup, "summary": summary_line(kinds)}
        if verified is not None:
            record["runs"] = [{"outcome": o.kind.value, "runs": o.runs, "detail": o.text}
                              for o in kinds]
        return record

    def close(self) -> None:
        try:
            self.observer.finish()
        finally:
            self.store.close()


class FreshPredictions(Sequence[Prediction]):
    """The ledger's predictions for a batch in which no id repeats, neither within the
    batch nor in the history: each event's is what the ledger says of its id alone, made
    when asked for (a 50,000-event send need not build 50,000 objects before it starts).
    tests/services/test_history_perf_paths.py checks it against `DedupLedger.classify`."""

    def __init__(self, ids: Sequence[str | None], ledger: DedupLedger, now: int) -> None:
        self.ids = ids
        fresh, none = ledger.classify_ids([_PROBE, None], now)
        self._templates = {True: fresh, False: none}
        self._entries = {has: {"verdict": p.verdict.value, "message": p.message}
                         for has, p in self._templates.items()}

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Prediction: ...
    @overload
    def __getitem__(self, index: slice) -> list[Prediction]: ...
    def __getitem__(self, index: int | slice) -> Prediction | list[Prediction]:
        if isinstance(index, slice):
            return [self._one(i) for i in range(*index.indices(len(self.ids)))]
        if index < 0:
            index += len(self.ids)
        return self._one(index)

    def _one(self, index: int) -> Prediction:
        dedup_id = self.ids[index]
        return replace(self._templates[bool(dedup_id)], index=index, dedup_id=dedup_id)

    def stored(self, rng: range) -> list[Prediction]:
        """What the history stores of each (its verdict and message): the ledger's own
        prediction for a fresh id or for none, shared, without per-event copies."""
        templates, ids = self._templates, self.ids
        return [templates[bool(ids[i])] for i in rng]

    def entries(self, rng: range) -> list[dict[str, str]]:
        """`describe`'s dedup entries (shared dicts: they are only serialized)."""
        entries, ids = self._entries, self.ids
        return [entries[bool(ids[i])] for i in rng]

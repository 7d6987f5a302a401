"""One headless send, recorded and verified: what `event-console send` and `run` use.

Before the send, the dedup ledger (built from the history of this environment) predicts
what Inngest will do with each event; duplicates are announced on stderr. During the send
the recorder writes each request as pending before it leaves. After it, accepted events
are polled for runs (unless the caller skips that) and the confirmed outcome is written
back. The JSON line of each request then carries `dedup` and `runs` per event.

`EVENT_CONSOLE_VERIFY_SECONDS` sets the polling budget (default 10 s).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, overload

from console.core.dedup import (
    DedupLedger,
    Outcome,
    Prediction,
    PriorSend,
    Verdict,
    dedup_id_of,
    name_of,
    request_record,
)
from console.core.plan import BatchPlan
from console.core.terminal import say
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


class _Warnings:
    """The duplicate warnings of one send: the first `MAX_WARNINGS` one by one, then how
    many more (said when the send closes, once all were heard)."""

    def __init__(self, notify: Notify | None) -> None:
        self.notify = notify
        self.heard = 0

    def add(self, prediction: Prediction) -> None:
        self.heard += 1
        if self.notify is not None and self.heard <= MAX_WARNINGS:
            self.notify(f"event #{prediction.index + 1}: {prediction.message}")

    def close(self) -> None:
        more = self.heard - MAX_WARNINGS
        if self.notify is not None and more > 0:
            self.notify(f"… and {more} more events whose id repeats one sent in the last "
                        "24 h: Inngest will start no runs for them")


MAX_VERIFY_SECONDS = 3600.0


def verify_seconds_from_env() -> float:
    """EVENT_CONSOLE_VERIFY_SECONDS: the runs lookup's budget, 0 to an hour; the default
    (10 s) when unset or not a number (NaN included: it made the lookup endless)."""
    raw = os.environ.get("EVENT_CONSOLE_VERIFY_SECONDS", "").strip()
    try:
        total = float(raw) if raw else PollPolicy.total
    except ValueError:
        total = PollPolicy.total
    if math.isnan(total):
        total = PollPolicy.total
    return min(max(total, 0.0), MAX_VERIFY_SECONDS)


def poll_policy_from_env() -> PollPolicy:
    return PollPolicy(total=verify_seconds_from_env())


class SendSession:
    """History, ledger and outcome polling around one `send_events` call."""

    def __init__(self, store: HistoryStore, recorder: HistoryWriter,
                 predictions: Sequence[Prediction], access: RestAccess,
                 policy: PollPolicy, warnings: _Warnings) -> None:
        self.store = store
        self.warnings = warnings
        self.observer = recorder
        self.predictions = predictions
        self.access = access
        self.policy = policy
        self.outcomes: dict[int, Outcome] = {}

    @classmethod
    def open(cls, resolved: Any, events: Sequence[Any], parts: Sequence[bytes], *,
             path: Any = None, notify: Notify | None = say, scenario: str | None = None,
             step: str | None = None, source: Source = "sent",
             policy: PollPolicy | None = None, plan: BatchPlan | None = None) -> SendSession:
        """`resolved` is a services.targets.ResolvedTarget (environment, target, signing key).

        `plan`: the requests about to be sent; with it the history writer prepares each
        request's rows while the one before is in flight."""
        env = resolved.environment
        store = HistoryStore(path if path is not None else app_paths().ensure().history_db,
                             handoff=True, upgrading=notify)
        for message in store.messages:
            if notify is not None:
                notify(message)
        store.apply_retention()
        ids = [dedup_id_of(e) for e in events]
        wanted = [i for i in ids if i]
        kept_as = env.history_name
        warnings = _Warnings(notify)
        predictions: Sequence[Prediction]
        if len(set(wanted)) == len(wanted):  # no id repeats within the batch
            predictions = LazyPredictions(
                ids, DedupLedger((), env=kept_as), now_ms(), events=events,
                lookup=functools.partial(store.prior_sends, kept_as), heard=warnings.add)
        else:
            prior = store.prior_sends(kept_as, wanted)
            predictions = DedupLedger(prior, env=kept_as).classify(events, now_ms())
            for p in predictions:
                if p.duplicate:
                    warnings.add(p)
        recorder = HistoryWriter(
            store, kept_as, parts, events=events, predictions=predictions, source=source,
            scenario=scenario, step=step, origin=resolved.target.event_origin, branch=env.branch,
            plan=plan,
        )
        return cls(store, recorder, predictions, resolved.rest_access,
                   policy or poll_policy_from_env(),
                   warnings)

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
        predictions = self.predictions
        dedup = (predictions.entries(rng) if isinstance(predictions, LazyPredictions) else
                 [{"verdict": p.verdict.value, "message": p.message}
                  for p in predictions[rng.start : rng.stop]])
        return request_record(outcome.result, rng, dedup, verified)

    def close(self) -> None:
        try:
            self.observer.finish()
        finally:
            self.warnings.close()
            self.store.close()


class LazyPredictions(Sequence[Prediction]):
    """The ledger's predictions for a batch in which no id repeats within the batch.

    An event's prediction is the ledger's for its id alone, made when asked for (a
    50,000-event send need not build 50,000 objects before it starts). `lookup` (ids ->
    the history's earlier sends with those ids, a `HistoryStore.prior_sends`) is asked one
    request at a time, by `stored`, which whoever writes a request's rows calls just
    before writing them: for the CLI the history writer, while the request before is in
    flight, so a send no longer waits at its start for every id to be looked up (30 ms
    for 20,000 ids). An id found there gets the ledger's verdict against that send, and
    each duplicate goes to `heard` (the warnings) before its request leaves. No request
    leaves before its rows are written, so every event sent was looked up; one never
    looked up (its request never left) keeps the verdict of a fresh id.
    tests/services/test_history_perf_paths.py checks it against `DedupLedger.classify`."""

    def __init__(self, ids: Sequence[str | None], ledger: DedupLedger, now: int, *,
                 events: Sequence[Any] | None = None,
                 lookup: Callable[[list[str]], Sequence[PriorSend]] | None = None,
                 heard: Callable[[Prediction], None] | None = None) -> None:
        self.ids = ids
        self.ledger = ledger
        self.now = now
        self.events = events
        self.lookup = lookup
        self.heard = heard
        self._looked = bytearray(len(ids) if lookup is not None else 0)
        self._found: dict[int, Prediction] = {}  # index -> a verdict other than "new"
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
        found = self._found.get(index)
        if found is not None:
            return found
        dedup_id = self.ids[index]
        return replace(self._templates[bool(dedup_id)], index=index, dedup_id=dedup_id)

    def stored(self, rng: range) -> list[Prediction]:
        """What the history stores of each (its verdict and message), the events of `rng`
        looked up first: the ledger's own prediction for a fresh id or for none, shared,
        without per-event copies, and the verdict found for the others."""
        if self.lookup is not None:
            self._look_up(rng, self.lookup)
        templates, ids, found = self._templates, self.ids, self._found
        if not found:
            return [templates[bool(ids[i])] for i in rng]
        return [found.get(i) or templates[bool(ids[i])] for i in rng]

    def entries(self, rng: range) -> list[dict[str, str]]:
        """`describe`'s dedup entries (shared dicts: they are only serialized)."""
        entries, ids, found = self._entries, self.ids, self._found
        if not found:
            return [entries[bool(ids[i])] for i in rng]
        return [entries[bool(ids[i])] if i not in found else
                {"verdict": found[i].verdict.value, "message": found[i].message}
                for i in rng]

    def _look_up(self, rng: range, lookup: Callable[[list[str]], Sequence[PriorSend]]) -> None:
        looked, ids = self._looked, self.ids
        todo = [i for i in rng if not looked[i] and ids[i]]
        wanted = [dedup_id for i in todo if (dedup_id := ids[i])]
        for i in rng:
            looked[i] = 1
        prior = lookup(wanted) if wanted else ()
        if not prior:
            return
        ledger = DedupLedger(prior, env=self.ledger.env, window_ms=self.ledger.window_ms)
        events = self.events
        names = [name_of(events[i]) for i in todo] if events is not None else None
        for found in ledger.classify_ids(wanted, self.now, names, positions=todo):
            if found.verdict is not Verdict.NEW:
                self._found[found.index] = found
                if self.heard is not None and found.duplicate:
                    self.heard(found)

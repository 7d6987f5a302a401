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
from typing import Any

from console.core.dedup import DedupLedger, Outcome, OutcomeKind, Prediction, summary_line
from console.services.history import HistoryStore, Source, now_ms
from console.services.history_recorder import HistoryRecorder
from console.services.outcomes import JsonGetter, PollPolicy, RestAccess, confirm_outcomes
from console.services.paths import app_paths

Notify = Callable[[str], None]
MAX_WARNINGS = 5  # duplicate warnings printed one by one; the rest are counted


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

    def __init__(self, store: HistoryStore, recorder: HistoryRecorder,
                 predictions: list[Prediction], access: RestAccess,
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
             policy: PollPolicy | None = None) -> SendSession:
        """`resolved` is a services.targets.ResolvedTarget (environment, target, signing key)."""
        env = resolved.environment
        store = HistoryStore(path if path is not None else app_paths().ensure().history_db)
        for message in store.messages:
            if notify is not None:
                notify(message)
        store.apply_retention()
        ids = [e.get("id") for e in events if isinstance(e, dict)]
        ledger = DedupLedger(store.prior_sends(env.name, [i for i in ids if isinstance(i, str)]),
                             env=env.name)
        predictions = ledger.classify(events, now_ms())
        if notify is not None:
            duplicates = [p for p in predictions if p.duplicate]
            for p in duplicates[:MAX_WARNINGS]:
                notify(f"event {p.index}: {p.message}")
            if len(duplicates) > MAX_WARNINGS:
                notify(f"… and {len(duplicates) - MAX_WARNINGS} more events whose id repeats "
                       "one sent in the last 24 h: Inngest will start no runs for them")
        recorder = HistoryRecorder(
            store, env.name, parts, events=events, predictions=predictions, source=source,
            scenario=scenario, step=step, origin=resolved.target.event_origin, branch=env.branch,
        )
        access = RestAccess.for_environment(
            name=env.name, kind=env.kind, rest_origin=env.rest_origin, branch=env.branch,
            signing_key=resolved.signing_key,
        )
        return cls(store, recorder, predictions, access, policy or poll_policy_from_env())

    async def confirm(self, client: JsonGetter, outcomes: Sequence[Any]) -> dict[int, Outcome]:
        """Poll runs of every accepted event; outcomes (by batch index) go to the history."""
        sent = self.observer.sent()
        found = await confirm_outcomes(client, self.access, sent, policy=self.policy,
                                       on_outcome=self.observer.record_outcome)
        self.outcomes.update(found)
        return found

    def describe(self, outcome: Any, verified: dict[int, Outcome] | None) -> dict[str, Any]:
        """`dedup` and `runs` for the events of one request (a sender RequestOutcome)."""
        rng: range = outcome.events
        accepted = min(len(outcome.result.ids), len(rng))
        dedup = [{"verdict": self.predictions[i].verdict.value,
                  "message": self.predictions[i].message} for i in rng]
        kinds: list[Outcome] = []
        for offset, index in enumerate(rng):
            if offset >= accepted:
                kinds.append(Outcome(OutcomeKind.NOT_ACCEPTED, reason=outcome.result.error))
            elif verified is not None and index in verified:
                kinds.append(verified[index])
            else:
                kinds.append(Outcome(OutcomeKind.ACCEPTED))
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

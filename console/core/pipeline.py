"""Text to planned requests: the one path the window, `send` and the runner share.

parse with positions -> validate (envelope + event schema) -> serialize each event once ->
plan requests within the environment's limits. "Once" is literal: validation measures each
event by serializing it and hands those bytes over (`Report.parts`), and they are the
bytes that go on the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from console.core.plan import BatchPlan, plan_requests
from console.core.problems import Problem, ProblemList
from console.core.serialize import event_bytes
from console.core.validation import validate_text


@dataclass
class PreparedSend(ProblemList):
    events: list[Any]
    parts: list[bytes]
    plan: BatchPlan
    problems: list[Problem] = field(default_factory=list)

    @property
    def sendable(self) -> bool:
        return not self.errors and bool(self.events) and self.plan.ok


def prepare_events(
    events: Sequence[Any], *, request_limit: int, event_limit: int,
    parts: Sequence[bytes] | None = None,
) -> PreparedSend:
    """Serialize (unless `parts`, the events' bytes, are given) and plan."""
    made = [event_bytes(event) for event in events] if parts is None else list(parts)
    plan = plan_requests(
        [len(p) for p in made], request_limit=request_limit, event_limit=event_limit
    )
    return PreparedSend(list(events), made, plan)


def prepare_text(
    text: str, *, request_limit: int, event_limit: int, jsonl: bool = False,
    schemas: Any = None,
) -> PreparedSend:
    report = validate_text(text, event_limit=event_limit, schemas=schemas, jsonl=jsonl,
                           request_limit=request_limit)
    if report.blocking:
        empty = plan_requests([], request_limit=request_limit, event_limit=event_limit)
        return PreparedSend([], [], empty, list(report.problems))
    parts = [p for p in report.parts if p is not None]  # all of them: no error above
    prepared = prepare_events(
        report.events, request_limit=request_limit, event_limit=event_limit,
        parts=parts if len(parts) == len(report.events) else None,
    )
    prepared.problems = list(report.problems)
    return prepared

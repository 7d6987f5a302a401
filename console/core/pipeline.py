"""Text to planned requests: the one path the window, `send` and the runner share.

parse with positions -> validate (envelope + event schema) -> serialize each event once ->
plan requests within the environment's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from console.core.plan import BatchPlan, plan_requests
from console.core.problems import Problem, Severity
from console.core.serialize import event_bytes
from console.core.validation import validate_text


@dataclass
class PreparedSend:
    events: list[Any]
    parts: list[bytes]
    plan: BatchPlan
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def sendable(self) -> bool:
        return not self.errors and bool(self.events) and self.plan.ok


def prepare_events(
    events: Sequence[Any], *, request_limit: int, event_limit: int
) -> PreparedSend:
    parts = [event_bytes(event) for event in events]
    plan = plan_requests(
        [len(p) for p in parts], request_limit=request_limit, event_limit=event_limit
    )
    return PreparedSend(list(events), parts, plan)


def prepare_text(
    text: str, *, request_limit: int, event_limit: int, jsonl: bool = False,
    schemas: Any = None,
) -> PreparedSend:
    report = validate_text(text, event_limit=event_limit, schemas=schemas, jsonl=jsonl)
    if any(p.severity is Severity.ERROR for p in report.problems):
        empty = plan_requests([], request_limit=request_limit, event_limit=event_limit)
        return PreparedSend([], [], empty, list(report.problems))
    prepared = prepare_events(report.events, request_limit=request_limit, event_limit=event_limit)
    prepared.problems = list(report.problems)
    return prepared

"""Check a text the user wants to send: syntax, envelope rules, event schemas, sizes.

The one function the editor, the CLI `validate` command and the send path share, so the
underline, the `FILE:LINE:COL` line and the blocked Send agree. Every problem is anchored
to the characters of the offending value (pointer `/i/data/...` for the event at index i
of an array or of a JSON Lines file); a rule about something missing points at the
first character of the object that lacks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from console.core.envelope import check_event
from console.core.positions import LineIndex, ParsedDocument, parse_with_positions
from console.core.problems import Problem, Severity
from console.core.schemas import SchemaLibrary, data_errors
from console.core.serialize import event_bytes

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
TOP_LEVEL_MESSAGE = "Request body must contain an event object or an array of event objects"


@dataclass
class Report:
    """What `validate_text` found; `events`/`sizes` are the event objects in order."""

    value: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sizes: list[int | None] = field(default_factory=list)  # compact bytes, None if unmeasurable

    @property
    def blocking(self) -> bool:
        """True when an ERROR would make Inngest reject the request (Send is blocked)."""
        return any(p.severity is Severity.ERROR for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


class _Checker:
    """Checks events of one parsed document whose text starts at `base` of the whole."""

    def __init__(self, report: Report, lines: LineIndex, *, event_limit: int,
                 schemas: SchemaLibrary | None, env_name: str | None) -> None:
        self.report, self.lines = report, lines
        self.event_limit, self.schemas, self.env_name = event_limit, schemas, env_name

    def add(self, problem: Problem, base: int, prefix: str = "") -> None:
        start, end = problem.start + base, problem.end + base
        line, col = self.lines.line_col(start)
        self.report.problems.append(Problem(problem.message, problem.severity, start, end,
                                            line, col, prefix + problem.pointer))

    def locate(self, doc: ParsedDocument, base: int, pointer: str, message: str,
               severity: Severity, prefix: str = "") -> None:
        found = doc.nearest(pointer)
        start, end = (0, 0) if found is None else found[1]
        if found is not None and found[0] != pointer:
            end = start + 1  # something missing: point at the start of its parent
        self.add(Problem(message, severity, start, end, pointer=pointer), base, prefix)

    def event(self, doc: ParsedDocument, base: int, pointer: str, item: Any,
              prefix: str = "") -> None:
        size: int | None = None
        if isinstance(item, dict):
            try:
                size = len(event_bytes(item))
            except (RecursionError, ValueError):
                size = None  # check_event says why
        for at, message, severity in check_event(item, pointer=pointer,
                                                 event_limit=self.event_limit,
                                                 env_name=self.env_name, size=size):
            self.locate(doc, base, at, message, severity, prefix)
        if not isinstance(item, dict):
            return
        self.report.events.append(item)
        self.report.sizes.append(size)
        name, version, data = item.get("name"), item.get("v"), item.get("data", {})
        if self.schemas is None or not isinstance(name, str) or not isinstance(data, dict):
            return
        entry = self.schemas.entry_for(name, version if isinstance(version, str) else None)
        if entry is None:
            return
        for error in data_errors(entry, data):
            self.locate(doc, base, f"{pointer}/data{error.pointer}", error.message,
                        Severity.WARNING, prefix)

    def document(self, doc: ParsedDocument, base: int = 0, *, line_no: int | None = None) -> Any:
        """Check one parsed text; in JSON Lines (`line_no`) it must hold one event."""
        prefix = "" if line_no is None else f"/{line_no}"
        if doc.error is not None:
            self.add(doc.error, base, prefix)
            return None
        for warning in doc.warnings:
            self.add(warning, base, prefix)
        value = doc.value
        if isinstance(value, list) and line_no is None:
            if not value:
                self.locate(doc, base, "", "The array is empty: there is no event to send",
                            Severity.ERROR)
            for i, item in enumerate(value):
                self.event(doc, base, f"/{i}", item)
        elif isinstance(value, dict):
            self.event(doc, base, "", value, prefix)
        else:
            message = (TOP_LEVEL_MESSAGE if line_no is None
                       else "Each line of a JSON Lines file must hold one event object")
            self.locate(doc, base, "", message, Severity.ERROR, prefix)
        return value


def validate_text(text: str, *, event_limit: int, schemas: SchemaLibrary | None = None,
                  jsonl: bool = False, env_name: str | None = None) -> Report:
    """Parse and check `text` (one event, an array of events, or JSON Lines)."""
    report = Report(None)
    checker = _Checker(report, LineIndex(text), event_limit=event_limit, schemas=schemas,
                       env_name=env_name)
    if not jsonl:
        report.value = checker.document(parse_with_positions(text))
    else:
        values: list[Any] = []
        for match in _LINE.finditer(text):
            line = match.group().rstrip("\r\n")
            if line.strip():
                doc = parse_with_positions(line)
                values.append(checker.document(doc, match.start(), line_no=len(values)))
            if match.end() >= len(text):
                break
        report.value = values
        if not values:
            checker.add(Problem("The file holds no events (JSON Lines: one event per line)"), 0)
    report.problems.sort(key=lambda p: (p.start, p.severity is not Severity.ERROR, p.message))
    return report

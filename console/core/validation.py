"""Check a text the user wants to send: syntax, envelope rules, event schemas, sizes.

The one function the editor, the CLI `validate` command and the send path share, so the
underline, the `FILE:LINE:COL` line and the blocked Send agree. Every problem is anchored
to the characters of the offending value (pointer `/i/data/...` for the event at index i
of an array or of a JSON Lines file); a rule about something missing points at the
first character of the object that lacks it.

Why it is fast on a valid 50,000-event file: the value comes from `json.loads` (the
positions of `parse_with_positions` are found lazily, only for a problem), the line index
is built only when a problem needs a line:col, each event is serialized once here (the
bytes travel on in `Report.parts`, so the send path never serializes again), and an event
that plainly breaks no envelope rule skips the full `check_event` walk (`_plainly_valid`
is exactly "check_event would say nothing"; tests/core/test_validation_fast.py proves it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from console.core.envelope import (
    KNOWN_FIELDS,
    MAX_NAME_LENGTH,
    RESERVED_PREFIX,
    TS_MAX,
    TS_MIN,
    as_read,
    check_event,
    has_lone_surrogate,
    huge_integer_at,
)
from console.core.positions import (
    LineIndex,
    ParsedDocument,
    escape_token,
    parse_with_positions,
    pointer_tokens,
)
from console.core.problems import Problem, ProblemList, Severity
from console.core.serialize import event_bytes

if TYPE_CHECKING:  # jsonschema costs ~80 ms to import: only a check with schemas pays it
    from console.core.schemas import SchemaLibrary

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_OPENER_ON_LINE_1 = "' at 1:"  # in "'{' at 1:7 is never closed"
# a JSON string that is one placeholder and nothing else: "{{ now_ms() }}"
_WHOLE_PLACEHOLDER = re.compile(r'"[ \t]*\{\{(?:(?!\}\})[^"\\]|\\.)*\}\}[ \t]*"')
TOP_LEVEL_MESSAGE = "Request body must contain an event object or an array of event objects"
_KNOWN = frozenset(KNOWN_FIELDS)


@dataclass
class Report(ProblemList):
    """What `validate_text` found; `events`/`sizes`/`parts` are the event objects in order.

    `parts[i]` is the compact UTF-8 JSON of `events[i]` (`serialize.event_bytes`), None
    when it cannot be serialized (then an ERROR says why); `sizes[i]` is its length."""

    value: Any
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sizes: list[int | None] = field(default_factory=list)  # compact bytes, None if unmeasurable
    parts: list[bytes | None] = field(default_factory=list)



class _Checker:
    """Checks events of one parsed document whose text starts at `base` of the whole."""

    def __init__(self, report: Report, text: str, *, event_limit: int,
                 schemas: SchemaLibrary | None, env_name: str | None,
                 request_limit: int | None = None) -> None:
        self.report, self.text = report, text
        self.event_limit, self.schemas, self.env_name = event_limit, schemas, env_name
        self.request_limit = request_limit
        # the largest event that travels: within the per-event limit, and in a request
        # of its own (`[` and `]` around it) within the request limit
        self.sendable = (event_limit if request_limit is None
                         else min(event_limit, request_limit - 2))
        self._lines: LineIndex | None = None

    @property
    def lines(self) -> LineIndex:
        """Built on the first problem: a clean 50 MB file never pays for it."""
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def add(self, problem: Problem, base: int, prefix: str = "") -> None:
        start, end = problem.start + base, problem.end + base
        line, col = self.lines.line_col(start)
        self.report.problems.append(Problem(problem.message, problem.severity, start, end,
                                            line, col, prefix + problem.pointer,
                                            problem.from_schema))

    def locate(self, doc: ParsedDocument, base: int, pointer: str, message: str,
               severity: Severity, prefix: str = "", *, from_schema: bool = False) -> None:
        found = doc.nearest(pointer)
        start, end = (0, 0) if found is None else found[1]
        if found is not None and found[0] != pointer:
            end = start + 1  # something missing: point at the start of its parent
        elif pointer and has_lone_surrogate(pointer_tokens(pointer)[-1]):
            # the member's key is what is wrong ("\ud800": 1): underline it, not the value
            start, end = doc.key_span(pointer) or (start, end)
        self.add(Problem(message, severity, start, end, pointer=pointer,
                         from_schema=from_schema), base, prefix)

    def event(self, doc: ParsedDocument, base: int, pointer: str, item: Any,
              prefix: str = "") -> None:
        size: int | None = None
        part: bytes | None = None
        is_object = isinstance(item, dict)
        if is_object:
            try:
                part = event_bytes(item)
                size = len(part)
            except (RecursionError, ValueError):
                pass  # check_event says why
        if not (is_object and _plainly_valid(item, size, self.sendable)
                and part is not None and huge_integer_at(part, item) is None):
            for at, message, severity in check_event(item, pointer=pointer,
                                                     event_limit=self.event_limit,
                                                     env_name=self.env_name, size=size,
                                                     part=part,
                                                     request_limit=self.request_limit):
                self.locate(doc, base, at, message, severity, prefix)
        if not is_object:
            return
        self.report.events.append(item)
        self.report.sizes.append(size)
        self.report.parts.append(part)
        if self.schemas is None:
            return
        fields, keys = as_read(item)  # "Data" is the data the server reads
        name, version, data = fields.get("name"), fields.get("v"), fields.get("data", {})
        if not isinstance(name, str) or not isinstance(data, dict):
            return
        entry = self.schemas.entry_for(name, version if isinstance(version, str) else None)
        if entry is None:
            return
        from console.core.schemas import data_errors

        for error in data_errors(entry, data):
            data_key = escape_token(keys.get("data", "data"))
            self.locate(doc, base, f"{pointer}/{data_key}{error.pointer}", error.message,
                        Severity.WARNING, prefix, from_schema=True)

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
                  jsonl: bool = False, env_name: str | None = None,
                  request_limit: int | None = None) -> Report:
    """Parse and check `text` (one event, an array of events, or JSON Lines); with
    `request_limit`, an event no request can carry is an error too."""
    report = Report(None)
    checker = _Checker(report, text, event_limit=event_limit, schemas=schemas,
                       env_name=env_name, request_limit=request_limit)
    if not jsonl:
        report.value = checker.document(parse_with_positions(text))
    else:
        values: list[Any] = []
        for number, match in enumerate(_LINE.finditer(text), start=1):
            line = match.group().rstrip("\r\n")
            if line.strip():
                doc = parse_with_positions(line)
                if doc.error is not None and _OPENER_ON_LINE_1 in doc.error.message:
                    # parsed alone, the line is line 1: its opener is on this file's line
                    doc.error = replace(doc.error, message=doc.error.message.replace(
                        _OPENER_ON_LINE_1, f"' at {number}:", 1))
                values.append(checker.document(doc, match.start(), line_no=len(values)))
            if match.end() >= len(text):
                break
        report.value = values
        if not values:
            checker.add(Problem("The file holds no events (JSON Lines: one event per line)"), 0)
    report.problems.sort(key=lambda p: (p.start, p.severity is not Severity.ERROR, p.message))
    return report


def whole_placeholder_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` has a string value that is one placeholder, quotes included."""
    return [m.span() for m in _WHOLE_PLACEHOLDER.finditer(text)] if "{{" in text else []


def without_placeholder_types(text: str, problems: list[Problem]) -> list[Problem]:
    """`problems` less those about a value that is one placeholder (`"ts": "{{ now_ms()
    }}"`): Send renders it first, to a value of the expression's own type (an integer
    there), and checks what it renders. Anything else about the text still counts."""
    spans = whole_placeholder_spans(text)
    if not spans:
        return problems
    return [p for p in problems
            if not any(start <= p.start and p.end <= end for start, end in spans)]


def _plainly_valid(event: dict[str, Any], size: int | None, event_limit: int) -> bool:
    """True only when `check_event(event, size=size, ...)` would return no issue at all.

    The common case costs a few dict lookups instead of the full rule walk; anything
    unusual (a missing or odd field, a ts, whitespace, an unknown key) returns False and
    takes the full path, which finds the messages."""
    if size is None or size > event_limit or not _KNOWN.issuperset(event):
        return False
    name = event.get("name")
    if (not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH
            or name != name.strip() or name.lower().startswith(RESERVED_PREFIX)):
        return False
    if "data" in event:
        data = event["data"]
        if not isinstance(data, dict) or "inngest" in data:
            return False
    user = event.get("user")
    if user is not None and not isinstance(user, dict):
        return False
    for key in ("id", "v"):
        value = event.get(key)
        if value is not None and not isinstance(value, str):
            return False
    ts = event.get("ts")
    if ts is None:
        return True
    return (isinstance(ts, int) and not isinstance(ts, bool)
            and (ts == 0 or TS_MIN <= ts <= TS_MAX))

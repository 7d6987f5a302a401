"""Templates and scenarios as documents: the model, its validation, expectation checks.

Why a model and not raw dicts: files are written back in one stable key order (the order
of these classes), and every problem must point at `FILE:LINE:COL` before anything is sent.
Positions come from `positions.parse_with_positions`; a problem inside a string that holds
a placeholder points at the placeholder itself, escapes in the JSON string accounted for.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.core.envelope import (
    as_read,
    has_lone_surrogate,
    lone_surrogate_message,
    too_deep_message,
)
from console.core.errors import InputError
from console.core.positions import escape_token, parse_with_positions, pointer_tokens
from console.core.problems import FileProblem, Severity
from console.core.serialize import pretty
from console.core.sourcemap import SourceMap
from console.core.template import TemplateEngine, has_template_marks

FORMAT_TEMPLATE = "event-console/template@1"
FORMAT_SCENARIO = "event-console/scenario@1"
EVENT_KEYS = ("name", "data", "id", "ts", "v", "user")
DEDUP_OUTCOMES = ("ran", "deduplicated", "no runs", "unverified")
STEP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
WAIT = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m)\Z")  # as the schema: not "١٠s"
MAX_REPEAT = 10_000
MAX_WAIT_MS = 3_600_000


def ordered_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event's fields in envelope order (name, data, id, ts, v, user), others after."""
    out = {key: event[key] for key in EVENT_KEYS if key in event}
    out.update((k, v) for k, v in event.items() if k not in out)
    return out


@dataclass
class EventTemplate:
    """A named event whose string values may hold placeholders."""

    name: str
    event: dict[str, Any]
    description: str = ""
    tags: list[str] = field(default_factory=list)
    source: SourceMap | None = field(default=None, repr=False, compare=False)

    @property
    def event_name(self) -> str:
        name = self.event.get("name")
        return name if isinstance(name, str) else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_TEMPLATE, "name": self.name, "description": self.description,
            "tags": list(self.tags), "event": ordered_event(self.event),
        }


@dataclass(frozen=True)
class Expect:
    status: int | None = None
    accepted: int | None = None
    dedup: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("status", "accepted", "dedup"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class TemplateRef:
    template: str
    overrides: dict[str, Any]
    pointer: str


@dataclass(frozen=True)
class InlineEvent:
    event: Any
    pointer: str


SendItem = TemplateRef | InlineEvent


@dataclass
class SendStep:
    items: list[SendItem]
    raw: Any  # the "send" value as written, kept for writing the file back
    name: str | None = None
    repeat: int = 1
    expect: Expect | None = None
    pointer: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"send": self.raw}
        if self.name is not None:
            out["as"] = self.name
        if self.repeat != 1:
            out["repeat"] = self.repeat
        if self.expect is not None:
            out["expect"] = self.expect.to_json()
        return out


@dataclass
class WaitStep:
    millis: int
    text: str
    pointer: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"wait": self.text}


Step = SendStep | WaitStep


def step_label(step: Step, index: int) -> str:
    if isinstance(step, SendStep) and step.name:
        return step.name
    return f"step {index + 1}" if isinstance(step, SendStep) else f"wait {index + 1}"


@dataclass
class Scenario:
    name: str
    steps: list[Step]
    description: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    source: SourceMap | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_SCENARIO, "name": self.name, "description": self.description,
            "vars": self.vars, "steps": [step.to_json() for step in self.steps],
        }

    def templates_used(self) -> set[str]:
        return {item.template for step in self.steps if isinstance(step, SendStep)
                for item in step.items if isinstance(item, TemplateRef)}


def one_step_scenario(name: str, events: Sequence[Any], variables: Mapping[str, Any], *,
                      description: str = "") -> dict[str, Any]:
    """The document of a scenario that sends `events` in one step named "send" (one event
    as an object, several as an array), in the order `Scenario.to_json` writes."""
    return {
        "format": FORMAT_SCENARIO, "name": name, "description": description,
        "vars": dict(variables),
        "steps": [{"send": list(events) if len(events) != 1 else events[0], "as": "send"}],
    }


_CR = '{{ "\\r" }}'  # a carriage return, as template text that renders to one


def as_literal_text(value: Any) -> Any:
    """`value` (an event as sent) with every string that a template would render kept as
    the text it is ({% raw %}…{% endraw %}): a batch event holding "Hello {{ name }}",
    saved in a scenario, was sent with the placeholder rendered, or not saved at all
    ("unknown variable"). An InputError for a string that holds "endraw" itself."""
    if isinstance(value, str):
        if not has_template_marks(value):
            return value
        if "endraw" in value:
            raise InputError(f"a string holds 'endraw', which a template cannot keep as "
                             f"text beside placeholders: {value[:60]!r}")
        # a template's own text has its line breaks made \n; a carriage return comes out
        # of an expression instead, which is never changed ("\r\n" became "\n")
        return _CR.join(f"{{% raw %}}{piece}{{% endraw %}}" if piece else ""
                        for piece in value.split("\r"))
    if isinstance(value, dict):
        return {key: as_literal_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_literal_text(item) for item in value]
    return value


SEED = re.compile(r"[+-]?[0-9]{1,30}")


def parse_seed(text: str) -> int | None:
    """A run's seed written in ASCII digits, or None when it is not one: int() also reads
    other scripts' digits ("١٢" is 12) and raises for 4,301 digits and more."""
    text = text.strip()
    return int(text) if SEED.fullmatch(text) else None


def parse_wait(text: str) -> int | None:
    """Milliseconds of "250ms", "2s", "1.5s", "1m"; None when malformed."""
    match = WAIT.match(text.strip())
    if not match:
        return None
    scale = {"ms": 1, "s": 1000, "m": 60_000}[match.group(2)]
    millis = float(match.group(1)) * scale
    # 400 digits are infinity as a float: round() raised OverflowError out of the
    # workspace's load, and the window never opened
    return round(millis) if millis <= MAX_WAIT_MS else MAX_WAIT_MS + 1


class _Checker:
    """Collects problems for one document while walking it."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.problems: list[FileProblem] = []

    def add(self, pointer: str, message: str, *, key: bool = False) -> None:
        self.problems.append(self.source.problem(pointer, message, key=key))

    def keys(self, value: dict[str, Any], pointer: str, allowed: Sequence[str], what: str) -> None:
        for key in value:
            if key not in allowed:
                self.add(f"{pointer}/{escape_token(key)}",
                         f"unknown key {key!r} in {what} (allowed: {', '.join(allowed)})",
                         key=True)

    def text(self, value: dict[str, Any], key: str, pointer: str, *, required: bool) -> str:
        item = value.get(key)
        if item is None:
            if required:
                self.add(pointer, f"missing {key!r}")
            return ""
        if not isinstance(item, str) or (required and not item.strip()):
            self.add(f"{pointer}/{key}", f"{key!r} must be a non-empty string"
                     if required else f"{key!r} must be a string")
            return ""
        if has_lone_surrogate(item):  # it could be neither shown nor stored in the history
            self.add(f"{pointer}/{key}", f"{key!r}: {lone_surrogate_message(item)}")
            return ""
        return item

    def format_tag(self, value: dict[str, Any], expected: str) -> bool:
        tag = value.get("format")
        if tag == expected:
            return True
        kind = expected.split("/")[1].split("@")[0]
        if isinstance(tag, str) and tag.startswith(f"event-console/{kind}@"):
            self.add("/format", f"unsupported format {tag!r}: this console reads {expected!r}")
        elif tag is None:
            self.add("", f"missing \"format\": {expected!r}")
        else:
            self.add("/format", f"format is {tag!r}, expected {expected!r}")
        return False


def _open(text: str, file: str) -> tuple[SourceMap, _Checker, dict[str, Any] | None]:
    doc = parse_with_positions(text)
    source = SourceMap(file, doc)
    checker = _Checker(source)
    if doc.error is not None:
        checker.problems.append(FileProblem(file, doc.error))
        return source, checker, None
    if not isinstance(doc.value, dict):
        checker.add("", "expected a JSON object")
        return source, checker, None
    # a key given twice (a merge that kept both sides) silently kept the last value:
    # `validate` warned of it, a template or scenario file did not
    for warning in doc.warnings:
        key = pointer_tokens(warning.pointer)[-1]
        checker.problems.append(FileProblem(file, dataclasses.replace(
            warning, severity=Severity.ERROR,
            message=f"the key {key!r} is given twice here: give it once")))
    return source, checker, doc.value


def check_event_shape(checker: _Checker, event: Any, pointer: str) -> None:
    """What can be known before rendering: an object with a name; known fields."""
    if not isinstance(event, dict):
        checker.add(pointer, "an event must be a JSON object")
        return
    # read as the server reads it: "ID" is the id, "Name" the name (Go matches field names
    # in any case), so a batch saved as a scenario keeps what the window sent
    fields, keys = as_read(event)
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        checker.add(pointer if "name" not in fields
                    else f"{pointer}/{escape_token(keys.get('name', 'name'))}",
                    "an event needs a non-empty \"name\"")
    checker.keys({k: v for k, v in event.items() if k.casefold() not in EVENT_KEYS},
                 pointer, EVENT_KEYS, "an event")
    data = fields.get("data")
    if data is not None and not isinstance(data, dict | str):
        checker.add(f"{pointer}/{escape_token(keys.get('data', 'data'))}",
                    "\"data\" must be a JSON object")


def parse_template(text: str, file: str, engine: TemplateEngine | None = None
                   ) -> tuple[EventTemplate | None, list[FileProblem]]:
    source, checker, raw = _open(text, file)
    if raw is None or not checker.format_tag(raw, FORMAT_TEMPLATE):
        return None, checker.problems
    checker.keys(raw, "", ("$schema", "format", "name", "description", "tags", "event"),
                 "a template")
    name = checker.text(raw, "name", "", required=True)
    description = checker.text(raw, "description", "", required=False)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        checker.add("/tags", "\"tags\" must be an array of strings")
        tags = []
    event = raw.get("event")
    if event is None:
        checker.add("", "missing 'event'")
    else:
        check_event_shape(checker, event, "/event")
    if engine is not None and isinstance(event, dict):
        errors, _refs = engine.check_value(event, pointer="/event")
        checker.problems.extend(source.template_problem(e) for e in errors)
    if isinstance(event, dict) and not checker.problems and not _shown_whole(event):
        # loaded here, then Open, Add to Batch, Duplicate and Rename raised RecursionError
        checker.add("/event", too_deep_message(event))
    if checker.problems or not isinstance(event, dict):
        return None, _in_order(checker.problems)
    return EventTemplate(name, event, description, tags, source), []


def _shown_whole(event: dict[str, Any]) -> bool:
    """Whether the window can show `event` as text (nested ~1,000 deep, it cannot)."""
    try:
        pretty(event)
    except RecursionError:
        return False
    return True


def parse_scenario(text: str, file: str) -> tuple[Scenario | None, list[FileProblem]]:
    """The scenario, or None and every problem found (structure only; see `check_scenario`)."""
    source, checker, raw = _open(text, file)
    if raw is None or not checker.format_tag(raw, FORMAT_SCENARIO):
        return None, checker.problems
    checker.keys(raw, "", ("$schema", "format", "name", "description", "vars", "steps"),
                 "a scenario")
    name = checker.text(raw, "name", "", required=True)
    description = checker.text(raw, "description", "", required=False)
    variables = raw.get("vars", {})
    if not isinstance(variables, dict):
        checker.add("/vars", "\"vars\" must be a JSON object")
        variables = {}
    raw_steps = raw.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        checker.add("/steps" if "steps" in raw else "", "\"steps\" must be a non-empty array")
    else:
        names: set[str] = set()
        for i, raw_step in enumerate(raw_steps):
            step = _parse_step(checker, raw_step, f"/steps/{i}")
            if isinstance(step, SendStep) and step.name:
                if step.name in names:
                    checker.add(f"/steps/{i}/as", f"step name {step.name!r} is used twice")
                names.add(step.name)
            if step is not None:
                steps.append(step)
    if checker.problems:
        return None, _in_order(checker.problems)
    return Scenario(name, steps, description, variables, source), []


def _in_order(problems: list[FileProblem]) -> list[FileProblem]:
    return sorted(problems, key=lambda p: p.problem.start)


def _parse_step(checker: _Checker, raw: Any, pointer: str) -> Step | None:
    if not isinstance(raw, dict):
        checker.add(pointer, "a step must be a JSON object: {\"send\": ...} or {\"wait\": ...}")
        return None
    kinds = [k for k in ("send", "wait") if k in raw]
    if len(kinds) != 1:
        found = ", ".join(repr(k) for k in raw) or "none"
        checker.add(pointer, "unknown step kind: a step has exactly one of \"send\" or "
                    f"\"wait\" (keys found: {found})")
        return None
    if kinds[0] == "wait":
        checker.keys(raw, pointer, ("wait",), "a wait step")
        text = raw["wait"]
        millis = parse_wait(text) if isinstance(text, str) else None
        if millis is None:
            checker.add(f"{pointer}/wait",
                        "a wait is a duration such as \"250ms\", \"2s\" or \"1m\"")
            return None
        if millis > MAX_WAIT_MS:
            checker.add(f"{pointer}/wait", "a wait may last at most 1 hour")
        return WaitStep(millis, text, pointer)
    checker.keys(raw, pointer, ("send", "as", "repeat", "expect"), "a send step")
    name = raw.get("as")
    if name is not None and (not isinstance(name, str) or not STEP_NAME.match(name)):
        checker.add(f"{pointer}/as", "\"as\" must be a name of letters, digits and _ "
                    "(not starting with a digit), so `steps.NAME` can refer to it")
        name = None
    repeat = _whole(raw.get("repeat", 1))
    if repeat is None or not 1 <= repeat <= MAX_REPEAT:
        checker.add(f"{pointer}/repeat",
                    f"\"repeat\" must be a whole number from 1 to {MAX_REPEAT}")
        repeat = 1
    items = _parse_send(checker, raw["send"], f"{pointer}/send")
    expect = _parse_expect(checker, raw["expect"], f"{pointer}/expect") if "expect" in raw else None
    return SendStep(items, raw["send"], name, repeat, expect, pointer)


def _parse_send(checker: _Checker, raw: Any, pointer: str) -> list[SendItem]:
    values = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, list) and not raw:
        checker.add(pointer, "\"send\" needs at least one event")
    items: list[SendItem] = []
    for i, value in enumerate(values):
        ptr = f"{pointer}/{i}" if isinstance(raw, list) else pointer
        if isinstance(value, dict) and "template" in value:
            checker.keys(value, ptr, ("template", "with"), "a template reference")
            template = value["template"]
            overrides = value.get("with", {})
            if not isinstance(template, str) or not template.strip():
                checker.add(f"{ptr}/template", "\"template\" must name a template")
                continue
            if not isinstance(overrides, dict):
                checker.add(f"{ptr}/with", "\"with\" must be an object of event fields")
                overrides = {}
            items.append(TemplateRef(template, overrides, ptr))
        else:
            check_event_shape(checker, value, ptr)
            items.append(InlineEvent(value, ptr))
    return items


def _parse_expect(checker: _Checker, raw: Any, pointer: str) -> Expect | None:
    if not isinstance(raw, dict):
        checker.add(pointer, "\"expect\" must be an object: status, accepted, dedup")
        return None
    checker.keys(raw, pointer, ("status", "accepted", "dedup"), "expect")
    status, accepted, dedup = _whole(raw.get("status")), _whole(raw.get("accepted")), \
        raw.get("dedup")
    if raw.get("status") is not None and not (status is not None and 100 <= status <= 599):
        checker.add(f"{pointer}/status", "\"status\" must be an HTTP status such as 200 or 400")
    if raw.get("accepted") is not None and not (accepted is not None and accepted >= 0):
        checker.add(f"{pointer}/accepted", "\"accepted\" must be a count of events (0 or more)")
    if dedup is not None and dedup not in DEDUP_OUTCOMES:
        checker.add(f"{pointer}/dedup",
                    f"\"dedup\" must be one of {', '.join(repr(d) for d in DEDUP_OUTCOMES)}")
    return Expect(status, accepted, dedup)


def _whole(value: Any) -> int | None:
    """`value` as a whole number, or None. 200.0 is one, as the published scenario schema
    (JSON Schema 2020-12's "integer") has it: the schema passed it and `run` refused it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def check_scenario(scenario: Scenario, templates: Mapping[str, EventTemplate],
                   engine: TemplateEngine, *,
                   unloaded: Sequence[str] = ()) -> list[FileProblem]:
    """Cross-file checks before anything is sent: templates exist, placeholders compile,
    `steps.NAME` names an earlier step. `unloaded`: template files that did not load (a
    missing template may be one of them: said so)."""
    source = scenario.source
    if source is None:
        raise ValueError("check_scenario needs a scenario parsed from text")
    problems: list[FileProblem] = []
    errors, _ = engine.check_value(scenario.vars, pointer="/vars")
    problems.extend(source.template_problem(e) for e in errors)
    earlier: set[str] = set()
    for step in scenario.steps:
        if not isinstance(step, SendStep):
            continue
        for item in step.items:
            if isinstance(item, TemplateRef):
                template = templates.get(item.template)
                if template is None:
                    known = ", ".join(sorted(templates)) or "none in this workspace"
                    broken = (f"; {len(unloaded)} template file(s) did not load, and one may "
                              f"be it: {', '.join(unloaded)}" if unloaded else "")
                    problems.append(source.problem(
                        f"{item.pointer}/template",
                        f"no template named {item.template!r} (templates: {known}{broken})"))
                    continue
                checks = [(item.overrides, f"{item.pointer}/with", source)]
                _, refs = engine.check_value(template.event)
                problems.extend(_refs(source, [(f"{item.pointer}/template", name)
                                               for _, name in refs], earlier))
            else:
                checks = [(item.event, item.pointer, source)]
            for value, pointer, where in checks:
                errors, refs = engine.check_value(value, pointer=pointer)
                problems.extend(where.template_problem(e) for e in errors)
                problems.extend(_refs(where, refs, earlier))
        if step.name:
            earlier.add(step.name)
    return problems


def _refs(source: SourceMap, refs: list[tuple[str, str]], earlier: set[str]
          ) -> list[FileProblem]:
    return [source.problem(pointer, f"steps.{ref} does not name an earlier step (use \"as\" "
                           f"on a step before this one)")
            for pointer, ref in refs if ref not in earlier]


def parse_var_pairs(pairs: Iterable[str], option: str = "--var") -> dict[str, str]:
    """`NAME=VALUE` overrides of a scenario's vars (values stay strings; the last wins)."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"{option} {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out

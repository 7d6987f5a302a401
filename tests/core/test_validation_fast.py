"""The fast path of validate_text gives exactly what the full rule walk gives.

`validate_text` skips `check_event` for an event that `_plainly_valid` accepts, builds the
line index only when a problem needs it, and hands on the bytes it measured. These
properties pin that down with random events, valid and broken: the shortcut says "fine"
exactly when the full rules find nothing, and every problem keeps its message, pointer,
offsets and line:col as the slow path (parse with positions, check every event, locate
each issue) computes them.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from console.core.envelope import TS_MAX, TS_MIN, check_event
from console.core.pipeline import prepare_text
from console.core.positions import LineIndex, parse_with_positions
from console.core.problems import Severity
from console.core.serialize import event_bytes
from console.core.validation import _plainly_valid, validate_text

LIMIT = 3 * 1024 * 1024

names = st.one_of(
    st.sampled_from(["app/user.created", "shop/order.paid", "a", "x" * 513, " padded ",
                     "inngest/internal", "INNGEST/x", "   ", "", "ünï/cødé", "tab\t"]),
    st.text(min_size=0, max_size=12),
    st.integers(), st.none(), st.booleans(),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
datas = st.one_of(
    st.dictionaries(st.sampled_from(["k", "inngest", "é", "n"]), scalars, max_size=3),
    scalars, st.lists(scalars, max_size=2),
)
timestamps = st.one_of(
    st.sampled_from([0, TS_MIN, TS_MAX, TS_MIN - 1, TS_MAX + 1, 1_700_000_000,
                     1_700_000_000_000_000, 1.5, True, "1700000000000"]),
    st.integers(0, 5 * 10**12),
)
fields = st.fixed_dictionaries({}, optional={
    "name": names, "data": datas, "id": st.one_of(st.text(max_size=6), st.integers(), st.none()),
    "v": st.one_of(st.text(max_size=6), st.integers()), "ts": timestamps,
    "user": st.one_of(st.dictionaries(st.text(max_size=3), scalars, max_size=2), scalars),
    "nmae": scalars, "extra": scalars,
})
valid = st.fixed_dictionaries(
    {"name": st.sampled_from(["app/user.created", "shop/order.paid", "a", "ünï/cødé"])},
    optional={"data": st.dictionaries(st.sampled_from(["k", "é", "n"]), scalars, max_size=3),
              "id": st.text(max_size=6), "v": st.text(max_size=4),
              "ts": st.sampled_from([0, TS_MIN, TS_MAX, 1_700_000_000_000]),
              "user": st.dictionaries(st.text(max_size=3), scalars, max_size=1)},
)
keys = st.sampled_from(["name", "data", "id", "v", "ts", "user", "nmae", "extra"])
values = st.one_of(names, datas, timestamps, scalars,
                   st.fixed_dictionaries({"inngest": scalars}))


@st.composite
def one_change(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with at most one field replaced, added or removed."""
    event = dict(draw(valid))
    how = draw(st.sampled_from(["keep", "set", "drop"]))
    key = draw(keys)
    if how == "set":
        event[key] = draw(values)
    elif how == "drop":
        event.pop(key, None)
    return event


candidates = st.one_of(one_change(), one_change(), fields)
events = st.one_of(candidates, candidates, scalars)  # mostly objects, sometimes not


def slow_problems(text: str, limit: int) -> list[tuple[Any, ...]]:
    """The full path, written out: every event through check_event, located by pointer."""
    doc = parse_with_positions(text)
    lines = LineIndex(text)
    out = []
    for i, item in enumerate(doc.value):
        for pointer, message, severity in check_event(item, pointer=f"/{i}", event_limit=limit):
            found = doc.nearest(pointer)
            assert found is not None
            start, end = found[1]
            if found[0] != pointer:
                end = start + 1
            out.append((start, severity is not Severity.ERROR, message, end, pointer,
                        *lines.line_col(start)))
    out.sort(key=lambda row: row[:3])
    return out


@settings(max_examples=400, deadline=None)
@given(event=candidates, limit=st.sampled_from([40, 120, LIMIT]))
@example(event={"name": "a", "data": {"inngest": 1}}, limit=LIMIT)
@example(event={"name": "a", "data": None}, limit=LIMIT)
@example(event={"name": "a ", "data": {}}, limit=LIMIT)
@example(event={"name": "İnngest/x"}, limit=LIMIT)  # lower() changes its length
@example(event={"name": "a", "ts": False}, limit=LIMIT)
@example(event={"name": "a", "ts": TS_MAX + 1}, limit=LIMIT)
@example(event={"name": "a", "user": None, "id": None, "v": None, "ts": None}, limit=LIMIT)
@example(event={"name": "a", "user": []}, limit=LIMIT)
@example(event={"name": "a", "v": 1}, limit=LIMIT)
@example(event={"name": "x" * 513}, limit=LIMIT)
@example(event={"name": "a", "data": {"k": "x" * 50}}, limit=60)
def test_shortcut_says_fine_exactly_when_the_rules_find_nothing(event: dict[str, Any],
                                                                limit: int) -> None:
    size = len(event_bytes(event))
    assert _plainly_valid(event, size, limit) == (
        check_event(event, event_limit=limit, size=size) == [])


def test_shortcut_takes_the_common_events_and_refuses_unmeasured_ones() -> None:
    assert _plainly_valid({"name": "app/a", "data": {"k": 1}, "id": "x", "v": "1",
                           "ts": TS_MIN, "user": {}}, 80, LIMIT)
    assert not _plainly_valid({"name": "app/a"}, None, LIMIT)  # could not be serialized


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(events, min_size=1, max_size=8), indent=st.sampled_from([None, 1, 2]),
       crlf=st.booleans(), limit=st.sampled_from([60, LIMIT]))
def test_problems_positions_parts_match_the_full_path(items: list[Any], indent: int | None,
                                                      crlf: bool, limit: int) -> None:
    text = json.dumps(items, indent=indent, ensure_ascii=False)
    if crlf:
        text = text.replace("\n", "\r\n")
    report = validate_text(text, event_limit=limit)
    got = [(p.start, p.severity is not Severity.ERROR, p.message, p.end, p.pointer, p.line,
            p.column) for p in report.problems]
    assert got == slow_problems(text, limit)
    objects = [item for item in items if isinstance(item, dict)]
    assert report.events == objects
    assert report.parts == [event_bytes(e) for e in objects]
    assert report.sizes == [len(p) for p in report.parts if p is not None]


@settings(max_examples=60, deadline=None)
@given(items=st.lists(candidates, min_size=1, max_size=6))
def test_jsonl_lines_keep_their_columns(items: list[dict[str, Any]]) -> None:
    text = "\n".join(json.dumps(item) for item in items) + "\n"
    report = validate_text(text, event_limit=LIMIT, jsonl=True)
    for problem in report.problems:
        line = int(problem.pointer.split("/")[1])
        single = validate_text(json.dumps(items[line]), event_limit=LIMIT)
        match = [p for p in single.problems if p.message == problem.message
                 and "/" + str(line) + p.pointer == problem.pointer]
        assert match and (problem.line, problem.column) == (line + 1, match[0].column)


def test_prepare_sends_the_bytes_validation_measured() -> None:
    events_in = [{"name": "app/é", "data": {"n": i, "f": 1.0}} for i in range(3)]
    text = json.dumps(events_in, indent=2)
    report = validate_text(text, event_limit=LIMIT)
    prepared = prepare_text(text, request_limit=512 * 1024, event_limit=LIMIT)
    assert prepared.parts == report.parts == [event_bytes(e) for e in events_in]
    assert [len(r) for r in prepared.plan.requests] == [3]

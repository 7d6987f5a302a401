"""The batch model: cached bytes, list operations, bodies and meters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.batch import (
    Batch,
    Level,
    Meter,
    RequestReport,
    is_jsonl_name,
    read_events,
    tally,
)
from console.core.serialize import array_body, event_bytes


def ev(i: int, pad: int = 0) -> dict[str, object]:
    return {"name": f"test/e{i}", "data": {"i": i, "pad": "x" * pad}}


def test_parts_are_the_serializer_bytes() -> None:
    batch = Batch([ev(1), {"name": "ü/é", "data": {"s": "日本"}}])
    assert batch.part(1) == event_bytes(batch[1])
    assert batch.part(1) == '{"name":"ü/é","data":{"s":"日本"}}'.encode()
    assert batch.sizes() == [len(p) for p in batch.parts]
    assert batch.body_size == len(array_body(batch.parts))
    assert Batch().body_size == 0


def test_replace_reserializes_only_that_event() -> None:
    batch = Batch([ev(i) for i in range(5)])
    before = batch.parts
    version = batch.version
    assert batch.replace(2, ev(2, pad=100))
    after = batch.parts
    assert [a is b for a, b in zip(before, after, strict=True)] == [True, True, False, True, True]
    assert batch.total_bytes == sum(batch.sizes())
    assert batch.version == version + 1
    # same bytes: no change, no version bump
    assert not batch.replace(2, ev(2, pad=100))
    assert batch.version == version + 1


def test_insert_remove_move_keep_totals() -> None:
    batch = Batch([ev(i) for i in range(6)])
    batch.insert(1, [ev(10), ev(11)])
    assert [e["data"]["i"] for e in batch.events] == [0, 10, 11, 1, 2, 3, 4, 5]
    removed = batch.remove([0, 3, 3])
    assert removed == [(0, ev(0)), (3, ev(1))]
    assert [e["data"]["i"] for e in batch.events] == [10, 11, 2, 3, 4, 5]
    assert batch.move([0, 1], 4) == [2, 3]
    assert [e["data"]["i"] for e in batch.events] == [2, 3, 10, 11, 4, 5]
    assert batch.move([5], 0) == [0]
    assert [e["data"]["i"] for e in batch.events] == [5, 2, 3, 10, 11, 4]
    assert batch.take(1, 2) == [ev(2), ev(3)]
    assert batch.total_bytes == sum(len(event_bytes(e)) for e in batch.events)
    with pytest.raises(ValueError, match="permutation"):
        batch.reorder([0, 0, 1, 2])


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=8).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True),
            st.integers(0, n),
        )
    )
)
def test_move_matches_a_list_model(args: tuple[int, list[int], int]) -> None:
    n, rows, dest = args
    batch = Batch([ev(i) for i in range(n)])
    new_rows = batch.move(rows, dest)
    picked = sorted(rows)
    rest = [i for i in range(n) if i not in picked]
    target = dest - sum(1 for r in picked if r < dest)
    expected = rest[:target] + picked + rest[target:]
    assert [e["data"]["i"] for e in batch.events] == expected
    assert [batch[r]["data"]["i"] for r in new_rows] == picked


def test_bodies_are_exact_and_planned() -> None:
    batch = Batch([ev(i, pad=300) for i in range(10)])
    plan = batch.plan(request_limit=1000, event_limit=1000)
    bodies = batch.bodies(plan)
    assert len(bodies) == len(plan.requests) > 1
    for i, body in enumerate(bodies):
        assert len(body) == plan.request_bytes(i) <= 1000
        assert json.loads(body) == batch.events[plan.requests[i].start : plan.requests[i].stop]
    assert b"".join(b[1:-1] + b"," for b in bodies) == b",".join(batch.parts) + b","
    # cached until a change
    assert batch.plan(1000, 1000) is plan
    batch.replace(0, ev(0, pad=300))
    assert batch.plan(1000, 1000) is plan
    batch.replace(0, ev(0, pad=1))
    assert batch.plan(1000, 1000) is not plan


def test_meter_levels() -> None:
    assert Meter(79, 100).level is Level.GREEN
    assert Meter(80, 100).level is Level.AMBER
    assert Meter(100, 100).level is Level.AMBER
    assert Meter(101, 100).level is Level.RED
    assert Meter(1, 0).level is Level.RED


def test_meters_follow_the_batch() -> None:
    batch = Batch([ev(0, pad=10), ev(1, pad=500), ev(2, pad=10)])
    m = batch.meters(request_limit=2000, event_limit=1000)
    assert m.event_index == 1  # nothing selected: the largest event
    assert m.event is not None and m.event.value == batch.size(1)
    assert m.request.value == batch.body_size and m.request.limit == 2000
    assert m.requests == 1 and m.count.value == 3 and m.count.limit == 5000
    m = batch.meters(request_limit=2000, event_limit=1000, selected=2)
    assert m.event_index == 2 and m.event is not None and m.event.value == batch.size(2)
    batch.insert(3, [ev(3, pad=900), ev(4, pad=900)])
    m = batch.meters(request_limit=2000, event_limit=1000, selected=99)
    assert m.event_index == 3 and m.event is not None and m.event.level is Level.AMBER
    assert m.request.level is Level.RED and m.requests == 2 and m.blocked == 0
    empty = Batch().meters(request_limit=2000, event_limit=1000)
    assert empty.event is None and empty.request.value == 0 and empty.requests == 0


def test_tally_after_a_partial_400_and_a_cancel() -> None:
    requests = [range(3), range(3, 6), range(6, 8), range(8, 10)]
    reports = {
        0: RequestReport(200, 3, None),
        1: RequestReport(400, 1, "event name is empty"),
        2: RequestReport(None, 0, "could not connect"),
    }
    result = tally(requests, reports, in_flight=[3])
    assert result.accepted == [0, 1, 2, 3]
    assert result.rejected == [(4, "event name is empty")]
    assert result.not_accepted == [5, 6, 7]
    assert result.in_flight == [8, 9]
    assert result.rest == [4, 5, 6, 7, 8, 9]
    assert not result.complete
    none_sent = tally(requests, {})
    assert none_sent.not_sent == list(range(10)) and none_sent.accepted == []
    assert tally(requests[:1], {0: RequestReport(200, 3, None)}).complete
    broke_off = tally(requests[:2], {0: RequestReport(200, 3, None),
                                     1: RequestReport(200, 0, "truncated body", True)})
    assert broke_off.uncertain == [3, 4, 5] and broke_off.not_accepted == []
    assert broke_off.rest == [3, 4, 5]  # the user may resend them: the dedup check asks


def test_read_events_guesses_json_lines_and_keeps_positions() -> None:
    lines = read_events('{"name": "a"}\n\n{"name": "b", "data": {}}\n')
    assert not lines.blocking and [e["name"] for e in lines.events] == ["a", "b"]
    array = read_events('[{"name": "a"}, {"name": "b"}]')
    assert [e["name"] for e in array.events] == ["a", "b"]
    broken = read_events('{"name": "a"}\n{"name" "b"}\n')
    assert [(p.line, p.column) for p in broken.errors] == [(2, 9)]
    pretty_object = read_events('{\n  "name": "a",\n  "data": {"x": 1}\n}\n')
    assert pretty_object.events == [{"name": "a", "data": {"x": 1}}]
    # envelope rules apply (what Inngest would reject), sizes do not (the plan marks them)
    reserved = read_events('[{"name": "inngest/x"}]')
    assert reserved.blocking and "reserved" in reserved.errors[0].message
    big = read_events(json.dumps({"name": "a", "data": {"x": "y" * 4_000_000}}))
    assert not big.blocking and len(big.events) == 1
    forced = read_events('{"name": "a"}', jsonl=True)
    assert forced.events == [{"name": "a"}]


def test_issues_are_checked_lazily_and_follow_edits() -> None:
    batch = Batch([ev(0), {"name": "", "data": {}}, {"name": "inngest/x", "data": [1]}])
    assert batch.issues(0) == ()
    assert batch.issues(1) == ("Event name is empty",)
    assert batch.issues(2) == (
        'Event name is reserved for internal use: names starting with "inngest/" belong to '
        "Inngest",
        "Event data must be a JSON object, not an array",
    )
    assert batch.invalid() == {1: "Event name is empty", 2: batch.issues(2)[0]}
    batch.replace(1, ev(1))
    batch.move([2], 0)
    assert list(batch.invalid()) == [0]
    batch.remove([0])
    assert batch.invalid() == {}
    # an integer past 1.8e308 in an edited row: the server answers 400 (it went out)
    batch.replace(0, {"name": "a/b", "data": {"n": 10 ** 400}})
    assert batch.invalid() == {0: "A number beyond what JSON can carry (over ±1.8e308, or "
                                  "NaN or Infinity): Inngest refuses it"}


@pytest.mark.parametrize(("name", "jsonl"), [
    ("events.jsonl", True), ("L.JSONL", True), ("dump.NDJSON", True), ("x/y.JsonL", True),
    ("events.json", False), ("events.jsonl.bak", False), ("jsonl", False), ("-", False),
])
def test_json_lines_files_are_known_by_their_suffix_in_any_case(name, jsonl):
    """`L.JSONL` (a Windows tool's upper case) is as much JSON Lines as `l.jsonl`."""
    assert is_jsonl_name(name) is jsonl


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_json_lines_may_hold_characters_python_breaks_lines_at(separator):
    """JSON allows U+2028, U+2029 and U+0085 raw inside a string; `str.splitlines`
    breaks at them, and the JSON Lines guess refused the rows with "Unexpected text after
    the end of the JSON document"."""
    text = json.dumps({"name": "a", "data": {"user": f"Ann{separator}Lee"}},
                      ensure_ascii=False) + '\n{"name": "b", "data": {}}\r\n'
    report = read_events(text)
    assert not report.blocking, [p.message for p in report.problems]
    assert report.value == [{"name": "a", "data": {"user": f"Ann{separator}Lee"}},
                            {"name": "b", "data": {}}]


def test_a_byte_order_mark_before_pasted_events_is_not_part_of_them():
    """Text copied from a file that starts with a byte order mark (Notepad's UTF-8) keeps
    it; a file read from disk had it dropped, the clipboard's was "Unexpected character"."""
    for text in ('\ufeff{"name": "a"}', '\ufeff{"name": "a"}\n{"name": "b"}\n'):
        report = read_events(text)
        assert not report.blocking, [p.message for p in report.problems]
        assert [e["name"] for e in (report.value if isinstance(report.value, list)
                                    else [report.value])] == ["a"] + ["b"] * ("b" in text)

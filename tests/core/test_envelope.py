"""Envelope rules: each rule of the Event API with the message the user sees."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from console.core.envelope import ENVELOPE_SCHEMA, TS_MAX, TS_MIN, check_event
from console.core.problems import Severity
from console.core.serialize import event_bytes

E, W = Severity.ERROR, Severity.WARNING
LIMIT = 3 * 1024 * 1024


def issues(event: Any, **kwargs: Any) -> list[tuple[str, str, Severity]]:
    return [tuple(i) for i in check_event(event, event_limit=kwargs.pop("limit", LIMIT),
                                          **kwargs)]  # type: ignore[misc]


RULES: list[tuple[Any, list[tuple[str, str, Severity]]]] = [
    ({"name": "app/user.created", "data": {"id": 1}}, []),
    ({"name": "app/x"}, []),  # data may be left out: the SDKs send {}
    ({"name": "app/x", "data": {}, "id": "abc", "ts": TS_MIN, "v": "1", "user": {}}, []),
    ({"name": "app/x", "ts": 0}, []),  # 0 means "time of receipt"
    ({"name": "app/x", "ts": TS_MAX}, []),
    ({"data": {}}, [("/name", 'Event name is missing: add "name", e.g. "app/user.created"', E)]),
    ({"name": ""}, [("/name", "Event name is empty", E)]),
    ({"name": None}, [("/name", "Event name is empty", E)]),
    ({"name": 5}, [("/name", "Event name must be a string, not a number", E)]),
    ({"name": "inngest/function.finished"}, [
        ("/name", 'Event name is reserved for internal use: names starting with "inngest/" '
                  "belong to Inngest", E)]),
    ({"name": "Inngest/x"}, [
        ("/name", 'Event name is reserved for internal use: names starting with "Inngest/" '
                  "belong to Inngest", E)]),
    ({"name": "   "}, [("/name", "Event name is only whitespace", W)]),
    ({"name": " app/x"}, [
        ("/name", "Event name starts or ends with whitespace; triggers match names exactly", W)]),
    ({"name": "a" * 513}, [
        ("/name", "Event name is 513 characters long; newer Inngest APIs reject names over 512",
         W)]),
    ({"name": "app/x", "data": [1]}, [("/data", "Event data must be a JSON object, not an array",
                                       E)]),
    ({"name": "app/x", "data": "s"}, [("/data", "Event data must be a JSON object, not a string",
                                       E)]),
    ({"name": "app/x", "data": None}, [
        ("/data", "Event data is null: write {} or leave data out (the SDKs send {})", W)]),
    ({"name": "app/x", "data": {"inngest": {}}}, [
        ("/data/inngest", 'The key "inngest" in data is reserved: the server strips it', W)]),
    ({"name": "app/x", "user": []}, [("/user", "Event user must be a JSON object, not an array",
                                      E)]),
    ({"name": "app/x", "id": 42}, [
        ("/id", "Event id (the deduplication key) must be a string, not a number", E)]),
    ({"name": "app/x", "v": 2}, [("/v", "Event v (version) must be a string, not a number", E)]),
    ({"name": "app/x", "ts": "2024-01-01"}, [
        ("/ts", "Event ts must be an integer number of milliseconds, not a string", E)]),
    ({"name": "app/x", "ts": True}, [
        ("/ts", "Event ts must be an integer number of milliseconds, not a boolean", E)]),
    ({"name": "app/x", "ts": 1.7e12}, [
        ("/ts", "Event ts must be an integer number of milliseconds (no fraction or exponent)",
         E)]),
    ({"name": "app/x", "ts": 1_700_000_000}, [
        ("/ts", "Timestamp is before Jan 1, 1980; it looks like seconds: Inngest expects "
                "milliseconds (1700000000000)", E)]),
    ({"name": "app/x", "ts": TS_MIN - 1}, [("/ts", "Timestamp is before Jan 1, 1980", E)]),
    ({"name": "app/x", "ts": -5}, [("/ts", "Timestamp is before Jan 1, 1980", E)]),
    ({"name": "app/x", "ts": TS_MAX + 1}, [("/ts", "Timestamp is after Jan 1, 2100", E)]),
    ({"name": "app/x", "ts": 1_700_000_000_000_000}, [
        ("/ts", "Timestamp is after Jan 1, 2100; it looks like microseconds: Inngest expects "
                "milliseconds (1700000000000)", E)]),
    ({"name": "app/x", "ts": 1_700_000_000_000_000_000}, [
        ("/ts", "Timestamp is after Jan 1, 2100; it looks like nanoseconds: Inngest expects "
                "milliseconds (1700000000000)", E)]),
    ({"name": "app/x", "dat": {}}, [("/dat", 'Unknown event field "dat"; did you mean "data"?',
                                     W)]),
    ({"name": "app/x", "a/b": 1}, [
        ("/a~1b", 'Unknown event field "a/b": Inngest ignores it (put it inside data)', W)]),
    ([{"name": "x"}], [("", "An event must be a JSON object, not an array", E)]),
    ("app/x", [("", "An event must be a JSON object, not a string", E)]),
]


@pytest.mark.parametrize(("event", "expected"), RULES)
def test_rule_and_message(event: Any, expected: list[tuple[str, str, Severity]]) -> None:
    assert issues(event) == expected


def test_pointer_prefix_for_events_in_an_array() -> None:
    assert issues({"name": ""}, pointer="/3") == [("/3/name", "Event name is empty", E)]


def test_size_against_the_per_event_limit() -> None:
    event = {"name": "app/x", "data": {"blob": "x" * 299_950}}
    size = len(event_bytes(event))
    assert size == 299_985
    assert issues(event, limit=262_144, env_name="Inngest Cloud") == [
        ("", "Event is over the max size: 299,985 bytes > 262,144 (per-event limit of Inngest "
             "Cloud)", E)]
    assert issues(event, limit=262_144) == [
        ("", "Event is over the max size: 299,985 bytes > 262,144 (per-event limit)", E)]
    assert issues(event, limit=size) == []  # exactly at the limit is fine
    assert issues({"name": "a"}, limit=10, size=11) == [
        ("", "Event is over the max size: 11 bytes > 10 (per-event limit)", E)]


def test_size_counts_compact_utf8_bytes() -> None:
    event = {"name": "é", "data": {"k": "☕"}}  # 2 + 3 bytes of non-ASCII
    size = len('{"name":"é","data":{"k":"☕"}}'.encode())
    assert issues(event, limit=size) == []
    assert issues(event, limit=size - 1)[0][1].startswith(f"Event is over the max size: {size}")


def test_unserializable_events_get_a_clear_message() -> None:
    deep: Any = {}
    node = deep
    for _ in range(5_000):
        node["a"] = {}
        node = node["a"]
    assert issues({"name": "x", "data": deep}) == [
        ("", "Event is nested 5,002 levels deep: too deep to serialize here; flatten the data",
         E)]
    beyond = ("A number beyond what JSON can carry (over ±1.8e308, or NaN or Infinity): "
              "Inngest refuses it")
    assert issues({"name": "x", "data": {"n": float("nan")}}) == [("/data/n", beyond, E)]
    # 1e999 parses as inf: it is reported at the number, not at the start of the event
    assert issues({"name": "x", "data": {"a": [1, {"b": float("inf")}]}}) == [
        ("/data/a/1/b", beyond, E)]
    # "\ud800" in JSON text reads as half a UTF-16 pair: it was called a number beyond JSON,
    # at the start of the event
    half = ("An unpaired surrogate escape (\\ud800) is not valid Unicode: Inngest would keep "
            "U+FFFD (\ufffd) in its place; write the character itself or both halves of its "
            "pair")
    assert issues({"name": "x", "data": {"s": ["ok", "a\ud800"]}}) == [("/data/s/1", half, E)]
    assert issues({"name": "x", "data": {"k\udc00": 1}})[0][0] == "/data/k\udc00"
    assert issues({"name": "x", "data": {"s": "\U0001f600"}}) == []  # what a whole pair reads as
    # an integer literal past 1.8e308 reads as a Python int: the server, reading float64s,
    # answered 400 "cannot unmarshal number"; 309 digits that fit, and in a string, are fine
    huge = 10 ** 309
    assert issues({"name": "x", "data": {"a": [1, -huge]}}) == [("/data/a/1", beyond, E)]
    assert issues({"name": "x", "data": {"n": 10 ** 308, "s": "9" * 400}}) == []
    # a top-level key the server does not read is not decoded: only its warning is said
    assert all(message != beyond for _, message, _ in issues({"name": "x", "extra": huge}))
    assert issues({"name": "x", "Data": {"n": huge}}, part=b"9" * 309)[-1] == (
        "/Data/n", beyond, E)


def test_envelope_schema_is_valid_and_agrees_with_the_checks() -> None:
    validator = jsonschema.Draft202012Validator(ENVELOPE_SCHEMA)
    validator.check_schema(ENVELOPE_SCHEMA)
    for event, expected in RULES:
        schema_ok = validator.is_valid(event)
        errors = [e for e in expected if e[2] is E]
        if isinstance(event, dict) and (event.get("ts") == 0 or event.get("data", {}) is None
                                        or isinstance(event.get("ts"), float)):
            continue  # ts 0, data null and 1.7e12 (an "integer" to JSON Schema, not to Go)
        assert schema_ok == (not errors), event


def test_field_names_in_another_case_are_read_as_the_server_reads_them() -> None:
    """Go's decoder matches field names in any case: "NAME": "inngest/x" is a reserved name
    to the server (400), which the console used to wave through as an unknown field."""
    def found(event: dict[str, object]) -> list[tuple[str, str, Severity]]:
        return [(i.pointer, i.message, i.severity)
                for i in check_event(event, event_limit=LIMIT)]

    read_as = ('Event field "{0}" is read as "{1}": the server matches field names in any '
               'case; write "{1}"')
    assert found({"name": "a/b", "NAME": "inngest/x"}) == [
        ("/NAME", 'Event name is reserved for internal use: names starting with "inngest/" '
                  "belong to Inngest", Severity.ERROR),
        ("/NAME", read_as.format("NAME", "name"), Severity.WARNING)]
    assert [m for _, m, s in found({"name": "a/b", "Data": [1]}) if s is Severity.ERROR] == [
        "Event data must be a JSON object, not an array"]
    assert found({"name": "a/b", "TS": 5})[0][:2] == ("/TS", "Timestamp is before Jan 1, 1980")
    # "Name" alone is a name: no "missing" error, only the advice
    assert found({"Name": "a/b"}) == [("/Name", read_as.format("Name", "name"),
                                       Severity.WARNING)]
    assert found({"name": "a/b", "NAME": None}) == [  # null leaves the name as it was
        ("/NAME", read_as.format("NAME", "name"), Severity.WARNING)]

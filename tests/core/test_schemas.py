"""The schema library: naming, drafts, versions, broken files, data errors, inference."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from console.core.problems import Severity
from console.core.schemas import (
    DRAFT_2020_12,
    SchemaLibrary,
    data_errors,
    human_path,
    infer_schema,
    load_schema_text,
    schema_file_name,
)

USER = {
    "$schema": DRAFT_2020_12,
    "x-event-name": "app/user.created",
    "type": "object",
    "required": ["email", "plan"],
    "properties": {
        "email": {"type": "string", "format": "email", "description": "Where we write"},
        "plan": {"enum": ["free", "pro"]},
        "age": {"type": "integer", "minimum": 0},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "address": {"$ref": "#/$defs/address"},
    },
    "$defs": {"address": {"type": "object", "required": ["city"],
                          "properties": {"city": {"type": "string"}}}},
    "additionalProperties": False,
}


def dump(schema: Any) -> str:
    return json.dumps(schema, indent=2)


def library(*files: tuple[str, str]) -> SchemaLibrary:
    return SchemaLibrary.from_files(files)


def test_names_come_from_x_event_name_or_the_file_name() -> None:
    lib = library(
        ("schemas/whatever.json", dump(USER)),
        ("schemas/shop__order.paid.json", dump({"type": "object"})),
        ("schemas/shop__order.paid@2.json", dump({
            "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
            "required": ["total"]})),
        ("schemas/legacy.json", dump({"x-event-name": "legacy/thing", "x-event-version": "3",
                                      "type": "object"})),
    )
    assert lib.problems == []
    assert lib.names() == ["app/user.created", "legacy/thing", "shop/order.paid"]
    assert lib.for_event("app/user.created") == USER
    assert lib.for_event("shop/order.paid", "2") == {
        "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
        "required": ["total"]}
    assert lib.for_event("shop/order.paid", "9") == {"type": "object"}  # falls back
    assert lib.for_event("legacy/thing") is None  # only a versioned schema exists
    assert lib.for_event("legacy/thing", "3") is not None
    assert lib.for_event("nope") is None
    entry = lib.entry_for("shop/order.paid", "2")
    assert entry is not None and type(entry.validator).__name__ == "Draft7Validator"
    assert type(lib.entry_for("app/user.created").validator).__name__ == (  # type: ignore[union-attr]
        "Draft202012Validator")


def test_schema_file_names_round_trip() -> None:
    assert schema_file_name("app/user.created") == "app__user.created.json"
    assert schema_file_name("app/user.created", "2024-01") == "app__user.created@2024-01.json"
    assert schema_file_name('we:ird*"name') == "we_ird__name.json"
    lib = library((schema_file_name("a/b.c", "7"), dump({"type": "object"})))
    assert lib.for_event("a/b.c", "7") == {"type": "object"}


def test_broken_files_are_reported_with_positions_and_the_rest_loads() -> None:
    lib = library(
        ("good.json", dump(USER)),
        ("syntax.json", '{\n  "type": "object",\n  "properties": {,}\n}'),
        ("array.json", "[1, 2]"),
        ("name.json", '{\n  "x-event-name": 42\n}'),
        ("draft.json", '{"$schema": "http://example.com/my-draft", "type": "object"}'),
        ("meta.json", '{\n  "type": "object",\n  "properties": {\n    "n": {"type": "integr"}\n'
                      "  }\n}"),
        ("version.json", '{"x-event-name": "a/b", "x-event-version": 2}'),
    )
    assert lib.names() == ["app/user.created"]
    assert [p.located() for p in lib.problems] == [
        "array.json:1:1: A schema file must hold a JSON object (a JSON Schema)",
        'draft.json:1:13: Unknown $schema "http://example.com/my-draft": use '
        "https://json-schema.org/draft/2020-12/schema or http://json-schema.org/draft-07/schema#",
        # it was the meta-schema's "'integr' is not valid under any of the given schemas"
        'meta.json:4:19: Invalid schema: "integr" is not a type: use array, boolean, integer, '
        "null, number, object or string (or a list of them)",
        'name.json:2:19: "x-event-name" must be a non-empty string (the event name)',
        "syntax.json:3:18: Expected a property name in double quotes, found ','",
        'version.json:1:44: "x-event-version" must be a string (the event\'s "v")',
    ]
    assert all(p.problem.severity is Severity.ERROR for p in lib.problems)
    assert str(lib.problems[0]) == lib.problems[0].located()


def test_a_second_schema_for_the_same_event_is_ignored_with_a_warning() -> None:
    lib = library(("a.json", dump(USER)), ("b.json", dump({**USER, "title": "other"})))
    assert lib.for_event("app/user.created") == USER
    assert [(p.file, p.problem.message, p.problem.severity) for p in lib.problems] == [
        ("b.json", "Another schema for app/user.created was loaded from a.json; this file is "
                   "ignored", Severity.WARNING)]


def test_data_errors_have_pointers_and_human_messages() -> None:
    entry = library(("u.json", dump(USER))).entry_for("app/user.created")
    assert entry is not None
    data = {"email": "not-an-address", "plan": "gold", "age": -1, "code": "abcd",
            "tags": ["a", 2, "c"], "address": {}, "extra": True}
    found = [(e.pointer, e.message) for e in data_errors(entry, data)]
    assert found == [
        ("/address/city", 'data.address: required property "city" is missing'),
        ("/age", "data.age: must be >= 0; got -1"),
        ("/code", 'data.code: must match the pattern ^[A-Z]{3}$; got "abcd"'),
        ("/email", 'data.email: is not a valid email: "not-an-address"'),
        ("/extra", 'data: property "extra" is not allowed by the schema'),
        ("/plan", 'data.plan: must be one of "free", "pro"; got "gold"'),
        ("/tags", "data.tags: must have at most 2 items"),
        ("/tags/1", "data.tags[1]: expected string, got integer 2"),
    ]
    assert [(e.pointer, e.message) for e in data_errors(entry, {})] == [
        ("/email", 'data: required property "email" is missing'),
        ("/plan", 'data: required property "plan" is missing'),
    ]
    assert data_errors(entry, {"email": "a@b.co", "plan": "pro"}) == []


def test_data_errors_never_raise() -> None:
    entry = library(("r.json", dump({"x-event-name": "r/x", "properties": {
        "a": {"$ref": "#/$defs/item"}}}))).entry_for("r/x")  # a definition it lacks
    assert entry is not None
    [error] = data_errors(entry, {"a": 1})
    assert error.message.startswith("Schema r.json has a $ref that cannot be resolved")
    assert error.message.endswith("; data not checked")
    nowhere = library(("n.json", dump({"x-event-name": "n/x", "enum": list(range(100_000)),
                                       "$ref": "#/$defs/nope"}))).entry_for("n/x")
    assert nowhere is not None  # the message quoted the whole schema: 989 KB on one line
    [error] = data_errors(nowhere, {})
    assert error.message == ("Schema n.json has a $ref that cannot be resolved "
                             "('/$defs/nope'); data not checked")
    limited = library(("m.json", dump({"x-event-name": "m/x", "additionalProperties": False})))
    many = {f"k{i}": i for i in range(500)}
    assert len(data_errors(limited.entry_for("m/x"), many, limit=10)) == 10  # type: ignore[arg-type]


def test_a_regex_value_python_cannot_compile_is_a_warning_not_a_crash() -> None:
    """`"format": "regex"` on `x{4294967296}` (OverflowError) or 3,000 nested groups
    (RecursionError) raised out of the check: `validate` ended in a traceback, and the
    window lost every problem and its Send."""
    entry = library(("rx.json", dump({"x-event-name": "app/rx", "properties": {
        "p": {"type": "string", "format": "regex"}, "n": {"type": "integer"}}}))
    ).entry_for("app/rx")
    assert entry is not None
    for value in ("x{4294967296}", "(" * 3000 + ")" * 3000, "[unclosed"):
        errors = data_errors(entry, {"p": value, "n": "one"})
        assert [e.pointer for e in errors] == ["/n", "/p"], errors
        assert errors[1].message.startswith("data.p: is not a valid regex: "), errors
    assert data_errors(entry, {"p": "^a+$", "n": 1}) == []


def test_draft_03_is_refused_at_load_and_warnings_stay_short() -> None:
    """Draft-03 was taken (its `required: true` then raised out of every check); and a
    warning in the library's words quoted a whole subschema (500 KB on one line)."""
    legacy = {"$schema": "http://json-schema.org/draft-03/schema#", "x-event-name": "old/x",
              "properties": {"email": {"type": "string", "required": True}}}
    loaded = library(("legacy.json", dump(legacy)))
    assert loaded.entry_for("old/x") is None
    [problem] = loaded.problems
    assert str(problem).startswith(
        'legacy.json:2:14: Unknown $schema "http://json-schema.org/draft-03/schema#": use '
    ), problem
    countries = [f"country-{i:05d}" for i in range(50_000)]
    entry = library(("no.json", dump({"x-event-name": "no/x", "properties": {
        "c": {"not": {"enum": countries}}}}))).entry_for("no/x")
    assert entry is not None
    [error] = data_errors(entry, {"c": "country-00001"})
    assert error.pointer == "/c" and len(error.message) < 400, len(error.message)


def test_combinators_and_key_checks_are_said_in_json_and_name_what_failed() -> None:
    """These were the library's words: Python's reprs (`{'c': True, 'd': None} is not
    valid under any of the given schemas`), never which choice failed or why, and a
    propertyNames failure read as if `data` were too long."""
    entry = library(("c.json", dump({"x-event-name": "c/x", "properties": {
        "card": {"anyOf": [{"type": "object", "required": ["last4"],
                            "properties": {"last4": {"pattern": "^[0-9]{4}$"}}},
                           {"type": "null"}]},
        "two": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
        "n": {"not": {"type": "string"}},
        "arr": {"contains": {"type": "integer"}},
        "mp": {"minProperties": 2},
        "dep": {"dependentRequired": {"a": ["b"]}},
        "keys": {"propertyNames": {"maxLength": 3}}}}))).entry_for("c/x")
    assert entry is not None
    found = {e.pointer: e.message for e in data_errors(entry, {
        "card": {"last4": "12a4"}, "two": 3, "n": "s", "arr": ["x"], "mp": {"a": True},
        "dep": {"a": None}, "keys": {"longkey": 1, "ok": 2}})}
    assert found == {
        "/card": 'data.card: matches none of the anyOf choices (closest: last4: must match '
                 'the pattern ^[0-9]{4}$; got "12a4"); got {"last4": "12a4"}',
        "/two": "data.two: matches more than one of the oneOf choices; got 3",
        "/n": 'data.n: must not match the schema under "not"; got "s"',
        "/arr": 'data.arr: has no item that matches the schema under "contains"',
        "/mp": "data.mp: must have at least 2 properties",
        "/dep": 'data.dep: required property "b" is missing (it goes with "a")',
        "/keys/longkey": 'data.keys: the key "longkey": must be at most 3 characters long',
    }


def test_a_false_subschema_is_placed_on_its_value() -> None:
    """jsonschema's error for `"legacy": false` has no path: the warning sat on `data`,
    and read "False schema does not allow [1, True, None]" (Python's words)."""
    entry = library(("f.json", dump({"x-event-name": "f/x", "properties": {
        "legacy": False, "deep": {"properties": {"gone": False}}}}))).entry_for("f/x")
    assert entry is not None
    errors = data_errors(entry, {"legacy": [1, True, None], "deep": {"gone": "x"}})
    assert [(e.pointer, e.message) for e in errors] == [
        ("/deep/gone", 'data.deep.gone: the schema allows nothing here (false); got "x"'),
        ("/legacy", "data.legacy: the schema allows nothing here (false); got [1, true, null]"),
    ]


def test_a_schema_that_refers_to_itself_without_end_is_blamed_not_the_data() -> None:
    """`{"$ref": "#"}` said "data is nested too deeply" of `data: {}`."""
    loops = library(("refself.json", dump({"x-event-name": "a/ref", "$ref": "#"})),
                    ("pair.json", dump({"x-event-name": "a/pair", "$ref": "#/$defs/a", "$defs": {
                        "a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}})))
    for name, file in (("a/ref", "refself.json"), ("a/pair", "pair.json")):
        entry = loops.entry_for(name)
        assert entry is not None
        [error] = data_errors(entry, {})
        assert error.message == (f"Schema {file} refers to itself without end (a $ref loop "
                                 "such as \"$ref\": \"#\"); data not checked")
    deep: Any = 1
    for _ in range(5_000):
        deep = {"a": deep}
    nested = library(("n.json", dump({"x-event-name": "n/x", "properties": {
        "a": {"$ref": "#"}}}))).entry_for("n/x")
    assert nested is not None
    [error] = data_errors(nested, deep)
    assert error.message == "data is nested too deeply to check against the schema"


def test_human_paths() -> None:
    assert human_path(["items", 2, "price"]) == "data.items[2].price"
    assert human_path(["a b", "é"]) == 'data["a b"]["é"]'
    assert human_path([], "ts") == "ts"


def test_infer_schema_from_payloads_with_genson() -> None:
    payloads = [{"id": 1, "email": "a@b.c", "tags": ["x"]}, {"id": 2, "email": "d@e.f"}]
    schema = infer_schema(payloads, event_name="app/user.created", version="2")
    assert list(schema)[:4] == ["$schema", "x-event-name", "x-event-version", "type"]
    assert schema["$schema"] == DRAFT_2020_12
    assert schema["properties"]["id"] == {"type": "integer"}
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert sorted(schema["required"]) == ["email", "id"]
    for payload in payloads:
        jsonschema.Draft202012Validator(schema).validate(payload)
    lib = library(("inferred.json", dump(schema)))
    assert lib.problems == [] and lib.for_event("app/user.created", "2") == schema
    assert infer_schema([]) == {"$schema": DRAFT_2020_12, "type": "object"}


def test_a_pattern_that_is_not_a_regular_expression_is_reported_where_it_is() -> None:
    lib = library(
        ("p.json", '{\n  "x-event-name": "p/x",\n  "properties": {\n'
                   '    "code": {"type": "string", "pattern": "(ab"}\n  }\n}'),
        ("k.json", '{\n  "x-event-name": "k/x",\n  "patternProperties": {"[a-": {}}\n}'),
        ("ok.json", dump({"x-event-name": "ok/x",  # a property named "pattern" is no pattern
                          "properties": {"pattern": {"type": "string"}}})),
    )
    assert lib.names() == ["ok/x"]
    assert [p.located() for p in lib.problems] == [
        'k.json:3:24: Invalid schema: "[a-" is not a regular expression '
        "(unterminated character set at position 3)",
        'p.json:4:43: Invalid schema: "(ab" is not a regular expression '
        "(missing ) at position 3)",
    ]


def test_a_pattern_that_backtracks_for_ever_is_stopped_with_a_message() -> None:
    # with Python's re, each of these ran for hours, holding the GIL (a frozen window)
    entry = library(("slow.json", dump({
        "x-event-name": "slow/x",
        "properties": {"code": {"type": "string", "pattern": "^(a|a)*$"},
                       "codes": {"type": "array", "items": {"pattern": "^(c|c)*$"}},
                       "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
        "patternProperties": {"^(b|b)*$": {"type": "integer"}},
        "additionalProperties": False,
    }))).entry_for("slow/x")
    assert entry is not None
    stuck, key = "a" * 40 + "!", "b" * 40 + "!"
    data = {"code": stuck, "codes": ["c" * 40 + "!"] * 20, key: "x", "zip": "123"}
    beats: list[float] = []
    done = threading.Event()
    checked: list[Any] = []
    worker = threading.Thread(target=lambda: (checked.extend(data_errors(entry, data)),
                                              done.set()))
    started = time.perf_counter()
    worker.start()
    while not done.wait(0.005):  # the window's loop, while a worker thread checks
        beats.append(time.perf_counter())
    worker.join()
    found = sorted((e.pointer, e.message) for e in checked)
    slow = "could not be checked: the schema's pattern {} took too long and was stopped"
    assert found == sorted([
        ("/" + key, f"data[{json.dumps(key)}]: " + slow.format("^(b|b)*$")
         + " (simplify the pattern)"),
        ("/code", "data.code: " + slow.format("^(a|a)*$") + " (simplify the pattern)"),
        *[(f"/codes/{i}", f"data.codes[{i}]: " + slow.format("^(c|c)*$")
           + " (simplify the pattern)") for i in range(20)],
        ("/zip", 'data.zip: must match the pattern ^[0-9]{5}$; got "123"'),
    ])
    # each pattern was stopped once (then given 10 ms), and the loop kept running
    assert time.perf_counter() - started < 5
    assert len(beats) >= 20, "the matching thread held the GIL"


def test_the_patterns_of_one_check_share_a_time_limit() -> None:
    """The limit was per match only: 1,000 keys against a pattern that backtracks took
    12.9 s, and 40 such patterns 10.4 s, at every pause in typing (on the window's thread
    for texts under 200,000 characters)."""
    keys = library(("keys.json", dump({"x-event-name": "k/x", "additionalProperties": False,
                                       "patternProperties": {"^(d|d)*$": {}}}))
                   ).entry_for("k/x")
    many = library(("many.json", dump({"x-event-name": "m/x", "properties": {
        f"p{n}": {"type": "string", "pattern": f"^(e{n}|e{n})*$"} for n in range(40)}}))
    ).entry_for("m/x")
    assert keys is not None and many is not None
    for entry, data in ((keys, {"d" * 40 + f"!{n}": n for n in range(1000)}),
                        # 2^32 ways to fail each: none finishes within its budget, however
                        # fast the machine is at the time (2^20 once did, on CI)
                        (many, {f"p{n}": f"e{n}" * 32 + "!" for n in range(40)})):
        for _ in range(2):  # and again, as the next pause in typing checks it again
            started = time.perf_counter()
            errors = data_errors(entry, data)
            took = time.perf_counter() - started
            assert took < 3, f"{took:.1f} s for one check"
            assert errors and all("could not be checked" in e.message for e in errors)
            assert len(errors) == min(len(data), 200)


DRAFT_2019_09 = "https://json-schema.org/draft/2019-09/schema"


@pytest.mark.parametrize("draft", [DRAFT_2020_12, DRAFT_2019_09])
def test_unevaluated_properties_marks_only_the_keys_no_applicator_evaluated(draft: str) -> None:
    """Keys an `allOf`, a `$ref` or an `if`/`then` declares are as valid as the object's
    own; the editor used to mark every key outside the object's own `properties` and
    `patternProperties` "not allowed"."""
    closed = {"$schema": draft, "x-event-name": "shop/order.placed",
              "properties": {"id": {"type": "string"}},
              "patternProperties": {"^meta-": {}},
              "allOf": [{"patternProperties": {"^x-": {"type": "string"}}},
                        {"$ref": "#/$defs/money"}],
              "if": {"required": ["coupon"]},
              "then": {"properties": {"coupon": {"type": "string"}}},
              "$defs": {"money": {"properties": {"total": {"type": "number"}}}},
              "unevaluatedProperties": False}
    typed = {**closed, "x-event-name": "shop/order.typed",
             "unevaluatedProperties": {"type": "integer"}}
    lib = library(("closed.json", dump(closed)), ("typed.json", dump(typed)))
    assert lib.problems == []
    data = {"id": "o-1", "meta-source": 1, "x-channel": "web", "total": 9.5, "coupon": "C",
            "note": "late", "count": 2}

    def found(name: str) -> list[tuple[str, str]]:
        entry = lib.entry_for(name)
        assert entry is not None
        return sorted((e.pointer, e.message) for e in data_errors(entry, data))

    assert found("shop/order.placed") == [
        ("/count", 'data: property "count" is not allowed by the schema'),
        ("/note", 'data: property "note" is not allowed by the schema'),
    ]
    assert found("shop/order.typed") == [  # "count" is an integer: unevaluated, but valid
        ("/note", 'data: property "note" does not match the schema\'s '
                  '"unevaluatedProperties"'),
    ]


@pytest.mark.parametrize("draft", [DRAFT_2020_12, DRAFT_2019_09])
def test_unevaluated_properties_stop_a_pattern_that_backtracks_for_ever(draft: str) -> None:
    """`unevaluatedProperties` looks for the keys `patternProperties` evaluates in
    jsonschema's own code, which used Python's re: on this 31-character key it ran for
    hours, holding the GIL (a frozen window). Run in a process of its own, which a
    regression would hang, not the test run."""
    script = f"""
import json, threading, time
from console.core.schemas import load_schema_text, data_errors
schema = {{"$schema": {draft!r}, "x-event-name": "slow/x", "properties": {{"id": {{}}}},
          "patternProperties": {{"^(a|a)*$": {{}}}}, "unevaluatedProperties": False}}
entry, problems = load_schema_text("slow.json", json.dumps(schema))
key = "a" * 30 + "!"
checked, done, beats = [], threading.Event(), []
worker = threading.Thread(target=lambda: (checked.extend(
    data_errors(entry, {{key: 1, "id": 2, "other": 3}})), done.set()))
started = time.perf_counter()
worker.start()
while not done.wait(0.005):
    beats.append(time.perf_counter())
print(json.dumps({{"problems": len(problems), "beats": len(beats),
                  "seconds": time.perf_counter() - started,
                  "found": sorted([e.pointer, e.message] for e in checked)}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True, cwd=Path(__file__).parents[2])
    result = json.loads(done.stdout)
    key = "a" * 30 + "!"
    assert result["problems"] == 0
    assert result["found"] == [
        [f"/{key}", f"data[{json.dumps(key)}]: could not be checked: the schema's pattern "
                    "^(a|a)*$ took too long and was stopped (simplify the pattern)"],
        ["/other", 'data: property "other" is not allowed by the schema'],
    ]
    assert result["seconds"] < 5
    assert result["beats"] >= 20, "the matching thread held the GIL"


def test_refs_through_the_schema_s_own_id_load_and_resolve() -> None:
    """Refused as "points outside this schema": a draft-04 `id` (draft-04's spelling of
    `$id`), and a ref relative to the schema's `$id` (`b.json` in `…/a/b.json`)."""
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "x-event-name": "d/4",
              "id": "http://example.com/root.json", "definitions": {"A": {"type": "integer"}},
              "properties": {"a": {"$ref": "http://example.com/root.json#/definitions/A"}}}
    relative = {"$id": "https://example.com/a/b.json", "x-event-name": "d/rel",
                "$defs": {"A": {"type": "integer"}},
                "properties": {"a": {"$ref": "b.json#/$defs/A"}}}
    loaded = library(("d4.json", dump(draft4)), ("rel.json", dump(relative)))
    assert loaded.problems == []
    for name in ("d/4", "d/rel"):
        entry = loaded.entry_for(name)
        assert entry is not None
        assert [e.message for e in data_errors(entry, {"a": "x"})] == [
            'data.a: expected integer, got string "x"']
    beside = {"$id": "https://example.com/a/b.json", "x-event-name": "d/other",
              "properties": {"a": {"$ref": "c.json#/$defs/A"}}}  # another file: refused
    assert "points outside this schema" in str(library(("o.json", dump(beside))).problems[0])


def test_a_ref_outside_the_schema_is_refused_at_load_and_nothing_is_fetched(tmp_path):
    """A workspace's schema named http:// and file: refs; jsonschema fetched them (with no
    time limit: `validate` hung on a server that never answered) and read local files."""
    import http.server

    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = tmp_path / "elsewhere.json"
    secret.write_text('{"type": "string"}', encoding="utf-8")
    try:
        # a bare name too: read against the schema's $id it is a URL, and without one
        # another file ("money" and "common#/$defs/x" loaded, and every event then said
        # "has a $ref that cannot be resolved; data not checked")
        for ref in (f"http://127.0.0.1:{server.server_port}/remote.json",
                    secret.as_uri(), "other.json#/$defs/x", "common#/$defs/x", "money"):
            text = json.dumps({"x-event-name": "a/b", "properties": {"p": {"$ref": ref}}},
                              indent=2)
            entry, problems = load_schema_text("a.json", text)
            assert entry is None
            [found] = problems
            assert found.problem.message.startswith(f"$ref {json.dumps(ref)} points outside")
            assert (found.problem.line, found.problem.column) == (5, 15)  # the $ref's value
        based = json.dumps({"x-event-name": "a/b", "$id": "https://schemas.example.com/e/b",
                            "properties": {"p": {"$ref": "money"}}})
        [found] = load_schema_text("based.json", based)[1]
        assert found.problem.message.startswith('$ref "money" points outside')
        # refs inside the schema still work (a name an $id in it gives, too), and one left
        # unresolved fetches nothing either
        entry, problems = load_schema_text("b.json", json.dumps({
            "x-event-name": "a/b", "$defs": {"n": {"type": "number"},
                                             "m": {"$id": "money", "type": "integer"}},
            "properties": {"p": {"$ref": "#/$defs/n"}, "q": {"$ref": "#/$defs/gone"},
                           "r": {"$ref": "money"}}}))
        assert entry is not None and problems == []
        [error] = data_errors(entry, {"p": "text", "q": 1})
        assert "cannot be resolved" in error.message
        assert data_errors(entry, {"p": "text"})[0].message == (
            'data.p: expected number, got string "text"')
        assert asked == []
    finally:
        server.shutdown()
        server.server_close()


def test_date_time_and_uri_formats_are_checked_and_draft_04_bounds_read_right() -> None:
    """"format": "date-time" and "uri" passed "yesterday" and "not a uri" unchecked (the
    checkers' packages were missing), and draft-04's exclusive minimum said ">= 5; got 5"."""
    entry = library(("f.json", dump({"x-event-name": "f/x", "properties": {
        "at": {"type": "string", "format": "date-time"},
        "link": {"type": "string", "format": "uri"}}}))).entry_for("f/x")
    assert entry is not None
    assert [(e.pointer, e.message) for e in data_errors(entry, {
        "at": "yesterday", "link": "not a uri"})] == [
        ("/at", 'data.at: is not a valid date-time: "yesterday"'),
        ("/link", 'data.link: is not a valid uri: "not a uri"')]
    assert data_errors(entry, {"at": "2026-12-07T05:30:00Z", "link": "https://x.test/a"}) == []
    old = library(("o.json", dump({
        "$schema": "http://json-schema.org/draft-04/schema#", "x-event-name": "o/x",
        "properties": {"a": {"minimum": 5, "exclusiveMinimum": True},
                       "b": {"maximum": 9}}}))).entry_for("o/x")
    assert old is not None
    assert [e.message for e in data_errors(old, {"a": 5, "b": 10})] == [
        "data.a: must be > 5; got 5", "data.b: must be <= 9; got 10"]


def test_a_pattern_cut_short_by_a_check_s_budget_is_checked_in_full_the_next_time() -> None:
    """A timeout at the budget's 0.5 ms marked the pattern "stopped" for the process: a
    pattern of linear time on a long text (15 ms) said "could not be checked" from then
    on, in every later check."""
    entry = library(("lin.json", dump({"x-event-name": "lin/x", "properties": {
        "bad": {"items": {"pattern": "^(f|f)*$"}},
        "text": {"type": "string", "pattern": "^\\w+( \\w+)*$"}}}))).entry_for("lin/x")
    assert entry is not None
    text = {"text": "word " * 6000 + "!"}
    expected = "data.text: must match the pattern ^\\w+( \\w+)*$; got"
    assert data_errors(entry, text)[0].message.startswith(expected)
    spent = data_errors(entry, {"bad": ["f" * (20 + i) + "!" for i in range(60)], **text})
    assert spent  # the slow pattern used up the check's time
    assert data_errors(entry, text)[0].message.startswith(expected)


def test_hostile_shapes_of_keys_refs_and_messages() -> None:
    """A property named "propertyNames" was taken for a key check; `"propertyNames":
    false` was placed on the object; a 100,000-character key made a 100,039-character
    warning; `\\p{L}+` was "not a valid regex"; a relative $ref was resolved against any
    $id in the file (a nested one's file accepted, a nested relative $id refused)."""
    entry = library(("k.json", dump({"x-event-name": "k/x", "properties": {
        "propertyNames": {"type": "string", "minLength": 5},
        "a": {"propertyNames": False}, "rx": {"format": "regex"},
        "m": {"additionalProperties": {"type": "integer"}}}}))).entry_for("k/x")
    assert entry is not None
    long_key = "k" * 100_000
    found = {e.pointer: e.message for e in data_errors(entry, {
        "propertyNames": "ab", "a": {"k": 1}, "rx": "\\p{L}+", "m": {long_key: "x"}})}
    assert found.pop("/propertyNames") == (
        "data.propertyNames: must be at least 5 characters long")
    assert found.pop("/a/k") == (
        'data.a: the key "k": the schema allows nothing here (false); got "k"')
    [(pointer, message)] = found.items()
    assert pointer == f"/m/{long_key}" and len(message) <= 301
    other = {"$id": "https://ex.com/s/a.json", "x-event-name": "r/x",
             "$defs": {"b": {"$id": "https://other.com/b.json", "type": "integer"}},
             "properties": {"a": {"$ref": "b.json"}}}  # is https://ex.com/s/b.json: not here
    assert "points outside this schema" in str(library(("o.json", dump(other))).problems[0])
    nested = {"$id": "https://ex.com/s/a.json", "x-event-name": "r/y",
              "$defs": {"b": {"$id": "sub/b.json",
                              "$defs": {"c": {"$id": "c.json", "type": "integer"}}}},
              "properties": {"a": {"$ref": "sub/c.json"}}}  # https://ex.com/s/sub/c.json
    loaded = library(("n.json", dump(nested)))
    assert loaded.problems == []
    assert [e.message for e in data_errors(loaded.entry_for("r/y"), {"a": "x"})] == [  # type: ignore[arg-type]
        'data.a: expected integer, got string "x"']


def test_only_the_latest_text_of_each_schema_file_is_kept() -> None:
    """Every version of a file edited in the dialog stayed cached, 256 deep (17 MB each
    for a 3.9 MB schema)."""
    from console.core import schemas

    for n in range(5):
        library(("edited.json", dump({"x-event-name": "e/x", "maxProperties": n})))
    assert [text for file, (text, _) in schemas._LOADED.items() if file == "edited.json"] == [
        dump({"x-event-name": "e/x", "maxProperties": 4})]

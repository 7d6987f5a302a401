"""validate_text: envelope + schema problems at the exact line:col, arrays, JSON Lines."""

from __future__ import annotations

import json

from console.core.problems import Problem, Severity
from console.core.schemas import SchemaLibrary
from console.core.validation import (
    TOP_LEVEL_MESSAGE,
    validate_text,
    without_placeholder_types,
)

LIMIT = 3 * 1024 * 1024
SCHEMA = {
    "x-event-name": "app/user.created", "type": "object", "required": ["email"],
    "properties": {"email": {"type": "string"}, "age": {"type": "integer"}},
}
LIBRARY = SchemaLibrary.from_files([("user.json", json.dumps(SCHEMA))])


def rows(problems: list[Problem]) -> list[tuple[int, int, str, str, str]]:
    return [(p.line, p.column, p.severity.value, p.pointer, p.message) for p in problems]


def test_one_event_problems_point_at_the_offending_values() -> None:
    text = '{\n  "name": "inngest/x",\n  "data": {"a": 1},\n  "ts": 1.5,\n  "id": 7\n}\n'
    report = validate_text(text, event_limit=LIMIT)
    assert rows(report.problems) == [
        (2, 11, "error", "/name", 'Event name is reserved for internal use: names starting '
                                  'with "inngest/" belong to Inngest'),
        (4, 9, "error", "/ts", "Event ts must be an integer number of milliseconds (no "
                               "fraction or exponent)"),
        (5, 9, "error", "/id", "Event id (the deduplication key) must be a string, not a number"),
    ]
    first = report.problems[0]
    assert text[first.start : first.end] == '"inngest/x"'
    assert report.blocking
    assert report.events == [json.loads(text)]


def test_missing_name_points_at_the_opening_brace() -> None:
    text = '[\n  {"name": "a"},\n  {"data": {}}\n]'
    report = validate_text(text, event_limit=LIMIT)
    [problem] = report.problems
    assert (problem.line, problem.column, problem.pointer) == (3, 3, "/1/name")
    assert (problem.start, problem.end) == (text.index('{"data"'), text.index('{"data"') + 1)


def test_array_events_get_index_pointers_and_sizes() -> None:
    text = '[{"name": "a/b", "data": {"k": "é"}}, {"name": "", "data": 3}, 4]'
    report = validate_text(text, event_limit=LIMIT)
    assert rows(report.problems) == [
        (1, 48, "error", "/1/name", "Event name is empty"),
        (1, 60, "error", "/1/data", "Event data must be a JSON object, not a number"),
        (1, 64, "error", "/2", "An event must be a JSON object, not a number"),
    ]
    assert [e["name"] for e in report.events] == ["a/b", ""]
    assert report.sizes == [len('{"name":"a/b","data":{"k":"é"}}'.encode()), 20]


def test_size_limit_names_the_environment() -> None:
    text = json.dumps({"name": "big", "data": {"blob": "x" * 1000}})
    report = validate_text(text, event_limit=500, env_name="Inngest Cloud")
    assert rows(report.problems) == [
        (1, 1, "error", "", "Event is over the max size: 1,033 bytes > 500 (per-event limit of "
                            "Inngest Cloud)")]


def test_schema_errors_warn_but_do_not_block() -> None:
    text = '{"name": "app/user.created",\n "data": {"age": "ten"}}'
    report = validate_text(text, event_limit=LIMIT, schemas=LIBRARY)
    assert rows(report.problems) == [
        (2, 10, "warning", "/data/email", 'data: required property "email" is missing'),
        (2, 18, "warning", "/data/age", 'data.age: expected integer, got string "ten"'),
    ]
    assert not report.blocking
    assert report.warnings == report.problems and report.errors == []


def test_schema_applies_when_data_is_missing_and_per_array_index() -> None:
    text = '[{"name": "other"}, {"name": "app/user.created"}]'
    report = validate_text(text, event_limit=LIMIT, schemas=LIBRARY)
    assert rows(report.problems) == [
        (1, 21, "warning", "/1/data/email", 'data: required property "email" is missing')]


def test_the_schema_checks_the_fields_the_server_reads_in_any_case() -> None:
    """The server reads "Data" as data and "NAME" as the name: the schema warned about a
    missing "data" beside a "Data" that had it all, and checked nothing under "NAME"."""
    good = '{"name": "app/user.created", "Data": {"email": "a@b.co", "age": 3}}'
    checked = validate_text(good, event_limit=LIMIT, schemas=LIBRARY).problems
    assert [p for p in checked if p.from_schema] == []
    text = '{"NAME": "app/user.created",\n "Data": {"age": "ten"}}'
    checked = validate_text(text, event_limit=LIMIT, schemas=LIBRARY).problems
    assert rows([p for p in checked if p.from_schema]) == [
        (2, 10, "warning", "/Data/email", 'data: required property "email" is missing'),
        (2, 18, "warning", "/Data/age", 'data.age: expected integer, got string "ten"'),
    ]


def test_syntax_error_is_the_only_problem() -> None:
    report = validate_text('{"name": "a",\n  "data": {,}}', event_limit=LIMIT, schemas=LIBRARY)
    assert rows(report.problems) == [
        (2, 12, "error", "", "Expected a property name in double quotes, found ','")]
    assert report.value is None and report.events == [] and report.blocking


def test_top_level_must_be_an_object_or_array() -> None:
    assert rows(validate_text('"app/x"', event_limit=LIMIT).problems) == [
        (1, 1, "error", "", TOP_LEVEL_MESSAGE)]
    assert rows(validate_text("[]", event_limit=LIMIT).problems) == [
        (1, 1, "error", "", "The array is empty: there is no event to send")]


def test_duplicate_keys_warn() -> None:
    report = validate_text('{"name": "a", "name": "b"}', event_limit=LIMIT)
    assert rows(report.problems) == [
        (1, 15, "warning", "/name", 'Duplicate key "name": only the last value is kept')]
    assert report.events == [{"name": "b"}]


def test_json_lines_name_an_unclosed_bracket_at_its_own_line() -> None:
    """Each line is parsed alone, as its line 1: the message sent the reader to line 1."""
    text = '{"name": "a", "data": {}}\r\n{"name": "b"\n\n{"name": "c", "data": [1}\n'
    report = validate_text(text, event_limit=LIMIT, jsonl=True)
    assert [(p.line, p.message) for p in report.problems] == [
        (2, "Unexpected end of input: '{' at 2:1 is never closed"),
        (4, "Expected ',' or ']' after array element")]


def test_json_lines_positions_across_lines() -> None:
    text = ('{"name": "a/b"}\r\n'
            "\r\n"
            '{"name": 5}\r\n'
            '{"name": "c", "data": {"x": 1,}}\n'
            "[1]\n"
            '{"name": "app/user.created", "data": {"email": 1}}')
    report = validate_text(text, event_limit=LIMIT, schemas=LIBRARY, jsonl=True)
    assert rows(report.problems) == [
        (3, 10, "error", "/1/name", "Event name must be a string, not a number"),
        (4, 30, "error", "/2", "Trailing comma: remove the ',' before '}'"),
        (5, 1, "error", "/3", "Each line of a JSON Lines file must hold one event object"),
        (6, 48, "warning", "/4/data/email", "data.email: expected string, got integer 1"),
    ]
    assert [e["name"] for e in report.events] == ["a/b", 5, "app/user.created"]
    assert report.value[2] is None  # the broken line
    empty = validate_text("\n  \n", event_limit=LIMIT, jsonl=True)
    assert rows(empty.problems) == [
        (1, 1, "error", "", "The file holds no events (JSON Lines: one event per line)")]


def test_problems_are_sorted_by_position() -> None:
    text = '{"zz": 1, "name": 3, "data": [], "v": 1}'
    report = validate_text(text, event_limit=LIMIT)
    starts = [p.start for p in report.problems]
    assert starts == sorted(starts) and len(starts) == 4
    assert report.problems[0].message == 'Unknown event field "zz": Inngest ignores it (put it ' \
                                         "inside data)"


def test_ten_thousand_levels_deep_event_gets_a_clear_message() -> None:
    text = '{"name": "deep", "data": {"a": ' + "[" * 10_000 + "]" * 10_000 + "}}"
    report = validate_text(text, event_limit=LIMIT, schemas=LIBRARY)
    assert rows(report.problems) == [
        (1, 1, "error", "", "Event is nested 10,002 levels deep: too deep to serialize here; "
                            "flatten the data")]
    assert report.sizes == [None]


def test_clean_event_has_no_problems() -> None:
    report = validate_text('{"name": "app/user.created", "data": {"email": "a@b.c"}}',
                           event_limit=LIMIT, schemas=LIBRARY)
    assert report.problems == [] and not report.blocking
    assert Severity.ERROR not in {p.severity for p in report.problems}


def test_problems_of_a_value_that_is_one_placeholder_are_left_to_the_rendered_send():
    text = ('{"name": "a/b", "ts": "{{ now_ms() }}", "data": {"q": "{{ \\"x\\" | upper }}"},'
            ' "v": 5, "user": " {{ u }} "}')
    problems = validate_text(text, event_limit=10_000).problems
    kept = [p.message for p in without_placeholder_types(text, problems)]
    assert len(problems) == 3 and kept == ["Event v (version) must be a string, not a number"]
    plain = '{"name": "a/b", "ts": "soon {{ now_ms() }}"}'  # text around it: a string
    problems = validate_text(plain, event_limit=10_000).problems
    assert without_placeholder_types(plain, problems) == problems != []


def test_a_lone_surrogate_in_a_key_is_underlined_on_the_key() -> None:
    """The unpaired escape is in the key; its value had the underline (column 38 for 27)."""
    for text, key in (('{"name": "x", "data": {}, "\\ud800x": 1}', '"\\ud800x"'),
                      ('{"name": "x", "data": {"\\udc00": [1, 2]}}', '"\\udc00"')):
        problems = [p for p in validate_text(text, event_limit=LIMIT).problems
                    if "unpaired surrogate" in p.message]
        assert len(problems) == 1
        assert text[problems[0].start : problems[0].end] == key
        assert problems[0].column == text.index(key) + 1
    value = '{"name": "x", "data": {"k": "\\ud800"}}'  # in a value: the value, as before
    problem = validate_text(value, event_limit=LIMIT).problems[0]
    assert value[problem.start : problem.end] == '"\\ud800"'

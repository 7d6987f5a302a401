"""Positions: hand-checked ranges and line:col, syntax errors, deep and huge documents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.core import positions
from console.core.positions import (
    LineIndex,
    ParsedDocument,
    Span,
    join_pointer,
    parse_with_positions,
    pointer_tokens,
)
from console.core.problems import Severity


def text_of(doc: ParsedDocument, pointer: str) -> str:
    span = doc.span(pointer)
    assert span is not None, pointer
    return doc.text[span.start : span.end]


def line_col(doc: ParsedDocument, pointer: str) -> tuple[int, int]:
    span = doc.span(pointer)
    assert span is not None
    return doc.lines.line_col(span.start)


NESTED = """{
  "name": "shop/order.created",
  "data": {
    "items": [
      {"sku": "A-1", "qty": 2},
      {"sku": "B\\"2\\"", "price": 9.5e1}
    ],
    "note": "caf\\u00e9 ☕ 🎉 ok",
    "empty": {}, "none": [],
    "a/b": {"~x": true}
  }
}"""


def test_nested_ranges_and_line_columns() -> None:
    doc = parse_with_positions(NESTED)
    assert doc.error is None
    assert text_of(doc, "/name") == '"shop/order.created"'
    assert line_col(doc, "/name") == (2, 11)
    assert text_of(doc, "/data/items/0") == '{"sku": "A-1", "qty": 2}'
    assert line_col(doc, "/data/items/0/qty") == (5, 29)
    assert text_of(doc, "/data/items/1/sku") == '"B\\"2\\""'
    assert text_of(doc, "/data/items/1/price") == "9.5e1"
    assert line_col(doc, "/data/items/1/price") == (6, 34)
    assert text_of(doc, "/data/empty") == "{}"
    assert text_of(doc, "/data/none") == "[]"
    assert text_of(doc, "/data/a~1b/~0x") == "true"
    key = doc.key_span("/data/note")
    assert key is not None and doc.text[key.start : key.end] == '"note"'
    assert doc.key_span("/data/items/0") is None  # array elements have no key
    assert doc.span("/data/missing") is None
    assert doc.span("/data/items/2") is None
    assert doc.span("/data/items/01") is None  # not a canonical array index
    assert doc.span("/name/x") is None


def test_non_ascii_columns_count_code_points() -> None:
    text = '{"s": "é☕🎉", "n": 1}'
    doc = parse_with_positions(text)
    assert line_col(doc, "/n") == (1, 19)
    assert doc.value == {"s": "é☕🎉", "n": 1}
    assert text_of(doc, "/s") == '"é☕🎉"'


def test_crlf_counts_as_one_line_break() -> None:
    text = '{\r\n  "a": 1,\r\n  "b": [\r\n    true\r\n  ]\r\n}\r\n'
    doc = parse_with_positions(text)
    assert line_col(doc, "/a") == (2, 8)
    assert line_col(doc, "/b/0") == (4, 5)
    index = LineIndex("a\r\nb\rc\nd")
    assert [index.line_col(i) for i in (0, 3, 5, 7)] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert index.line_col(1) == (1, 2)  # the \r of a CRLF still belongs to line 1
    assert index.offset(3, 1) == 5


def test_pointer_escaping_round_trips() -> None:
    assert join_pointer(["a/b", "~c", 3]) == "/a~1b/~0c/3"
    assert pointer_tokens("/a~1b/~0c/3") == ["a/b", "~c", "3"]
    assert pointer_tokens("") == []
    assert pointer_tokens("/") == [""]
    doc = parse_with_positions('{"": {"~01": 5}}')
    assert text_of(doc, "//~001") == "5"


def test_pointer_at_finds_innermost_value_or_member() -> None:
    text = '{"a": [1, {"b": "xy"}], "c": null}'
    doc = parse_with_positions(text)
    assert doc.pointer_at(text.index('"b"')) == "/a/1/b"  # on the key
    assert doc.pointer_at(text.index('"xy"') + 1) == "/a/1/b"
    assert doc.pointer_at(text.index("1")) == "/a/0"
    assert doc.pointer_at(text.index(", {")) == "/a"
    assert doc.pointer_at(text.index("null") + 4) == ""  # just after the value
    assert doc.pointer_at(len(text) + 5) == ""


def test_iteration_is_in_document_order() -> None:
    doc = parse_with_positions('{"b": [1, {"c": 2}], "a": 3}')
    assert list(doc) == ["", "/b", "/b/0", "/b/1", "/b/1/c", "/a"]


def test_duplicate_keys_warn_and_last_wins() -> None:
    text = '{"a": 1, "x": {"k": 1, "k": 2}, "a": 3}'
    doc = parse_with_positions(text)
    assert doc.value == {"a": 3, "x": {"k": 2}}
    assert text_of(doc, "/a") == "3"
    assert text_of(doc, "/x/k") == "2"
    warnings = doc.warnings
    assert [(w.message, w.pointer, w.column, w.severity) for w in warnings] == [
        ('Duplicate key "k": only the last value is kept', "/x/k", 24, Severity.WARNING),
        ('Duplicate key "a": only the last value is kept', "/a", 33, Severity.WARNING),
    ]


SYNTAX_ERRORS = [
    ('{"a": 1,}', "Trailing comma: remove the ',' before '}'", 1, 8),
    ("[1, 2,\n]", "Trailing comma: remove the ',' before ']'", 1, 6),
    ('{"a": 1\n "b": 2}', "Expected ',' or '}' after object member", 2, 2),
    ("[1 2]", "Expected ',' or ']' after array element", 1, 4),
    ('{"a" 1}', "Expected ':' after property name", 1, 6),
    ('{"a": "x\n"}', "Unterminated string: add the closing '\"'", 1, 7),
    ('"abc', "Unterminated string: add the closing '\"'", 1, 1),
    ('{"a": "b\\qc"}', 'Invalid escape: use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or '
     "\\uXXXX", 1, 9),
    ('["\\u12G4"]', "Invalid escape: \\u must be followed by four hex digits", 1, 3),
    ('["a\tb"]', "Control character U+0009 in a string: write it as an escape such as \\n, "
     "\\t or \\u0009", 1, 4),
    ("{", "Unexpected end of input: '{' at 1:1 is never closed", 1, 2),
    ('{\r\n  "a": [1,\r\n', "Unexpected end of input: expected a value", 3, 1),
    ('{"a": [1', "Unexpected end of input: '[' at 1:7 is never closed", 1, 9),
    ("", "Unexpected end of input: the document is empty", 1, 1),
    ("{a: 1}", "Property names must be strings in double quotes", 1, 2),
    ("{'a': 1}", "Property names must be strings in double quotes", 1, 2),
    ("['a']", "Strings must use double quotes", 1, 2),
    ("[NaN]", "NaN is not valid JSON: use a number or null", 1, 2),
    ("[-Infinity]", "Invalid number: a digit must follow '-'", 1, 2),
    ("[undefined]", "Unexpected word 'undefined': strings must be in double quotes", 1, 2),
    ("[tru]", "Unexpected word 'tru': strings must be in double quotes", 1, 2),
    ("[01]", "Invalid number: leading zeros are not allowed", 1, 2),
    ("[1.]", "Invalid number: a digit must follow '.' or 'e'", 1, 2),
    ("[.5]", "Invalid number: a number starts with '-' or a digit", 1, 2),
    ("[1, // two\n2]", "Comments are not allowed in JSON", 1, 5),
    ('{"a": 1} {"b": 2}', "Unexpected text after the end of the JSON document: several "
     "events go in one array [ … ]", 1, 10),
    ('{"a": 1}\n{"b": 2}', "Unexpected text after the end of the JSON document: several "
     "events go in one array [ … ], or one per line as JSON Lines", 2, 1),
    ('{"a": 1}\n[2]', "Unexpected text after the end of the JSON document", 2, 1),
    ("[1,,2]", "Unexpected ',': expected a value", 1, 4),
    ('{"é☕": 1,, }', "Expected a property name in double quotes, found ','", 1, 10),
    ("[" + "1" * 5000 + "]", "Number has too many digits", 1, 2),
    # characters that cannot be seen are named by their code point
    ('{\u00a0"a": 1}', "Expected a property name in double quotes, found U+00A0 "
     "(no-break space)", 1, 2),
    ('["a",\u200b]', "Unexpected character U+200B (zero width space)", 1, 6),
    ("[\x00]", "Unexpected character U+0000", 1, 2),
    ("[~]", "Unexpected character '~'", 1, 2),
    ('{"a": 1\u00a0}', "Expected ',' or '}' after object member, found U+00A0 "
     "(no-break space)", 1, 8),
    ('{"a"\u00a0: 1}', "Expected ':' after property name, found U+00A0 (no-break space)",
     1, 5),
    ("[1\u200b]", "Expected ',' or ']' after array element, found U+200B (zero width space)",
     1, 3),
    ("{}\u00a0", "Unexpected text after the end of the JSON document, found U+00A0 "
     "(no-break space)", 1, 3),
]


@pytest.mark.parametrize(("text", "message", "line", "column"), SYNTAX_ERRORS)
def test_first_syntax_error_is_located_exactly(text: str, message: str, line: int,
                                               column: int) -> None:
    doc = parse_with_positions(text)
    assert doc.value is None
    assert doc.error is not None
    assert (doc.error.message, doc.error.line, doc.error.column) == (message, line, column)
    assert doc.error.severity is Severity.ERROR
    assert doc.span("") is None  # no ranges for a broken document


def test_10000_levels_of_nesting_give_a_result() -> None:
    arrays = "[" * 10_000 + "]" * 10_000
    doc = parse_with_positions(arrays)
    assert doc.error is None and doc.depth == 10_000
    assert doc.span("/0" * 9_999) == Span(9_999, 10_001)
    objects = '{"a":' * 10_000 + '"deep"' + "}" * 10_000
    doc = parse_with_positions(objects)
    assert doc.error is None
    assert text_of(doc, "/a" * 10_000) == '"deep"'
    assert doc.pointer_at(50_001) == "/a" * 10_000
    value: Any = doc.value
    for _ in range(10_000):
        value = value["a"]
    assert value == "deep"
    assert sum(1 for _ in doc) == 10_001


def test_10000_levels_with_an_error_at_the_bottom() -> None:
    doc = parse_with_positions('{"a":' * 10_000 + "1,}" + "}" * 9_999)
    assert doc.error is not None
    assert doc.error.message == "Trailing comma: remove the ',' before '}'"
    assert doc.error.column == 50_002
    doc = parse_with_positions("[" * 10_000 + "]" * 9_999)
    assert doc.error is not None
    assert doc.error.message == "Unexpected end of input: '[' at 1:1 is never closed"


def _ten_megabytes() -> str:
    """10 MB in 20,000 rows (the benchmark measures many small values)."""
    filler = "lorem ipsum é ☕ " * 30
    rows = [{"i": i, "s": f"row {i} é", "f": [1.5, None, True], "t": filler}
            for i in range(20_000)]
    text = json.dumps({"name": "bulk/import", "data": {"rows": rows}}, ensure_ascii=False)
    assert len(text.encode()) > 10_000_000
    return text


def test_10_megabyte_document_maps_pointers_and_errors() -> None:
    text = _ten_megabytes()
    doc = parse_with_positions(text)
    assert doc.error is None
    assert text_of(doc, "/data/rows/19999/s") == '"row 19999 é"'
    assert text_of(doc, "/name") == '"bulk/import"'
    broken = text[:-3] + "}" + text[-2:]  # the rows array closed with '}'
    doc = parse_with_positions(broken)
    assert doc.error is not None
    assert doc.error.message == "Expected ',' or ']' after array element"
    assert doc.error.start == len(text) - 3


# -- properties ---------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)
formats = st.sampled_from([
    {}, {"indent": 2}, {"indent": "\t"}, {"separators": (",", ":")},
    {"ensure_ascii": False, "indent": 1}, {"ensure_ascii": False},
])


def _at(value: Any, pointer: str) -> Any:
    for token in pointer_tokens(pointer):
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, formats, st.sampled_from(["\n", "\r\n"]))
def test_every_pointer_span_holds_that_value(value: Any, fmt: dict[str, Any],
                                             newline: str) -> None:
    text = json.dumps(value, **fmt).replace("\n", newline)
    doc = parse_with_positions(text)
    assert doc.error is None
    pointers = list(doc)
    for pointer in pointers:
        assert json.loads(text_of(doc, pointer)) == _at(value, pointer)
        key = doc.key_span(pointer)
        if key is not None:
            assert json.loads(text[key.start : key.end]) == pointer_tokens(pointer)[-1]
    # the strict scanner (used for deep documents) finds the very same ranges
    scan = positions._scan(text)
    strict = ParsedDocument(text, scan.value, scan=scan)
    assert list(strict) == pointers
    assert all(strict.span(p) == doc.span(p) for p in pointers)


@settings(max_examples=200)
@given(json_values, st.integers(min_value=0), st.sampled_from(list('{}[],:"\\ 0-e.tn')),
       st.booleans())
def test_scanner_agrees_with_json_loads_on_mangled_text(value: Any, where: int, char: str,
                                                        insert: bool) -> None:
    text = json.dumps(value)
    cut = where % (len(text) + 1)
    mangled = text[:cut] + char + text[cut + (0 if insert else 1):]
    try:
        json.loads(mangled)
    except ValueError:
        valid = False
    else:
        valid = True
    doc = parse_with_positions(mangled)
    assert (doc.error is None) == valid
    if doc.error is not None:
        assert 0 <= doc.error.start <= len(mangled)

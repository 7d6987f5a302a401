"""The name field's edit: one value of the top-level object, found by the C JSON scanner."""

from __future__ import annotations

import json

import pytest

from console.core.edits import top_level_string_edit


def apply(text: str, value: str) -> str | None:
    edit = top_level_string_edit(text, "name", value)
    if edit is None:
        return None
    start, end, replacement = edit
    return text[:start] + replacement + text[end:]


@pytest.mark.parametrize("text, expected", [
    ('{"name": "a", "data": {"name": "inner"}}', '{"name": "é/x", "data": {"name": "inner"}}'),
    ('{"data": {"name": "inner"}}', '{"name": "é/x", "data": {"name": "inner"}}'),
    ("{}", '{"name": "é/x"}'),
    ('{\n  "data": {}\n}', '{\n  "name": "é/x",\n  "data": {}\n}'),
    ('  {"NAME": "a"}\n', '  {"NAME": "é/x"}\n'),  # the key the server reads, in any case
    ('{"name": "a", "Name": "b"}', '{"name": "a", "Name": "é/x"}'),  # the last wins
    ('{"name": "a", "NAME": null}', '{"name": "é/x", "NAME": null}'),  # a null sets nothing
    ('{"name": "a\\"b", "v": 1e999}', '{"name": "é/x", "v": 1e999}'),
])
def test_the_name_is_set_where_the_server_reads_it(text, expected):
    assert apply(text, "é/x") == expected


@pytest.mark.parametrize("text", ['{"name": "a",}', '{"name": "a"} x', '[{"name": "a"}]',
                                  '{"name" "a"}', '{name: 1}', "", '{"a": [' * 5000])
def test_text_that_is_not_one_object_is_left_alone(text):
    assert top_level_string_edit(text, "name", "x") is None


def test_a_name_with_quotes_and_controls_is_written_as_json():
    out = apply('{"name": "a"}', 'q"\n\\')
    assert out is not None and json.loads(out) == {"name": 'q"\n\\'}

import json

from hypothesis import given
from hypothesis import strategies as st

from console.core.redact import mask_key, mask_url, scrub
from console.core.serialize import (
    array_body,
    array_size,
    breaks_escaped,
    event_bytes,
    pretty,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def test_compact_utf8_keeps_non_ascii():
    expected = '{"name":"é","data":{"a":[1,2]}}'.encode()
    assert event_bytes({"name": "é", "data": {"a": [1, 2]}}) == expected


separator_texts = st.text(alphabet="a\\\"\u2029\u2028\ufdd0\ufdd1 ")


@given(st.recursive(
    st.none() | separator_texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(separator_texts, inner,
                                                                max_size=4),
    max_leaves=12))
def test_pretty_has_no_paragraph_separator_and_the_same_value(value):
    """Qt keeps U+2029 as a line break; its escape is the same JSON value."""
    text = pretty(value)
    assert not {"\u2029", "\ufdd0", "\ufdd1"} & set(text) and json.loads(text) == value
    raw = json.dumps(value, ensure_ascii=False)
    assert json.loads(breaks_escaped(raw)) == value


def test_a_separator_after_an_odd_number_of_backslashes_stays_invalid():
    for text in ('"\\\u2029"', '"\\\\\\\u2029"'):  # an invalid escape either way
        assert breaks_escaped(text) == text
    assert breaks_escaped('"\\\\\u2029"') == '"\\\\\\u2029"'


@given(st.lists(json_values, max_size=8))
def test_array_size_matches_body(values):
    parts = [event_bytes(v) for v in values]
    body = array_body(parts)
    assert len(body) == array_size([len(p) for p in parts])
    assert json.loads(body) == values


def test_masks():
    assert mask_key("abcdefghijkl") == "****ijkl"
    assert mask_url("https://inn.gs/e/abcdefghijkl") == "https://inn.gs/e/****ijkl"
    assert "secret-key-123" not in scrub("failed for /e/secret-key-123 now", ["secret-key-123"])


def test_the_no_key_placeholder_is_shown_as_it_is():
    """Sent to the Dev Server and the inbox when no key is set: masking it as `****_SET`
    would read as if a key ending in _SET were configured."""
    assert mask_url("http://127.0.0.1:8288/e/NO_EVENT_KEY_SET") == (
        "http://127.0.0.1:8288/e/NO_EVENT_KEY_SET")
    assert scrub("could not connect to /e/NO_EVENT_KEY_SET", ["NO_EVENT_KEY_SET"]) == (
        "could not connect to /e/NO_EVENT_KEY_SET")
    assert mask_key("NO_EVENT_KEY_SET_REALLY") == "****ALLY"  # only the exact placeholder


def test_visible_shows_control_characters_and_keeps_the_rest():
    from console.core.terminal import visible

    assert visible("a\x1b[2Jb\x07\x9b\x7f") == "a\\x1b[2Jb\\x07\\x9b\\x7f"
    assert visible("line\nnext\ttab") == "line\\x0anext\\x09tab"
    assert visible("café ☕ 日本 \u00a0") == "café ☕ 日本 \u00a0"
    # an override or isolate reordered the rest of the history table's line on a terminal
    assert visible("shop/\u202egpj.exe\u2066x\u2069\u200f") == (
        "shop/\\u202egpj.exe\\u2066x\\u2069\\u200f")
    assert visible("שלום مرحبا") == "שלום مرحبا"  # right-to-left text itself stays


def test_a_key_is_masked_in_any_case_and_with_a_backslash():
    """A server that echoed the path lower-cased showed the key."""
    key = "AbCdEf0123456789\\Xyz9"
    assert scrub(f"not found: /e/{key.lower()} or /e/{key}", [key]) == (
        "not found: /e/****Xyz9 or /e/****Xyz9")

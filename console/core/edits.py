"""Small text edits that keep the user's formatting (no reserialization of the document)."""

from __future__ import annotations

import json
import re

from console.core.positions import parse_with_positions
from console.core.serialize import dumps

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()

Member = tuple[str, int, int]  # key, and where its value starts and ends


def top_level_members(text: str) -> tuple[int, int, list[Member]] | None:
    """Where the top-level object opens and closes, and each member's key and value span,
    read with the C JSON scanner (a document of megabytes in milliseconds: the name field
    edits one value of it per key press); None when `text` is not one JSON object."""
    try:
        return _members(text)
    except (ValueError, RecursionError):
        return None


def _skip(text: str, pos: int) -> int:
    """The position after the JSON white space at `pos`."""
    found = _SPACE.match(text, pos)  # `*` matches everywhere: never None
    return found.end() if found else pos


def _members(text: str) -> tuple[int, int, list[Member]] | None:
    opening = _skip(text, 0)
    if not text.startswith("{", opening):
        return None
    members: list[Member] = []
    pos = _skip(text, opening + 1)
    if not text.startswith("}", pos):
        while True:
            if not text.startswith('"', pos):
                return None
            key, pos = _DECODER.raw_decode(text, pos)  # a string: its quotes say so
            pos = _skip(text, pos)
            if not text.startswith(":", pos):
                return None
            start = _skip(text, pos + 1)
            _value, end = _DECODER.raw_decode(text, start)
            members.append((key, start, end))
            pos = _skip(text, end)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
                continue
            if not text.startswith("}", pos):
                return None
            break
    closing = pos
    if text[closing + 1:].strip(" \t\n\r"):
        return None
    return opening, closing, members


def top_level_string_edit(text: str, key: str, value: str) -> tuple[int, int, str] | None:
    """(start, end, replacement): the edit that sets the top-level `key` to the string
    `value`, touching only that value. The member set is the one the server reads: its
    field names match in any case, and of several the last wins ("NAME" after "name"); a
    null does not override. A missing key is inserted as the first member. None when the
    text is not a JSON object (the user is mid-edit)."""
    found = top_level_members(text)
    if found is None:
        return None
    opening, closing, members = found
    literal = dumps(value)
    same = [m for m in members if m[0].casefold() == key.casefold()]
    set_ones = [m for m in same if text[m[1]:m[2]] != "null"]
    if same:
        _key, start, end = (set_ones or same)[-1]
        return start, end, literal
    member = f"{dumps(key)}: {literal}"
    rest = text[opening + 1:closing]
    if "\n" in rest:
        return opening + 1, opening + 1, "\n  " + member + ("," if rest.strip() else "")
    return opening + 1, opening + 1, member + (", " if rest.strip() else "")


def set_strings(text: str, values: dict[str, str]) -> str | None:
    """`text` with the existing value at each JSON pointer replaced by a string, touching
    only those values. None when the text is not JSON or a pointer names no value."""
    doc = parse_with_positions(text)
    if doc.error is not None:
        return None
    spans = []
    for pointer, value in values.items():
        span = doc.span(pointer)
        if span is None:
            return None
        spans.append((span.start, span.end, dumps(value)))
    for start, end, literal in sorted(spans, reverse=True):  # from the end: offsets hold
        text = text[:start] + literal + text[end:]
    return text

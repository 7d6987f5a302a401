"""The one serializer: what the meter counts is what the wire carries.

Every event is turned into compact UTF-8 JSON exactly once; a request body is those
event bytes joined into an array (or a single object). The size meter, the preview and
the HTTP client all use these functions, so they agree to the byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def event_bytes(event: Any) -> bytes:
    """Compact UTF-8 JSON of one event (or any JSON value)."""
    return _ENCODER.encode(event).encode("utf-8")


def array_body(parts: Sequence[bytes]) -> bytes:
    """A JSON array body made of already-serialized events."""
    return b"[" + b",".join(parts) + b"]"


def array_size(sizes: Sequence[int]) -> int:
    """Byte size of `array_body` for parts of these sizes, without building it."""
    if not sizes:
        return 2
    return 2 + sum(sizes) + len(sizes) - 1


def json_text(value: Any, **options: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, **options)` that UTF-8 can always carry: a
    string holding half a UTF-16 pair (an event the inbox captured as sent, "\\ud800") is
    written with \\u escapes instead of failing the whole file."""
    text = json.dumps(value, ensure_ascii=False, **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, **options)
    return text


# characters a Qt text widget keeps as a line break: the paragraph separator, and the two
# it uses to mark frames; each after an even number of backslashes (none included)
_BREAKS = re.compile(r"(?<!\\)((?:\\\\)*)([\u2029\ufdd0\ufdd1])")


def breaks_escaped(text: str) -> str:
    """`text` with each character Qt's text widgets keep as a line break (U+2029, U+FDD0,
    U+FDD1) written as its JSON escape (`\\u2029`), the same value in a JSON string. As a
    line break it turned a valid string into "Unterminated string" in the editor, and one
    between tokens (an error to `validate`) into a clean line break. One after an odd
    number of backslashes is left: it is an invalid escape either way."""
    if "\u2029" not in text and "\ufdd0" not in text and "\ufdd1" not in text:
        return text
    return _BREAKS.sub(lambda m: f"{m[1]}\\u{ord(m[2]):04x}", text)


def dumps(value: Any, **options: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, **options)` for text a person reads or edits
    in the window: what Qt would keep as a line break escaped (see `breaks_escaped`)."""
    return breaks_escaped(json_text(value, **options))  # half a UTF-16 pair: escaped


def pretty(value: Any) -> str:
    """Two-space indented JSON for display and workspace files (stable key order kept)."""
    return dumps(value, indent=2) + "\n"

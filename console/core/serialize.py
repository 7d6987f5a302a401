"""The one serializer: what the meter counts is what the wire carries.

Every event is turned into compact UTF-8 JSON exactly once; a request body is those
event bytes joined into an array (or a single object). The size meter, the preview and
the HTTP client all use these functions, so they agree to the byte.
"""

from __future__ import annotations

import json
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


def pretty(value: Any) -> str:
    """Two-space indented JSON for display and workspace files (stable key order kept)."""
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"

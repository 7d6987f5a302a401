"""Format (two-space pretty) and minify (the exact wire bytes) a document's text.

Minify goes through `console.core.serialize.event_bytes`, the one serializer, so what the
editor shows after Ctrl+Shift+M is byte for byte what Send puts on the wire. Both refuse,
with a message for the status bar, when rewriting could not be faithful: invalid JSON,
NaN/Infinity (not JSON), or a duplicate key (one of the values would silently vanish).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console.core.positions import parse_with_positions
from console.core.serialize import event_bytes, pretty
from console.ui.editor.offsets import OffsetMap


class _RefusedError(ValueError):
    pass


@dataclass(frozen=True)
class Rewrite:
    """`text` is the new document, or None when refused; `message` is for the status bar."""

    text: str | None
    message: str


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RefusedError(f'duplicate key "{key}" (one of its values would be lost)')
        seen[key] = value
    return seen


def _constant(name: str) -> Any:
    raise _RefusedError(f"{name} is not valid JSON")


def _parse(text: str, verb: str, done: str) -> tuple[Any, bytes, str | None]:
    """(value, its wire bytes, None), or (None, b"", why it cannot be rewritten)."""
    value, error = _read(text, verb, done)
    if error is not None:
        return None, b"", error
    # what would not come back as written: 1e400 read as infinity (written "Infinity"),
    # "\ud83d" (half a pair) dropped
    try:
        return value, event_bytes(value), None
    except UnicodeEncodeError:
        return None, b"", (f"Not {done}: a string holds an unpaired surrogate escape, which "
                           "is not valid Unicode.")
    except ValueError:
        return None, b"", (f"Not {done}: a number is beyond what JSON can carry "
                           "(over ±1.8e308).")
    except RecursionError:
        return None, b"", f"Not {done}: the JSON is nested too deeply."


def _read(text: str, verb: str, done: str) -> tuple[Any, str | None]:
    if not text.strip():
        return None, f"Nothing to {verb}: the document is empty."
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        return None, (
            f"Not {done}: the JSON is invalid at line {exc.lineno}, column {exc.colno} "
            f"({exc.msg}). Fix it first."
        )
    except _RefusedError as exc:
        return None, f"Not {done}: {exc}."
    except RecursionError:
        return None, f"Not {done}: the JSON is nested too deeply."
    except ValueError:  # Python's cap on the digits of an integer (4,300)
        return None, f"Not {done}: a number has more digits than can be read (over 4,300)."
    return value, None


def format_text(text: str) -> Rewrite:
    value, _compact, error = _parse(text, "format", "formatted")
    if error is not None:
        return Rewrite(None, error)
    return Rewrite(pretty(value).rstrip("\n"), "Formatted.")


def minify_text(text: str) -> Rewrite:
    _value, compact, error = _parse(text, "minify", "minified")
    if error is not None:
        return Rewrite(None, error)
    return Rewrite(compact.decode("utf-8"), f"Minified: {len(compact):,} bytes, as sent.")


def carry_position(old: str, new: str, position: int) -> int:
    """Where the caret goes after a rewrite (UTF-16 positions): at the same place within
    the same JSON value, so formatting a long event does not throw it back to line 1."""
    old_map, new_map = OffsetMap(old), OffsetMap(new)
    offset = old_map.to_code_point(position)
    before = parse_with_positions(old)
    pointer = before.pointer_at(offset)
    old_span, new_span = before.span(pointer), parse_with_positions(new).span(pointer)
    if old_span is None or new_span is None:
        return min(position, len(new))
    inside = offset - old_span.start
    if new[new_span.start] in "{[" or inside > new_span.end - new_span.start:
        inside = 0  # whitespace inside containers changed: go to the value's start
    return new_map.to_utf16(new_span.start + inside)

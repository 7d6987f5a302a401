"""Decode an Event API request body the way the Go server does, message for message.

The inbox stands in for the Dev Server, so a body it accepts or rejects must fare the
same there: the streaming array decoder (events before a bad one are accepted), the
per-event size cap measured on the raw bytes, the 5,000-event cut-off, Go's
case-insensitive struct fields and its `json: cannot unmarshal ...` / syntax messages
(see inbox_syntax.py). Pure: no sockets, no clock; the caller passes the receipt time.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from console.services.inbox_syntax import ConstantError, go_syntax_error

MAX_EVENTS = 5000
INVALID_BODY = "Request body must contain an event object or an array of event objects"
RESERVED_PREFIX = "inngest/"
STRIPPED_DATA_KEYS = ("inngest", "_inngest")
_INT64 = 1 << 63
_START_NS = 315_532_800 * 1_000_000_000  # 1980-01-01T00:00:00Z
_END_NS = 4_102_444_800 * 1_000_000_000  # 2100-01-01T00:00:00Z
_WS = " \t\n\r"
_MAP = "map[string]interface {}"
_FIELDS = {"name": "string", "data": _MAP, "user": _MAP, "id": "string", "ts": "int64",
           "v": "string"}
_HUGE_NUMBER = "json: cannot unmarshal number into Go value of type float64"
# Python's decoder recurses once per level and stops near 1,000; Go's allows 10,000
_TOO_DEEP = ("JSON nested too deeply for the inbox to decode (about 900 levels; Inngest "
             "accepts up to 10,000)")
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> Any:
    raise ConstantError(name)


class _Huge(float):
    """A number beyond float64 (1e400, a 400-digit integer), kept with its source text: Go
    refuses it where Python would keep `inf`, and the REST API would then serve
    `Infinity`, which is not JSON."""

    text: str

    def __new__(cls, text: str) -> _Huge:
        number = super().__new__(cls, math.inf)
        number.text = text
        return number


def _float(text: str) -> float:
    value = float(text)
    return _Huge(text) if math.isinf(value) else value


def _int(text: str) -> int | float:
    if len(text) > 300 and math.isinf(float(text)):  # float64 ends near 1.8e308
        return _Huge(text)
    return int(text)


# where a number beyond float64 may be: an exponent of 3 digits or a 300-digit run
_HUGE_HINT = re.compile(r"[eE][+]?[0-9]{3}|[0-9]{300}")


_DECODER = json.JSONDecoder(parse_float=_float, parse_int=_int,
                            parse_constant=_reject_constant)


class _FloatLiteral(str):
    """A float kept as its source text, to quote it in Go's `number 1.5` message."""


_LITERAL_DECODER = json.JSONDecoder(parse_float=_FloatLiteral, parse_int=_int,
                                    parse_constant=_reject_constant)


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """One accepted event: its envelope as the server keeps it, and its bytes as sent."""

    event: dict[str, Any]  # name, data, [user], [id], ts, [v]
    raw: bytes
    size: int

    @property
    def name(self) -> str:
        return str(self.event["name"])

    @property
    def dedup_id(self) -> str | None:
        value = self.event.get("id")
        return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class DecodedBody:
    """The events accepted before the first problem, and that problem's message."""

    events: list[DecodedEvent]
    error: str | None


def decode_body(body: bytes, *, event_limit: int, now_ms: int) -> DecodedBody:
    """Every event of a request body in order, stopping at the first one Go would refuse."""
    try:
        text, invalid = body.decode("utf-8"), False
    except UnicodeDecodeError:  # Go measures and keeps the bytes; strings get U+FFFD
        text, invalid = body.decode("utf-8", "surrogateescape"), True
    ascii_only = len(text) == len(body)  # one character per byte: positions are offsets
    n = len(text)
    pos = _skip_ws(text, 0)
    if pos >= n:
        return DecodedBody([], None)  # Go: an empty body is "no events", not an error
    first = text[pos]
    if first == "{":
        return _single(text, pos, body, event_limit, now_ms, ascii_only, invalid)
    if first != "[":
        return DecodedBody([], INVALID_BODY)
    events: list[DecodedEvent] = []
    pos += 1
    while True:
        pos = _skip_ws(text, pos)
        if pos >= n or text[pos] in "]}":
            return DecodedBody(events, None)  # json.Decoder.More() is false: done
        if len(events) == MAX_EVENTS:
            return DecodedBody(events, f"Cannot have more than {MAX_EVENTS} events in a batch")
        if events:
            if text[pos] != ",":
                return DecodedBody(events, "expected comma after array element")
            pos = _skip_ws(text, pos + 1)
            if pos >= n:
                return DecodedBody(events, "EOF")
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            return DecodedBody(events, go_syntax_error(text, exc, "unexpected EOF"))
        except ConstantError as exc:
            return DecodedBody(events, exc.go_message())
        except ValueError:  # an integer too long for Python's int parser
            return DecodedBody(events, _HUGE_NUMBER)
        except RecursionError:
            return DecodedBody(events, _TOO_DEEP)
        raw_text = text[pos:end]
        raw = raw_text.encode("utf-8", "surrogateescape") if not ascii_only else body[pos:end]
        if len(raw) > event_limit:
            return DecodedBody(events, _too_large(event_limit, len(raw)))
        outcome = _checked_event(value, raw_text, now_ms, invalid)
        if isinstance(outcome, str):
            return DecodedBody(events, outcome)
        events.append(DecodedEvent(outcome, raw, len(raw)))
        pos = end


def _single(
    text: str, pos: int, body: bytes, event_limit: int, now_ms: int, ascii_only: bool,
    invalid: bool,
) -> DecodedBody:
    """A body that is one object: Go measures it from `{` to the last byte of the body."""
    raw = body[pos:] if ascii_only else text[pos:].encode("utf-8", "surrogateescape")
    if len(raw) > event_limit:
        return DecodedBody([], _too_large(event_limit, len(raw)))
    raw_text = text[pos:]
    try:
        value = _DECODER.decode(raw_text)
    except json.JSONDecodeError as exc:
        return DecodedBody([], go_syntax_error(raw_text, exc, "unexpected end of JSON input"))
    except ConstantError as exc:
        return DecodedBody([], exc.go_message())
    except ValueError:  # an integer too long for Python's int parser
        return DecodedBody([], _HUGE_NUMBER)
    except RecursionError:
        return DecodedBody([], _TOO_DEEP)
    outcome = _checked_event(value, raw_text, now_ms, invalid)
    if isinstance(outcome, str):
        return DecodedBody([], outcome)
    kept = raw.rstrip(b" \t\r\n")
    return DecodedBody([DecodedEvent(outcome, kept, len(kept))], None)


def _too_large(limit: int, size: int) -> str:
    return f"Event is over the max size: Max {limit} bytes / Size {size} bytes"


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


def _kind(value: Any) -> str:
    """The JSON kind Go names in an UnmarshalTypeError."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _type_error(value: Any, field: str) -> str:
    return f"json: cannot unmarshal {value} into Go struct field .{field} of type {_FIELDS[field]}"


def _checked_event(value: Any, raw_text: str, now_ms: int,
                   invalid: bool) -> dict[str, Any] | str:
    try:
        return _to_event(value, raw_text, now_ms, invalid)
    except RecursionError:  # a value nested nearly as deep as the decoder allows
        return _TOO_DEEP


def _to_event(value: Any, raw_text: str, now_ms: int,
              invalid: bool = False) -> dict[str, Any] | str:
    """The envelope Go's `event.Event` would hold, or the first message it would give.
    `invalid`: the body was not UTF-8 (its bad bytes are lone surrogates here)."""
    if value is None:
        value = {}  # `null` decodes to an empty struct; the empty name is caught below
    if not isinstance(value, dict):
        return f"json: cannot unmarshal {_kind(value)} into Go value of type event.Event"
    if invalid or _LONE_SURROGATE_ESCAPE.search(raw_text):
        value = _replace_surrogates(value)
    fields: dict[str, Any] = {}
    first_error: str | None = None
    for key, item in value.items():
        field = key if key in _FIELDS else key.casefold()
        if field not in _FIELDS or (item is None and field not in ("data", "user")):
            continue  # unknown keys are ignored; null leaves a Go string/int unchanged
        problem = _field_problem(field, item, raw_text, key)
        if problem is not None:
            first_error = first_error or problem
            continue
        fields[field] = item
    if first_error is not None:
        return first_error
    name = fields.get("name", "")
    if name[: len(RESERVED_PREFIX)].lower() == RESERVED_PREFIX:
        return f"event name is reserved for internal use: {name}"
    data = fields.get("data") or {}
    for key in STRIPPED_DATA_KEYS:
        data.pop(key, None)
    ts = fields.get("ts", 0) or now_ms
    if not name:
        return "event name is empty"
    nanos = (ts * 1_000_000 + _INT64) % (1 << 64) - _INT64  # Go's int64 multiply wraps
    if nanos < _START_NS:
        return "timestamp is before Jan 1, 1980"
    if nanos > _END_NS:
        return "timestamp is after Jan 1, 2100"
    event: dict[str, Any] = {"name": name, "data": data}
    if fields.get("user"):
        event["user"] = fields["user"]
    if fields.get("id"):
        event["id"] = fields["id"]
    event["ts"] = ts
    if fields.get("v"):
        event["v"] = fields["v"]
    return event


def _field_problem(field: str, item: Any, raw_text: str, key: str) -> str | None:
    expected = _FIELDS[field]
    if expected == "string":
        return None if isinstance(item, str) else _type_error(_kind(item), field)
    if expected == _MAP:
        if item is not None and not isinstance(item, dict):
            return _type_error(_kind(item), field)
        huge = _first_huge(item) if _HUGE_HINT.search(raw_text) else None
        return None if huge is None else (
            f"json: cannot unmarshal number {huge.text} into Go value of type float64")
    # int64: an integer literal that fits; any other number is quoted as written
    if isinstance(item, bool) or not isinstance(item, int | float):
        return _type_error(_kind(item), field)
    if isinstance(item, int) and -_INT64 <= item < _INT64:
        return None
    return _type_error(f"number {_literal(item, raw_text, key)}", field)


def _literal(value: int | float, raw_text: str, key: str) -> str:
    """The source text of a number (Go quotes `1.5e3`, not Python's `1500.0`)."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, _Huge):
        return value.text
    reparsed = _LITERAL_DECODER.decode(raw_text)
    found = reparsed.get(key) if isinstance(reparsed, dict) else None
    return str(found) if isinstance(found, _FloatLiteral) else repr(value)


def _first_huge(value: Any) -> _Huge | None:
    """The first number beyond float64 in a decoded value, in document order."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Huge):
            return item
        if isinstance(item, dict):
            stack.extend(reversed(item.values()))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None


def _replace_surrogates(value: Any) -> Any:
    """Go turns a lone `\\ud800` escape, and each byte that is not UTF-8, into U+FFFD;
    Python would keep an unencodable str."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value

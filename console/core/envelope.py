"""The Inngest event envelope: what the server rejects, caught before the event leaves.

The rules are those of the Event API (see the team's inngest-event-api notes): `name`
required and not reserved, `data` an object, `id` and `v` strings, `ts` integer
milliseconds between 1980 and 2100, `user` an object, and the compact size within the
environment's per-event limit. `ENVELOPE_SCHEMA` states them as a JSON Schema (it also
feeds completion and hover); `check_event` applies them with messages that say what to
fix, in the server's words where it has some. Errors block Send (the server would
reject the event); warnings (unknown fields, stripped keys) only inform.
"""

from __future__ import annotations

import difflib
import math
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

from console.core.plan import block_reason
from console.core.positions import escape_token, nesting_depth
from console.core.problems import Severity
from console.core.serialize import event_bytes

TS_MIN = 315_532_800_000  # 1980-01-01T00:00:00Z in milliseconds
TS_MAX = 4_102_444_800_000  # 2100-01-01T00:00:00Z in milliseconds
MAX_NAME_LENGTH = 512  # newer Inngest APIs reject longer names
RESERVED_PREFIX = "inngest/"
KNOWN_FIELDS = ("name", "data", "user", "id", "ts", "v")
KNOWN_SET = frozenset(KNOWN_FIELDS)

ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://event-console.invalid/schemas/inngest-event.json",
    "title": "Inngest event",
    "description": "One event as the Inngest Event API accepts it.",
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {
            "type": "string", "minLength": 1, "not": {"pattern": "^[iI][nN][nN][gG][eE][sS][tT]/"},
            "description": "The event name, e.g. \"app/user.created\". Names starting with "
                           "\"inngest/\" are reserved.",
        },
        "data": {
            "type": "object",
            "description": "The payload: any JSON object. A top-level \"inngest\" key is "
                           "stripped by the server.",
        },
        "user": {"type": "object", "description": "User data (optional, deprecated)."},
        "id": {
            "type": "string",
            "description": "Deduplication id: another event with the same id within 24 hours "
                           "starts no new function runs.",
        },
        "ts": {
            "type": "integer", "minimum": TS_MIN, "maximum": TS_MAX,
            "description": "Timestamp in Unix epoch milliseconds; 0 or missing means the time "
                           "the server receives it.",
        },
        "v": {"type": "string", "description": "Event version, e.g. \"2024-01-01.1\"."},
    },
}


class EnvelopeIssue(NamedTuple):
    """One broken rule: where (pointer into the document), what, how bad."""

    pointer: str
    message: str
    severity: Severity


def json_type(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _ts_hint(ts: int) -> str:
    for unit, factor in (("seconds", 1 / 1000), ("microseconds", 1000),
                         ("nanoseconds", 1_000_000)):
        if TS_MIN <= ts / factor <= TS_MAX:
            return f"; it looks like {unit}: Inngest expects milliseconds ({int(ts / factor)})"
    return ""


def _check_ts(ts: Any, pointer: str) -> list[EnvelopeIssue]:
    if ts is None:
        return []
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        return [EnvelopeIssue(pointer, f"Event ts must be an integer number of milliseconds, "
                                       f"not {json_type(ts)}", Severity.ERROR)]
    if isinstance(ts, float):
        return [EnvelopeIssue(pointer, "Event ts must be an integer number of milliseconds "
                                       "(no fraction or exponent)", Severity.ERROR)]
    if ts == 0:
        return []
    if ts < TS_MIN:
        return [EnvelopeIssue(pointer, f"Timestamp is before Jan 1, 1980{_ts_hint(ts)}",
                              Severity.ERROR)]
    if ts > TS_MAX:
        return [EnvelopeIssue(pointer, f"Timestamp is after Jan 1, 2100{_ts_hint(ts)}",
                              Severity.ERROR)]
    return []


def as_read(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The envelope fields as the server reads them, and the key each came from. Go's JSON
    decoder matches field names in any case ("NAME" sets name); of several keys for one
    field the last wins, and a null leaves a string or number field as it was."""
    if KNOWN_SET.issuperset(event):
        return event, {}
    fields: dict[str, Any] = {}
    keys: dict[str, str] = {}
    for key, item in event.items():
        field = key if key in KNOWN_SET else key.casefold()
        if field not in KNOWN_SET or (item is None and field not in ("data", "user")
                                      and field in fields):
            continue
        fields[field] = item
        keys[field] = key
    return fields, {f: k for f, k in keys.items() if k != f}


def envelope_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """`event`'s envelope fields as the server reads them (`as_read`): `event` itself when
    every key is a field name written in lower case, as nearly always."""
    return event if KNOWN_SET.issuperset(event) else as_read(dict(event))[0]


def ignored_keys(event: Mapping[str, Any]) -> list[str]:
    """The keys of `event` the server reads as no field at all (it drops them)."""
    return [key for key in event if key not in KNOWN_SET and key.casefold() not in KNOWN_SET]


def _check_name(event: dict[str, Any], pointer: str, keys: dict[str, str]) -> list[EnvelopeIssue]:
    at = pointer + "/" + escape_token(keys.get("name", "name"))
    if "name" not in event:
        return [EnvelopeIssue(at, 'Event name is missing: add "name", e.g. "app/user.created"',
                              Severity.ERROR)]
    name = event["name"]
    if name is None or name == "":
        return [EnvelopeIssue(at, "Event name is empty", Severity.ERROR)]
    if not isinstance(name, str):
        return [EnvelopeIssue(at, f"Event name must be a string, not {json_type(name)}",
                              Severity.ERROR)]
    if name.lower().startswith(RESERVED_PREFIX):
        return [EnvelopeIssue(at, f"Event name is reserved for internal use: "
                                  f"names starting with \"{name[:8]}\" belong to Inngest",
                              Severity.ERROR)]
    issues = []
    if not name.strip():
        issues.append(EnvelopeIssue(at, "Event name is only whitespace", Severity.WARNING))
    elif name != name.strip():
        issues.append(EnvelopeIssue(at, "Event name starts or ends with whitespace; triggers "
                                        "match names exactly", Severity.WARNING))
    if len(name) > MAX_NAME_LENGTH:
        issues.append(EnvelopeIssue(at, f"Event name is {len(name):,} characters long; newer "
                                        f"Inngest APIs reject names over {MAX_NAME_LENGTH}",
                                    Severity.WARNING))
    return issues


def _check_fields(raw: dict[str, Any], event: dict[str, Any], pointer: str,
                  keys: dict[str, str]) -> list[EnvelopeIssue]:
    def at(field: str) -> str:
        return pointer + "/" + escape_token(keys.get(field, field))

    issues = []
    data = event.get("data")
    if "data" in event and data is None:
        issues.append(EnvelopeIssue(at("data"), "Event data is null: write {} or leave "
                                    "data out (the SDKs send {})", Severity.WARNING))
    elif "data" in event and not isinstance(data, dict):
        issues.append(EnvelopeIssue(at("data"), f"Event data must be a JSON object, "
                                    f"not {json_type(data)}", Severity.ERROR))
    elif isinstance(data, dict) and "inngest" in data:
        issues.append(EnvelopeIssue(at("data") + "/inngest", 'The key "inngest" in data is '
                                    "reserved: the server strips it", Severity.WARNING))
    user = event.get("user")
    if user is not None and not isinstance(user, dict):
        issues.append(EnvelopeIssue(at("user"), f"Event user must be a JSON object, "
                                    f"not {json_type(user)}", Severity.ERROR))
    for field, what in (("id", "id (the deduplication key)"), ("v", "v (version)")):
        value = event.get(field)
        if value is not None and not isinstance(value, str):
            issues.append(EnvelopeIssue(at(field), f"Event {what} must be a string, "
                                        f"not {json_type(value)}", Severity.ERROR))
    issues.extend(_check_ts(event.get("ts"), at("ts")))
    for field in raw:
        if field in KNOWN_SET:
            continue
        if field.casefold() in KNOWN_SET:
            issues.append(EnvelopeIssue(
                pointer + "/" + escape_token(field),
                f'Event field "{field}" is read as "{field.casefold()}": the server matches '
                f'field names in any case; write "{field.casefold()}"', Severity.WARNING))
            continue
        if field not in KNOWN_FIELDS:
            close = difflib.get_close_matches(field, KNOWN_FIELDS, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else (
                ": Inngest ignores it (put it inside data)"
            )
            issues.append(EnvelopeIssue(pointer + "/" + escape_token(field),
                                        f'Unknown event field "{field}"{hint}', Severity.WARNING))
    return issues


def size_issue(size: int, event_limit: int, pointer: str = "",
               env_name: str | None = None,
               request_limit: int | None = None) -> EnvelopeIssue | None:
    """The over-size error, or None when the event fits; with `request_limit`, also when
    the event fits the per-event limit but no request (a 700 KB event to a Dev Server,
    whose events may be 3 MiB: `validate` and the editor passed it, and Send refused it)."""
    if size <= event_limit:
        alone = block_reason(size, request_limit=request_limit, event_limit=event_limit) if (
            request_limit is not None) else None
        return EnvelopeIssue(pointer, alone, Severity.ERROR) if alone else None
    where = f"per-event limit of {env_name}" if env_name else "per-event limit"
    return EnvelopeIssue(pointer, f"Event is over the max size: {size:,} bytes > "
                                  f"{event_limit:,} ({where})", Severity.ERROR)


def check_event(value: Any, *, pointer: str = "", event_limit: int,
                env_name: str | None = None, size: int | None = None,
                part: bytes | None = None,
                request_limit: int | None = None) -> list[EnvelopeIssue]:
    """Every envelope rule `value` breaks; `size` (and `part`, the bytes) may pass the
    already-measured event. Integers too big for the server are found only when the bytes
    are known (given as `part`, or measured here)."""
    if not isinstance(value, dict):
        return [EnvelopeIssue(pointer, f"An event must be a JSON object, not {json_type(value)}",
                              Severity.ERROR)]
    event, keys = as_read(value)
    issues = _check_name(event, pointer, keys) + _check_fields(value, event, pointer, keys)
    if size is None:
        try:
            part = event_bytes(value)
            size = len(part)
        except RecursionError:
            return [*issues, EnvelopeIssue(pointer, too_deep_message(value), Severity.ERROR)]
        except UnicodeEncodeError:  # a ValueError too: before the number's branch
            where, text = first_lone_surrogate(value)
            return [*issues, EnvelopeIssue(pointer + where, lone_surrogate_message(text),
                                           Severity.ERROR)]
        except ValueError:
            return [*issues, _beyond_json(pointer + _first_non_finite(value))]
    huge = huge_integer_at(part, value) if part is not None else None
    if huge is not None:
        issues.append(_beyond_json(pointer + huge))
    over = size_issue(size, event_limit, pointer, env_name, request_limit)
    return [*issues, over] if over else issues


# 1.8e308 has 309 digits. A digit run that long is looked for as a substring of the bytes
# with each digit made "0" and the rest " ": a regex (`[0-9]{309}`) tried each position
# in turn, 16 us per ~1 KiB event, 40 % of checking a file of 20,000 of them.
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_DIGIT_RUN = b"0" * 309


def huge_integer_at(part: bytes, value: Any) -> str | None:
    """Where (a pointer relative to the event) the event (`part`, its bytes; `value`,
    parsed) holds an integer beyond what a float64 holds (over ±1.8e308), or None. Python
    reads one as an int; Go's decoder, reading `data` into float64s, refuses it ("cannot
    unmarshal number … into Go value of type float64"). Only the fields the server reads
    count (it ignores an unknown top-level key), and only bytes with 309 digits in a row
    are walked: the common case costs two passes in C."""
    if _DIGIT_RUN not in part.translate(_DIGITS_AS_ZEROS) or not isinstance(value, dict):
        return None
    fields, keys = as_read(value)
    for field, item in fields.items():
        where = _first_non_finite(item, root="/" + escape_token(keys.get(field, field)))
        if where:
            return where
    return None


def _beyond_json(pointer: str) -> EnvelopeIssue:
    return EnvelopeIssue(pointer, "A number beyond what JSON can carry (over ±1.8e308, or "
                                  "NaN or Infinity): Inngest refuses it", Severity.ERROR)


def _first_non_finite(value: Any, root: str = "") -> str:
    """The pointer (relative to `value`, after `root`) of its first NaN or infinite number,
    or integer beyond ±1.8e308 (a float64 holds none such); "" when it has none."""
    stack: list[tuple[str, Any]] = [(root, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where
        if (type(item) is int
                and not -sys.float_info.max <= item <= sys.float_info.max):
            return where
        if isinstance(item, dict):
            stack.extend((f"{where}/{escape_token(str(k))}", v)
                         for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{where}/{i}", v) for i, v in reversed(list(enumerate(item))))
    return ""


def first_lone_surrogate(value: Any) -> tuple[str, str]:
    """(pointer, the string) of the first string or key holding half of a UTF-16 pair
    (JSON text "\\ud800" reads as one), or ("", "")."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str) and has_lone_surrogate(item):
            return where, item
        if isinstance(item, dict):
            for k, v in reversed(item.items()):
                if has_lone_surrogate(str(k)):
                    return f"{where}/{escape_token(str(k))}", str(k)
                stack.append((f"{where}/{escape_token(str(k))}", v))
        elif isinstance(item, list):
            stack.extend((f"{where}/{i}", v) for i, v in reversed(list(enumerate(item))))
    return "", ""


def has_lone_surrogate(text: str) -> bool:
    """Whether `text` holds half of a UTF-16 pair (JSON text "\\ud800" reads as one)."""
    return _surrogate_in(text) is not None


def _surrogate_in(text: str) -> str | None:
    return next((ch for ch in text if 0xD800 <= ord(ch) <= 0xDFFF), None)


def lone_surrogate_message(text: str) -> str:
    half = _surrogate_in(text) or "\ud800"
    return (f"An unpaired surrogate escape (\\u{ord(half):04x}) is not valid Unicode: "
            "Inngest would keep U+FFFD (\ufffd) in its place; write the character itself "
            "or both halves of its pair")


def too_deep_message(value: Any) -> str:
    return (f"Event is nested {nesting_depth(value):,} levels deep: too deep to serialize "
            "here; flatten the data")

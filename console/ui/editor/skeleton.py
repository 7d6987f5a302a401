"""Insert a schema skeleton into the `data` of the event at the cursor, as one small edit.

Only properties `data` lacks are added (what the user already typed is kept), and the
rest of the document is left exactly as written: no reformatting, so undo is one step
and the problem marks elsewhere stay where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.core.positions import parse_with_positions
from console.core.serialize import dumps


@dataclass(frozen=True)
class Edit:
    """Replace code points [start, end) with `text`; `cursor` is where to put the caret."""

    start: int
    end: int
    text: str
    cursor: int
    message: str


@dataclass(frozen=True)
class Refusal:
    message: str


def _indent_of(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    line = text[line_start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _member(key: str, value: Any, indent: str) -> str:
    rendered = dumps(value, indent=2).replace("\n", "\n" + indent)
    return f"{indent}{dumps(key)}: {rendered}"


def _add_members(
    text: str, start: int, end: int, members: dict[str, Any], *, multiline: bool
) -> tuple[int, int, str]:
    """Replacement (start, end, text) that adds `members` to the object at [start, end).

    A one-line event stays on one line; in a multi-line one each member gets its own line,
    indented one level deeper than the line the object starts on.
    """
    inner = text[start + 1 : end - 1]
    last = start + len(text[start : end - 1].rstrip())
    if not multiline:
        rendered = ", ".join(
            f"{dumps(k)}: {dumps(v)}"
            for k, v in members.items()
        )
        if not inner.strip():
            return start, end, "{" + rendered + "}"
        return last, last, ", " + rendered
    base = _indent_of(text, start)
    indent = base + "  "
    rendered = ",\n".join(_member(k, v, indent) for k, v in members.items())
    if not inner.strip():
        return start, end, "{\n" + rendered + "\n" + base + "}"
    return last, last, ",\n" + rendered


def _event_pointer(doc: Any, offset: int) -> str | None:
    value = doc.value
    if isinstance(value, dict):
        return ""
    if isinstance(value, list):
        pointer: str = doc.pointer_at(offset)
        first = pointer.split("/")[1:2]
        if first and first[0].isdigit():
            return "/" + first[0]
        if len(value) == 1:
            return "/0"
    return None


def skeleton_edit(text: str, offset: int, skeleton: dict[str, Any] | None) -> Edit | Refusal:
    """`skeleton`: the event's schema skeleton, None when it has no schema (text that does
    not parse has no event to look one up for: that is said first)."""
    doc = parse_with_positions(text)
    if doc.error is not None:
        return Refusal(f"Insert skeleton needs valid JSON first: {doc.error.message}")
    if skeleton is None:
        return Refusal("No schema for this event: nothing to insert.")
    pointer = _event_pointer(doc, offset)
    if pointer is None:
        return Refusal("Put the cursor inside an event to insert its skeleton.")
    event = doc.value if pointer == "" else doc.value[int(pointer[1:])]
    if not isinstance(event, dict):
        return Refusal("Insert skeleton works on an event object.")
    # the server reads field names in any case: "Data" is the event's data
    key = "data" if "data" in event else next(
        (k for k in event if isinstance(k, str) and k.lower() == "data"), "data")
    data = event.get(key)
    if key in event and not isinstance(data, dict):
        return Refusal(f'"{key}" is not an object; fix it before inserting a skeleton.')
    if isinstance(data, dict):
        target = doc.span(f"{pointer}/{key}")
        members = {k: v for k, v in skeleton.items() if k not in data}
        if not members:
            return Refusal("Nothing to insert: data already has every skeleton property.")
    else:
        target = doc.span(pointer)
        members = {"data": skeleton}
    event_span = doc.span(pointer)
    if target is None or event_span is None:
        return Refusal("Insert skeleton could not locate the event in the text.")
    multiline = "\n" in text[event_span.start : event_span.end]
    start, end, new = _add_members(text, target.start, target.end, members, multiline=multiline)
    first_value = new.find(": ") + 2 if ": " in new else 0
    added = members if isinstance(data, dict) else skeleton
    names = ", ".join(added) or "an empty data object"
    return Edit(start, end, new, start + first_value, f"Inserted {names}.")

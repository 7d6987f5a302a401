"""Small text edits that keep the user's formatting (no reserialization of the document)."""

from __future__ import annotations

from console.core.positions import parse_with_positions
from console.core.serialize import dumps


def set_top_level_string(text: str, key: str, value: str) -> str | None:
    """`text` with the top-level `key` set to the string `value`, touching only that value.

    A missing key is inserted as the first member. None when the text is not a JSON object
    (the user is mid-edit; the name field then waits for valid JSON).
    """
    doc = parse_with_positions(text)
    if doc.error is not None or not isinstance(doc.value, dict):
        return None
    literal = dumps(value)
    pointer = "/" + key.replace("~", "~0").replace("/", "~1")
    span = doc.span(pointer)
    if span is not None:
        return text[: span.start] + literal + text[span.end :]
    root = doc.span("")
    if root is None:
        return None
    opening = root.start + 1
    member = f"{dumps(key)}: {literal}"
    rest = text[opening:root.end - 1]
    separator = ", " if rest.strip() else ""
    if "\n" in rest:
        indent = "\n  "
        return text[:opening] + indent + member + ("," if rest.strip() else "") + text[opening:]
    return text[:opening] + member + separator + text[opening:]


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

"""Where a problem is: FILE:LINE:COL from a JSON Pointer and an offset inside a string.

Why offsets inside strings: a template error belongs to one placeholder of a string value,
and the user should land on that placeholder, with the JSON escapes before it counted.
"""

from __future__ import annotations

from typing import Any

from console.core.positions import ParsedDocument
from console.core.problems import FileProblem
from console.core.template import TemplateError


class SourceMap:
    """Maps a JSON Pointer (and an offset inside a string value) to FILE:LINE:COL."""

    def __init__(self, file: str, doc: ParsedDocument) -> None:
        self.file = file
        self.doc = doc

    def problem(self, pointer: str, message: str, *, string_offset: int | None = None,
                line: int = 1, key: bool = False) -> FileProblem:
        """`key`: point at the member's key rather than its value (unknown keys)."""
        key_span = self.doc.key_span(pointer) if key else None
        if key_span is not None:
            return FileProblem(self.file, self.doc.problem(
                message, key_span.start, key_span.end, pointer=pointer))
        found = self.doc.nearest(pointer)
        start, end = found[1] if found else (0, 0)
        value = _value_at(self.doc.value, pointer)
        if isinstance(value, str) and found and found[0] == pointer:
            inner = string_offset
            if inner is None and line > 1:
                inner = _nth_line_start(value, line)
            if inner is not None:
                start = source_offset(self.doc.text, start, inner)
                end = start + 1
        return FileProblem(self.file, self.doc.problem(message, start, end, pointer=pointer))

    def template_problem(self, exc: TemplateError, base: str = "") -> FileProblem:
        return self.problem(base + exc.pointer, exc.message, string_offset=exc.offset,
                            line=exc.line)


def source_offset(text: str, quote: int, inner: int) -> int:
    """Offset in `text` of the `inner`-th character of the JSON string starting at `quote`."""
    pos, count = quote + 1, 0
    while count < inner and pos < len(text):
        if text[pos] == "\\":
            if text.startswith("u", pos + 1):
                code = int(text[pos + 2 : pos + 6], 16)
                pair = 0xD800 <= code < 0xDC00 and text.startswith("\\u", pos + 6)
                pos += 12 if pair else 6
            else:
                pos += 2
        else:
            pos += 1
        count += 1
    return pos


def _nth_line_start(value: str, line: int) -> int:
    pos = 0
    for _ in range(line - 1):
        found = value.find("\n", pos)
        if found < 0:
            break
        pos = found + 1
    return pos


def _value_at(value: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:] if pointer else []:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return None
    return value

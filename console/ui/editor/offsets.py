"""Code-point offsets (Python str, what core reports) <-> UTF-16 positions (what Qt uses).

`console.core` anchors every Problem to str offsets; QTextDocument counts UTF-16 code
units, so every character outside the Basic Multilingual Plane (emoji, some CJK) shifts
Qt positions by one. Without this mapping an underline after an emoji lands one character
early. Pure-BMP text (the common case) maps by identity with no per-character work.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class OffsetMap:
    """Maps between the two offset systems for one snapshot of the text."""

    __slots__ = ("_astral_cp", "_astral_u16")

    def __init__(self, text: str) -> None:
        # Code-point index of every astral character, and its UTF-16 position.
        self._astral_cp: list[int] = [m.start() for m in _ASTRAL.finditer(text)]
        self._astral_u16: list[int] = [cp + i for i, cp in enumerate(self._astral_cp)]

    def to_utf16(self, offset: int) -> int:
        if not self._astral_cp:
            return offset
        return offset + bisect_left(self._astral_cp, offset)

    def to_code_point(self, position: int) -> int:
        if not self._astral_u16:
            return position
        # Astral characters that end at or before `position` each count twice.
        return position - bisect_right(self._astral_u16, position - 2)


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units (what Qt calls its length)."""
    return len(text) + len(_ASTRAL.findall(text))


def column_to_utf16(line_text: str, column0: int) -> int:
    """UTF-16 column of the code-point column `column0` (0-based) within one line."""
    column0 = max(0, min(column0, len(line_text)))
    return utf16_len(line_text[:column0])


def utf16_to_column(line_text: str, position: int) -> int:
    """Code-point column (0-based) of the UTF-16 column `position` within one line."""
    return OffsetMap(line_text).to_code_point(position)

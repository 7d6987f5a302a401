"""Find the bracket that matches the one at the cursor, using the highlighter's cache.

The walk is bounded (`MAX_LINES`) so a cursor parked on the first `{` of a huge document
costs at most a few milliseconds; beyond the bound the bracket is simply not paired.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QTextBlock, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit

from console.ui.editor.highlighter import BlockBrackets
from console.ui.editor.lexer import brackets as lex_brackets
from console.ui.editor.offsets import OffsetMap
from console.ui.editor.theme import EditorTheme

MAX_LINES = 20_000


@dataclass(frozen=True, slots=True)
class BracketPair:
    """Absolute document positions; `match` is None when the bracket is unpaired."""

    at: int
    match: int | None


def _items(block: QTextBlock) -> list[tuple[int, str]]:
    data = block.userData()
    if isinstance(data, BlockBrackets):
        return data.items
    text = block.text()
    offsets = OffsetMap(text)
    return [(offsets.to_utf16(col), ch) for col, ch in lex_brackets(text)]


def bracket_pair(cursor: QTextCursor) -> BracketPair | None:
    """The bracket right after the cursor (else right before it) and its partner."""
    block = cursor.block()
    column = cursor.positionInBlock()
    items = _items(block)
    chosen = next((i for i, (col, _) in enumerate(items) if col == column), None)
    if chosen is None:
        chosen = next((i for i, (col, _) in enumerate(items) if col == column - 1), None)
    if chosen is None:
        return None
    col, ch = items[chosen]
    at = block.position() + col
    if ch in "{[":
        return BracketPair(at, _scan_forward(block, items, chosen, ch))
    return BracketPair(at, _scan_backward(block, items, chosen, ch))


def bracket_selections(cursor: QTextCursor, theme: EditorTheme) -> list[QTextEdit.ExtraSelection]:
    """Background marks on the bracket at the cursor and its partner (or the lone one)."""
    pair = bracket_pair(cursor)
    if pair is None:
        return []
    color = QColor(theme.bracket_match if pair.match is not None else theme.bracket_mismatch)
    out = []
    for position in (pair.at, pair.match):
        if position is None:
            continue
        fmt = QTextCharFormat()
        fmt.setBackground(color)
        mark = QTextCursor(cursor.document())
        mark.setPosition(position)
        mark.setPosition(position + 1, QTextCursor.MoveMode.KeepAnchor)
        sel = QTextEdit.ExtraSelection()
        sel.format = fmt
        sel.cursor = mark
        out.append(sel)
    return out


def _scan_forward(
    block: QTextBlock, items: list[tuple[int, str]], index: int, ch: str
) -> int | None:
    closer = "}" if ch == "{" else "]"
    depth = 0
    rest = items[index + 1 :]
    for _ in range(MAX_LINES):
        for col, c in rest:
            if c in "{[":
                depth += 1
            elif depth == 0:
                return block.position() + col if c == closer else None
            else:
                depth -= 1
        block = block.next()
        if not block.isValid():
            return None
        rest = _items(block)
    return None


def _scan_backward(
    block: QTextBlock, items: list[tuple[int, str]], index: int, ch: str
) -> int | None:
    opener = "{" if ch == "}" else "["
    depth = 0
    rest = items[:index]
    for _ in range(MAX_LINES):
        for col, c in reversed(rest):
            if c in "}]":
                depth += 1
            elif depth == 0:
                return block.position() + col if c == opener else None
            else:
                depth -= 1
        block = block.previous()
        if not block.isValid():
            return None
        rest = _items(block)
    return None


def enclosing_opener(cursor: QTextCursor) -> str | None:
    """The innermost unclosed `{` or `[` before the cursor (for key-position checks)."""
    block = cursor.block()
    column = cursor.positionInBlock()
    rest = [(col, c) for col, c in _items(block) if col < column]
    depth = 0
    for _ in range(MAX_LINES):
        for _col, c in reversed(rest):
            if c in "}]":
                depth += 1
            elif depth == 0:
                return c
            else:
                depth -= 1
        block = block.previous()
        if not block.isValid():
            return None
        rest = _items(block)
    return None

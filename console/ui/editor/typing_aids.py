"""Typing aids: auto-indent on Enter, auto-close of brackets and quotes, pair deletion.

Each function looks at the text around the cursor, edits through a QTextCursor in one
undo step, and returns True when it consumed the key (the editor then skips Qt's default
handling). All of them only look at the current line, so they stay cheap on big files.
"""

from __future__ import annotations

from PySide6.QtGui import QTextCursor

from console.ui.editor.lexer import in_string, token_at
from console.ui.editor.offsets import utf16_to_column

INDENT = "  "
_CLOSE_FOR = {"{": "}", "[": "]", '"': '"'}
# Auto-close only when the next character leaves room for a pair (not before a word).
_ROOM_AFTER = set(" \t,:}]")


def _line_parts(cursor: QTextCursor) -> tuple[str, str]:
    """Text of the current line before and after the cursor (code points)."""
    text = cursor.block().text()
    column = utf16_to_column(text, cursor.positionInBlock())
    return text[:column], text[column:]


def leading_whitespace(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def newline_with_indent(cursor: QTextCursor) -> None:
    """Enter: keep the indent, one more after `{`/`[`, and split `{|}` onto three lines."""
    before, after = _line_parts(cursor)
    if cursor.hasSelection():
        cursor.removeSelectedText()
        before, after = _line_parts(cursor)
    indent = before if not before.strip() else leading_whitespace(before)
    opened = before.rstrip()[-1:] in ("{", "[")
    closing = after.lstrip()[:1] in ("}", "]")
    cursor.beginEditBlock()
    # Drop spaces right after the cursor so the next line starts at the indent.
    stripped = len(after) - len(after.lstrip(" \t"))
    if stripped:
        cursor.movePosition(
            QTextCursor.MoveOperation.NextCharacter, QTextCursor.MoveMode.KeepAnchor, stripped
        )
        cursor.removeSelectedText()
    if opened:
        cursor.insertText("\n" + indent + INDENT)
        if closing:
            keep = cursor.position()
            cursor.insertText("\n" + indent)
            cursor.setPosition(keep)
    else:
        cursor.insertText("\n" + indent)
    cursor.endEditBlock()


def type_char(cursor: QTextCursor, ch: str) -> bool:
    """Auto-close `{`, `[`, `"`; step over a typed closer; dedent a lone closer."""
    before, after = _line_parts(cursor)
    nxt = after[:1]
    inside = in_string(before + after, len(before))
    if cursor.hasSelection() and ch in _CLOSE_FOR:
        return _wrap_selection(cursor, ch)
    if ch == '"':
        if inside:
            # a quote after an odd run of backslashes is escaped; after an even run (an
            # escaped backslash) it ends the string
            escaped = (len(before) - len(before.rstrip("\\"))) % 2 == 1
            if nxt == '"' and not escaped:
                cursor.movePosition(QTextCursor.MoveOperation.NextCharacter)
                return True
            return False
        if nxt == "" or nxt in _ROOM_AFTER:
            _insert_pair(cursor, '"', '"')
            return True
        return False
    if inside:
        return False
    if ch in "}]":
        if nxt == ch:
            cursor.movePosition(QTextCursor.MoveOperation.NextCharacter)
            return True
        if not before.strip() and before:
            # A closer on an indented empty line goes one level out.
            new_indent = before[: max(0, len(before) - len(INDENT))]
            cursor.beginEditBlock()
            cursor.movePosition(
                QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor
            )
            cursor.insertText(new_indent + ch)
            cursor.endEditBlock()
            return True
        return False
    if ch in "{[" and (nxt == "" or nxt in _ROOM_AFTER):
        _insert_pair(cursor, ch, _CLOSE_FOR[ch])
        return True
    return False


def delete_pair(cursor: QTextCursor) -> bool:
    """Backspace between an empty pair (`{|}`, `[|]`, `"|"`) removes both halves."""
    if cursor.hasSelection():
        return False
    before, after = _line_parts(cursor)
    if not before or not after or _CLOSE_FOR.get(before[-1]) != after[0]:
        return False
    if before[-1] == '"':
        # `"|"` only when those two quotes are one empty string, not the end of one
        # string and the start of the next.
        token = token_at(before + after, len(before))
        if token is None or token.start != len(before) - 1 or token.end != len(before) + 1:
            return False
    elif in_string(before + after, len(before)):
        return False
    cursor.beginEditBlock()
    cursor.movePosition(QTextCursor.MoveOperation.PreviousCharacter)
    cursor.movePosition(
        QTextCursor.MoveOperation.NextCharacter, QTextCursor.MoveMode.KeepAnchor, 2
    )
    cursor.removeSelectedText()
    cursor.endEditBlock()
    return True


def _insert_pair(cursor: QTextCursor, opener: str, closer: str) -> None:
    cursor.beginEditBlock()
    cursor.insertText(opener + closer)
    cursor.movePosition(QTextCursor.MoveOperation.PreviousCharacter)
    cursor.endEditBlock()


def _wrap_selection(cursor: QTextCursor, opener: str) -> bool:
    start, end = cursor.selectionStart(), cursor.selectionEnd()
    closer = _CLOSE_FOR[opener]
    cursor.beginEditBlock()
    cursor.setPosition(end)
    cursor.insertText(closer)
    cursor.setPosition(start)
    cursor.insertText(opener)
    cursor.endEditBlock()
    cursor.setPosition(start + 1)
    cursor.setPosition(end + 1, QTextCursor.MoveMode.KeepAnchor)
    return True


def indent(cursor: QTextCursor, *, outdent: bool = False) -> None:
    """Tab / Shift+Tab: shift the selected lines (or insert/remove one level at the caret)."""
    if not cursor.hasSelection() and not outdent:
        cursor.insertText(INDENT)
        return
    doc = cursor.document()
    first = doc.findBlock(cursor.selectionStart())
    last = doc.findBlock(max(cursor.selectionStart(), cursor.selectionEnd() - 1))
    edit = QTextCursor(cursor)
    edit.beginEditBlock()
    block = first
    while block.isValid():
        edit.setPosition(block.position())
        if outdent:  # one level: a tab, or up to an INDENT of spaces
            text = block.text()
            remove = 1 if text.startswith("\t") else min(len(text) - len(text.lstrip(" ")),
                                                          len(INDENT))
            edit.movePosition(
                QTextCursor.MoveOperation.NextCharacter,
                QTextCursor.MoveMode.KeepAnchor,
                remove,
            )
            edit.removeSelectedText()
        else:
            edit.insertText(INDENT)
        if block == last:
            break
        block = block.next()
    edit.endEditBlock()

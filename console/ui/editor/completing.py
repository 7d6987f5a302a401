"""Completion behaviour: when the popup opens, what it shows, what accepting inserts.

The provider is asked once when the popup opens (that parse is the costly part); while
the user keeps typing, the list is narrowed locally by the text typed so far in the
current string or word, so a keystroke with the popup open stays as cheap as any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent, QTextCursor

from console.core.serialize import breaks_escaped
from console.ui.editor.brackets import enclosing_opener
from console.ui.editor.completion_popup import CompletionPopup
from console.ui.editor.lexer import Kind, token_at
from console.ui.editor.offsets import OffsetMap, column_to_utf16, utf16_to_column
from console.ui.editor.provider import CandidateLike

if TYPE_CHECKING:
    from console.ui.editor.json_editor import JsonEditor

_NAV = {
    Qt.Key.Key_Up: -1,
    Qt.Key.Key_Down: 1,
    Qt.Key.Key_PageUp: -10,
    Qt.Key.Key_PageDown: 10,
}
_ACCEPT = {Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab}


class CompletionController:
    def __init__(self, editor: JsonEditor) -> None:
        self._editor = editor
        self.popup = CompletionPopup(editor)
        self.popup.chosen.connect(self.accept)
        self._line = -1  # block number the popup belongs to
        self._anchor = -1  # column where the completed string/word starts (or the caret was)

    # -- opening --------------------------------------------------------------------
    def trigger(self, *, explicit: bool = True) -> bool:
        """Ask the provider for candidates at the cursor and show them; False if none."""
        provider = self._editor.completion_provider()
        if provider is None:
            return False
        editor = self._editor
        text = editor.toPlainText()
        offset = OffsetMap(text).to_code_point(editor.textCursor().position())
        candidates = provider.complete(text, offset)
        if not candidates:
            self.popup.hide()
            if explicit:
                editor.status_message.emit("No suggestions here.")
            return False
        rect = editor.cursorRect()
        at = editor.viewport().mapToGlobal(rect.bottomLeft())
        self._line, self._anchor = self._where()
        return self.popup.open(candidates, self._prefix(), at)

    def _where(self) -> tuple[int, int]:
        """(line, start column of the string/word at the caret, or the caret's column)."""
        cursor = self._editor.textCursor()
        line = cursor.block().text()
        column = utf16_to_column(line, cursor.positionInBlock())
        token = token_at(line, column)
        return cursor.blockNumber(), token.start if token is not None else column

    def _schedule(self) -> None:
        """Trigger once the key has been painted, if the caret is still where it was."""
        where = self._where()

        def fire() -> None:
            if self._where() == where and not self.popup.isVisible():
                self.trigger(explicit=False)

        QTimer.singleShot(0, fire)

    def maybe_auto_trigger(self, typed: str) -> None:
        """Open after `"` in a key position, or after `: ` (a value is next)."""
        if not typed or self._editor.completion_provider() is None or self.popup.isVisible():
            return
        cursor = self._editor.textCursor()
        line = cursor.block().text()
        column = utf16_to_column(line, cursor.positionInBlock())
        before = line[:column]
        if typed == '"':
            prior = before[:-1].rstrip()
            key_position = prior.endswith("{") or (
                prior.endswith(",") and enclosing_opener(cursor) == "{"
            ) or (not prior and enclosing_opener(cursor) == "{")
            value_position = prior.endswith(":")
            if key_position or value_position:
                self._schedule()
        elif typed == " " and before.endswith(": "):
            self._schedule()

    # -- while open -----------------------------------------------------------------
    def handle_key(self, event: QKeyEvent) -> bool:
        """Navigation keys for the open popup; True when consumed."""
        if not self.popup.isVisible():
            return False
        key = event.key()
        if key in _NAV:
            self.popup.move_selection(_NAV[Qt.Key(key)])
            return True
        if key in _ACCEPT:
            candidate = self.popup.current()
            if candidate is not None:
                self.accept(candidate)
                return True
            self.popup.hide()
            return False
        if key == Qt.Key.Key_Escape:
            self.popup.hide()
            return True
        return False

    def after_edit(self) -> None:
        """Narrow (or close) the open popup after the text or cursor changed."""
        if not self.popup.isVisible():
            return
        if self._editor.textCursor().hasSelection() or self._where() != (self._line, self._anchor):
            self.popup.hide()  # the caret left the string or word being completed
            return
        self.popup.refilter(self._prefix())

    def hide(self) -> None:
        self.popup.hide()

    # -- accepting ------------------------------------------------------------------
    def accept(self, candidate: CandidateLike) -> None:
        editor = self._editor
        self.popup.hide()
        cursor = editor.textCursor()
        line = cursor.block().text()
        column = utf16_to_column(line, cursor.positionInBlock())
        insert = candidate.insert_text
        start, end = _replace_range(line, column)
        rest = line[end:].lstrip()
        if rest.startswith(":") and insert.rstrip().endswith(":"):
            insert = insert.rstrip()[:-1].rstrip()  # the colon is already there
        block_start = cursor.block().position()
        back = 1 if insert.endswith('""') else 0  # the caret goes between those quotes
        if _new_member(insert):  # a key and its value: commas where members meet
            before, after = _neighbours(editor, block_start + column_to_utf16(line, start),
                                        block_start + column_to_utf16(line, end))
            if before not in ("{", ",", ""):
                insert = ", " + insert  # after a member: `"a": 1|` took `"b": ""` bare
            if after == '"':
                insert, back = insert + ", ", back + 2  # before another member
        cursor.beginEditBlock()
        cursor.setPosition(block_start + column_to_utf16(line, start))
        cursor.setPosition(
            block_start + column_to_utf16(line, end), QTextCursor.MoveMode.KeepAnchor
        )
        cursor.insertText(breaks_escaped(insert))  # a value from a schema
        if back:  # a string value: put the cursor between the quotes
            cursor.movePosition(QTextCursor.MoveOperation.PreviousCharacter, n=back)
        cursor.endEditBlock()
        editor.setTextCursor(cursor)
        if insert.rstrip(", ").endswith((":", '": ""', ": ")):
            self._schedule()  # a key was inserted: its values are next

    def _prefix(self) -> str:
        cursor = self._editor.textCursor()
        line = cursor.block().text()
        column = utf16_to_column(line, cursor.positionInBlock())
        token = token_at(line, column)
        if token is None:
            return ""
        if token.kind in (Kind.STRING, Kind.KEY):
            return line[token.start + 1 : column]
        return line[token.start : column]


def _new_member(insert: str) -> bool:
    """Whether `insert` is a key with its colon (a new member), not a key or value alone."""
    return insert.startswith('"') and insert.rstrip().endswith((":", '""')) and '": ' in insert


def _neighbours(editor: JsonEditor, start: int, end: int, reach: int = 4096) -> tuple[str, str]:
    """The characters before `start` and from `end` on, past white space ("" at an end)."""
    document = editor.document()
    last = document.characterCount() - 1
    before = after = ""
    pos = start - 1
    while pos >= max(0, start - reach):
        char = document.characterAt(pos)
        if not char.isspace():
            before = char
            break
        pos -= 1
    pos = end
    while pos < min(last, end + reach):
        char = document.characterAt(pos)
        if not char.isspace():
            after = char
            break
        pos += 1
    return before, after


def _replace_range(line: str, column: int) -> tuple[int, int]:
    """The code-point columns a candidate replaces: the string or word at the cursor."""
    token = token_at(line, column)
    if token is None:
        return column, column
    if token.kind in (Kind.STRING, Kind.KEY):
        # the string is replaced, quotes and all: a string candidate is quoted itself, and
        # `true` or `1` chosen inside "" went between the quotes ("true", a string)
        return token.start, token.end if token.closed else column
    return token.start, token.end

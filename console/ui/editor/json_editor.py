"""JsonEditor: the text widget users write events in.

It wires the small parts of this package together and keeps the keystroke path short:
a key press edits the text, re-lexes one line and repaints; validation waits for a pause
(a 250 ms single-shot timer) and its results come back as tracked underlines, gutter marks
and the `problems_changed` signal the Problems list follows. The rules themselves (what
is a problem, what to complete) come from the validator and provider the window passes in.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QRect, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QFontDatabase,
    QGuiApplication,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from console.core.positions import parse_with_positions
from console.core.problems import Problem, Severity
from console.core.serialize import breaks_escaped
from console.ui.editor import typing_aids
from console.ui.editor.brackets import bracket_selections
from console.ui.editor.completing import CompletionController
from console.ui.editor.completion_popup import CompletionPopup
from console.ui.editor.formatting import Rewrite, carry_position, format_text, minify_text
from console.ui.editor.gutter import Gutter
from console.ui.editor.highlighter import JsonHighlighter
from console.ui.editor.offsets import OffsetMap, column_to_utf16
from console.ui.editor.problem_marks import ProblemMarks
from console.ui.editor.provider import CompletionProvider
from console.ui.editor.scheduler import ValidationScheduler, Validator
from console.ui.editor.skeleton import Refusal, skeleton_edit
from console.ui.editor.theme import EditorTheme, system_theme

LONG_LINE_CHARS = 100_000  # an opened event with a line this long is shown formatted


def _has_long_line(text: str) -> bool:
    return len(text) >= LONG_LINE_CHARS and any(
        len(line) >= LONG_LINE_CHARS for line in text.split("\n"))

_SHORTCUTS = {
    "format": QKeySequence("Ctrl+Shift+F"),
    "minify": QKeySequence("Ctrl+Shift+M"),
    "skeleton": QKeySequence("Ctrl+Shift+Space"),
    "complete": QKeySequence("Ctrl+Space"),
}


class JsonEditor(QPlainTextEdit):
    problems_changed = Signal(list)
    status_message = Signal(str)
    files_dropped = Signal(list)  # local files dropped or pasted: opened, not typed in

    def __init__(self, parent: QWidget | None = None, *, theme: EditorTheme | None = None) -> None:
        super().__init__(parent)
        self._follow_system = theme is None
        self._theme = theme or system_theme()
        self._provider: CompletionProvider | None = None
        self._problems: list[Problem] = []
        self._gutter_line = -1
        self._marks_revision = 0

        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 2)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._highlighter = JsonHighlighter(self.document(), self._theme)
        self._marks = ProblemMarks(self.document())
        self._gutter = Gutter(self)
        self._completion = CompletionController(self)

        self._scheduler = ValidationScheduler(self.toPlainText, self)
        self._scheduler.validated.connect(self._apply_problems)
        self._scheduler.failed.connect(self.status_message)

        self._actions = self._make_actions()
        self.document().contentsChange.connect(self._on_contents_change)
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._update_gutter)
        self.cursorPositionChanged.connect(self._refresh_selections)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)
        self._apply_theme()
        self._update_margins()

    # -- public API -----------------------------------------------------------------
    def set_validator(self, validator: Validator | None) -> None:
        """`validator(text) -> problems`; runs debounced after edits (None: no checks)."""
        self._scheduler.set_validator(validator)

    def problems(self) -> list[Problem]:
        return list(self._problems)

    def set_completion_provider(self, provider: CompletionProvider | None) -> None:
        self._provider = provider
        if provider is None:
            self._completion.hide()

    def completion_provider(self) -> CompletionProvider | None:
        return self._provider

    def completion_popup(self) -> CompletionPopup:
        return self._completion.popup

    def setPlainText(self, text: str) -> None:  # noqa: N802 - Qt's name
        """`text`, with what Qt would keep as a line break (U+2029, U+FDD0, U+FDD1)
        written as its JSON escape (see serialize.breaks_escaped)."""
        super().setPlainText(breaks_escaped(text))

    def toPlainText(self) -> str:  # noqa: N802 - Qt's name
        """The text exactly as typed or opened. Qt's own turns a no-break space (U+00A0)
        into a space and a line separator (U+2028) into a line break, which changed the
        data sent and disagreed with `validate` on the same file."""
        return self.document().toRawText().replace("\u2029", "\n")  # block ends

    def editor_actions(self) -> dict[str, QAction]:
        """"format", "minify", "skeleton", "complete": for menus and toolbars."""
        return dict(self._actions)

    def theme(self) -> EditorTheme:
        return self._theme

    def set_theme(self, theme: EditorTheme | None) -> None:
        """A fixed theme, or None to follow the system colour scheme again."""
        self._follow_system = theme is None
        self._theme = theme or system_theme()
        self._apply_theme()

    def gutter(self) -> Gutter:
        return self._gutter

    def go_to(self, line: int, column: int) -> None:
        """Put the cursor at 1-based `line`:`column` (code points, as Problems count)."""
        block = self.document().findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            block = self.document().lastBlock()
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + column_to_utf16(block.text(), column - 1))
        self._jump(cursor)

    def reveal_problem(self, problem: Problem) -> None:
        """Jump to a problem where its text is now (it follows edits since validation)."""
        mark = self._marks.find(problem)
        if mark is None:
            self.go_to(problem.line, problem.column)
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(mark.start)
        self._jump(cursor)

    def format_document(self) -> bool:
        return self._rewrite(format_text(self.toPlainText()))

    def minify_document(self) -> bool:
        return self._rewrite(minify_text(self.toPlainText()))

    def trigger_completion(self) -> bool:
        if self._provider is None:
            self.status_message.emit("No completion source is set for this editor.")
            return False
        return self._completion.trigger()

    def insert_skeleton(self) -> bool:
        """Fill the event's `data` with the required properties of its schema."""
        provider = self._provider
        if provider is None or not hasattr(provider, "skeleton_for"):
            self.status_message.emit("No schema source is set for this editor.")
            return False
        text = self.toPlainText()
        offsets = OffsetMap(text)
        offset = _inside_the_event(text, offsets.to_code_point(self.textCursor().position()))
        edit = skeleton_edit(text, offset, provider.skeleton_for(text, offset))
        if isinstance(edit, Refusal):
            self.status_message.emit(edit.message)
            return False
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.setPosition(offsets.to_utf16(edit.start))
        cursor.setPosition(offsets.to_utf16(edit.end), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(edit.text)
        cursor.endEditBlock()
        cursor.setPosition(OffsetMap(self.toPlainText()).to_utf16(edit.cursor))
        self._jump(cursor)
        self.status_message.emit(edit.message)
        return True

    def validate_now(self) -> None:
        """Validate the current text now (the debounce timer calls this after a pause)."""
        self._scheduler.run_now()

    def cancel_validation(self) -> None:
        """Stop a pending or running validation (the window calls this when closing)."""
        self._scheduler.cancel()

    def validation_pending(self) -> bool:
        return self._scheduler.pending()

    def problem_lines(self) -> dict[int, Severity]:
        """0-based line -> worst severity, where the problems' text is now."""
        return self._marks.line_severities()

    def marks_revision(self) -> int:
        """Changes whenever a new set of problems is shown (the gutter's repaint key)."""
        return self._marks_revision

    def problem_selections(self) -> list[QTextEdit.ExtraSelection]:
        return self._marks.selections()

    def tooltip_at(self, position: int) -> str | None:
        """Rich-text tooltip for a document position: its problems and schema help."""
        parts = [
            f"<b>{p.severity.value.capitalize()}</b>: {html.escape(p.message)}"
            for p in self._marks.at(position)
        ]
        if self._provider is not None:
            text = self.toPlainText()
            doc = self._provider.hover(text, OffsetMap(text).to_code_point(position))
            if doc:
                parts.append(html.escape(doc).replace("\n", "<br>"))
        return "<hr>".join(parts) if parts else None

    # -- Qt overrides ---------------------------------------------------------------
    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 - Qt override
        return bool(_local_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt override
        """A file dragged from a file manager arrives as its URL: Qt would type
        "file:///…/order.json" into the event. The file is opened instead."""
        files = _local_files(source)
        if files:
            self.files_dropped.emit(files)
            return
        pasted = source.text() if source.hasText() else ""
        escaped = breaks_escaped(pasted)
        if escaped != pasted:  # see setPlainText
            self.textCursor().insertText(escaped)
            self.ensureCursorVisible()
            return
        super().insertFromMimeData(source)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if self._completion.handle_key(event):
            return
        if (event.modifiers() & Qt.KeyboardModifier.ControlModifier
                and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)):
            # Tab indents here, so Ctrl+Tab / Ctrl+Shift+Tab move the focus on (or back):
            # without them the keyboard could not leave the editor
            forward = (event.key() == Qt.Key.Key_Tab
                       and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            QWidget.focusNextPrevChild(self, forward)  # QPlainTextEdit's own refuses
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            pressed = QKeySequence(event.keyCombination())
            for name, sequence in _SHORTCUTS.items():
                if pressed == sequence:
                    self._actions[name].trigger()
                    return
        if self._typing_aid(event):
            self.ensureCursorVisible()
        else:
            super().keyPressEvent(event)
            self._completion.maybe_auto_trigger(event.text())
        self._completion.after_edit()

    def _typing_aid(self, event: QKeyEvent) -> bool:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        cursor = self.textCursor()
        handled = False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and mods == Qt.KeyboardModifier.NoModifier:
            typing_aids.newline_with_indent(cursor)
            handled = True
        elif key == Qt.Key.Key_Backspace and mods == Qt.KeyboardModifier.NoModifier:
            handled = typing_aids.delete_pair(cursor)
        elif key == Qt.Key.Key_Tab and mods == Qt.KeyboardModifier.NoModifier:
            typing_aids.indent(cursor)
            handled = True
        elif key == Qt.Key.Key_Backtab:
            typing_aids.indent(cursor, outdent=True)
            handled = True
        elif len(event.text()) == 1 and not mods & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        ):
            handled = typing_aids.type_char(cursor, event.text())
        if handled:
            self.setTextCursor(cursor)
            self._completion.maybe_auto_trigger(event.text())
        return handled

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            cursor = self.cursorForPosition(event.pos())
            near = abs(self.cursorRect(cursor).center().x() - event.pos().x())
            tip = self.tooltip_at(cursor.position()) if near < self.fontMetrics().height() else None
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def event(self, event: QEvent) -> bool:
        # Desktops that report no colour scheme still switch the application palette.
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self._on_scheme_changed()
        return super().event(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.cancel_validation()
        super().closeEvent(event)

    def focusOutEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self._completion.hide()
        super().focusOutEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._completion.hide()
        super().mousePressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        rect = self.contentsRect()
        self._gutter.setGeometry(
            QRect(rect.left(), rect.top(), self._gutter.sizeHint().width(), rect.height())
        )

    # -- internals ------------------------------------------------------------------
    def _make_actions(self) -> dict[str, QAction]:
        specs = {
            "format": ("Format Document", self.format_document),
            "minify": ("Minify Document", self.minify_document),
            "skeleton": ("Insert Skeleton", self.insert_skeleton),
            "complete": ("Suggest", self.trigger_completion),
        }
        actions = {}
        for name, (label, slot) in specs.items():
            action = QAction(label, self)
            action.setShortcut(_SHORTCUTS[name])
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            actions[name] = action
        return actions

    def _jump(self, cursor: QTextCursor) -> None:
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus()

    def _rewrite(self, rewrite: Rewrite) -> bool:
        if rewrite.text is None:
            self.status_message.emit(rewrite.message)
            return False
        if rewrite.text == self.toPlainText():
            self.status_message.emit("Nothing to change.")
            return True
        self.replace_text(rewrite.text)
        self.status_message.emit(rewrite.message)
        return True

    def replace_text(self, text: str) -> None:
        """The whole document becomes `text` in one undo step; the cursor keeps its place
        in the text around it (unlike setPlainText, which clears the undo history)."""
        text = breaks_escaped(text)  # minified: as sent (see setPlainText)
        position = carry_position(self.toPlainText(), text, self.textCursor().position())
        self._put_cursor(self._edit(None, text), position)

    def replace_range(self, start: int, end: int, text: str) -> None:
        """Code points `start`..`end` of the text become `text`, in one undo step; the rest
        of the document (and the cursor around it) stays as it is. Editing one value this
        way costs what the value costs, not what the document does."""
        offsets = OffsetMap(self.toPlainText())
        self._edit((offsets.to_utf16(start), offsets.to_utf16(end)), breaks_escaped(text))

    def open_text(self, text: str) -> bool:
        """An opened event (a template, a file, a captured one) replaces the document in
        one undo step, the cursor at its start: Undo brings back what was typed before
        (setPlainText lost it for good).

        True when it was formatted: a JSON text with a line of `LONG_LINE_CHARS` or more
        is shown indented (the same value) when that leaves no such line (one long string
        stays one long line: then the text is left as written). Qt lays a long line out
        again at each repaint: a one-line event of 2.1 MB stalled the window ~1 s at every
        blink of the cursor."""
        formatted = False
        if _has_long_line(text):
            rewrite = format_text(text)
            if rewrite.text is not None and not _has_long_line(rewrite.text):
                text, formatted = rewrite.text, True
        self._put_cursor(self._edit(None, breaks_escaped(text)), 0)
        return formatted

    def _edit(self, span: tuple[int, int] | None, text: str) -> QTextCursor:
        """`span` (UTF-16 positions; None: the whole document) becomes `text`: one undo step."""
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        if span is None:
            cursor.select(QTextCursor.SelectionType.Document)
        else:
            cursor.setPosition(span[0])
            cursor.setPosition(span[1], QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text)
        cursor.endEditBlock()
        return cursor

    def _put_cursor(self, cursor: QTextCursor, position: int) -> None:
        cursor.setPosition(min(position, self.document().characterCount() - 1))
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def _apply_problems(self, problems: list[Problem], text: str) -> None:
        self._problems = sorted(problems, key=lambda p: (p.start, p.end))
        self._marks.set_problems(self._problems, text, self._theme)
        self._marks_revision += 1
        self._refresh_selections()
        self._gutter.update()
        self.problems_changed.emit(self.problems())

    def _on_contents_change(self, _position: int, removed: int, added: int) -> None:
        if removed or added:
            self._scheduler.schedule()

    def _refresh_selections(self) -> None:
        line = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(self._theme.current_line))
        fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
        line.format = fmt
        cursor = self.textCursor()
        cursor.clearSelection()
        line.cursor = cursor
        brackets = bracket_selections(self.textCursor(), self._theme)
        selections = [line, *brackets, *self._marks.selections()]
        self.setExtraSelections(selections)
        if cursor.blockNumber() != self._gutter_line:  # the bold current line number moved
            self._gutter_line = cursor.blockNumber()
            self._gutter.update()

    def _apply_theme(self) -> None:
        theme = self._theme
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(theme.background))
        palette.setColor(QPalette.ColorRole.Text, QColor(theme.foreground))
        palette.setColor(QPalette.ColorRole.Highlight, QColor(theme.selection))
        palette.setColor(QPalette.ColorRole.HighlightedText, QColor(theme.foreground))
        self.setPalette(palette)
        self._highlighter.set_theme(theme)
        self._completion.popup.set_theme(theme)
        self._marks.restyle(theme)
        self._refresh_selections()

    def _on_scheme_changed(self, _scheme: object = None) -> None:
        if self._follow_system and system_theme() != self._theme:
            self._theme = system_theme()
            self._apply_theme()

    def _update_margins(self, _count: int = 0) -> None:
        width = self._gutter.sizeHint().width()
        self.setViewportMargins(width, 0, 0, 0)
        rect = self.contentsRect()
        self._gutter.setGeometry(QRect(rect.left(), rect.top(), width, rect.height()))

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.refresh(rect.y(), rect.height())


def _local_files(source: QMimeData) -> list[str]:
    return ([url.toLocalFile() for url in source.urls() if url.isLocalFile()]
            if source.hasUrls() else [])


def _inside_the_event(text: str, offset: int) -> int:
    """`offset`, or just inside the document's one event when it is before or after it
    (where setPlainText leaves the cursor, or after the last brace): that can only mean
    that event. In an array the cursor must say which event."""
    doc = parse_with_positions(text)
    span = doc.span("") if doc.error is None and isinstance(doc.value, dict) else None
    if span is not None and not span.start < offset < span.end:
        return span.start + 1
    return offset

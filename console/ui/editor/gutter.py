"""Line numbers and problem marks beside the editor (the classic Qt "code editor" gutter).

The gutter owns no state: it asks the editor for the visible blocks, the current line and
the lines that carry problems each time it paints, so it can never disagree with the text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from console.core.problems import Severity

if TYPE_CHECKING:
    from console.ui.editor.json_editor import JsonEditor

MARK_WIDTH = 12
PADDING = 6
_ALIGN = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class Gutter(QWidget):
    def __init__(self, editor: JsonEditor) -> None:
        super().__init__(editor)
        self._editor = editor
        self._painted: tuple[object, ...] | None = None
        self.setCursor(Qt.CursorShape.ArrowCursor)

    def _state(self) -> tuple[object, ...]:
        """Everything the gutter shows; if it is unchanged, so are the gutter's pixels."""
        editor = self._editor
        return (
            editor.firstVisibleBlock().blockNumber(),
            editor.contentOffset().y(),
            editor.blockCount(),
            editor.textCursor().blockNumber(),
            editor.marks_revision(),
            editor.theme(),
            self.width(),
            self.height(),
        )

    def refresh(self, y: int, height: int) -> None:
        """Repaint a strip, unless the text changed within a line (numbers stay put).

        Qt asks for a full-height repaint of the text on every keystroke (the highlighter
        marks the document dirty); line numbers only move when lines, scroll position,
        current line or problems change, so most keystrokes skip the gutter entirely.
        """
        if self._state() != self._painted:
            self.update(0, y, self.width(), height)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.width_for(self._editor.blockCount()), 0)

    def width_for(self, lines: int) -> int:
        """Mark column + digits of the largest line number (at least 3) + padding."""
        digits = max(3, len(str(max(1, lines))))
        return MARK_WIDTH + self.fontMetrics().horizontalAdvance("9") * digits + 2 * PADDING

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        """A click on a line number puts the cursor at the start of that line."""
        cursor = self._editor.cursorForPosition(event.position().toPoint())
        cursor.movePosition(cursor.MoveOperation.StartOfBlock)
        self._editor.setTextCursor(cursor)
        self._editor.setFocus()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        editor = self._editor
        theme = editor.theme()
        self._painted = self._state()
        painter = QPainter(self)
        area = event.rect()
        painter.fillRect(area, QColor(theme.gutter_background))
        severities = editor.problem_lines()
        current = editor.textCursor().blockNumber()
        normal_pen, current_pen = QColor(theme.gutter_foreground), QColor(theme.gutter_current)
        bold = QFont(editor.font())
        bold.setBold(True)
        painter.setFont(editor.font())
        painter.setPen(normal_pen)
        height = self.fontMetrics().height()
        width = self.width() - PADDING - MARK_WIDTH
        area_top, area_bottom = area.top(), area.bottom()

        block = editor.firstVisibleBlock()
        top = round(
            editor.blockBoundingGeometry(block).translated(editor.contentOffset()).top()
        )
        while block.isValid() and top <= area_bottom:
            bottom = top + round(editor.blockBoundingRect(block).height())
            if bottom >= area_top and block.isVisible():
                number = block.blockNumber()
                if number == current:
                    painter.setFont(bold)
                    painter.setPen(current_pen)
                painter.drawText(MARK_WIDTH, top, width, height, _ALIGN, str(number + 1))
                if number == current:
                    painter.setFont(editor.font())
                    painter.setPen(normal_pen)
                severity = severities.get(number)
                if severity is not None:
                    self._paint_mark(painter, severity, top, height)
            block = block.next()
            top = bottom
        painter.end()

    def _paint_mark(self, painter: QPainter, severity: Severity, top: int, height: int) -> None:
        theme = self._editor.theme()
        color = QColor(theme.error if severity is Severity.ERROR else theme.warning)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        radius = min(4.0, height / 4)
        painter.drawEllipse(QPointF(PADDING / 2 + radius, top + height / 2), radius, radius)
        painter.restore()

"""Problems anchored in the document: wavy underlines, gutter marks and tooltips.

Each Problem's code-point range is turned once into a QTextCursor; the document keeps
those cursors in step with later edits, so an underline stays on its text while the user
types and until the debounced validation replaces the whole set.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextEdit

from console.core.problems import Problem, Severity
from console.ui import rich
from console.ui.editor.offsets import OffsetMap
from console.ui.editor.theme import EditorTheme

MAX_MARKS = 1000  # beyond this, the Problems list still has them all


@dataclass
class Mark:
    problem: Problem
    cursor: QTextCursor

    @property
    def start(self) -> int:
        return self.cursor.selectionStart()

    @property
    def end(self) -> int:
        return self.cursor.selectionEnd()


class ProblemMarks:
    """The problems of the current text, as tracked ranges in `document`."""

    def __init__(self, document: QTextDocument) -> None:
        self._document = document
        self._marks: list[Mark] = []
        self._selections: list[QTextEdit.ExtraSelection] = []

    def set_problems(self, problems: list[Problem], text: str, theme: EditorTheme) -> None:
        offsets = OffsetMap(text)
        last = max(0, self._document.characterCount() - 1)
        marks: list[Mark] = []
        for problem in problems[:MAX_MARKS]:
            start = min(offsets.to_utf16(problem.start), last)
            end = min(offsets.to_utf16(max(problem.end, problem.start)), last)
            if end == start:  # a point (e.g. "unexpected end"): underline one character
                if end < last:
                    end += 1
                elif start > 0:
                    start -= 1
            cursor = QTextCursor(self._document)
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            marks.append(Mark(problem, cursor))
        self._marks = marks
        self.restyle(theme)

    def restyle(self, theme: EditorTheme) -> None:
        selections = []
        # Warnings first so an error on the same text paints on top.
        ordered = sorted(self._marks, key=lambda m: m.problem.severity is Severity.ERROR)
        for mark in ordered:
            fmt = QTextCharFormat()
            color = theme.error if mark.problem.severity is Severity.ERROR else theme.warning
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor(color))
            fmt.setToolTip(rich.tip(mark.problem.message) or "")
            sel = QTextEdit.ExtraSelection()
            sel.cursor = mark.cursor
            sel.format = fmt
            selections.append(sel)
        self._selections = selections

    def clear(self) -> None:
        self._marks = []
        self._selections = []

    @property
    def marks(self) -> list[Mark]:
        return self._marks

    def selections(self) -> list[QTextEdit.ExtraSelection]:
        return self._selections

    def at(self, position: int) -> list[Problem]:
        """Problems whose range holds the document position (errors first)."""
        hits = [m.problem for m in self._marks if m.start <= position < m.end]
        return sorted(hits, key=lambda p: p.severity is not Severity.ERROR)

    def find(self, problem: Problem) -> Mark | None:
        return next((m for m in self._marks if m.problem is problem), None)

    def line_severities(self) -> dict[int, Severity]:
        """Block number -> worst severity, for the gutter."""
        lines: dict[int, Severity] = {}
        for mark in self._marks:
            number = self._document.findBlock(mark.start).blockNumber()
            if lines.get(number) is not Severity.ERROR:
                lines[number] = mark.problem.severity
        return lines

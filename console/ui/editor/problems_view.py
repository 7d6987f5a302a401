"""The Problems list: every problem of the document, click to jump to it.

The model holds the Problem objects the editor published (so a click can find the live,
edit-tracked range in the editor); the view only displays and reports activation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from console.core.problems import Problem, Severity
from console.ui import rich
from console.ui.editor.theme import LIGHT, EditorTheme, system_theme

if TYPE_CHECKING:
    from console.ui.editor.json_editor import JsonEditor

_Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Problem", "Line:Col")


def severity_icon(severity: Severity, theme: EditorTheme = LIGHT, size: int = 14) -> QIcon:
    """A filled circle (error) or triangle (warning): readable without colour, too."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    if severity is Severity.ERROR:
        painter.setBrush(QColor(theme.error))
        painter.drawEllipse(1, 1, size - 2, size - 2)
    else:
        painter.setBrush(QColor(theme.warning))
        painter.drawPolygon(
            [QPointF(size / 2, 1), QPointF(size - 1, size - 1), QPointF(1, size - 1)]
        )
    painter.end()
    return QIcon(pixmap)


class ProblemsModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None, theme: EditorTheme = LIGHT) -> None:
        super().__init__(parent)
        self._problems: list[Problem] = []
        self._icons = {s: severity_icon(s, theme) for s in Severity}

    def set_theme(self, theme: EditorTheme) -> None:
        self._icons = {s: severity_icon(s, theme) for s in Severity}
        if self._problems:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._problems) - 1, 0))

    def set_problems(self, problems: list[Problem]) -> None:
        self.beginResetModel()
        self._problems = list(problems)
        self.endResetModel()

    def problems(self) -> list[Problem]:
        return list(self._problems)

    def problem(self, index: _Index) -> Problem | None:
        if not index.isValid() or index.row() >= len(self._problems):
            return None
        return self._problems[index.row()]

    def counts(self) -> tuple[int, int]:
        """(errors, warnings)"""
        errors = sum(p.severity is Severity.ERROR for p in self._problems)
        return errors, len(self._problems) - errors

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._problems)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        problem = self.problem(index)
        if problem is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return problem.message if column == 0 else f"{problem.line}:{problem.column}"
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self._icons[problem.severity]
        if role == Qt.ItemDataRole.ToolTipRole:
            where = f" at {problem.pointer}" if problem.pointer else ""
            return rich.tip(f"{problem.severity.value.capitalize()}{where}: {problem.message}")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{problem.severity.value} line {problem.line} column {problem.column}: " + (
                problem.message
            )
        return None


class ProblemsView(QTreeView):
    """A flat, two-column list; `problem_activated` on click, double-click or Enter."""

    problem_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, theme: EditorTheme | None = None) -> None:
        super().__init__(parent)
        self._model = ProblemsModel(self, theme or system_theme())
        self.setModel(self._model)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.clicked.connect(self._activate)
        self.activated.connect(self._activate)

    def problems_model(self) -> ProblemsModel:
        return self._model

    def set_problems(self, problems: list[Problem]) -> None:
        self._model.set_problems(problems)

    def attach(self, editor: JsonEditor) -> None:
        """Follow `editor`'s problems and jump into it when an entry is activated."""
        editor.problems_changed.connect(self.set_problems)
        self._model.set_theme(editor.theme())
        self.problem_activated.connect(editor.reveal_problem)
        self.set_problems(editor.problems())

    def _activate(self, index: QModelIndex) -> None:
        problem = self._model.problem(index)
        if problem is not None:
            self.problem_activated.emit(problem)

"""The runner's timeline: one row per step result, as they arrive."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget

from console.services.run_results import CANCELLED, DRY_RUN, ERROR, FAILED, PASSED, StepResult

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Step", "Row", "Result", "Status", "Ids", "Time", "Expectation")
MARKS = {PASSED: "✔ passed", FAILED: "✘ failed", ERROR: "✘ error", CANCELLED: "■ stopped",
         DRY_RUN: "○ dry run"}
COLOURS = {PASSED: "#1b7f3b", FAILED: "#b3261e", ERROR: "#b3261e", CANCELLED: "#7a6400",
           DRY_RUN: "#44546a"}


class StepResultsModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: list[StepResult] = []

    def clear(self) -> None:
        self.beginResetModel()
        self.results = []
        self.endResetModel()

    def set_results(self, results: list[StepResult]) -> None:
        self.beginResetModel()
        self.results = list(results)
        self.endResetModel()

    def add(self, result: StepResult) -> None:
        """A new result, or the re-run of one already listed (same row, step, repeat)."""
        for row, existing in enumerate(self.results):
            if existing.key == result.key:
                self.results[row] = result
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
                return
        self.beginInsertRows(QModelIndex(), len(self.results), len(self.results))
        self.results.append(result)
        self.endInsertRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.results)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        result = self.results[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(result, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == 2:
            return QBrush(QColor(COLOURS.get(result.state, "#000000")))
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 4 and result.ids:
                return "\n".join(result.ids)
            if column in (2, 6):
                extra = f"\n{result.error}" if result.error else ""
                dedup = f"\ndedup: {', '.join(result.dedup)}" if result.dedup else ""
                return f"{result.reason}{extra}{dedup}"
        return None

    @staticmethod
    def _text(result: StepResult, column: int) -> str:
        if column == 0:
            return result.name + (f" #{result.iteration}" if result.iteration > 1 else "")
        if column == 1:
            return "" if result.row is None else str(result.row)
        if column == 2:
            return MARKS.get(result.state, result.state)
        if column == 3:
            if result.kind != "send" or result.state == DRY_RUN:
                return ""
            return "no response" if result.status is None else str(result.status)
        if column == 4:
            if not result.ids:
                return ""
            more = f" (+{len(result.ids) - 1})" if len(result.ids) > 1 else ""
            return result.ids[0] + more
        if column == 5:
            return f"{result.duration_ms:,.0f} ms"
        return result.reason

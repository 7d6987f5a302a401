"""The runner's timeline: one row per step result, as they arrive."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget

from console.services.run_results import CANCELLED, DRY_RUN, ERROR, FAILED, PASSED, StepResult
from console.ui.table_model import Index, ListTableModel

COLUMNS = ("Step", "Row", "Result", "Status", "Ids", "Time", "Expectation")
MARKS = {PASSED: "✔ passed", FAILED: "✘ failed", ERROR: "✘ error", CANCELLED: "■ stopped",
         DRY_RUN: "○ dry run"}
COLOURS = {PASSED: "#1b7f3b", FAILED: "#b3261e", ERROR: "#b3261e", CANCELLED: "#7a6400",
           DRY_RUN: "#44546a"}


class StepResultsModel(ListTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)

    @property
    def results(self) -> list[StepResult]:
        return self.items

    def set_results(self, results: list[StepResult]) -> None:
        self.beginResetModel()
        self.items = list(results)
        self.endResetModel()

    def add(self, result: StepResult) -> None:
        """A new result, or the re-run of one already listed (same row, step, repeat)."""
        for row, existing in enumerate(self.items):
            if existing.key == result.key:
                self.items[row] = result
                self.changed(row)
                return
        self.append(result)

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

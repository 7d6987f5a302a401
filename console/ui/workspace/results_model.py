"""The runner's timeline: one row per step result, as they arrive."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget

from console.core.dedup import OutcomeKind, summary_line
from console.services.run_results import CANCELLED, DRY_RUN, ERROR, FAILED, PASSED, StepResult
from console.ui import rich
from console.ui.colours import colour
from console.ui.history.icons import (
    DETAIL_LINES,
    event_lines,
    headline,
    outcome_icon,
    outcome_meaning,
)
from console.ui.table_model import Index, ListTableModel

COLUMNS = ("Step", "Row", "Result", "Status", "Ids", "Outcome", "Time", "Expectation")
MARKS = {PASSED: "✔ passed", FAILED: "✘ failed", ERROR: "✘ error", CANCELLED: "■ stopped",
         DRY_RUN: "○ dry run"}
COLOURS = {PASSED: "passed", FAILED: "failed", ERROR: "failed", CANCELLED: "stopped",
           DRY_RUN: "dry"}  # names of console.ui.colours
_VALUES = {kind.value for kind in OutcomeKind}


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
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(result, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == "Result":
            return QBrush(QColor(colour(COLOURS.get(result.state, "text"))))
        if role == Qt.ItemDataRole.DecorationRole and column == "Outcome" and _kinds(result):
            return outcome_icon(headline(_kinds(result)))
        if role == Qt.ItemDataRole.ToolTipRole:  # server text and event names: plain
            if column == "Ids" and result.ids:
                return rich.tip("\n".join(result.ids))
            if column == "Outcome":
                return rich.tip(_outcome_tooltip(result))
            if column in ("Result", "Expectation"):
                extra = f"\n{result.error}" if result.error else ""
                return rich.tip(f"{result.reason}{extra}")
        return None

    @staticmethod
    def _text(result: StepResult, column: str) -> str:
        if column == "Step":
            return result.name + (f" #{result.iteration}" if result.iteration > 1 else "")
        if column == "Row":
            return "" if result.row is None else str(result.row)
        if column == "Result":
            return MARKS.get(result.state, result.state)
        if column == "Status":
            if result.kind != "send" or result.state == DRY_RUN:
                return ""
            return "no response" if result.status is None else str(result.status)
        if column == "Ids":
            if not result.ids:
                return ""
            more = f" (+{len(result.ids) - 1})" if len(result.ids) > 1 else ""
            return result.ids[0] + more
        if column == "Outcome":
            return _outcome_text(result)
        if column == "Time":
            return f"{result.duration_ms:,.0f} ms"
        return result.reason


def _details(result: StepResult) -> list[str]:
    """Each event's confirmed outcome in words ("deduplicated: no runs (first seen as …)")."""
    runs = result.runs or []
    return [str(r.get("detail") or r.get("outcome", "")) for r in runs]


def _kinds(result: StepResult) -> list[str]:
    """The outcome of each event looked up, those the server did not take included
    (`dedup` has only the accepted ones)."""
    if result.runs:
        return [str(r.get("outcome", "")) for r in result.runs]
    return list(result.dedup or [])


def _outcome_text(result: StepResult) -> str:
    """What the events of a step did: one event's outcome in full, else the send's summary
    line ("1 deduplicated · 2 ran", "3 not accepted") without its accepted count (the Ids
    column has it)."""
    kinds = _kinds(result)
    if not kinds:
        return ""
    details = _details(result)
    if len(details) == 1:
        return details[0]
    return summary_line([OutcomeKind(k) for k in kinds if k in _VALUES], accepted=False)


def _outcome_tooltip(result: StepResult) -> str | None:
    kinds = _kinds(result)
    if not kinds:
        return None
    lines = [outcome_meaning(headline(kinds))]
    details = _details(result)
    names = [e.get("name", "") if isinstance(e, dict) else "" for e in result.rendered]
    lines += event_lines(((i, names[i] if i < len(names) else "", text)
                          for i, text in enumerate(details[:DETAIL_LINES])), len(details))
    before = {p.get("message", "") for p in result.predicted or [] if p.get("message")}
    if len(before) == 1:
        lines.append(f"Before sending: {before.pop()}")
    return "\n".join(line for line in lines if line)

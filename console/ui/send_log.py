"""The send log: one row per request, newest last; a Qt table model and its view."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTableView, QWidget

from console.services.history_query import answered_ok
from console.ui import rich
from console.ui.colours import colour
from console.ui.history.icons import outcome_icon, outcome_meaning
from console.ui.table_model import Index, ListTableModel


@dataclass
class LogRow:
    environment: str
    names: list[str]
    events: int
    bytes: int
    status: int | None = None
    ids: list[str] = field(default_factory=list)
    latency_ms: float | None = None
    attempts: int = 0
    error: str | None = None
    outcome: str = ""
    outcome_detail: str = ""
    outcome_kind: str = ""
    at: float = field(default_factory=time.time)

    @property
    def pending(self) -> bool:
        return self.status is None and self.error is None

    @property
    def answered_ok(self) -> bool:
        return answered_ok(self.status, self.error)


PENDING = "sending…"  # the Status of a request not answered yet
COLUMNS = ("Time", "Environment", "Events", "Status", "Internal ids", "Latency", "Attempts",
           "Bytes", "Outcome", "Error")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # what a click on a header sorts by


class SendLogModel(ListTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)

    @property
    def rows(self) -> list[LogRow]:
        return self.items

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == SORT_ROLE:
            return self._sort_key(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:  # server text and event names: plain
            if column == "Internal ids":
                return rich.tip("\n".join(row.ids))
            if column == "Events":
                return rich.tip("\n".join(row.names))
            if column == "Outcome":
                meaning = outcome_meaning(row.outcome_kind)
                return rich.tip("\n\n".join(t for t in (meaning, row.outcome_detail) if t))
            if column == "Error":
                return rich.tip(row.error)
        if role == Qt.ItemDataRole.DecorationRole and column == "Outcome" and row.outcome_kind:
            return outcome_icon(row.outcome_kind)
        if role == Qt.ItemDataRole.ForegroundRole and column == "Status":
            if row.answered_ok:
                return QColor(colour("ok"))
            if row.status is not None or row.error:
                return QColor(colour("error"))
        return None

    @staticmethod
    def _sort_key(row: LogRow, column: str) -> Any:
        """Numbers as numbers (a 1,024-byte request after a 980-byte one); a request not
        answered (no status, latency) before every answered one."""
        numbers = {"Time": row.at, "Events": row.events, "Bytes": row.bytes,
                   "Attempts": row.attempts,
                   "Status": -1 if row.status is None else row.status,
                   "Latency": -1.0 if row.latency_ms is None else row.latency_ms}
        if column in numbers:
            return numbers[column]
        return SendLogModel._display(row, column).casefold()

    @staticmethod
    def _display(row: LogRow, column: str) -> str:
        if column == "Time":
            return time.strftime("%H:%M:%S", time.localtime(row.at))
        if column == "Environment":
            return row.environment
        if column == "Events":
            names = sorted(set(row.names))
            label = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
            return f"{row.events} · {label}" if row.events > 1 else label
        if column == "Status":
            return PENDING if row.pending else ("—" if row.status is None else str(row.status))
        if column == "Internal ids":
            return ", ".join(row.ids[:2]) + (f" (+{len(row.ids) - 2})" if len(row.ids) > 2 else "")
        if column == "Latency":
            return "" if row.latency_ms is None else f"{row.latency_ms:.0f} ms"
        if column == "Attempts":
            return str(row.attempts) if row.attempts else ""
        if column == "Bytes":
            return f"{row.bytes:,}"
        if column == "Outcome":
            return row.outcome
        return row.error or ""


class SendLogView(QTableView):
    """The log, sorted by time (newest last) until a header is clicked."""

    def __init__(self, model: SendLogModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sorted = QSortFilterProxyModel(self)
        self.sorted.setSourceModel(model)
        self.sorted.setSortRole(SORT_ROLE)
        self.setModel(self.sorted)
        self.setSortingEnabled(True)
        self.sortByColumn(COLUMNS.index("Time"), Qt.SortOrder.AscendingOrder)
        self.setTabKeyNavigation(False)  # Tab leaves the table; the arrows move in it
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((70, 110, 220, 60, 230, 70, 65, 80, 150)):
            self.setColumnWidth(column, width)
        status = COLUMNS.index("Status")  # "sending…" whole, in this font (60 px clipped it)
        self.setColumnWidth(status, max(self.columnWidth(status), self._fitting(PENDING)))
        model.rowsInserted.connect(lambda *_: self._show_newest())
        self._model = model
        # the ids cell shows two and a count, its tooltip cannot be copied: these can
        copy_ids = QAction("Copy internal ids", self)
        copy_ids.triggered.connect(lambda: self._copy(self.selected_ids()))
        copy_rows = QAction("Copy rows", self)
        copy_rows.setShortcut(QKeySequence.StandardKey.Copy)
        copy_rows.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy_rows.triggered.connect(lambda: self._copy(self.selected_text()))
        self.addActions([copy_ids, copy_rows])
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def _show_newest(self) -> None:
        """A new request comes into view when the log is in time order."""
        header = self.horizontalHeader()
        if header.sortIndicatorSection() == COLUMNS.index("Time"):
            if header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder:
                self.scrollToBottom()
            else:
                self.scrollToTop()

    def _rows(self) -> list[tuple[int, LogRow]]:
        """The selected requests (their rows in the model), in the order shown."""
        shown = sorted({index.row() for index in self.selectionModel().selectedRows()})
        picked = [self.sorted.mapToSource(self.sorted.index(n, 0)).row() for n in shown]
        return [(n, self._model.rows[n]) for n in picked if 0 <= n < len(self._model.rows)]

    def selected_ids(self) -> str:
        """Every internal id of the selected requests, one per line."""
        return "\n".join(i for _n, row in self._rows() for i in row.ids)

    def selected_text(self) -> str:
        """The selected rows in full (ids and errors whole), tab-separated, with a header."""
        lines = ["\t".join(COLUMNS)]
        for n, row in self._rows():
            cells = [str(self._model.data(self._model.index(n, c)) or "")
                     for c in range(len(COLUMNS))]
            cells[COLUMNS.index("Internal ids")] = " ".join(row.ids)
            cells[COLUMNS.index("Error")] = row.error or ""
            lines.append("\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells))
        return "\n".join(lines)

    def _copy(self, text: str) -> None:
        if text:
            QGuiApplication.clipboard().setText(text)

    def _fitting(self, text: str) -> int:
        """A column width that shows `text` unclipped: the item delegate's margins on both
        sides (QStyle.PM_FocusFrameHMargin + 1 each), plus a little air."""
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self)
        return self.fontMetrics().horizontalAdvance(text) + 2 * (margin + 1) + 8

"""A virtual table over the whole history: a million rows scroll like a hundred.

`rowCount` is the store's `count(filters)`; `data()` answers from a cache of pages and,
for a row whose page is not loaded, shows a placeholder and asks the reader for that page.
Pages arrive on the GUI thread and repaint only their rows. Only a bounded number of pages
is kept (least recently used go first), and a page request that has scrolled out of the
recent window before the reader got to it is skipped, so dragging the scrollbar across a
million rows does not queue thousands of queries.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from console.services.history import HistoryStore
from console.services.history_query import HistoryFilter, HistoryRow
from console.ui import rich
from console.ui.history.icons import outcome_icon, outcome_tooltip
from console.ui.history.reader import SKIP, HistoryReader

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the HistoryRow (None while its page loads)
PLACEHOLDER = "…"

COLUMNS = ("Time", "Environment", "Name", "Dedup id", "Status", "Outcome", "Internal id",
           "Size", "Source")


def _time(ms: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def _cell(row: HistoryRow, column: int) -> str:
    if column == 0:
        return _time(row.time_ms)
    values = (None, row.env, row.name or "(no name)", row.dedup_id or "",
              "" if row.status is None else str(row.status), row.outcome_text,
              row.internal_id or "", f"{row.size:,}", row.source)
    return str(values[column])


class HistoryTableModel(QAbstractTableModel):
    countChanged = Signal(int)  # noqa: N815 - Qt naming
    pageLoaded = Signal(int)  # noqa: N815

    def __init__(self, reader: HistoryReader, *, page_size: int = 200, max_pages: int = 64,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.page_size = page_size
        self.max_pages = max_pages
        self.filters = HistoryFilter()
        self.shown = self.filters  # `filters` as counted: the rows the table holds
        self._count = 0
        self._generation = 0
        self._shown_generation = 0  # the refresh whose count made `shown`
        self._pages: OrderedDict[int, list[HistoryRow]] = OrderedDict()
        self._inflight: set[int] = set()
        self._recent: tuple[int, ...] = ()  # read by the reader thread: swapped, never mutated

    # -- loading ---------------------------------------------------------------------------
    def set_filters(self, filters: HistoryFilter) -> None:
        """Show what matches `filters` (the count comes back asynchronously)."""
        self.filters = filters
        self.refresh()

    def refresh(self) -> None:
        self._generation += 1
        generation, filters = self._generation, self.filters

        def count(store: HistoryStore) -> tuple[HistoryFilter, int]:
            # the rows recorded until now: positions hold until the next refresh, however
            # many are recorded meanwhile (a page read later, or an export of the selected
            # rows, got the rows that new ones had pushed to those places)
            shown = replace(filters, upto_id=store.last_event_id())
            return shown, store.count(shown)

        self.reader.call(count, partial(self._counted, generation))

    def _counted(self, generation: int, counted: tuple[HistoryFilter, int]) -> None:
        if generation != self._generation:
            return
        self.shown, count = counted
        self._shown_generation = generation
        self.beginResetModel()
        self._count = count
        self._pages.clear()
        self._inflight.clear()
        self.endResetModel()
        self.countChanged.emit(count)

    def _want(self, page: int) -> None:
        # not while a count is on its way: a page read now, with the filters shown so far,
        # came back after the new count and was kept as the new filters' (rows of "b"
        # listed under the name "a"); the reset the count brings repaints and asks again
        if page in self._inflight or self._shown_generation != self._generation:
            return
        self._inflight.add(page)
        self._recent = (*self._recent[-7:], page)
        generation, filters, size = self._generation, self.shown, self.page_size
        # a neighbour page in the cache gives a keyset start: no OFFSET scan at any depth
        above, below = self._pages.get(page - 1), self._pages.get(page + 1)
        before_id = above[-1].id if above and len(above) == size else None
        after_id = below[0].id if before_id is None and below else None

        def load(store: HistoryStore) -> Any:
            if page not in self._recent or generation != self._generation:
                return SKIP
            return store.query(filters, page * size, size, before_id=before_id,
                               after_id=after_id)

        self.reader.call(load, partial(self._loaded, generation, page))

    def _loaded(self, generation: int, page: int, rows: Any) -> None:
        if generation != self._generation:
            return
        self._inflight.discard(page)
        if rows is SKIP:  # scrolled away before its turn: repaint asks again if still shown
            first = page * self.page_size
            last = min(first + self.page_size, self._count) - 1
            if last >= first:
                self.dataChanged.emit(self.index(first, 0), self.index(last, 0))
            return
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        first = page * self.page_size
        last = min(first + self.page_size, self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        self.pageLoaded.emit(page)

    # -- reading ---------------------------------------------------------------------------
    def row_at(self, row: int) -> HistoryRow | None:
        """The row if its page is loaded (asks for the page otherwise)."""
        if not 0 <= row < self._count:
            return None
        page, offset = divmod(row, self.page_size)
        rows = self._pages.get(page)
        if rows is None:
            self._want(page)
            return None
        self._pages.move_to_end(page)
        return rows[offset] if offset < len(rows) else None

    def loaded_pages(self) -> list[int]:
        return sorted(self._pages)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self._count

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
        row = self.row_at(index.row())
        column = index.column()
        if role == ROW_ROLE:
            return row
        if row is None:
            return PLACEHOLDER if role == Qt.ItemDataRole.DisplayRole and column == 2 else None
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(row, column)
        if column == 5 and role == Qt.ItemDataRole.DecorationRole:
            return outcome_icon(row.outcome)
        if column == 5 and role == Qt.ItemDataRole.ToolTipRole:
            return rich.tip(outcome_tooltip(row))
        if column == 7 and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

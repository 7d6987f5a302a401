"""The History view: find any event ever sent, see what became of it, use it again.

Every query and write goes through the `HistoryReader` thread, so the window stays
responsive over a million rows. Actions that belong to other parts of the window (put an
event back in the editor, save it as a template) are signals; the main window wires them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.core import snippets
from console.core.serialize import json_text
from console.services.atomic import atomic_file
from console.services.environments import on_this_machine
from console.services.history import DAY_MS, HistoryStore
from console.services.history_query import HistoryRow, export_csv, export_jsonl
from console.services.history_schema import MAX_PAYLOAD_CAP, MAX_RETENTION_DAYS, MIN_PAYLOAD_CAP
from console.ui import rich
from console.ui.history.detail import HistoryDetail, event_text
from console.ui.history.filters import HistoryFilterBar
from console.ui.history.model import HistoryTableModel
from console.ui.history.reader import HistoryReader

DEFAULT_ORIGIN = "http://127.0.0.1:8288"
SNIPPETS: dict[str, Callable[..., str]] = {
    "curl": snippets.curl_snippet,
    "TypeScript": snippets.typescript_snippet,
    "Python": snippets.python_snippet,
}


def _tool_button(text: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    return button


class HistoryView(QWidget):
    sendAgainRequested = Signal(str, str)  # noqa: N815 - (event text, environment name)
    saveAsTemplateRequested = Signal(str, str)  # noqa: N815 - (event text, suggested name)
    message = Signal(str)

    def __init__(self, reader: HistoryReader, *, environments: Sequence[str] = (),
                 origin_of: Callable[[HistoryRow], str | None] | None = None,
                 kind_of: Callable[[str], str | None] | None = None,
                 history_name_of: Callable[[str], str] | None = None,
                 parent: QWidget | None = None) -> None:
        """`origin_of`: where a row without a request of its own (a captured event) was
        sent, for Copy as; the window answers with the inbox's address. `kind_of`: the
        kind of the environment a row names, when one of that name is saved.
        `history_name_of`: what the history keeps an environment's sends under (for the
        From-environment target, its name and where it points), for the filter."""
        super().__init__(parent)
        self.reader = reader
        self.origin_of = origin_of
        self.kind_of = kind_of
        self.history_name_of = history_name_of
        self.environments = list(environments)
        self.model = HistoryTableModel(reader, parent=self)
        self.filter_bar = HistoryFilterBar(environments, self._history_names(environments))
        self.table = QTableView()
        self.table.setAccessibleName("History")
        self.table.setTabKeyNavigation(False)  # Tab leaves it; arrows move in it
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        # the header on a selection of its own (always empty): on the table's, each paint
        # of it asked the model about every selected row, once per column (2 s for 100,000
        # rows selected, a minute while an export held the GIL); its sections never show
        # as selected anyway, as rows are selected, not columns
        header.setSelectionModel(QItemSelectionModel(self.model, header))
        for column, width in enumerate((135, 90, 160, 95, 50, 285, 230, 55, 60)):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.detail = HistoryDetail()
        self.count_label = QLabel("Loading history…")
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        rich.wrapping(self.status_label)
        self.status_label.setVisible(False)  # shown with a message: its room goes to the table
        self._build_actions()
        # side by side, as in the Inbox tab: under the editor the tab is short and wide, and
        # a table above a detail pane left room for three rows
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 400])
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_bar)
        layout.addWidget(splitter, 1)
        layout.addLayout(self._actions_row)
        layout.addWidget(self.status_label)
        self._keep: tuple[int, int, int] | None = None  # (row id, row, count) across refresh
        self._kept_spans: list[tuple[int, int]] = []  # the selected rows before it
        self._span_ms: int | None = None  # "Last hour": the time range moves on each refresh
        # (row id, the row it should now be, how far new rows moved it down)
        self._restore: tuple[int, int, int] | None = None
        self.filter_bar.changed.connect(self.apply_filters)
        self.model.countChanged.connect(self._counted)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.pageLoaded.connect(self._page_loaded)
        self.reader.failed.connect(self.say)
        self._shown_retention: int | None = None  # the settings as the boxes show them
        self._shown_cap: int | None = None
        self.reader.call(lambda s: s.retention_days, self._retention_loaded)
        self.reader.call(lambda s: s.payload_cap_setting, self._payload_cap_loaded)
        self.apply_filters()

    # -- building ----------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.send_again = _tool_button("Send again")
        self.send_again.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.send_again.setToolTip("Send this event again, as it was sent, to its environment "
                                   "(the arrow: to another); the editor and the batch stay "
                                   "as they are")
        self.send_again.clicked.connect(lambda: self.request_send_again(None))
        self.send_menu = QMenu(self.send_again)
        self.send_again.setMenu(self.send_menu)
        self._fill_send_menu()
        self.save_template = QPushButton("Save as template")
        self.save_template.clicked.connect(self.request_save_template)
        self.copy_button = _tool_button("Copy as")
        self.copy_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        copy_menu = QMenu(self.copy_button)
        for label in SNIPPETS:
            copy_menu.addAction(label, partial(self.copy_as, label))
        self.copy_button.setMenu(copy_menu)
        self.export_button = _tool_button("Export selection")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        export_menu.addAction("JSON Lines…", lambda: self._ask_export("jsonl"))
        export_menu.addAction("CSV…", lambda: self._ask_export("csv"))
        self.export_button.setMenu(export_menu)
        self.retention = QSpinBox(minimum=0, maximum=MAX_RETENTION_DAYS, suffix=" days")
        self.retention.setAccessibleName("Keep history for")
        self.retention.setSpecialValueText("forever")
        self.retention.setToolTip("How long history is kept (purged at start-up)")
        self.retention.editingFinished.connect(self._retention_edited)
        self.payload_cap = QSpinBox(minimum=MIN_PAYLOAD_CAP // 1024,
                                    maximum=MAX_PAYLOAD_CAP // 1024, suffix=" KiB")
        self.payload_cap.setAccessibleName("Payloads kept up to")
        self.payload_cap.setToolTip("Bytes of each event's payload the history keeps (larger"
                                    " payloads are cut; their exact size is always recorded)")
        self.payload_cap.editingFinished.connect(self._payload_cap_edited)
        self.purge_button = QPushButton("Purge older")
        self.purge_button.clicked.connect(lambda: self.purge_now(confirm=True))
        # two rows: on one, the tab needed 900 px and the window could not be made 800 wide
        actions = QHBoxLayout()
        for widget in (self.send_again, self.save_template, self.copy_button,
                       self.export_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        actions.addWidget(self.count_label)
        storage = QHBoxLayout()
        storage.addStretch(1)
        storage.addWidget(QLabel("Payloads up to"))
        storage.addWidget(self.payload_cap)
        storage.addWidget(QLabel("Keep"))
        storage.addWidget(self.retention)
        storage.addWidget(self.purge_button)
        rows = QVBoxLayout()
        rows.addLayout(actions)
        rows.addLayout(storage)
        self._actions_row = rows
        self._enable_row_actions(False)

    def _fill_send_menu(self) -> None:
        self.send_menu.clear()
        for name in self.environments:
            self.send_menu.addAction(f"Send again to {name}",
                                     partial(self.request_send_again, name))

    def set_environments(self, names: Sequence[str]) -> None:
        self.environments = list(names)
        self.filter_bar.set_environments(names, self._history_names(names))
        self._fill_send_menu()

    def _history_names(self, names: Sequence[str]) -> list[str]:
        name_of = self.history_name_of
        return [name_of(name) if name_of is not None else name for name in names]

    def _enable_row_actions(self, enabled: bool) -> None:
        for widget in (self.send_again, self.save_template, self.copy_button):
            widget.setEnabled(enabled)

    # -- filters and rows ----------------------------------------------------------------
    def apply_filters(self) -> None:
        try:
            filters = self.filter_bar.filters()
        except ValueError as exc:
            self.say(str(exc))
            return
        self._span_ms = self.filter_bar.when.currentData()
        self.model.set_filters(filters)

    def refresh(self) -> None:
        """Show new rows (after a send or a capture). The selected events stay selected,
        with the current one's detail and actions: new rows come in above them (newest
        first). A time range such as "Last hour" is taken from now again."""
        row, current = self.detail.row, self.table.currentIndex()
        count = self.model.rowCount()
        self._keep = ((row.id, current.row(), count)
                      if row is not None and current.isValid() else None)
        selected = self.table.selectionModel().selection()
        self._kept_spans = [(selected.at(i).top(), selected.at(i).bottom())
                            for i in range(selected.size())]
        if self._span_ms:
            since = int(time.time() * 1000) - self._span_ms
            self.model.filters = replace(self.model.filters, since_ms=since)
        self.model.refresh()

    def _counted(self, count: int) -> None:
        self.count_label.setText(f"{count:,} event{'s' if count != 1 else ''}")
        keep, self._keep = self._keep, None
        self._restore = None
        if keep is not None:
            row_id, row, before = keep
            target = row + count - before
            if 0 <= target < count:
                self._restore = (row_id, target, target - row)
                self._restored(self.model.row_at(target))  # its page loads, usually
                return
        self.detail.clear()
        self._enable_row_actions(False)

    def _restored(self, row: HistoryRow | None) -> None:
        """Select the kept event again once its row is loaded (if it is the same event)."""
        if self._restore is None or row is None:
            return
        row_id, target, shift = self._restore
        self._restore = None
        if row.id != row_id:  # rows went away below it too (a purge): let it go
            self.detail.clear()
            self._enable_row_actions(False)
            return
        index = self.model.index(target, 0)
        selection = self.table.selectionModel()
        rows = QItemSelectionModel.SelectionFlag.Rows
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect | rows)
        last = self.model.rowCount() - 1
        for top, bottom in self._kept_spans:  # the rest of the selection, moved down alike
            if top + shift <= last:
                span = QItemSelection(self.model.index(top + shift, 0),
                                      self.model.index(min(bottom + shift, last), 0))
                selection.select(span, QItemSelectionModel.SelectionFlag.Select | rows)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._restore = None  # the user picked a row meanwhile
        self._show_detail(current.row())

    def _page_loaded(self, page: int) -> None:
        if self._restore is not None and self._restore[1] // self.model.page_size == page:
            self._restored(self.model.row_at(self._restore[1]))
            return
        current = self.table.currentIndex()
        if (current.isValid() and self.detail.row is None
                and current.row() // self.model.page_size == page):
            self._show_detail(current.row())

    def _show_detail(self, row_number: int) -> None:
        row = self.model.row_at(row_number)
        if row is None:
            self.detail.clear()
            self._enable_row_actions(False)
            return
        row_id, request_id = row.id, row.request_id

        def load(store: HistoryStore) -> tuple[HistoryRow | None, list[str]]:
            ids = store.response_ids(request_id) if request_id is not None else []
            return store.get(row_id), ids

        self.reader.call(load, lambda found: self._detail_loaded(row_number, found))

    def _detail_loaded(self, row_number: int,
                       found: tuple[HistoryRow | None, list[str]]) -> None:
        row, ids = found
        if row is None or self.table.currentIndex().row() != row_number:
            return
        self.detail.show_row(row, ids)
        self._enable_row_actions(True)

    # -- actions ---------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))
        self.message.emit(text)

    def _selected_event(self) -> HistoryRow | None:
        row = self.detail.row
        if row is None:
            self.say("Select an event first.")
            return None
        if row.event is None:
            self.say(f"Cannot reuse this event: only {len((row.payload or '').encode()):,} of "
                     f"{row.size:,} bytes were kept in the history (the payload cap).")
            return None
        return row

    def selected_event(self) -> Any:
        """The selected row's event (None, with the reason shown, when there is none)."""
        row = self._selected_event()
        return row.event if row is not None else None

    def request_send_again(self, env: str | None) -> None:
        row = self._selected_event()
        if row is not None:
            self.sendAgainRequested.emit(event_text(row), env or row.env)

    def request_save_template(self) -> None:
        row = self._selected_event()
        if row is not None:
            self.saveAsTemplateRequested.emit(event_text(row), row.name)

    def copy_as(self, language: str) -> str | None:
        row = self._selected_event()
        if row is None:
            return None
        origin = row.origin or (self.origin_of(row) if self.origin_of is not None else None)
        # a Dev Server or the inbox: by the environment's kind, as the preview decides, or
        # (none saved of that name, or the From-environment target, which is taken for a
        # Dev Server when it points at this machine) by a local origin; never by the name
        # (a Cloud environment named "Development" got the local Dev Server)
        kind = self.kind_of(row.env) if self.kind_of is not None else None
        dev = (kind in ("dev", "inbox") if kind and kind != "from-env"
               else origin is None or on_this_machine(origin))  # None: the default Dev Server
        # the key as the console sends it there: the placeholder when none is set
        options: dict[str, Any] = {"event_origin": origin or DEFAULT_ORIGIN,
                                   "branch": row.branch, "dev": dev}
        # half a UTF-16 pair, as the inbox may capture it, goes as its \\u escape
        body = json_text(row.event, separators=(",", ":")).encode("utf-8")
        text = SNIPPETS[language](body, **options)
        QGuiApplication.clipboard().setText(text)
        key = ("INNGEST_EVENT_KEY, or none needed: it is for a Dev Server" if dev else
               "INNGEST_EVENT_KEY")
        self.say(f"Copied as {language} (the key is read from {key}).")
        return text

    def _ask_export(self, fmt: str) -> None:
        suffix = "JSON Lines (*.jsonl)" if fmt == "jsonl" else "CSV (*.csv)"
        path, _ = QFileDialog.getSaveFileName(self, "Export selection", f"history.{fmt}",
                                              suffix)
        if path:
            self.export_selection(Path(path), fmt)

    def export_selection(self, path: Path, fmt: str | None = None,
                         done: Callable[[int], None] | None = None) -> None:
        """Write the selected rows (all of them, loaded or not) to `path`."""
        fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
        selection: QItemSelection = self.table.selectionModel().selection()
        spans = sorted({(selection.at(i).top(), selection.at(i).bottom())
                        for i in range(selection.size())})
        if not spans:
            self.say("Select the rows to export first.")
            return
        filters, writer = self.model.shown, export_csv if fmt == "csv" else export_jsonl
        total = sum(bottom - top + 1 for top, bottom in spans)
        self.say(f"Exporting {total:,} event{'s' if total != 1 else ''} to {path}…")

        def write(store: HistoryStore) -> int:
            rows = itertools.chain.from_iterable(
                store.pages(filters, top, bottom - top + 1, with_payload=True)
                for top, bottom in spans)
            # streamed (a million rows held at once took gigabytes), and the file appears
            # only when it is whole
            with atomic_file(path, "w", encoding="utf-8", newline="") as file:
                return writer(self.reader.until_closed(rows), file)  # no file if closed

        def written(count: int) -> None:
            self.say(f"Exported {count:,} event{'s' if count != 1 else ''} to {path}")
            if done is not None:
                done(count)

        self.reader.call(write, written,
                         lambda error: self.say(f"Could not export to {path}: {error}"))

    # The two settings boxes write only a value the user changed: editingFinished comes at
    # every loss of focus, and a box passed through wrote back what it showed, undoing a
    # `history --set-retention 3650` made meanwhile (and purging by the old one).
    def _retention_loaded(self, days: int) -> None:
        self._shown_retention = days
        self.retention.blockSignals(True)
        self.retention.setValue(days)
        self.retention.blockSignals(False)

    def _retention_edited(self) -> None:
        days = self.retention.value()
        if days == self._shown_retention:
            return
        self._shown_retention = days
        self.reader.call(lambda s: s.set_retention_days(days),
                         lambda _: self.say("History is kept " + (
                             "forever." if days == 0
                             else f"for {days} day{'s' if days != 1 else ''}.")))

    def _payload_cap_loaded(self, size: int) -> None:
        self._shown_cap = max(size // 1024, MIN_PAYLOAD_CAP // 1024)
        self.payload_cap.blockSignals(True)
        self.payload_cap.setValue(self._shown_cap)
        self.payload_cap.blockSignals(False)

    def _payload_cap_edited(self) -> None:
        kib = self.payload_cap.value()
        if kib == self._shown_cap:
            return
        self._shown_cap = kib
        self.reader.call(lambda s: s.set_payload_cap(kib * 1024),
                         lambda _: self.say(f"Payloads up to {kib:,} KiB are kept from now on."))

    def purge_now(self, *, confirm: bool = True,
                  done: Callable[[int], None] | None = None) -> None:
        days = self.retention.value()
        if days == 0:
            self.say("History is kept forever: set a number of days to purge older events.")
            return
        if confirm and QMessageBox.question(
            self, "Purge history", f"Delete every event older than {days} days?"
        ) != QMessageBox.StandardButton.Yes:
            return
        cutoff = int(time.time() * 1000) - days * DAY_MS

        def purged(count: int) -> None:
            self.say(f"Purged {count:,} event{'s' if count != 1 else ''} older than "
                     f"{days} day{'s' if days != 1 else ''}.")
            self.refresh()
            if done is not None:
                done(count)

        self.reader.call(lambda s: s.purge(cutoff), purged)

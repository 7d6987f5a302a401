"""Events the built-in inbox captured: an app under test pointed at it shows up here."""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.serialize import pretty
from console.services.inbox import KEEP_EVENTS, CapturedEvent
from console.services.inbox_store import KEEP_BYTES, overflow
from console.ui import rich
from console.ui.table_model import Index, ListTableModel

COLUMNS = ("Received", "Name", "Size", "Internal id", "Dedup id")


class InboxModel(ListTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)
        self.keep = KEEP_EVENTS
        self.keep_bytes = KEEP_BYTES
        self.bytes = 0  # the sizes of the rows kept
        self.dropped = 0  # rows let go, oldest first

    @property
    def events(self) -> list[CapturedEvent]:
        return self.items

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        event = self.events[index.row()]
        column = index.column()
        if column == 0:
            return time.strftime("%H:%M:%S", time.localtime(event.received_at_ms / 1000))
        if column == 1:
            return event.name
        if column == 2:
            return f"{event.size:,} B"
        if column == 3:
            return event.internal_id
        dedup = event.event.get("id") if isinstance(event.event, dict) else None
        return dedup if isinstance(dedup, str) else ""

    def clear(self) -> None:
        super().clear()
        self.bytes = 0

    def add(self, event: CapturedEvent) -> None:
        """Append; past `keep` rows (or `keep_bytes`) the oldest tenth goes (the History tab
        has them all)."""
        self.append(event)
        self.bytes += event.size
        count, freed = overflow(self.items, self.bytes, self.keep, self.keep_bytes)
        if count:
            self.bytes -= freed
            self.beginRemoveRows(QModelIndex(), 0, count - 1)
            del self.items[:count]
            self.endRemoveRows()
            self.dropped += count


class InboxPanel(QWidget):
    """Captured events on the left, the selected payload on the right."""

    open_in_editor = Signal(str)
    save_as_template = Signal(str, str)  # event text, suggested name ("" = the event name)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = InboxModel(self)
        self.address = QLabel("Inbox not running")
        self.address.setTextFormat(Qt.TextFormat.PlainText)
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rich.wrapping(self.address)  # one line of it set the window's least width: 929 px
        self.table = QTableView()
        self.table.setAccessibleName("Captured events")
        self.table.setTabKeyNavigation(False)  # Tab leaves it; arrows move in it
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((70, 220, 80, 230)):
            self.table.setColumnWidth(column, width)
        self.payload = QPlainTextEdit()
        self.payload.setAccessibleName("Captured event's payload")
        self.payload.setReadOnly(True)
        self.payload.setPlaceholderText("Select a captured event to see its payload")
        self.open_button = QPushButton("Open in editor")
        self.open_button.setEnabled(False)
        self.template_button = QPushButton("Save as template")
        self.template_button.setEnabled(False)
        self.template_button.clicked.connect(self._save_template)
        self.clear_button = QPushButton("Clear")
        self.open_button.clicked.connect(self._open)
        self.clear_button.clicked.connect(self._clear)
        self.table.selectionModel().currentRowChanged.connect(self._show)
        self.model.rowsInserted.connect(lambda *_: self.table.scrollToBottom())

        top = QHBoxLayout()
        top.addWidget(self.address, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.template_button)
        top.addWidget(self.clear_button)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(self.payload)
        split.setSizes([600, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(split)

    def set_address(self, url: str | None, error: str | None = None) -> None:
        if url:
            self.address.setText(
                f"Listening on {url} — point an app at it with INNGEST_DEV={url}"
            )
        else:
            self.address.setText(f"Inbox not running: {error or 'not started'}")

    def add(self, event: CapturedEvent) -> None:
        self.model.add(event)

    def selected(self) -> CapturedEvent | None:
        row = self.table.currentIndex().row()
        return self.model.events[row] if 0 <= row < len(self.model.events) else None

    def _show(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = self.selected()
        self.open_button.setEnabled(event is not None)
        self.template_button.setEnabled(event is not None)
        self.payload.setPlainText(pretty(event.event) if event else "")

    def _open(self) -> None:
        event = self.selected()
        if event is not None:
            self.open_in_editor.emit(as_sent(event))

    def _save_template(self) -> None:
        event = self.selected()
        if event is not None:
            self.save_as_template.emit(as_sent(event), "")

    def _clear(self) -> None:
        self.model.clear()
        self.payload.clear()


def as_sent(event: CapturedEvent) -> str:
    """The event as the app sent it (its bytes, formatted), not as the inbox keeps it: the
    inbox adds the receipt time as `ts`, and a template saved from it sent that fixed
    time ever after."""
    try:
        return pretty(json.loads(event.raw))
    except (ValueError, RecursionError):  # the inbox took it, so this is a safeguard
        return pretty(event.event)

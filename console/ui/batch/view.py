"""The list view of a batch: drag to reorder, drop files to import, sizes on each row."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from console.ui.batch.model import (
    PROBLEM_ROLE,
    REQUEST_ROLE,
    SIZE_ROLE,
    WARNING_ROLE,
    BatchListModel,
)

Index = QModelIndex | QPersistentModelIndex


def side_label(index: Index) -> str | None:
    """What a row shows on its right ("⚠ 1,024 B  ·  R2"), or None for no row."""
    size = index.data(SIZE_ROLE)
    if size is None:
        return None
    request = index.data(REQUEST_ROLE)
    text = f"{size:,} B" + (f"  ·  R{request}" if request else "")
    if index.data(PROBLEM_ROLE):
        return "⚠ " + text
    return "△ " + text if index.data(WARNING_ROLE) else text


class RowDelegate(QStyledItemDelegate):
    """Name on the left; size and request number (R2) on the right, dimmed; before them ⚠
    for a row that cannot be sent, △ for one with warnings (its tooltip says which)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        text = side_label(index)
        if text is None:
            super().paint(painter, option, index)
            return
        # the name is cut short before the label: a long name was drawn under it
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        room = option.rect.width() - option.fontMetrics.horizontalAdvance(text) - 18
        item.text = option.fontMetrics.elidedText(item.text, Qt.TextElideMode.ElideRight,
                                                  max(room, 0))
        style = item.widget.style() if item.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, item.widget)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        roles = QPalette.ColorRole
        role = roles.HighlightedText if selected else roles.PlaceholderText
        painter.setPen(option.palette.color(role))
        rect: QRect = option.rect.adjusted(0, 0, -6, 0)
        painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        painter.restore()


class BatchListView(QTableView):
    """A one-column table rather than a QListView: a list view lays out every row (and asks
    the Python model about each) after any change, which freezes the window with tens of
    thousands of events; a table with fixed row heights only looks at the visible rows."""

    rows_dropped = Signal(list, int)  # rows dragged within this list, drop row (before move)
    files_dropped = Signal(list)  # local file paths dropped from outside

    def __init__(self, model: BatchListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._model = model
        self.setTabKeyNavigation(False)  # Tab leaves the list; the arrows move in it
        self.setItemDelegate(RowDelegate(self))
        self.horizontalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setAlternatingRowColors(True)

    def drop_row(self, pos: QPoint) -> int:
        """Where a drop at `pos` lands: before the row under it, or after its lower half."""
        index = self.indexAt(pos)
        if not index.isValid():
            return self._model.rowCount()
        rect = self.visualRect(index)
        return index.row() + (1 if pos.y() > rect.center().y() else 0)

    def _ours(self, event: QDropEvent | QDragMoveEvent | QDragEnterEvent) -> bool:
        return self._model.dragged_rows(event.mimeData()) is not None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._ours(event) or event.mimeData().hasUrls():
            super().dragEnterEvent(event)
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if self._ours(event):
            super().dragMoveEvent(event)  # draws the drop indicator
            event.accept()
        elif event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        rows = self._model.dragged_rows(mime)
        if rows is not None:
            dest = self.drop_row(event.position().toPoint())
            # Copy, not Move: the move is done here (undoably), so the view must not
            # remove the source rows when the drag returns.
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.setState(QAbstractItemView.State.NoState)
            self.viewport().update()
            self.rows_dropped.emit(rows, dest)
            return
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
            return
        event.ignore()

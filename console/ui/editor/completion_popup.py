"""The completion list: label, type and description of each candidate.

It is a frameless tool window that never takes focus, so the editor keeps the keyboard
and forwards only navigation keys (Up/Down/Enter/Tab/Escape) to it; everything else is
typed into the document and narrows the list. A description pane under the list shows
the documentation of the highlighted candidate, like the Monaco editors users know.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from console.ui import rich
from console.ui.editor.provider import CandidateLike
from console.ui.editor.theme import EditorTheme

_Index = QModelIndex | QPersistentModelIndex
CANDIDATE_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_VISIBLE_ROWS = 10
MAX_SHOWN = 1000  # candidates listed at once: typing narrows a longer list


def kind_name(candidate: CandidateLike) -> str:
    kind = candidate.kind
    return str(getattr(kind, "value", kind) or "")


class CandidateModel(QAbstractListModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[CandidateLike] = []

    def set_items(self, items: Sequence[CandidateLike]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def items(self) -> list[CandidateLike]:
        return list(self._items)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.label
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.documentation or None
        if role == CANDIDATE_ROLE:
            return item
        return None


class CandidateDelegate(QStyledItemDelegate):
    """Label on the left, the type (detail) right-aligned and muted."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        candidate = index.data(CANDIDATE_ROLE)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = opt.rect.adjusted(6, 0, -6, 0)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = opt.palette
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        detail = candidate.detail or kind_name(candidate)
        detail_width = 0
        if detail:
            muted = QColor(palette.color(text_role))
            muted.setAlphaF(0.6)
            painter.setPen(muted)
            detail_width = min(opt.fontMetrics.horizontalAdvance(detail), rect.width() // 2)
            painter.drawText(
                rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), detail
            )
        painter.setPen(palette.color(text_role))
        label_rect = rect.adjusted(0, 0, -(detail_width + 12), 0)
        label = opt.fontMetrics.elidedText(
            candidate.label, Qt.TextElideMode.ElideRight, label_rect.width()
        )
        painter.drawText(
            label_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), option.fontMetrics.height() + 6))


class CompletionPopup(QFrame):
    """`chosen(candidate)` when the user clicks an entry (keys go through the editor)."""

    chosen = Signal(object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._all: list[CandidateLike] = []
        self._plain: list[str] = []  # each label as `refilter` compares it
        self._model = CandidateModel(self)
        self._list = QListView(self)
        self._list.setModel(self._model)
        self._list.setItemDelegate(CandidateDelegate(self._list))
        self._list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._list.setUniformItemSizes(True)
        self._list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._list.clicked.connect(self._clicked)
        self._doc = QLabel(self)
        rich.wrapping(self._doc)
        self._doc.setTextFormat(Qt.TextFormat.PlainText)
        self._doc.setContentsMargins(6, 4, 6, 4)
        self._doc.setObjectName("completionDocumentation")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        layout.addWidget(self._list)
        layout.addWidget(self._doc)
        self._list.selectionModel().currentChanged.connect(self._show_doc)
        self.setFixedWidth(440)

    def set_theme(self, theme: EditorTheme) -> None:
        """Match the editor's colours (the popup floats over it, not over the window)."""
        palette = QPalette(self.palette())
        for role, color in (
            (QPalette.ColorRole.Base, theme.background),
            (QPalette.ColorRole.Window, theme.gutter_background),
            (QPalette.ColorRole.Text, theme.foreground),
            (QPalette.ColorRole.WindowText, theme.foreground),
            (QPalette.ColorRole.Highlight, theme.selection),
            (QPalette.ColorRole.HighlightedText, theme.foreground),
        ):
            palette.setColor(role, QColor(color))
        self.setPalette(palette)
        self._list.setPalette(palette)
        self._doc.setPalette(palette)
        self._doc.setAutoFillBackground(True)

    # -- contents -------------------------------------------------------------------
    def open(self, candidates: Sequence[CandidateLike], prefix: str, at: QPoint) -> bool:
        """Show the candidates matching `prefix` below `at` (global); False if none."""
        self._all = list(candidates)
        # value labels are JSON: "free" matches fr
        self._plain = [c.label.strip('"').casefold() for c in self._all]
        if not self.refilter(prefix):
            return False
        self.move(at)
        self.show()
        return True

    def refilter(self, prefix: str) -> bool:
        """Keep candidates whose label starts with (else contains) `prefix`, any case; the
        first MAX_SHOWN of them (an enum of 100,000 values took 0.3 s a keystroke)."""
        needle = prefix.casefold()
        pairs = zip(self._all, self._plain, strict=True)
        items = list(itertools.islice((c for c, p in pairs if p.startswith(needle)), MAX_SHOWN))
        if len(items) < MAX_SHOWN:
            pairs = zip(self._all, self._plain, strict=True)
            items += itertools.islice((c for c, p in pairs
                                       if needle in p and not p.startswith(needle)),
                                      MAX_SHOWN - len(items))
        self._model.set_items(items)
        if not items:
            self.hide()
            return False
        self._list.setCurrentIndex(self._model.index(0, 0))
        rows = min(len(items), MAX_VISIBLE_ROWS)
        self._list.setFixedHeight(rows * self._list.sizeHintForRow(0) + 4)
        self._show_doc(self._list.currentIndex())
        self.adjustSize()
        return True

    def candidates(self) -> list[CandidateLike]:
        """What the list shows now, in order."""
        return self._model.items()

    def current(self) -> CandidateLike | None:
        index = self._list.currentIndex()
        value: CandidateLike | None = index.data(CANDIDATE_ROLE) if index.isValid() else None
        return value

    def documentation_text(self) -> str:
        return self._doc.text()

    def move_selection(self, delta: int) -> None:
        count = self._model.rowCount()
        if not count:
            return
        row = self._list.currentIndex().row()
        # The arrow keys wrap around; page keys stop at the ends.
        row = (row + delta) % count if abs(delta) == 1 else max(0, min(count - 1, row + delta))
        self._list.setCurrentIndex(self._model.index(row, 0))

    def _show_doc(self, index: QModelIndex) -> None:
        candidate = index.data(CANDIDATE_ROLE) if index.isValid() else None
        doc = (candidate.documentation or "") if candidate is not None else ""
        self._doc.setText(doc)
        self._doc.setVisible(bool(doc))
        self.adjustSize()

    def _clicked(self, index: QModelIndex) -> None:
        candidate = index.data(CANDIDATE_ROLE)
        if candidate is not None:
            self.chosen.emit(candidate)

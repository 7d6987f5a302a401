"""The history's filter bar: environment, name, status, dedup id, outcome, time, search.

Edits are debounced: the table re-queries once typing pauses, never per keystroke.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QWidget

from console.services.history_query import STATUS_CHOICES, HistoryFilter
from console.ui import rich
from console.ui.history.icons import OUTCOME_STYLE, outcome_icon

ANY_ENV = "All environments"
TIME_RANGES: tuple[tuple[str, int | None], ...] = (
    ("Any time", None), ("Last hour", 3_600_000), ("Last 24 hours", 86_400_000),
    ("Last 7 days", 7 * 86_400_000), ("Last 30 days", 30 * 86_400_000),
)
DEBOUNCE_MS = 250


class HistoryFilterBar(QWidget):
    changed = Signal()

    def __init__(self, environments: Sequence[str] = (),
                 history_names: Sequence[str] | None = None,
                 parent: QWidget | None = None) -> None:
        """`history_names`: what the history keeps each environment's sends under, when
        not its name (the From-environment target's is "From environment (its origin)")."""
        super().__init__(parent)
        self.env = rich.names_box(QComboBox(), 12)
        self.env.setEditable(True)
        self.set_environments(environments, history_names)
        self.name = QLineEdit(placeholderText="Event name (app/* works)")
        self.status = QComboBox()
        self.status.addItem("Any status", None)
        for choice in (*STATUS_CHOICES, "200", "400", "401", "429"):
            self.status.addItem(choice, choice)
        self.dedup = QLineEdit(placeholderText="Dedup id")
        self.outcome = QComboBox()
        self.outcome.addItem("Any outcome", None)
        for outcome in OUTCOME_STYLE:
            self.outcome.addItem(outcome_icon(outcome), outcome, outcome)
        self.when = QComboBox()
        for label, span in TIME_RANGES:
            self.when.addItem(label, span)
        self.search = QLineEdit(placeholderText="Search payloads")
        self.search.setClearButtonEnabled(True)
        for widget, tip in ((self.env, "Environment"), (self.status, "HTTP status or state"),
                            (self.outcome, "Outcome"), (self.when, "Time range"),
                            (self.search, "Words (or word beginnings) in the stored events")):
            widget.setToolTip(tip)
        for widget, name in ((self.env, "Environment"), (self.name, "Event name"),
                             (self.status, "Status"), (self.dedup, "Dedup id"),
                             (self.outcome, "Outcome"), (self.when, "Time range"),
                             (self.search, "Search payloads")):
            widget.setAccessibleName(name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.env, 2), (self.name, 3), (self.status, 1),
                                (self.dedup, 2), (self.outcome, 2), (self.when, 1),
                                (self.search, 3)):
            layout.addWidget(widget, stretch)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        for edit in (self.name, self.dedup, self.search):
            edit.textChanged.connect(self._timer.start)
        self.env.currentTextChanged.connect(self._timer.start)
        for combo in (self.status, self.outcome, self.when):
            combo.currentIndexChanged.connect(self.changed)

    def set_environments(self, names: Sequence[str],
                         history_names: Sequence[str] | None = None) -> None:
        current = self.env.currentText()
        self.env.blockSignals(True)
        self.env.clear()
        self.env.addItem(ANY_ENV)
        for name, kept in zip(names, history_names or names, strict=True):
            self.env.addItem(name, kept)
        self.env.setCurrentText(current or ANY_ENV)
        self.env.blockSignals(False)

    def flush(self) -> None:
        """Apply a pending (debounced) edit now."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit()

    def filters(self, now_ms: int | None = None) -> HistoryFilter:
        env = self.env.currentText().strip()
        listed = self.env.findText(env)  # an environment listed: what its sends are kept as
        if listed > 0:
            env = self.env.itemData(listed)
        span = self.when.currentData()
        now = int(time.time() * 1000) if now_ms is None else now_ms
        # a name and a dedup id as typed: Inngest keeps " ord-7 " as it was sent (only a
        # field of nothing but spaces is no filter)
        name, dedup = self.name.text(), self.dedup.text()
        return HistoryFilter(
            env=env if env and env != ANY_ENV else None,
            name=name if name.strip() else None,
            status=self.status.currentData(),
            dedup_id=dedup if dedup.strip() else None,
            outcome=self.outcome.currentData(),
            since_ms=now - span if span else None,
            text=self.search.text().strip() or None,
        )

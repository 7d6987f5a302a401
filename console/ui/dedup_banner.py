"""Before a send: what Inngest will do with each event's `id`, shown above the editor."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from console.core.dedup import Prediction, Verdict

_SHOWN = 4


class DedupBanner(QFrame):
    """Hidden when every event is new; amber for duplicates, grey for events with no id."""

    drop_requested = Signal()
    regenerate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.predictions: list[Prediction] = []
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.drop_button = QPushButton("Drop duplicates")
        self.drop_button.setToolTip("Remove the events Inngest would start no runs for")
        self.drop_button.clicked.connect(self.drop_requested)
        self.regenerate_button = QPushButton("New ids")
        self.regenerate_button.setToolTip("Give the duplicate events fresh ids so they run")
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.regenerate_button)
        layout.addWidget(self.drop_button)
        self.hide()

    @property
    def duplicates(self) -> list[Prediction]:
        return [p for p in self.predictions if p.duplicate]

    def set_predictions(self, predictions: Sequence[Prediction], *, batch: bool) -> None:
        self.predictions = list(predictions)
        duplicates = self.duplicates
        missing = [p for p in predictions if p.verdict is Verdict.NO_ID]
        if not duplicates and not missing:
            self.hide()
            return
        lines = []
        for p in duplicates[:_SHOWN]:
            where = f"#{p.index + 1} " if batch else ""
            text = f'{where}id "{p.dedup_id}": {p.message}'
            lines.append(f"<span style='color:#b26a00'><b>Duplicate</b> {html.escape(text)}</span>")
        if len(duplicates) > _SHOWN:
            lines.append(f"… and {len(duplicates) - _SHOWN} more duplicates")
        if missing:
            count = f"{len(missing)} events have" if batch and len(missing) > 1 else (
                "This event has" if not batch else "1 event has")
            lines.append(
                f"<span style='color:#616161'>{count} no dedup id: a repeat or retry "
                "runs functions again</span>"
            )
        self.label.setText("<br>".join(lines))
        self.drop_button.setVisible(bool(duplicates) and batch)
        self.regenerate_button.setVisible(bool(duplicates) and not batch)
        self.show()

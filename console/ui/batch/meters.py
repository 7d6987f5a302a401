"""Three size meters (event, request, count) as bars with exact numbers.

The values come from `core.batch.Meters`, i.e. from the bytes the client will send. A
bar is only touched when its numbers changed, so following the user's typing costs a few
label updates, not a relayout.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from console.core.batch import Level, Meter, Meters

COLOURS = {Level.GREEN: "#2e7d32", Level.AMBER: "#ef8f00", Level.RED: "#c62828"}
_SCALE = 1000


def _style(level: Level) -> str:
    return (
        "QProgressBar { border: 1px solid palette(mid); border-radius: 3px; "
        "background: palette(base); max-height: 10px; }"
        f"QProgressBar::chunk {{ background: {COLOURS[level]}; border-radius: 2px; }}"
    )


def _percent(meter: Meter) -> str:
    f = meter.fraction * 100
    return f"{f:.1f} %" if f < 10 else f"{f:.0f} %"


class SizeMeters(QWidget):
    """`set_meters(meters)` shows them; `level(name)` and `text(name)` read them back.

    Names: "event", "request", "count".
    """

    NAMES = ("event", "request", "count")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self._bars: dict[str, QProgressBar] = {}
        self._labels: dict[str, QLabel] = {}
        self._levels: dict[str, Level | None] = {}
        self._shown: dict[str, tuple[object, ...]] = {}
        titles = {"event": "Event", "request": "Request", "count": "Count"}
        tips = {
            "event": "Selected event (or the largest) against the per-event limit",
            "request": "The whole batch as one request body against the request limit; "
            "over it, the batch is split into several requests",
            "count": "Events against the 5,000 per request cap",
        }
        for row, name in enumerate(self.NAMES):
            title = QLabel(titles[name])
            bar = QProgressBar()
            bar.setRange(0, _SCALE)
            bar.setTextVisible(False)
            bar.setToolTip(tips[name])
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setObjectName(f"meter-{name}")
            grid.addWidget(title, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(label, row, 2)
            self._bars[name], self._labels[name], self._levels[name] = bar, label, None
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 2)
        self.blocked_label = QLabel()
        self.blocked_label.setTextFormat(Qt.TextFormat.PlainText)
        self.blocked_label.setStyleSheet(f"color: {COLOURS[Level.RED]};")
        self.blocked_label.hide()
        grid.addWidget(self.blocked_label, len(self.NAMES), 0, 1, 3)
        self._set("event", None, "no event")

    def level(self, name: str) -> Level | None:
        return self._levels[name]

    def text(self, name: str) -> str:
        return self._labels[name].text()

    def set_meters(self, meters: Meters) -> None:
        if meters.event is None:
            self._set("event", None, "no event")
        else:
            which = "" if meters.event_index is None else f"#{meters.event_index + 1}: "
            if meters.editor:  # the batch is empty: the editor's text is what Send sends
                which = "editor: " if meters.count.value == 1 else f"editor {which}"
            self._set(
                "event", meters.event,
                f"{which}{meters.event.value:,} of {meters.event.limit:,} bytes "
                f"({_percent(meters.event)})",
            )
        req = meters.request
        split = f" → {meters.requests:,} requests" if meters.requests > 1 else ""
        self._set(
            "request", req,
            f"{req.value:,} of {req.limit:,} bytes ({_percent(req)}){split}",
        )
        self._set("count", meters.count, f"{meters.count.value:,} of {meters.count.limit:,}")
        blocked = (
            f"{meters.blocked:,} event{'s' if meters.blocked != 1 else ''} cannot be sent: "
            "over a limit (marked in the list)"
            if meters.blocked else ""
        )
        if blocked != self.blocked_label.text():
            self.blocked_label.setText(blocked)
            self.blocked_label.setVisible(bool(blocked))

    def _set(self, name: str, meter: Meter | None, text: str) -> None:
        key = (meter, text)
        if self._shown.get(name) == key:
            return
        self._shown[name] = key
        bar = self._bars[name]
        level = meter.level if meter is not None else None
        bar.setValue(0 if meter is None else min(_SCALE, round(meter.fraction * _SCALE)))
        if level is not self._levels[name]:
            self._levels[name] = level
            bar.setStyleSheet(_style(level or Level.GREEN))
        self._labels[name].setText(text)

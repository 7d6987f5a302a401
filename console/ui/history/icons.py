"""Outcome icons and tooltips: one glance says ran, deduplicated, no runs or unknown.

Drawn at run time (a coloured disc with a glyph) so they follow the device pixel ratio and
need no image files; colour is never the only cue: each has its own glyph and a tooltip.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from console.services.history_query import HistoryRow

# outcome -> (colour, glyph, what it means)
OUTCOME_STYLE: dict[str, tuple[str, str, str]] = {
    "ran": ("#2e7d32", "✓", "Functions ran for this event"),
    "deduplicated": ("#1565c0", "=", "Inngest accepted it but started no runs: its id "
                     "repeats one seen in the last 24 h"),
    "no runs": ("#757575", "○", "No runs seen: nothing is triggered by it, or not yet"),
    "unverified": ("#b26a00", "?", "Runs could not be looked up"),
    "accepted": ("#66bb6a", "✓", "Accepted; runs were not looked up"),
    "not accepted": ("#c62828", "✕", "The server did not accept this event"),
    # any unknown: a broken connection, a timeout, a cut answer, a stop, a crash
    "unknown": ("#ef6c00", "!", "Outcome unknown: no full answer came; the server may or "
                "may not have taken it"),
    "pending": ("#9e9e9e", "…", "Waiting for the server's answer"),
    "received": ("#00838f", "↓", "Captured by the built-in inbox"),
}


def outcome_meaning(outcome: str) -> str:
    """What an outcome kind means, in a sentence for a tooltip ("" for an unknown kind)."""
    style = OUTCOME_STYLE.get(outcome)
    return style[2] if style else ""


HEADLINE_ORDER = ("not accepted", "unknown", "deduplicated", "unverified", "no runs", "ran")


def headline(kinds: Iterable[str]) -> str:
    """The outcome one icon shows for several events: trouble first, then dedup, then runs."""
    seen = list(kinds)
    for kind in HEADLINE_ORDER:
        if kind in seen:
            return kind
    return seen[0] if seen else ""


DETAIL_LINES = 30  # events listed one by one in a tooltip; the rest are counted


def event_lines(shown: Iterable[tuple[int, str, str]], total: int) -> list[str]:
    """"#3 app/signup: ran: 1 run" per (batch index, event name, outcome text) shown (at
    most DETAIL_LINES of them), then how many of `total` were left out."""
    lines = [f"#{i + 1} {name}: {text}" for i, name, text in shown]
    if total > len(lines):
        lines.append(f"… and {total - len(lines)} more (see History)")
    return lines


@cache
def outcome_icon(outcome: str) -> QIcon:
    colour, glyph, _ = OUTCOME_STYLE.get(outcome, ("#9e9e9e", "·", ""))
    icon = QIcon()
    for size in (16, 32):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
        font = QFont()
        font.setPixelSize(int(size * 0.7))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, glyph)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def outcome_tooltip(row: HistoryRow) -> str:
    meaning = outcome_meaning(row.outcome) or row.outcome
    lines = [row.outcome_text, meaning]
    if row.predicted_detail:
        lines.append(f"Before sending: {row.predicted_detail}")
    return "\n".join(line for line in lines if line)

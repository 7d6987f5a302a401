"""The detail pane: the event, the request it went out in, the answer, and its runs."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTabWidget, QVBoxLayout, QWidget

from console.core.clock import iso_local
from console.core.serialize import pretty
from console.services.history_query import HistoryRow
from console.ui import rich
from console.ui.history.icons import outcome_meaning


def _text_box(name: str) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setAccessibleName(name)
    box.setReadOnly(True)
    box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    return box


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return iso_local(ms)


def _lines(pairs: list[tuple[str, Any]]) -> str:
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(width)}  {'-' if v is None or v == '' else v}"
                     for k, v in pairs) + "\n"


def event_text(row: HistoryRow) -> str:
    """The stored event as the editor would show it (or what is left of a cut payload)."""
    event = row.event
    if event is not None:
        return pretty(event)
    return row.payload or ""


class HistoryDetail(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("Select an event to see its details.")
        rich.wrapping(self.summary)
        self.summary.setMinimumHeight(self.summary.fontMetrics().height() * 2 + 6)
        self.tabs = QTabWidget()
        self.event_box, self.request_box = _text_box("Event"), _text_box("Request")
        self.response_box, self.runs_box = _text_box("Response"), _text_box("Runs")
        for box, title in ((self.event_box, "Event"), (self.request_box, "Request"),
                           (self.response_box, "Response"), (self.runs_box, "Runs")):
            self.tabs.addTab(box, title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs)
        self.row: HistoryRow | None = None

    def clear(self) -> None:
        self.row = None
        self.summary.setText("Select an event to see its details.")
        for box in (self.event_box, self.request_box, self.response_box, self.runs_box):
            box.clear()

    def show_row(self, row: HistoryRow, response_ids: list[str]) -> None:
        self.row = row
        meaning = outcome_meaning(row.outcome)
        # rich text: the name and a server's error are whatever the sender made them
        name = rich.text(row.name or "(no name)")
        self.summary.setText(f"<b>{name}</b> — {rich.text(row.outcome_text)}"
                             + (f"<br><small>{meaning}</small>" if meaning else ""))
        text = event_text(row)
        if row.truncated:
            text = (f"// payload cut at the history's cap: {len(text.encode()):,} of "
                    f"{row.size:,} bytes kept\n{text}")
        self.event_box.setPlainText(text)
        if row.request_id is None:
            self.request_box.setPlainText(_lines([
                ("source", "captured by the built-in inbox"), ("environment", row.env),
                ("received", _when(row.time_ms)), ("bytes", f"{row.size:,}")]))
        else:
            self.request_box.setPlainText(_lines([
                ("environment", row.env), ("origin", row.origin), ("branch", row.branch),
                ("sent", _when(row.time_ms)), ("source", row.source),
                ("scenario", row.scenario), ("step", row.step),
                ("request", row.request_no), ("events in request", row.request_events),
                ("event index", row.index), ("request bytes", row.request_bytes),
                ("event bytes", f"{row.size:,}"), ("id seed", row.seed),
                ("state", row.state), ("attempts", row.attempts),
                ("latency", None if row.latency_ms is None else f"{row.latency_ms:.1f} ms"),
            ]))
        self.response_box.setPlainText(_answer_text(row, response_ids))
        runs: list[tuple[str, Any]] = [
            ("outcome", row.outcome_text), ("internal id", row.internal_id),
            ("dedup id", row.dedup_id),
        ]
        if row.request_id is not None:  # a captured event was never predicted
            # the history keeps a message for duplicates only; the verdict says the rest
            runs.append(("before sending", row.predicted_detail or row.predicted))
        listing = json.loads(row.runs_json) if row.runs_json else []
        self.runs_box.setPlainText(_lines(runs) + ("\n" + pretty(listing) if listing else ""))


def _answer_text(row: HistoryRow, response_ids: list[str]) -> str:
    """The server's answer as the Event API gives it (`{"ids": [...], "status": 200}`)
    when it took the request; otherwise what came, in plain lines. A connection that
    failed had read as an answer: `{"ids": [], "status": null, "error": ...}`, and a
    401's text body as JSON the server never sent. (The body itself is not kept.)"""
    if row.request_id is None:
        return pretty({"ids": [row.internal_id], "status": 200})
    if row.state != "done":
        return _lines([("no answer yet", row.state), ("outcome", row.outcome_text)])
    if row.answered_ok:
        return pretty({"ids": response_ids, "status": row.status})
    if row.status is None:
        return _lines([("no answer", "nothing came back from the server"),
                       ("why", row.error)])
    return _lines([("status", row.status), ("ids", ", ".join(response_ids) or "none"),
                   ("as read", row.error)])

"""Preview: each planned request exactly as it will leave, before anything is sent.

The bodies are joined from the batch's cached event bytes, the same way the sender joins
them, so what is shown (and its byte count) is what goes over the wire. The key is never
given to this dialog: it gets the masked URL only, and the snippets refer to an
environment variable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextOption
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console import __version__
from console.core.batch import Batch
from console.core.plan import BatchPlan
from console.core.serialize import array_body, pretty
from console.core.snippets import curl_snippet, python_snippet, typescript_snippet


@dataclass(frozen=True)
class PreviewTarget:
    """What the preview may know of the target: never the key itself.

    Build it from a `services.client.Target`:
    `PreviewTarget(t.event_origin, t.display_url(), t.branch, dev=env.kind in ("dev", "inbox"))`.
    """

    event_origin: str
    display_url: str
    branch: str | None = None
    dev: bool = False
    sdk_header: str = f"event-console:v{__version__}"


def request_headers(target: PreviewTarget | None, length: int) -> list[tuple[str, str]]:
    """The headers the client sends (the seed is made fresh for each request)."""
    sdk = target.sdk_header if target else f"event-console:v{__version__}"
    headers = [
        ("content-type", "application/json"),
        ("content-length", str(length)),
        ("user-agent", sdk),
        ("x-inngest-sdk", sdk),
        ("x-inngest-event-id-seed", "<unix millis>,<10 random bytes, base64> (new per request)"),
    ]
    if target is not None and target.branch:
        headers.append(("x-inngest-env", target.branch))
    return headers


class PreviewDialog(QDialog):
    def __init__(
        self,
        batch: Batch,
        plan: BatchPlan,
        target: PreviewTarget | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preview requests")
        self.resize(980, 640)
        self._plan = plan
        self._parts = batch.parts  # a snapshot: the dialog shows this moment's bytes
        self._target = target
        self._cache: dict[int, bytes] = {}

        url = target.display_url if target else "(no environment selected)"
        total = sum(len(r) for r in plan.requests)
        blocked_note = f" · {len(plan.blocked):,} blocked (cannot be sent)" if plan.blocked else ""
        self.summary = QLabel(
            f"POST {url}\n{len(plan.requests):,} request{'s' if len(plan.requests) != 1 else ''}"
            f" · {total:,} events · {plan.total_bytes:,} bytes{blocked_note}\n"
            f"Limits: {plan.request_limit:,} bytes per request, "
            f"{plan.event_limit:,} bytes per event, {plan.max_events:,} events per request"
        )
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.requests = QListWidget()
        self.requests.setWordWrap(True)
        self.requests.setMinimumWidth(260)
        for i, rng in enumerate(plan.requests):
            size = plan.request_bytes(i)
            item = QListWidgetItem(
                f"Request {i + 1} · {len(rng):,} events (#{rng.start + 1}–#{rng.stop})\n"
                f"{size:,} bytes · {size / plan.request_limit:.1%} of the limit"
            )
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.requests.addItem(item)
        for blocked in plan.blocked:
            item = QListWidgetItem(f"Blocked: event #{blocked.index + 1}\n{blocked.reason}")
            item.setToolTip(blocked.reason)
            item.setForeground(Qt.GlobalColor.red)
            item.setData(Qt.ItemDataRole.UserRole, None)
            self.requests.addItem(item)
        self.requests.currentRowChanged.connect(self._show)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.headers = QPlainTextEdit(readOnly=True)
        self.headers.setFont(mono)
        self.headers.setMaximumHeight(130)
        self.body = QPlainTextEdit(readOnly=True)
        self.body.setFont(mono)
        self.compact = QRadioButton("Compact (exact bytes)")
        self.pretty = QRadioButton("Pretty")
        self.compact.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.compact)
        group.addButton(self.pretty)
        self.pretty.toggled.connect(lambda _on: self._show(self.requests.currentRow()))

        buttons = QHBoxLayout()
        self.copy_buttons: dict[str, QPushButton] = {}
        for key, title in (("body", "Copy body"), ("curl", "Copy as curl"),
                           ("ts", "Copy as TypeScript"), ("python", "Copy as Python")):
            button = QPushButton(title)
            button.clicked.connect(lambda _=False, k=key: self.copy(k))
            buttons.addWidget(button)
            self.copy_buttons[key] = button
        buttons.addStretch(1)
        buttons.addWidget(self.compact)
        buttons.addWidget(self.pretty)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("Headers"))
        right_layout.addWidget(self.headers)
        right_layout.addWidget(QLabel("Body"))
        right_layout.addWidget(self.body, 1)
        right_layout.addLayout(buttons)
        splitter = QSplitter()
        splitter.addWidget(self.requests)
        splitter.addWidget(right)
        splitter.setSizes([330, 650])

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        layout.addWidget(close)
        if plan.requests:
            self.requests.setCurrentRow(0)
        else:
            self._show(-1)

    # -- reading (tests and the copy buttons) ---------------------------------------------
    def request_count(self) -> int:
        return len(self._plan.requests)

    def request_body(self, i: int) -> bytes:
        """The exact bytes of planned request `i`."""
        if i not in self._cache:
            rng = self._plan.requests[i]
            self._cache = {i: array_body(self._parts[rng.start : rng.stop])}
        return self._cache[i]

    def current_request(self) -> int | None:
        item = self.requests.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, int) else None

    def select_request(self, i: int) -> None:
        self.requests.setCurrentRow(i)

    def snippet(self, kind: str) -> str | None:
        i = self.current_request()
        if i is None:
            return None
        body = self.request_body(i)
        if kind == "body":
            return body.decode("utf-8")
        origin = self._target.event_origin if self._target else "http://127.0.0.1:8288"
        branch = self._target.branch if self._target else None
        dev = self._target.dev if self._target else True
        if kind == "curl":  # to a Dev Server without a key: the placeholder, as sent
            return curl_snippet(body, event_origin=origin, branch=branch, dev=dev)
        if kind == "ts":
            return typescript_snippet(body, event_origin=origin, branch=branch, dev=dev)
        return python_snippet(body, event_origin=origin, branch=branch, dev=dev)

    def copy(self, kind: str) -> None:
        text = self.snippet(kind)
        if text is not None:
            QGuiApplication.clipboard().setText(text)

    def _show(self, row: int) -> None:
        i = self.current_request() if row >= 0 else None
        for button in self.copy_buttons.values():
            button.setEnabled(i is not None)
        if i is None:
            self.headers.setPlainText("")
            self.body.setPlainText(
                "Nothing to send." if not self._plan.requests else
                "This event cannot be sent: fix or remove it."
            )
            return
        body = self.request_body(i)
        lines = [f"POST {self._target.display_url if self._target else '(no environment)'}"]
        lines += [f"{k}: {v}" for k, v in request_headers(self._target, len(body))]
        self.headers.setPlainText("\n".join(lines))
        if self.pretty.isChecked():
            self.body.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.body.setPlainText(pretty(json.loads(body)))
        else:
            self.body.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
            self.body.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
            self.body.setPlainText(body.decode("utf-8"))

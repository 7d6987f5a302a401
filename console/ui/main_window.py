"""The main window: pick an environment, write an event, Ctrl+Enter, see what came back."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import UserError
from console.core.pipeline import prepare_text
from console.core.redact import scrub
from console.services.environments import Environment
from console.services.inbox import CapturedEvent
from console.services.sender import send_events
from console.services.targets import ResolvedTarget, resolve_target
from console.ui.context import AppContext
from console.ui.environments_dialog import EnvironmentsDialog
from console.ui.inbox_panel import InboxPanel
from console.ui.send_log import LogRow, SendLogModel, SendLogView

log = logging.getLogger(__name__)

STARTER_EVENT = """{
  "name": "app/user.signed_up",
  "data": {
    "userId": "u_123",
    "plan": "pro"
  }
}
"""


class MainWindow(QMainWindow):
    first_painted = Signal()
    closed = Signal()
    send_finished = Signal(int)  # log row

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("Event Console")
        self.resize(1100, 760)
        self._painted = False
        self.settings = QSettings(
            str(context.paths.config / "window.ini"), QSettings.Format.IniFormat
        )

        self.env_combo = QComboBox()
        self.env_combo.setMinimumWidth(220)
        self.env_combo.setToolTip("Where events go")
        self.env_combo.currentIndexChanged.connect(self._env_changed)
        self.health_dot = QLabel("●")
        self.health_dot.setToolTip("Reachability of the environment (GET /health)")
        self.send_action = QAction("Send", self)
        self.send_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.send_action.setToolTip("Send the event (Ctrl+Enter)")
        self.send_action.triggered.connect(self.send)
        envs_action = QAction("Environments…", self)
        envs_action.triggered.connect(self.open_environments)
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.addWidget(QLabel(" Environment "))
        toolbar.addWidget(self.env_combo)
        toolbar.addWidget(self.health_dot)
        toolbar.addAction(envs_action)
        toolbar.addSeparator()
        toolbar.addAction(self.send_action)
        self.addToolBar(toolbar)

        self.name_field = QLineEdit()
        self.name_field.setPlaceholderText("event name, e.g. app/user.signed_up")
        self.name_field.textEdited.connect(self._name_edited)
        self.editor = self._make_editor()
        self.editor.setPlainText(STARTER_EVENT)
        self.editor.textChanged.connect(self._editor_changed)
        self._name_from_editor()
        editor_box = QWidget()
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.setContentsMargins(4, 4, 4, 0)
        editor_layout.addWidget(self.name_field)
        editor_layout.addWidget(self.editor)

        self.log_model = SendLogModel(self)
        self.log_view = SendLogView(self.log_model)
        self.inbox_panel = InboxPanel()
        self.inbox_panel.open_in_editor.connect(self.editor.setPlainText)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.log_view, "Send log")
        self.tabs.addTab(self.inbox_panel, "Inbox")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(editor_box)
        self.splitter.addWidget(self.tabs)
        self.splitter.setSizes([430, 300])
        self.setCentralWidget(self.splitter)
        self.statusBar().showMessage("Ready")

        context.inbox_listeners.append(self._captured)
        self._fill_environments()
        self._health_timer = QTimer(self)
        self._health_timer.setInterval(5000)
        self._health_timer.timeout.connect(self.check_health)
        self._restore_state()

    # -- parts other features replace ---------------------------------------------------
    def _make_editor(self) -> Any:
        from PySide6.QtGui import QFontDatabase
        from PySide6.QtWidgets import QPlainTextEdit

        editor = QPlainTextEdit()
        editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        return editor

    # -- environments -------------------------------------------------------------------
    def _fill_environments(self, select: str | None = None) -> None:
        current = select or self.env_combo.currentText() or None
        self.env_combo.blockSignals(True)
        self.env_combo.clear()
        for env in self.context.environments.all():
            label = env.name + (f" [{env.branch}]" if env.branch else "")
            self.env_combo.addItem(label, env.name)
        names = self.context.environments.names()
        wanted = current if current in names else self.context.environments.default().name
        self.env_combo.setCurrentIndex(names.index(wanted) if wanted in names else 0)
        self.env_combo.blockSignals(False)
        self._env_changed()

    def environment(self) -> Environment:
        return self.context.environments.get(self.env_combo.currentData())

    def select_environment(self, name: str) -> None:
        self._fill_environments(select=name)

    def _env_changed(self, *_: Any) -> None:
        if self.env_combo.currentData() is None:
            return
        env = self.environment()
        if not env.transient:
            self.context.environments.selected = env.name
        self.health_dot.setStyleSheet("color: gray")
        self.env_combo.setToolTip(f"{env.event_origin} ({env.kind})")
        self.check_health()

    def open_environments(self) -> None:
        dialog = EnvironmentsDialog(self.context, self)
        dialog.changed.connect(lambda: self._fill_environments())
        dialog.exec()

    def check_health(self) -> None:
        if self.env_combo.currentData() is None:
            return
        env = self.environment()

        async def probe() -> None:
            ok = await self.context.client.health(env.rest_origin)
            if self.env_combo.currentData() == env.name:
                self.health_dot.setStyleSheet(f"color: {'#2e7d32' if ok else '#c62828'}")
                self.health_dot.setToolTip(
                    f"{env.rest_origin}: {'reachable' if ok else 'not reachable'}"
                )

        self.context.tasks.spawn(probe(), "health")

    # -- the event ----------------------------------------------------------------------
    def event_text(self) -> str:
        return str(self.editor.toPlainText())

    def _name_from_editor(self) -> None:
        import json

        try:
            value = json.loads(self.event_text())
        except ValueError:
            return
        name = value.get("name") if isinstance(value, dict) else None
        if isinstance(name, str) and self.name_field.text() != name:
            self.name_field.setText(name)

    def _editor_changed(self) -> None:
        if not self.name_field.hasFocus():
            self._name_from_editor()

    def _name_edited(self, name: str) -> None:
        from console.core.edits import set_top_level_string

        updated = set_top_level_string(self.event_text(), "name", name)
        if updated is not None and updated != self.event_text():
            cursor = self.editor.textCursor()
            cursor.select(cursor.SelectionType.Document)
            cursor.insertText(updated)

    # -- sending ------------------------------------------------------------------------
    def send(self) -> None:
        try:
            env = self.environment()
            prepared = prepare_text(
                self.event_text(), request_limit=env.request_limit, event_limit=env.event_limit
            )
            if prepared.errors:
                first = prepared.errors[0]
                more = f" (+{len(prepared.errors) - 1} more)" if len(prepared.errors) > 1 else ""
                self.statusBar().showMessage(
                    f"Not sent: line {first.line}, column {first.column}: {first.message}{more}"
                )
                return
            if not prepared.plan.ok:
                blocked = prepared.plan.blocked[0]
                self.statusBar().showMessage(f"Not sent: event {blocked.index}: {blocked.reason}")
                return
            if prepared.warnings and not self._send_anyway(prepared.warnings):
                return
            resolved = resolve_target(env, self.context.environments, self.context.secrets)
        except UserError as exc:
            self.statusBar().showMessage(f"Not sent: {exc}")
            return
        self.context.tasks.spawn(self._send(resolved, prepared), "send")

    def _send_anyway(self, warnings: list[Any]) -> bool:
        lines = "\n".join(f"line {w.line}:{w.column}: {w.message}" for w in warnings[:8])
        answer = QMessageBox.question(
            self, "Send anyway?",
            f"The event does not match its schema:\n\n{lines}\n\nInngest will accept it. "
            "Send anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    async def _send(self, resolved: ResolvedTarget, prepared: Any) -> None:
        env = resolved.environment
        rows: dict[int, int] = {}
        model = self.log_model

        class Observer:
            def on_pending(self, request_no: int, rng: range, body: bytes, seed: Any) -> None:
                names = [prepared.events[i].get("name", "") for i in rng]
                rows[request_no] = model.append(LogRow(env.name, names, len(rng), len(body)))

            def on_done(self, request_no: int, rng: range, result: Any) -> None:
                row = model.rows[rows[request_no]]
                row.status, row.ids, row.latency_ms = result.status, result.ids, result.latency_ms
                row.attempts = result.attempts
                row.error = scrub(result.error, resolved.secrets) if result.error else None
                model.changed(rows[request_no])

        self.statusBar().showMessage(f"Sending to {env.name}…")
        try:
            outcomes = await send_events(
                self.context.client, resolved.target, prepared.parts, prepared.plan,
                observer=Observer(),
            )
        except asyncio.CancelledError:
            self.statusBar().showMessage("Send cancelled")
            raise
        accepted = sum(o.result.accepted for o in outcomes)
        total = len(prepared.events)
        failed = [o.result for o in outcomes if not o.result.ok]
        if failed:
            self.statusBar().showMessage(
                f"{accepted} of {total} accepted — {failed[0].status or 'no answer'}: "
                f"{scrub(failed[0].error or '', resolved.secrets)}"
            )
        else:
            self.statusBar().showMessage(f"{accepted} accepted by {env.name}")
        self.send_finished.emit(rows[max(rows)] if rows else -1)

    # -- inbox --------------------------------------------------------------------------
    def inbox_started(self) -> None:
        inbox = self.context.inbox
        self.inbox_panel.set_address(inbox.url if inbox else None, self.context.inbox_error)
        self._fill_environments()

    def _captured(self, event: CapturedEvent) -> None:
        self.inbox_panel.add(event)

    # -- window life --------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        split = self.settings.value("splitter")
        if isinstance(split, QByteArray):
            self.splitter.restoreState(split)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.first_painted.emit)

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        self._health_timer.start()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("splitter", self.splitter.saveState())
        self.settings.sync()
        try:
            self.context.environments.save()
        except OSError as exc:
            log.warning("could not save environments: %s", exc)
        self._health_timer.stop()
        super().closeEvent(event)
        self.closed.emit()

"""The workspace and history side of the window: templates, runner, history, schemas.

Kept apart from main_window.py so that file stays about layout and sending; this one
owns the workspace (open, recent, watched for outside changes), the template browser,
the scenario runner, the history view and the schema library the editor validates with.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from console.core.errors import UserError
from console.core.schemas import SchemaLibrary
from console.services.schema_store import load_library
from console.services.workspace import RecentWorkspaces, Workspace
from console.ui.history import HistoryReader, HistoryView
from console.ui.workspace import RenderedPreview, RunnerPanel, TemplateBrowser, WorkspaceWatcher

if TYPE_CHECKING:
    from console.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class WorkspacePanels:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        context = window.context
        self.recent = RecentWorkspaces(context.paths.config / "recent.json")
        self.workspace = self._open_initial()
        self.library: SchemaLibrary = load_library(self.workspace.folder)
        self.watcher = WorkspaceWatcher(self.workspace, parent=window)
        self.watcher.changed.connect(self._workspace_changed)
        self.browser = TemplateBrowser(self.workspace, self.watcher)
        self.browser.template_opened.connect(lambda _name, text: window.open_event_text(text))
        self.browser.message.connect(window.statusBar().showMessage)
        self.runner = RunnerPanel(self.workspace, self.watcher, context.environments,
                                  context.secrets, context.client, context.tasks)
        self.preview = RenderedPreview(self.workspace)
        window.editor.textChanged.connect(self._editor_changed)
        self.reader = HistoryReader(context.paths.history_db)
        self.history = HistoryView(self.reader, environments=context.environments.names())
        self.history.sendAgainRequested.connect(self._send_again)
        self.history.saveAsTemplateRequested.connect(self._save_text_as_template)
        self.history.message.connect(window.statusBar().showMessage)
        self._history_timer = QTimer(window)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(500)
        self._history_timer.timeout.connect(self.history.refresh)
        window.flow.finished.connect(lambda _summary: self._history_timer.start())
        window.flow.outcomes_known.connect(lambda _outcomes: self._history_timer.start())
        context.inbox_listeners.append(lambda _event: self._history_timer.start())
        window.inbox_panel.save_as_template.connect(self._save_text_as_template)

        window.tabs.addTab(self.history, "History")
        window.tabs.addTab(self.browser, "Templates")
        window.tabs.addTab(self.runner, "Scenarios")
        window.top.addWidget(self.preview)
        self.preview.setVisible(False)
        self._add_menus()
        self._show_problems()

    # -- workspace ------------------------------------------------------------------------
    def _open_initial(self) -> Workspace:
        for folder in self.recent.folders()[:1]:
            try:
                return Workspace.open(folder, create=False)
            except (UserError, OSError) as exc:
                self.window.context.notices.append(f"Workspace {folder} not opened: {exc}")
        return Workspace.open(self.window.context.paths.default_workspace)

    def open_workspace(self, folder: Path) -> None:
        try:
            workspace = Workspace.open(folder)
        except (UserError, OSError) as exc:
            self.window.statusBar().showMessage(f"Workspace not opened: {exc}")
            return
        self.workspace = workspace
        self.watcher.set_workspace(workspace)
        self.preview.engine = workspace.engine
        self.recent.add(workspace.folder)
        self._reload_schemas()
        self.browser.refresh()
        self.runner.refresh_scenarios()
        self._fill_recent()
        self.window.statusBar().showMessage(f"Workspace: {workspace.folder}")
        self._show_problems()

    def _choose_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open workspace",
                                                  str(self.workspace.folder))
        if folder:
            self.open_workspace(Path(folder))

    def _workspace_changed(self, change: Any) -> None:
        if getattr(change, "schemas", True):
            self._reload_schemas()
        self._show_problems()

    def _reload_schemas(self) -> None:
        self.library = load_library(self.workspace.folder)
        self.window.editor.validate_now()

    def _show_problems(self) -> None:
        problems = [str(p) for p in self.workspace.problems]
        problems += [str(p) for p in self.library.problems]
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            self.window.statusBar().showMessage(f"Workspace file skipped: {problems[0]}{more}")

    # -- menus ----------------------------------------------------------------------------
    def _add_menus(self) -> None:
        file_menu = self.window.file_menu
        first = file_menu.actions()[0]  # Environments…: the workspace items go above it
        open_action = QAction("Open Workspace…", self.window)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._choose_workspace)
        file_menu.insertAction(first, open_action)
        self.recent_menu = file_menu.addMenu("Open Recent")
        file_menu.insertMenu(first, self.recent_menu)
        file_menu.insertSeparator(first)
        self._fill_recent()
        save = QAction("Save as Template", self.window)
        save.setShortcut(QKeySequence.StandardKey.Save)
        save.triggered.connect(self.save_editor_as_template)
        self.window.edit_menu.addSeparator()
        self.window.edit_menu.addAction(save)
        self.window.edit_menu.addAction(self.browser.undo_action)
        self.window.edit_menu.addAction(self.browser.redo_action)
        self.save_action = save

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for folder in self.recent.folders():
            action = self.recent_menu.addAction(str(folder))
            action.triggered.connect(lambda _=False, f=folder: self.open_workspace(f))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    # -- templates ------------------------------------------------------------------------
    def save_editor_as_template(self) -> str | None:
        return self._save_text_as_template(self.window.event_text(), "")

    def _save_text_as_template(self, text: str, name: str) -> str | None:
        try:
            event = json.loads(text)
            saved = self.browser.save_from_event(event, name or None)
        except ValueError as exc:
            self.window.statusBar().showMessage(f"Not saved: the event is not valid JSON ({exc})")
            return None
        except UserError as exc:
            self.window.statusBar().showMessage(f"Not saved: {exc}")
            return None
        self.window.statusBar().showMessage(f"Saved template {saved!r} in {self.workspace.folder}")
        return saved

    def _editor_changed(self) -> None:
        text = self.window.event_text()
        has_placeholders = "{{" in text
        self.preview.setVisible(has_placeholders)
        if has_placeholders:
            self.preview.set_source(text)

    def _send_again(self, text: str, env_name: str) -> None:
        self.window.open_event_text(text)
        if env_name:
            self.window.select_environment(env_name)
        self.window.statusBar().showMessage("Loaded from history: press Ctrl+Enter to send")

    def close(self) -> None:
        self.reader.close()

"""The workspace and history side of the window: templates, runner, history, schemas.

Kept apart from main_window.py so that file stays about layout and sending; this one
owns the workspace (open, recent, watched for outside changes), the template browser,
the scenario runner, the history view and the schema library the editor validates with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from console.core.dedup import dedup_id_of
from console.core.envelope import ignored_keys
from console.core.errors import UserError
from console.core.scenario import as_literal_text, one_step_scenario
from console.core.schemas import SchemaLibrary, infer_schema
from console.core.serialize import pretty
from console.core.template import has_template_marks
from console.core.template_scope import render_text
from console.services.history_query import HistoryFilter, HistoryRow
from console.services.schema_store import import_schema, load_library
from console.services.workspace import RecentWorkspaces, Workspace
from console.ui.editor.scheduler import AT_ONCE_CHARS
from console.ui.history import HistoryReader, HistoryView
from console.ui.schema_dialog import SchemaDialog, event_of
from console.ui.tasks import loop_running
from console.ui.undo_menu import add_undo_items
from console.ui.workspace import RenderedPreview, RunnerPanel, TemplateBrowser, WorkspaceWatcher

if TYPE_CHECKING:
    from console.ui.main_window import MainWindow

log = logging.getLogger(__name__)
HISTORY_QUIET_MS = 500  # the History tab refreshes once sends and captures pause this long,
HISTORY_MOST_MS = 2000  # or this long after the first one it has not shown yet


class WorkspacePanels:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        context = window.context
        self.recent = RecentWorkspaces(context.paths.config / "recent.json")
        self.workspace = self._open_initial()
        self.library: SchemaLibrary = load_library(self.workspace.folder)
        self._schema_loads = 0  # reloads started: only the newest one's library is used
        window.composer.schemas = self.library
        self.watcher = WorkspaceWatcher(self.workspace, parent=window)
        self.watcher.changed.connect(self._workspace_changed)
        self.browser = TemplateBrowser(self.workspace, self.watcher)
        self.browser.template_opened.connect(lambda _name, text: window.open_event_text(text))
        self.browser.message.connect(window.statusBar().showMessage)
        self.runner = RunnerPanel(self.workspace, self.watcher, context.environments,
                                  context.secrets, context.client, context.tasks,
                                  history=lambda: context.history,
                                  history_failed=context.history_failed)
        self.preview = RenderedPreview(self.workspace)
        # a big document is looked at for placeholders after a pause, not on every key
        self._preview_timer = QTimer(window)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(300)
        self._preview_timer.timeout.connect(self._show_placeholders)
        window.editor.textChanged.connect(self._editor_changed)
        self.reader = HistoryReader(context.paths.history_db)
        self.reader.notice.connect(window.show_notice)
        self.history = HistoryView(self.reader, environments=context.environments.names(),
                                   origin_of=self._origin_of, kind_of=self._kind_of,
                                   history_name_of=self._history_name_of)
        self.history.sendAgainRequested.connect(self._send_again)
        # named after the event, made unique as Ctrl+S and the Inbox tab make it: the second
        # "Save as template" of a shop/order was "a template named 'shop/order' already exists"
        self.history.saveAsTemplateRequested.connect(
            lambda text, _name: self._save_text_as_template(text, "", literal=True))
        self.history.message.connect(window.statusBar().showMessage)
        self._history_timer = QTimer(window)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(HISTORY_QUIET_MS)
        self._history_timer.timeout.connect(self.history.refresh)
        self._history_asked = 0.0  # when the pending refresh was first asked for
        window.flow.finished.connect(lambda _summary: self._refresh_history())
        window.flow.outcomes_known.connect(lambda _outcomes: self._refresh_history())
        context.inbox_listeners.append(lambda _event: self._refresh_history())
        window.inbox_panel.save_as_template.connect(
            lambda text, name: self._save_text_as_template(text, name, literal=True))
        # a run sends ids the editor or the batch may hold: what the banner says of them
        # is looked at again, as after the window's own send
        self.runner.run_finished.connect(lambda _report: window.dedup.schedule())
        self.runner.run_finished.connect(lambda _report: self._refresh_history())

        window.tabs.addTab(self.history, "History")
        window.tabs.addTab(self.browser, "Templates")
        window.tabs.addTab(self.runner, "Scenarios")
        window.top.addWidget(self.preview)
        self.preview.setVisible(False)
        self._add_menus()
        self._show_problems()

    def _refresh_history(self) -> None:
        """Refresh the History tab once things pause, or within `HISTORY_MOST_MS` of the
        first unseen change: an app sending more than two events a second to the inbox kept
        restarting the wait, and the tab showed none of them until it stopped."""
        now = time.monotonic()
        if not self._history_timer.isActive():
            self._history_asked = now
        elif (now - self._history_asked) * 1000 >= HISTORY_MOST_MS - HISTORY_QUIET_MS:
            return  # due soon enough: not put off again
        self._history_timer.start()

    # -- workspace ------------------------------------------------------------------------
    def _open_initial(self) -> Workspace:
        for folder in self.recent.folders()[:1]:
            try:
                return Workspace.open(folder, create=False)
            except (UserError, OSError) as exc:
                self.window.context.notices.append(f"Workspace {folder} not opened: {exc}")
        default = self.window.context.paths.default_workspace
        try:
            return Workspace.open(default)
        except (UserError, OSError) as exc:
            # a data folder left by `sudo event-console`, a full disk: the window had not
            # opened at all. A folder of its own for this session, said as such
            spare = Path(tempfile.mkdtemp(prefix="event-console-workspace-"))
            self.window.context.notices.append(
                f"The workspace {default} cannot be opened ({_reason(exc)}): a temporary one"
                f" is used for this session ({spare}); open another with File > Open"
                " Workspace")
            return Workspace.open(spare)

    def open_workspace(self, folder: Path, *, create: bool = True) -> None:
        """`create`: make the workspace's folders (a folder the user chose); a recent one
        that is gone is not made again, empty (a removed clone, a drive not mounted)."""
        try:
            workspace = Workspace.open(folder, create=create)
        except (UserError, OSError) as exc:
            if not create and not Path(folder).is_dir():
                with contextlib.suppress(OSError):
                    self.recent.remove(Path(folder))
                self._fill_recent()
            self.window.statusBar().showMessage(f"Workspace not opened: {exc}")
            return
        self.workspace = workspace
        self.watcher.set_workspace(workspace)
        self.preview.engine = workspace.engine
        try:
            self.recent.add(workspace.folder)
            unremembered = ""
        except OSError as exc:  # a full disk: opened all the same (it had been half-opened)
            unremembered = f" (not added to Open Recent: {_reason(exc)})"
        self._reload_schemas()
        self.browser.refresh()
        self.runner.refresh_scenarios()
        self._fill_recent()
        self.window.statusBar().showMessage(f"Workspace: {workspace.folder}{unremembered}")
        self._show_problems()

    def _choose_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open workspace",
                                                  str(self.workspace.folder))
        if folder:
            self.open_workspace(Path(folder))

    def _workspace_changed(self, change: Any) -> None:
        if getattr(change, "schemas", True) and loop_running():
            # off the Qt thread: a file touched beside a 1 MB schema held the window 1.5 s
            # (a 5 MB one, 12.5 s) while every schema was read and compiled again
            self._schema_loads += 1
            self.window.context.tasks.spawn(
                self._reload_schemas_off_thread(self._schema_loads), "schemas-reload")
            self._show_problems(schemas=False)
            return
        if getattr(change, "schemas", True):
            self._reload_schemas()
        self._show_problems()

    async def _reload_schemas_off_thread(self, load: int) -> None:
        folder = self.workspace.folder
        library = await asyncio.to_thread(load_library, folder)
        if load == self._schema_loads and folder == self.workspace.folder:  # the newest
            self._use_library(library)
            self._show_problems()

    def _reload_schemas(self) -> None:
        self._schema_loads += 1  # a reload still running off the thread is now stale
        self._use_library(load_library(self.workspace.folder))

    def _use_library(self, library: SchemaLibrary) -> None:
        self.library = library
        self.window.composer.schemas = self.library
        self.window.editor.validate_now()

    def _show_problems(self, *, schemas: bool = True) -> None:
        problems = [str(p) for p in self.workspace.problems]
        problems += [str(p) for p in self.library.problems] if schemas else []
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
        self.save_scenario_action = QAction("Save Batch as Scenario…", self.window)
        self.save_scenario_action.triggered.connect(lambda: self.save_batch_as_scenario())
        file_menu.insertAction(first, self.save_scenario_action)
        self.runner.save_batch_button.clicked.connect(self.save_scenario_action.trigger)
        file_menu.insertSeparator(first)
        self._fill_recent()
        save = QAction("Save as Template", self.window)
        save.setShortcut(QKeySequence.StandardKey.Save)
        save.triggered.connect(self.save_editor_as_template)
        self.window.edit_menu.addSeparator()
        self.window.edit_menu.addAction(save)
        self.undo_item, self.redo_item = add_undo_items(
            self.window.edit_menu, self.window.editor,
            [(self.browser, self.browser.undo_stack),
             (self.window.composer.view, self.window.composer.undo_stack)])
        self.save_action = save
        send_menu = self.window.send_menu
        from_template = send_menu.addAction("Add Selected Template to Batch")
        from_template.triggered.connect(self.add_template_to_batch)
        from_history = send_menu.addAction("Add Selected History Event to Batch")
        from_history.triggered.connect(self.add_history_to_batch)
        schemas = self.window.menuBar().addMenu("S&chemas")
        edit = schemas.addAction("Edit Schema of This Event…")
        edit.triggered.connect(lambda: self.edit_schema("current"))
        infer = schemas.addAction("Infer Schema from This Event…")
        infer.triggered.connect(lambda: self.edit_schema("payload"))
        history = schemas.addAction("Infer Schema from Sent Events…")
        history.triggered.connect(lambda: self.edit_schema("history"))
        imported = schemas.addAction("Import Schema from File…")
        imported.triggered.connect(lambda: self.edit_schema("file"))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for folder in self.recent.folders():
            action = self.recent_menu.addAction(str(folder))
            action.triggered.connect(
                lambda _=False, f=folder: self.open_workspace(f, create=False))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    # -- schemas --------------------------------------------------------------------------
    def edit_schema(self, source: str, file: Path | None = None) -> SchemaDialog | None:
        """Open the schema editor for the editor's event name, starting from `source`:
        "current" (the saved one, else inferred), "payload", "history" or "file"."""
        try:
            return self._edit_schema(source, file)
        except RecursionError:  # sendable, but nested too deep to read or infer from here
            self.window.statusBar().showMessage(
                "Schemas: the event is nested too deep to read its schema here")
            return None

    def _edit_schema(self, source: str, file: Path | None) -> SchemaDialog | None:
        event = event_of(self.window.event_text())
        if event is None:
            self.window.statusBar().showMessage(
                "Schemas work per event name: the editor needs an event with a \"name\"")
            return None
        name = str(event["name"])
        # a new schema is for the event's own version; the saved one is written back to
        # the file it came from (the unversioned one when this version has none)
        version = event.get("v") if isinstance(event.get("v"), str) else None
        entry = self.library.entry_for(name, version)
        if source == "current" and entry is not None:
            return self._schema_dialog(name, dict(entry.schema), "the saved schema",
                                       entry.version)
        if source in ("current", "payload"):
            return self._schema_dialog(name, infer_schema([event.get("data", {})]),
                                       "inferred from the editor's payload", version)
        if source == "file":
            if file is None:
                chosen, _ = QFileDialog.getOpenFileName(self.window, "Import schema", "",
                                                        "JSON Schema (*.json)")
                if not chosen:
                    return None
                file = Path(chosen)
            try:
                import_schema(file, self.workspace.folder, name, version=version)
            except (UserError, OSError) as exc:  # OSError: full disk, read-only folder
                self.window.statusBar().showMessage(f"Not imported: {exc}")
                return None
            self._reload_schemas()
            imported = self.library.for_event(name, version)
            return self._schema_dialog(name, dict(imported or {}), f"imported from {file}",
                                       version)
        self.window.context.tasks.spawn(self._infer_from_history(name, version),
                                        "infer-schema")
        return None

    async def _infer_from_history(self, name: str, version: str | None) -> None:
        history = self.window.context.history
        if history is None:
            self.window.statusBar().showMessage("No history this session to infer from")
            return
        rows = await history.run(lambda s: s.query(HistoryFilter(name=name, source="sent"),
                                                   0, 500, with_payload=True))
        payloads = [r.event.get("data", {}) for r in rows if isinstance(r.event, dict)]
        if not payloads:
            self.window.statusBar().showMessage(f"No sent events named {name!r} in the history")
            return
        self._schema_dialog(name, infer_schema(payloads),
                            f"inferred from {len(payloads)} sent event(s)", version)

    def _schema_dialog(self, name: str, schema: dict[str, Any], origin: str,
                       version: str | None) -> SchemaDialog:
        dialog = SchemaDialog(self.workspace.folder, name, _data_schema(schema), origin=origin,
                              version=version, parent=self.window)
        # freed once closed (every one opened stayed alive); several may be open at once,
        # each with its edits
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda path: self._schema_saved(path))
        dialog.show()
        return dialog

    def _schema_saved(self, path: str) -> None:
        self._reload_schemas()
        self.window.statusBar().showMessage(f"Saved schema {path}")

    # -- into the batch -------------------------------------------------------------------
    def add_template_to_batch(self) -> bool:
        """The selected template, its placeholders rendered with a fresh seed, as it would
        be sent (a batch holds plain events)."""
        name = self.browser.selected_name()
        if name is None:
            self.window.statusBar().showMessage("Select a template in the Templates tab first")
            return False
        template = self.workspace.template(name)
        try:
            variables = self.preview.template_vars()
        except UserError as exc:
            self.window.statusBar().showMessage(f"Template {name!r} not added: {exc}")
            return False
        rendered, error = render_text(pretty(template.event), self.workspace.engine, variables,
                                      seed=random.SystemRandom().randrange(2**31))
        if rendered is None:
            self.window.statusBar().showMessage(
                f"Template {name!r} not added: {error}{self.vars_hint(error)}")
            return False
        self.window.composer.add_events([json.loads(rendered)])
        self.window.statusBar().showMessage(f"Added template {name!r} to the batch")
        return True

    def add_history_to_batch(self) -> bool:
        event = self.history.selected_event()
        if event is None:
            return False
        self.window.composer.add_events([event])
        self.window.statusBar().showMessage(f"Added {event.get('name')!r} from the history")
        return True

    # -- templates ------------------------------------------------------------------------
    def save_editor_as_template(self) -> str | None:
        # a batch row is an event as it will be sent: text in it that reads as a
        # placeholder stays text (it was saved live, and rendered when the template was used)
        return self._save_text_as_template(self.window.event_text(), "",
                                           literal=self.window.composer.current_row() >= 0)

    def _save_text_as_template(self, text: str, name: str, *,
                               literal: bool = False) -> str | None:
        """`literal`: an event as sent or captured (History, Inbox): text in it that reads
        as a placeholder is kept as text, not rendered when the template is used."""
        try:
            event = json.loads(text)
            saved = self.browser.save_from_event(
                as_literal_text(event) if literal else event, name or None)
        except ValueError as exc:
            self.window.statusBar().showMessage(f"Not saved: the event is not valid JSON ({exc})")
            return None
        except RecursionError:
            self.window.statusBar().showMessage(
                "Not saved: the event is nested too deep to save as a template")
            return None
        except UserError as exc:
            self.window.statusBar().showMessage(f"Not saved: {exc}")
            return None
        ignored = ignored_keys(event) if isinstance(event, dict) else []
        left_out = (f" (left out {', '.join(map(repr, ignored[:5]))}: Inngest ignores "
                    f"{'it' if len(ignored) == 1 else 'them'})" if ignored else "")
        self.window.statusBar().showMessage(
            f"Saved template {saved!r} in {self.workspace.folder}{left_out}")
        return saved

    # -- scenarios ------------------------------------------------------------------------
    def save_batch_as_scenario(self, name: str | None = None) -> str | None:
        """File > Save Batch as Scenario: what Send would send (the batch; else the editor's
        event, its placeholders kept to render afresh at every run) as a one-step scenario
        in the workspace, then shown in the Scenarios tab. Without `name` the user is asked
        (and asked again before a scenario of that name is replaced). Returns the name, or
        None with the reason in the status bar; nothing is written unless the file would
        load back as it was saved."""
        found = self._scenario_events()
        if found is None:
            return None
        events, origin, variables = found
        replacing: str | None = None
        if name is None:
            first = events[0].get("name") if isinstance(events[0], dict) else None
            base = first if isinstance(first, str) and first.strip() else "batch"
            name, ok = QInputDialog.getText(
                self.window, "Save batch as scenario", "Scenario name:",
                text=self.workspace.unique_name("scenarios", base.strip()))
            if not ok:
                return None
            name = name.strip()
            if not name:
                self.window.statusBar().showMessage("Not saved: a scenario needs a name")
                return None
            if name in self.workspace.scenarios:
                answer = QMessageBox.question(
                    self.window, "Replace scenario?",
                    f"A scenario named {name!r} exists. Replace it?")
                if answer != QMessageBox.StandardButton.Yes:
                    return None
                replacing = name
        count = len(events)
        document = one_step_scenario(
            name, events, variables,
            description=f"Saved from the window's {origin}: {count:,} "
                        f"event{'s' if count != 1 else ''}")
        try:
            scenario, path = self.workspace.save_scenario_document(document,
                                                                   replacing=replacing)
        except UserError as exc:
            self.window.statusBar().showMessage(f"Not saved: {exc}")
            return None
        self.runner.refresh_scenarios()
        self.runner.select_scenario(scenario.name)
        self.window.tabs.setCurrentWidget(self.runner)
        with_ids = sum(1 for e in events if dedup_id_of(e) is not None)
        note = (f"; {with_ids:,} event{'s keep their' if with_ids != 1 else ' keeps its'} id:"
                " a run within 24 h of an earlier send of it starts no functions"
                if with_ids else "")
        self.window.statusBar().showMessage(
            f"Saved scenario {scenario.name!r} ({count:,} event{'s' if count != 1 else ''})"
            f" in {self.workspace.display(path)}{note}")
        return scenario.name

    def _scenario_events(self) -> tuple[list[Any], str, dict[str, Any]] | None:
        """The batch's events, else the editor's (one or an array), with where they came
        from and the vars they render with; None with the reason in the status bar.

        Batch events are plain (rendered when added): text in them that reads as a
        placeholder is kept as text. The editor's keep their placeholders, and Vars with
        them, after the checks Send makes (rendered once, as Send would)."""
        composer = self.window.composer
        if (busy := composer.still_importing()) is not None:
            self.window.statusBar().showMessage(f"Not saved: {busy}")
            return None
        if len(composer.batch):
            problems = composer.problems()
            if problems:
                row, reason = min(problems.items())
                composer.select_rows([row])
                self.window.statusBar().showMessage(f"Not saved: event #{row + 1}: {reason}")
                return None
            try:
                return [as_literal_text(e) for e in composer.batch.events], "batch", {}
            except UserError as exc:
                self.window.statusBar().showMessage(f"Not saved: {exc}")
                return None
            except RecursionError:  # sendable, but nested too deep to walk here
                self.window.statusBar().showMessage(
                    "Not saved: an event is nested too deep to save as a scenario")
                return None
        try:
            value = json.loads(self.window.event_text())
            variables = self.preview.template_vars()
        except ValueError as exc:
            self.window.statusBar().showMessage(
                f"Not saved: the editor's event is not valid JSON ({exc})")
            return None
        except UserError as exc:
            self.window.statusBar().showMessage(f"Not saved: {exc}")
            return None
        events = value if isinstance(value, list) else [value]
        if not events:
            self.window.statusBar().showMessage("Not saved: there is no event to save")
            return None
        try:
            env = self.window.environment()
        except UserError as exc:  # none at all
            self.window.statusBar().showMessage(f"Not saved: {exc}")
            return None
        if self.window.editor_prepared(env, "Not saved") is None:
            return None  # what Send would refuse: the reason is in the status bar
        return events, "editor", variables

    def _editor_changed(self) -> None:
        if self.window.editor.document().characterCount() <= AT_ONCE_CHARS:
            self._show_placeholders()
        else:
            self._preview_timer.start()

    def _show_placeholders(self) -> None:
        """The rendered preview, while the editor has placeholders or vars are given (they
        apply to what is sent, so they stay in sight)."""
        text = self.window.event_text()
        # a batch row goes out as it is: a rendering of it would show what Send will not do
        has_placeholders = (has_template_marks(text)
                            and self.window.composer.current_row() < 0)
        self.preview.setVisible(has_placeholders or bool(self.preview.vars_edit.text()))
        if has_placeholders:
            self.preview.set_source(text)

    def ask_for_vars(self) -> None:
        """A template needs `vars` (opened into a batch, added to it, sent): show the
        preview's Vars field and put the cursor there."""
        self.preview.setVisible(True)
        self.preview.vars_edit.setFocus()

    def vars_hint(self, error: str | None) -> str:
        """What to add to a render's error when it lacks `vars` (and the field is shown)."""
        if "vars has no" not in (error or ""):
            return ""
        self.ask_for_vars()
        return "; give them in Vars, above the rendered preview"

    def _send_again(self, text: str, env_name: str) -> None:
        """History's "Send again" (to the environment picked in its menu), through the same
        checks as Ctrl+Enter (duplicates are confirmed first). Only that event goes: the
        editor and the batch are left as they are (the editor edits the selected batch
        event, so loading it there overwrote that row and sent the whole batch)."""
        self.window.send_text(text, env_name or None)

    def _origin_of(self, row: HistoryRow) -> str | None:
        """A captured event was posted to the inbox (it has no request of its own): its
        origin is the inbox's address, the Inbox environment's event origin."""
        if row.source != "captured":
            return None
        context = self.window.context
        if context.inbox is not None:
            return context.inbox.url
        inbox = next((env for env in context.environments.all() if env.kind == "inbox"), None)
        return inbox.event_origin if inbox is not None else None

    def _kind_of(self, history_name: str) -> str | None:
        """The kind of the saved environment a history row names (None: none now)."""
        return next((env.kind for env in self.window.context.environments.all()
                     if env.history_name == history_name), None)

    def _history_name_of(self, name: str) -> str:
        """What the history keeps the sends of the environment of this name under."""
        return next((env.history_name for env in self.window.context.environments.all()
                     if env.name == name), name)

    def close(self) -> None:
        self.reader.close()


def _data_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as its file holds it, minus the naming keys save_schema writes itself."""
    return {k: v for k, v in schema.items() if k not in ("x-event-name", "x-event-version")}



def _reason(exc: BaseException) -> str:
    """What the system said ("No space left on device"), else the error's message."""
    return str(getattr(exc, "strerror", None) or exc)

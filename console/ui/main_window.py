"""The main window: pick an environment, write an event, Ctrl+Enter, see what came back."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from console.core.batch import Batch, is_jsonl_name
from console.core.dedup import dedup_id_of
from console.core.envelope import envelope_of
from console.core.errors import InputError, UserError
from console.core.pipeline import PreparedSend, prepare_text
from console.core.plan import REQUEST_LIMIT, plan_requests
from console.core.positions import LineIndex
from console.core.problems import Problem, Severity
from console.core.scenario import as_literal_text
from console.core.serialize import pretty
from console.core.template import TemplateEngine, first_template_mark, has_template_marks
from console.core.template_scope import problems_in_source, render_text
from console.core.threads import on_daemon_thread
from console.core.validation import validate_text, without_placeholder_types
from console.services.client import health_words
from console.services.environments import (
    EVENT_LIMIT_SELF_HOSTED,
    Environment,
    health_origin,
    shown_origin,
)
from console.services.inbox import CapturedEvent
from console.services.secrets import in_window_words
from console.services.targets import environment_named, resolve_target
from console.services.text_files import read_text_file
from console.ui import rich
from console.ui.batch import BatchComposer, BatchSendPanel, PreviewTarget
from console.ui.colours import style
from console.ui.context import AppContext
from console.ui.dedup_banner import DedupCheck
from console.ui.editor import CoreCompletionProvider, JsonEditor, ProblemsView
from console.ui.editor.json_editor import LONG_LINE_CHARS
from console.ui.editor.scheduler import AT_ONCE_CHARS
from console.ui.environments_dialog import EnvironmentsDialog
from console.ui.inbox_panel import InboxPanel
from console.ui.qt_paths import qt_path
from console.ui.send_flow import SendFlow
from console.ui.send_log import SendLogModel, SendLogView
from console.ui.tasks import loop_running
from console.ui.workspace_panels import WorkspacePanels

log = logging.getLogger(__name__)

STARTER_EVENT = """{
  "name": "app/user.signed_up",
  "data": {
    "userId": "u_123",
    "plan": "pro"
  }
}
"""


NAME_PLACEHOLDER = "event name, e.g. app/user.signed_up"
ROW_PLACEHOLDERS = "Placeholders are not rendered in a batch event: it is sent as written"


class MainWindow(QMainWindow):
    first_painted = Signal()
    closed = Signal()

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("Event Console")
        self.resize(self._first_size())
        self._painted = False
        self._checking = False  # a send is being checked (ledger, dialog) before it starts
        # the selected environment's; with none at all (every one removed, or a file with
        # none), a self-hosted server's: validation had failed on the missing attribute
        self._event_limit = EVENT_LIMIT_SELF_HOSTED
        self._request_limit = REQUEST_LIMIT
        self.settings = QSettings(
            qt_path(context.paths.config / "window.ini"), QSettings.Format.IniFormat
        )
        self._build_toolbar()

        self.name_field = QLineEdit()
        self.name_field.setAccessibleName("Event name")
        self.name_field.setPlaceholderText(NAME_PLACEHOLDER)
        self.name_field.textEdited.connect(self._name_edited)
        self.name_completer = QCompleter([], self.name_field)
        self.name_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.name_completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.name_completer.activated.connect(self._name_edited)
        self.name_field.setCompleter(self.name_completer)
        self.name_field.installEventFilter(self)
        self.editor = JsonEditor()
        self.editor.setAccessibleName("Event JSON")
        self._validator: Callable[[str], list[Problem]] = self._validate
        self.editor.set_validator(self._validator)
        self.editor.set_completion_provider(
            CoreCompletionProvider(schemas=self.schemas, event_names=self.event_names)
        )
        self.editor.setPlainText(STARTER_EVENT)
        self.editor.textChanged.connect(self._editor_changed)
        self.editor.status_message.connect(self.statusBar().showMessage)
        self._name_from_editor()
        editor_box = QWidget()
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.setContentsMargins(4, 4, 4, 0)
        self.editing_label = QLabel()  # which event the editor edits, once there is a batch
        self.editing_label.setTextFormat(Qt.TextFormat.PlainText)
        self.editing_label.setVisible(False)
        editor_layout.addWidget(self.editing_label)
        editor_layout.addWidget(self.name_field)
        self.dedup = DedupCheck(self)
        editor_layout.addWidget(self.dedup.banner)
        editor_layout.addWidget(self.editor)

        self.composer = BatchComposer(current_text=self._rendered_text, tasks=self.context.tasks)
        self.composer.set_target(self._preview_target)
        self.composer.event_selected.connect(self._batch_selected)
        self.composer.batch_changed.connect(self._batch_changed)
        self.batch_box = QGroupBox()
        batch_layout = QVBoxLayout(self.batch_box)
        batch_layout.setContentsMargins(2, 2, 2, 2)
        batch_layout.addWidget(self.composer)
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.top.addWidget(self.batch_box)
        self.top.addWidget(editor_box)
        self.top.setSizes([380, 900])

        self.log_model = SendLogModel(self)
        self.log_view = SendLogView(self.log_model)
        self.log_view.setAccessibleName("Send log")
        self.problems_view = ProblemsView()
        self.problems_view.setAccessibleName("Problems")
        self.problems_view.attach(self.editor)
        self.send_panel = BatchSendPanel()
        self.send_panel.resend_requested.connect(self._resend_rest)
        self.inbox_panel = InboxPanel()
        self.inbox_panel.open_in_editor.connect(
            lambda text: self.open_event_text(text, literal=True))
        self.editor.files_dropped.connect(self.open_files)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.log_view, "Send log")
        self.tabs.addTab(self.problems_view, "Problems")
        self.tabs.addTab(self.send_panel, "Progress")
        self.tabs.addTab(self.inbox_panel, "Inbox")
        self.editor.problems_changed.connect(self._problems_changed)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.top)
        self.splitter.addWidget(self.tabs)
        # the tabs get the larger share: 480/300 left the History tab's event 4 lines and
        # the Scenarios timeline 2 rows at 1280 x 800, beside an editor mostly empty
        self.splitter.setSizes([330, 450])
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.setCentralWidget(self.splitter)
        self.statusBar().showMessage("Ready")

        self.flow = SendFlow(context, self.log_model, self.send_panel)
        self.flow.finished.connect(self._send_finished)
        self.flow.progress.connect(self.statusBar().showMessage)
        self.editor.textChanged.connect(self.dedup.schedule)
        self.composer.batch_changed.connect(self.dedup.schedule)
        context.inbox_listeners.append(self._captured)
        context.notice_listeners.append(self.show_notice)
        self._fill_environments()
        self._health_timer = QTimer(self)
        self._health_timer.setInterval(5000)
        self._health_timer.timeout.connect(self.check_health)
        self._build_menus()
        self._batch_changed()
        self.panels = WorkspacePanels(self)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            self.fit_height(screen.availableGeometry().height())
            self.resize(self._first_size())  # again: the least height may be less now
        self._restore_state()

    def fit_height(self, free: int) -> None:
        """On a screen shorter than the window's least height (1366 x 768 at 150 %: 512 px
        free, against 572), its two halves may shrink to 140 px each, cut below their own
        least heights: the window's bottom had been off the screen. On a taller one they
        keep their least heights (a tab squeezed to 140 px shows no row)."""
        if self.minimumSizeHint().height() > free:
            for half in (self.top, self.tabs):
                half.setMinimumHeight(140)
            self.splitter.updateGeometry()
            layout = self.layout()
            if layout is not None:
                layout.activate()  # the least height the next resize keeps to

    @staticmethod
    def _first_size() -> QSize:
        """1280 x 820, or the screen's free area when smaller: at 150 % scaling on a 1080p
        screen (1280 x 720 free) the status bar and the History tab's buttons were below
        its edge. A size saved at the last exit comes after this, checked by Qt."""
        size = QSize(1280, 820)
        screen = QGuiApplication.primaryScreen()
        return size.boundedTo(screen.availableGeometry().size()) if screen else size

    # -- chrome ---------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        self.env_combo = rich.names_box(QComboBox(), 24)
        self.env_combo.setMinimumWidth(220)
        self.env_combo.currentIndexChanged.connect(self._env_changed)
        self.env_combo.activated.connect(self._env_picked)
        self.health_dot = QLabel()
        self._show_health("not known yet", "Reachability of the environment (GET /health)")
        self.send_action = QAction("Send", self)
        self.send_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.send_action.setToolTip("Send the event, or the batch when it has events (Ctrl+Enter)")
        self.send_action.triggered.connect(self.send)
        self.preview_action = QAction("Preview requests…", self)
        self.preview_action.triggered.connect(self.preview)
        self.envs_action = QAction("Environments…", self)
        self.envs_action.triggered.connect(self.open_environments)
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.addWidget(QLabel(" Environment "))
        toolbar.addWidget(self.env_combo)
        toolbar.addWidget(self.health_dot)
        toolbar.addAction(self.envs_action)
        toolbar.addSeparator()
        toolbar.addAction(self.send_action)
        self.in_flight = QSpinBox()
        self.in_flight.setAccessibleName("Requests in flight")
        self.in_flight.setRange(1, 16)
        self.in_flight.setPrefix("in flight: ")
        self.in_flight.setToolTip("Requests of a batch sent at once (order of the plan is kept)")
        toolbar.addWidget(self.in_flight)
        toolbar.addAction(self.preview_action)
        self.addToolBar(toolbar)

    def _build_menus(self) -> None:
        self.file_menu = file_menu = self.menuBar().addMenu("&File")
        open_action = file_menu.addAction("Open Event File…")
        open_action.setShortcut(QKeySequence("Ctrl+Shift+O"))  # Ctrl+O opens a workspace
        open_action.setToolTip("Open a JSON event or array in the editor (JSON Lines go to "
                               "the batch); dropping files on the editor does the same")
        open_action.triggered.connect(self._ask_open_file)
        file_menu.addAction(self.envs_action)
        quit_action = file_menu.addAction("Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.edit_menu = edit_menu = self.menuBar().addMenu("&Edit")
        for action in self.editor.editor_actions().values():
            edit_menu.addAction(action)
        self.send_menu = send_menu = self.menuBar().addMenu("&Send")
        send_menu.addAction(self.send_action)
        send_menu.addAction(self.preview_action)
        batch_actions = self.composer.actions_by_name
        send_menu.addAction(batch_actions["add"])  # with its key, Ctrl+Shift+A
        batch_menu = send_menu.addMenu("Batch")
        for name in ("duplicate", "remove", "up", "down", "import_file", "import_clipboard"):
            batch_menu.addAction(batch_actions[name])

    # -- what the editor knows ------------------------------------------------------------
    def schemas(self) -> Any:
        panels = getattr(self, "panels", None)  # the editor validates before they exist
        return panels.library if panels is not None else None

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802
        """The name field's suggestions are refreshed when it gets the focus."""
        if watched is self.name_field and event.type() == QEvent.Type.FocusIn:
            self.name_completer.model().setStringList(self.event_names())  # type: ignore[attr-defined]
        return super().eventFilter(watched, event)

    def open_event_text(self, text: str, *, literal: bool = False) -> None:
        """Show an event (a template, a file) in the editor. With a batch, the editor edits
        the selected row: the event becomes a new row after it (one undo step, selected,
        so the editor shows it) instead of overwriting that row.

        `literal`: an event as it was sent or captured (the Inbox tab's Open), whose text
        is data, not placeholders: a batch row takes it as it is, and the editor keeps it
        as text ({% raw %}). "Total: {{ 1 + 1 }}" had gone out again as "Total: 2"."""
        formatted = False
        if literal:
            if len(self.composer.batch):  # a row holds the event as it will be sent
                self.composer.import_text(text, source="the opened event", verb="Open")
            elif not has_template_marks(text):  # Send renders only such text
                formatted = self.editor.open_text(text)
            else:
                try:
                    self.editor.open_text(pretty(as_literal_text(json.loads(text))))
                except (ValueError, RecursionError, UserError) as exc:
                    self.statusBar().showMessage(f"Not opened: {exc}"[:300])
                    return
        elif len(self.composer.batch):
            rendered = self._rendered_text(text, "Not opened")
            if rendered is not None:
                self.composer.import_text(rendered, source="the opened event", verb="Open")
        else:
            formatted = self.editor.open_text(text)
        if formatted:
            self.statusBar().showMessage(
                f"Opened formatted, the same event: a line of {LONG_LINE_CHARS:,} "
                "characters or more would stall the editor at every repaint")
        self.editor.setFocus()

    def _ask_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open event file", "", "Events (*.json *.jsonl *.ndjson);;All files (*)")
        if path:
            self.open_files([path])

    def open_files(self, paths: list[str]) -> None:
        """Event files opened or dropped on the editor. One JSON file opens like a template
        (in the editor, or as a new batch row with a batch open); JSON Lines, several files,
        or files too big for the editor are imported into the batch."""
        path = Path(paths[0]) if len(paths) == 1 else None
        if (path is None or is_jsonl_name(path.name)
                or _size(path) > OPEN_IN_EDITOR_BYTES):
            self.composer.import_files(paths)
            return
        try:
            text = read_text_file(path, max_bytes=OPEN_IN_EDITOR_BYTES, kind="an event file",
                                  not_binary="not JSON text")
        except InputError as exc:
            self.statusBar().showMessage(f"Not opened: {path.name}: {exc}")
            return
        self.open_event_text(text)
        self.statusBar().showMessage(f"Opened {path.name}")

    def event_names(self) -> list[str]:
        library = self.schemas()
        names = set(library.names()) if library is not None else set()
        names.update(n for row in self.log_model.rows for n in row.names)
        panels = getattr(self, "panels", None)
        if panels is not None:
            names.update(t.event.get("name", "") for t in panels.workspace.templates.values()
                         if isinstance(t.event, dict))
        names.discard("")
        return sorted(names)

    def _validate(self, text: str) -> list[Problem]:
        """The editor's draft: a value that is one placeholder is Send's to check, as what
        it renders to."""
        return without_placeholder_types(text, self._checked_text(text))

    def _validate_row(self, text: str) -> list[Problem]:
        """A batch event in the editor: it goes out as written (nothing renders its
        placeholders), so `"ts": "{{ now_ms() }}"` is the string Send refuses, and the
        placeholders are pointed out."""
        problems = self._checked_text(text)
        mark = first_template_mark(text)
        if mark >= 0:
            line, column = LineIndex(text).line_col(mark)
            problems.append(Problem(ROW_PLACEHOLDERS, Severity.WARNING, mark, mark + 2,
                                    line, column))
            problems.sort(key=lambda p: (p.start, p.severity is not Severity.ERROR))
        return problems

    def _checked_text(self, text: str) -> list[Problem]:
        # an event no request carries is underlined, as Send refuses it
        report = validate_text(text, event_limit=self._event_limit, schemas=self.schemas(),
                               request_limit=self._request_limit)
        # may run on a worker thread: sizes and name reach the widgets in _problems_changed,
        # and the parsed value saves the dedup check a second parse (editor_value)
        self._checked = (text, [size for size in report.sizes if size is not None],
                         report.value)
        return list(report.problems)

    _checked: tuple[str, list[int], Any] = ("", [], None)

    def editor_value(self) -> tuple[bool, Any]:
        """(True, the editor's text parsed), or (False, None) when it is not JSON. The
        editor's last check already parsed this very text, usually: its value is used."""
        text = self.event_text()
        checked, _sizes, value = self._checked
        if checked == text:
            return value is not None, value
        try:
            return True, json.loads(text)
        except (ValueError, RecursionError):  # nested too deep: the check says so
            return False, None

    def editor_value_as_sent(self) -> tuple[bool, Any]:
        """`editor_value`, with the placeholders rendered (a fresh seed) as Send renders
        them when an id holds one; (False, None) when they do not render, silently (the
        preview says why). The dedup banner had judged `"id": "tid-{{ seq }}"` (sent as
        tid-1) by its template. An event whose ids hold none is not rendered: a slow
        template was rendered twice at every pause in typing (the preview's, then this)."""
        text = self.event_text()
        parsed, value = self.editor_value()
        events = value if isinstance(value, list) else [value]
        if not parsed or not any(has_template_marks(dedup_id_of(e) or "") for e in events):
            return parsed, value
        try:
            rendered, _error = self._render(text)
        except UserError:
            return False, None
        return (False, None) if rendered is None else (True, json.loads(rendered))

    # -- environments ---------------------------------------------------------------------
    def _fill_environments(self, select: str | None = None) -> None:
        current = select or self.env_combo.currentData() or None
        self.env_combo.blockSignals(True)
        self.env_combo.clear()
        for env in self.context.environments.all():
            label = env.name + (f" [{env.branch}]" if env.branch else "")
            self.env_combo.addItem(label, env.name)
        store = self.context.environments
        names = store.names()
        current = store.current_name(current) if current else None  # renamed meanwhile
        if not names:  # every one removed: the window still opens, and says what to do
            self.env_combo.blockSignals(False)
            self.statusBar().showMessage(
                "No environments: add one with Environments… (or `event-console env add`)")
            return
        wanted = current if current in names else store.default().name
        self.env_combo.setCurrentIndex(names.index(wanted) if wanted in names else 0)
        self.env_combo.blockSignals(False)
        # a selected entry the file holds but that was not loaded (named in the status
        # bar) stays the file's selection until one is picked: it had been overwritten
        self._env_changed(remember=store.selected_unloaded() is None)

    def environment(self) -> Environment:
        name = self.env_combo.currentData()
        if name is None:  # every environment removed
            raise UserError("no environment is selected: add one with Environments…")
        return self.context.environments.get(name)

    def select_environment(self, name: str) -> None:
        self._fill_environments(select=name)

    def _env_picked(self, _index: int) -> None:
        """Picked from the list, the one shown too: it is the selection now (a selection
        the file holds but that was not loaded stayed until another one was picked)."""
        if self.env_combo.currentData() is not None:
            self._remember(self.environment())

    def _remember(self, env: Environment) -> None:
        if not env.transient:
            self.context.environments.selected = env.name

    def _env_changed(self, *_: Any, remember: bool = True) -> None:
        if self.env_combo.currentData() is None:
            return
        env = self.environment()
        if remember:
            self._remember(env)
        self._event_limit, self._request_limit = env.event_limit, env.request_limit
        self.composer.set_limits(env.request_limit, env.event_limit)
        self._show_health("not known yet", "Reachability of the environment (GET /health)")
        self.env_combo.setToolTip(f"{shown_origin(env.event_origin)} ({env.kind})")
        self.check_health()
        if hasattr(self, "dedup"):
            self.dedup.schedule()

    def _preview_target(self) -> PreviewTarget | None:
        """Where a preview says the requests go: the URL with the key that a send would use,
        masked (the placeholder shown as it is); the origin masked when it holds a secret."""
        if self.env_combo.currentData() is None:
            return None
        env = self.environment()
        origin = shown_origin(env.event_origin)
        try:
            url = resolve_target(env, self.context.environments,
                                 self.context.secrets).target.display_url()
        except UserError:  # no key, no keyring, an origin a send refuses: never a key
            url = f"{origin}/e/****"
        return PreviewTarget(origin, url, env.branch, env.kind in ("dev", "inbox"))

    def open_environments(self) -> None:
        dialog = EnvironmentsDialog(self.context, self)
        dialog.changed.connect(self.environments_changed)
        try:
            dialog.exec()
        finally:  # a closed dialog stayed a child of the window: 1.8 MB more at every open
            dialog.deleteLater()

    def environments_changed(self) -> None:
        """Every list of environments learns of one added, renamed or removed."""
        self._fill_environments()
        self.panels.runner.refresh_environments()
        self.panels.history.set_environments(self.context.environments.names())

    def check_health(self) -> None:
        if self.env_combo.currentData() is None:
            return
        env = self.environment()
        try:
            origin = health_origin(env)
        except UserError as exc:  # never requested: the origin holds a key, say
            self._show_health("not checked", f"Not checked: {exc}")
            return
        if not loop_running():
            return

        async def probe() -> None:
            problem = await self.context.client.health_problem(origin)
            if self.env_combo.currentData() == env.name:
                said = "reachable" if problem is None else "not reachable"
                self._show_health(said, health_words(origin, problem))

        self.context.tasks.spawn(probe(), "health")

    def _show_health(self, said: str, tip: str) -> None:
        """The reachability mark: ● reachable, ✕ not (or not checked: an origin a send
        refuses), ○ not known yet; a shape as well as a colour, and words for a screen
        reader (it was a dot whose colour alone told)."""
        glyph, colour = {"reachable": ("●", "ok"), "not reachable": ("✕", "error"),
                         "not checked": ("✕", "error"), "not known yet": ("○", "muted")}[said]
        self.health_dot.setText(glyph)
        self.health_dot.setStyleSheet(style(colour))
        self.health_dot.setToolTip(rich.tip(tip) or "")
        self.health_dot.setAccessibleName(f"Reachability of the environment: {said}")

    # -- the event ------------------------------------------------------------------------
    def event_text(self) -> str:
        return str(self.editor.toPlainText())

    def _name_from_editor(self) -> None:
        self._show_name(self.editor_value()[1])

    def _show_name(self, value: Any) -> None:
        several = isinstance(value, list)  # one name field cannot stand for many names
        self.name_field.setEnabled(not several)
        if several:
            self.name_field.clear()
            self.name_field.setPlaceholderText("several events: edit their names in the text")
            return
        self.name_field.setPlaceholderText(NAME_PLACEHOLDER)
        # no event (text that does not parse) or no name: the field must not keep the old
        # one; while the user types in the field it is theirs, and left alone
        name = envelope_of(value).get("name") if isinstance(value, dict) else None  # "NAME"
        shown = name if isinstance(name, str) else ""
        if self.name_field.text() != shown and not self.name_field.hasFocus():
            self.name_field.setText(shown)

    def _editor_changed(self) -> None:
        # a big document's name comes from its debounced check (_problems_changed)
        if self.editor.document().characterCount() <= AT_ONCE_CHARS:
            self._name_from_editor()
        if self.composer.current_row() >= 0 and not self._loading_selection:
            self.composer.update_selected(self.event_text())

    _loading_selection = False

    def _name_edited(self, name: str) -> None:
        """The field's text becomes the name the server reads ("NAME" too), as one edit of
        that value: a key press on a 2 MB event re-parsed and replaced the whole text."""
        from console.core.edits import top_level_string_edit

        text = self.event_text()
        edit = top_level_string_edit(text, "name", name)
        if edit is None:  # typed into the field, and lost: say why
            self.statusBar().showMessage(
                "The name was not applied: the editor's text is not one JSON event (fix it "
                "first; the Problems tab says where)")
            return
        start, end, replacement = edit
        if text[start:end] != replacement:
            self.editor.replace_range(start, end, replacement)

    def _batch_selected(self, row: int, text: str) -> None:
        self._show_editing()
        if row < 0:
            return
        self._loading_selection = True
        try:
            self.editor.setPlainText(text)
        finally:
            self._loading_selection = False

    def _batch_changed(self) -> None:
        count = len(self.composer.batch)
        self.send_action.setText(f"Send batch ({count:,})" if count else "Send")
        self.batch_box.setTitle(
            f"Batch: {count:,} event{'s' if count != 1 else ''}" if count
            else "Batch: empty (Send sends the editor's event; Add puts it here)"
        )
        self._show_editing()

    def _show_editing(self) -> None:
        count, row = len(self.composer.batch), self.composer.current_row()
        validator = self._validate_row if 0 <= row < count else self._validate
        if validator != self._validator:  # checked again, the way it now goes out
            self._validator = validator
            self.editor.set_validator(validator)
        self.editing_label.setVisible(count > 0)
        self.editing_label.setText(
            f"Editing batch event #{row + 1:,} of {count:,}: changes go to that event"
            if 0 <= row < count else
            "Not in the batch: Add (Ctrl+Shift+A) puts this event there")

    def _problems_changed(self, problems: list[Problem]) -> None:
        label = f"Problems ({len(problems)})" if problems else "Problems"
        self.tabs.setTabText(self.tabs.indexOf(self.problems_view), label)
        text, sizes, value = self._checked
        if text == self.event_text():  # else a newer check is on its way
            self.composer.set_editor_sizes(sizes)
            self._show_name(value)

    # -- sending --------------------------------------------------------------------------
    def _prepared(self, env: Environment) -> PreparedSend | None:
        """What Send would send, or None (with the reason in the status bar)."""
        if (busy := self.composer.still_importing()) is not None:
            self.statusBar().showMessage(f"Not sent: {busy}")
            return None
        batch = self.composer.batch
        if len(batch):
            problems = self.composer.problems()
            if problems:
                row, reason = min(problems.items())
                self.composer.select_rows([row])
                self.statusBar().showMessage(f"Not sent: event #{row + 1}: {reason}")
                return None
            plan = batch.plan(env.request_limit, env.event_limit)
            # the rows' warnings (their schemas', envelope ones), asked about as the
            # editor's are: by the event they are in (a row has no line of its own)
            found = [(row, w) for row, ws in self.composer.warnings().items() for w in ws]
            prepared = PreparedSend(batch.events, batch.parts, plan, [w for _, w in found])
            return self._sendable(prepared, [f"event #{row + 1}: {w.message}"
                                             for row, w in found])
        return self._sendable(self.editor_prepared(env, "Not sent"))

    def _sendable(self, prepared: PreparedSend | None,
                  where: list[str] | None = None) -> PreparedSend | None:
        """`prepared` when it may go: every event fits, and schema warnings were accepted
        (`where`: each warning's place and message as the question lists them; default:
        its line and column)."""
        if prepared is None:
            return None
        if not prepared.plan.ok:
            blocked = prepared.plan.blocked[0]
            self.statusBar().showMessage(  # counted from 1, as everywhere in the window
                f"Not sent: event #{blocked.index + 1}: {blocked.reason}")
            return None
        if prepared.warnings and not self._send_anyway(prepared.warnings,
                                                       len(prepared.events), where=where):
            self.statusBar().showMessage("Not sent")
            return None
        return prepared

    def _rendered_text(self, text: str | None = None, failed: str = "Not added") -> str | None:
        """`text` (default: the editor's) with its placeholders rendered with a fresh seed,
        as Send sends it and as a batch row holds it. None, with the reason in the status
        bar after `failed`, when a placeholder does not render."""
        text = self.event_text() if text is None else text
        if not has_template_marks(text):
            return text
        try:
            rendered, error = self._render(text)
        except UserError as exc:
            self.statusBar().showMessage(f"{failed}: {exc}")
            return None
        if rendered is None:
            panels = getattr(self, "panels", None)
            hint = panels.vars_hint(error) if panels is not None else ""
            self.statusBar().showMessage(f"{failed}: placeholder at {error}{hint}")
        return rendered

    def _render(self, text: str) -> tuple[str | None, str | None]:
        """`render_text` of `text` with a fresh seed and the preview's `vars` (a UserError
        when they do not parse), as Send renders it."""
        panels = getattr(self, "panels", None)  # `vars` from the rendered preview's field
        variables = panels.preview.template_vars() if panels is not None else {}
        return render_text(text, TemplateEngine(), variables,
                           seed=random.SystemRandom().randrange(2**31))

    def editor_prepared(self, env: Environment, failed: str) -> PreparedSend | None:
        """The editor's text as Send would send it (placeholders rendered with a fresh
        seed), or None with the first problem in the status bar after `failed`."""
        return self._text_prepared(self.event_text(), env, failed, in_editor=True)

    def _text_prepared(self, text: str, env: Environment, failed: str, *,
                       in_editor: bool, render: bool = True) -> PreparedSend | None:
        rendered = self._rendered_text(text, failed) if render else text
        if rendered is None:
            return None
        prepared = prepare_text(
            rendered, request_limit=env.request_limit, event_limit=env.event_limit,
            schemas=self.schemas(),
        )
        if rendered != text:  # where the problems are in the text as written
            prepared.problems = problems_in_source(text, prepared.problems)
        errors = prepared.errors
        if rendered != text and errors:
            # one the text has as written comes first, where the editor underlines it: a
            # number beyond JSON renders to Infinity, which the rendered text cannot parse
            errors = without_placeholder_types(
                text, validate_text(text, event_limit=env.event_limit).errors) or errors
        if errors:
            first = errors[0]
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            self.statusBar().showMessage(
                f"{failed}: line {first.line}, column {first.column}: {first.message}{more}"
            )
            if in_editor:
                self.editor.go_to(first.line, first.column)
            return None
        return prepared

    def send(self) -> None:
        """Send the batch, or the editor's text when the batch is empty."""
        self._send_with(self._prepared, None, shown=True)

    def send_text(self, text: str, env_name: str | None = None) -> None:
        """Send this event (History's Send again) to `env_name` (default: the selected
        environment) through the same checks as Send; the editor, the batch and the
        selected environment stay as they are. The event goes as it was sent: text in it
        that reads as a placeholder is data, never rendered."""
        self._send_with(lambda env: self._sendable(
            self._text_prepared(text, env, "Not sent", in_editor=False, render=False)),
            env_name, shown=False)

    def _send_with(self, prepare: Callable[[Environment], PreparedSend | None],
                   env_name: str | None, *, shown: bool) -> None:
        """`shown`: the events are the batch's or the editor's (see DedupCheck.checked)."""
        if self.flow.sending:
            self.statusBar().showMessage("A send is in progress: wait, or Cancel it in Progress")
            return
        if self._checking:  # nothing has left yet, and nothing to cancel
            self.statusBar().showMessage(
                "The last Send is still reading its key and checking its ids: wait for it "
                "(a keyring may be waiting for its unlock prompt to be answered)")
            return
        try:
            env = (environment_named(self.context.environments, env_name) if env_name
                   else self.environment())
            prepared = prepare(env)
            if prepared is None:
                return
        except UserError as exc:
            self.statusBar().showMessage(f"Not sent: {exc}")
            return
        self.statusBar().showMessage(f"Sending to {env.name}…")
        self._checking = True  # a second Ctrl+Enter meanwhile sends nothing
        self.context.tasks.spawn(self._send_checked(env, prepared, shown), "send-checked")

    async def _send_checked(self, env: Environment, prepared: PreparedSend,
                            shown: bool) -> None:
        """The key is read off the Qt thread (a keyring may hold the read for as long as
        its unlock prompt is open: KWallet's, a locked GNOME Keyring's), and duplicates of
        earlier sends are confirmed with the user before anything leaves."""
        try:
            try:
                resolved = await on_daemon_thread(
                    resolve_target, env, self.context.environments, self.context.secrets)
                checked = await self.dedup.checked(resolved, prepared, shown=shown)
            except UserError as exc:  # no usable key, or the history failed to answer
                self.statusBar().showMessage(f"Not sent: {in_window_words(exc)}")
                return
            if checked is not None:
                predictions = (self.dedup.banner.predictions if shown and checked is prepared
                               else None)  # else: the flow asks the ledger again
                self.flow.start(resolved, checked.events, checked.parts, checked.plan,
                                predictions=predictions, concurrency=self.in_flight.value())
        finally:
            self._checking = False  # flow.sending has taken over, or nothing is sent

    def _send_finished(self, summary: str) -> None:
        self.statusBar().showMessage(summary)
        self.dedup.schedule()

    def _send_anyway(self, warnings: list[Problem], events: int = 1, *,
                     where: list[str] | None = None) -> bool:
        if where is None:
            where = [f"line {w.line}:{w.column}: {w.message}" for w in warnings]
        lines = "\n".join(where[:8])
        more = f"\n… and {len(warnings) - 8} more" if len(warnings) > 8 else ""
        answer = QMessageBox.question(
            self, "Send anyway?",
            f"{warnings_headline(warnings, events)}:\n\n{lines}{more}\n\n"
            f"Inngest will accept {'it' if events == 1 else 'them'}. Send anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _resend_rest(self, rows: list[int]) -> None:
        """The events the last send did not get accepted, as they were sent, to the same
        environment (as it is set now), through the same checks as Send."""
        sent = self.flow.sent
        if sent is None or not rows or max(rows) >= len(sent.events):
            self.statusBar().showMessage("Not sent: nothing is left from the last send")
            return
        events, parts = sent.rest(rows)

        def prepare(env: Environment) -> PreparedSend | None:
            plan = plan_requests([len(p) for p in parts], request_limit=env.request_limit,
                                 event_limit=env.event_limit)
            return self._sendable(PreparedSend(events, parts, plan))

        self._send_with(prepare, sent.env_name, shown=False)

    def preview(self) -> None:
        """The requests Send would make: the batch's, or with an empty batch the editor's
        (which stays out of the batch, as it does when sent)."""
        if (busy := self.composer.still_importing()) is not None:
            self.statusBar().showMessage(f"Nothing to preview: {busy}")
            return
        if len(self.composer.batch):
            self.composer.open_preview()
            return
        try:
            prepared = self.editor_prepared(self.environment(), "Nothing to preview")
        except UserError as exc:
            self.statusBar().showMessage(f"Nothing to preview: {exc}")
            return
        if prepared is not None:
            self.composer.open_preview(Batch(prepared.events), prepared.plan)

    # -- inbox ----------------------------------------------------------------------------
    def inbox_started(self) -> None:
        inbox = self.context.inbox
        self.inbox_panel.set_address(inbox.url if inbox else None, self.context.inbox_error)
        self.environments_changed()
        if self.context.notices:
            self.statusBar().showMessage(" · ".join(self.context.notices))

    def show_notice(self, text: str) -> None:
        """Something the start found (a damaged history moved aside), with the others."""
        if text not in self.context.notices:
            self.context.notices.append(text)
        self.statusBar().showMessage(" · ".join(self.context.notices))

    def _captured(self, event: CapturedEvent) -> None:
        self.inbox_panel.add(event)

    # -- window life ----------------------------------------------------------------------
    def _restore_state(self) -> None:
        for key, target in (("geometry", self.restoreGeometry), ("state", self.restoreState),
                            ("splitter", self.splitter.restoreState),
                            ("top", self.top.restoreState)):
            value = self.settings.value(key)
            if isinstance(value, QByteArray):
                target(value)
        # the bottom tab and the requests in flight, as a daily tool keeps them (a garbage
        # value is passed over: the defaults stay)
        tab, in_flight = self.settings.value("tab"), self.settings.value("in_flight")
        if isinstance(tab, str) and tab.isascii() and tab.isdigit() and (
                int(tab) < self.tabs.count()):
            self.tabs.setCurrentIndex(int(tab))
        if isinstance(in_flight, str) and in_flight.isascii() and in_flight.isdigit():
            self.in_flight.setValue(min(int(in_flight), self.in_flight.maximum()))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.first_painted.emit)

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        self._health_timer.start()

    def save_state(self) -> None:
        """The window's layout and the environments, as closing saves them."""
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("splitter", self.splitter.saveState())
        self.settings.setValue("top", self.top.saveState())
        self.settings.setValue("tab", str(self.tabs.currentIndex()))
        self.settings.setValue("in_flight", str(self.in_flight.value()))
        self.settings.sync()
        try:
            self.context.environments.save()
        except (OSError, UserError) as exc:  # UserError: a name taken meanwhile elsewhere
            log.warning("could not save environments: %s", exc)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_state()
        self._health_timer.stop()
        self.editor.cancel_validation()
        self.panels.close()
        super().closeEvent(event)
        self.closed.emit()


OPEN_IN_EDITOR_BYTES = 16 * 1024 * 1024  # bigger files go to the batch, read off the loop


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it says why


def warnings_headline(warnings: list[Problem], events: int = 1) -> str:
    """What the "Send anyway?" warnings are: the schema's, others (envelope, duplicate
    keys), or both; an event without a schema must not read as breaking one."""
    schema = any(w.from_schema for w in warnings)
    other = not all(w.from_schema for w in warnings)
    one = events == 1
    if schema and other:
        return ("The event does not match its schema and has other warnings" if one else
                "The events do not match their schemas and have other warnings")
    if schema:
        return ("The event does not match its schema" if one else
                "The events do not match their schemas")
    return "The event has warnings" if one else "The events have warnings"

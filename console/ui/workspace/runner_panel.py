"""The runner panel: pick a scenario and an environment, Run / Stop, watch the timeline.

The panel only gathers choices and shows results: checking, rendering, sending and the
expectations are the runner's (the same code `event-console run` uses). Problems found
before sending (a missing template, an unknown variable) are listed with FILE:LINE:COL
and nothing is sent.

Sends are recorded in the window's history (source "replayed", with the scenario and step
names, predictions and confirmed outcomes) through `run_verify.WindowSession`, whose SQLite
work all runs on the history thread. `history` is a callable because the window opens its
history after the panel is built; while there is none, runs are only looked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import UserError
from console.core.scenario import Scenario, parse_seed, parse_var_pairs
from console.core.threads import on_daemon_thread
from console.services.atomic import write_bytes_atomic, write_text_atomic
from console.services.client import EventApiClient
from console.services.environments import EnvironmentStore
from console.services.history_async import AsyncHistory
from console.services.history_schema import HISTORY_FAILURES
from console.services.junit import junit_xml
from console.services.run_results import RunReport, load_rows, report_json
from console.services.run_verify import WindowSession
from console.services.runner import Limits, RunsVerifier, ScenarioRunner
from console.services.secrets import SecretStore, in_window_words
from console.services.targets import resolve_target
from console.services.workspace import Workspace, WorkspaceChange
from console.ui import rich
from console.ui.colours import style
from console.ui.rich import tip
from console.ui.tasks import TaskOwner
from console.ui.workspace.results_model import COLUMNS, StepResultsModel
from console.ui.workspace.watcher import WorkspaceWatcher


class RunnerPanel(QWidget):
    run_finished = Signal(object)  # RunReport

    def __init__(self, workspace: Workspace, watcher: WorkspaceWatcher | None,
                 environments: EnvironmentStore, secrets: SecretStore, client: EventApiClient,
                 tasks: TaskOwner | None = None, parent: QWidget | None = None, *,
                 history: Callable[[], AsyncHistory | None] | None = None,
                 history_failed: Callable[[BaseException], Awaitable[str]] | None = None,
                 ) -> None:
        super().__init__(parent)
        self.history = history
        self.history_failed = history_failed  # turns the history off, says why
        self.watcher = watcher or WorkspaceWatcher(workspace, self)
        self.environments = environments
        self.secrets = secrets
        self.client = client
        self.tasks = tasks or TaskOwner()
        self.report: RunReport | None = None
        self._missing: str | None = None  # the selected scenario, while it is not loaded
        self.runner: ScenarioRunner | None = None
        self.task: asyncio.Task[Any] | None = None

        self.scenario_combo = rich.names_box(QComboBox(), 24)

        self.scenario_combo.setAccessibleName("Scenario")
        self.scenario_combo.setMinimumWidth(200)
        self.scenario_combo.currentTextChanged.connect(self._show_vars_hint)
        self.env_combo = rich.names_box(QComboBox(), 16)
        self.env_combo.setAccessibleName("Environment")
        self.env_combo.setMinimumWidth(160)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the scenario against the environment")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Abort the step in flight and run nothing more")
        self.rerun_button = QPushButton("Re-run failed")
        self.rerun_button.setToolTip("Run only the steps that failed, with the same rows")
        self.data_edit = QLineEdit()
        self.data_edit.setAccessibleName("Data")
        self.data_edit.setPlaceholderText("optional: CSV, JSON or JSON Lines rows file")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_data)
        self.seed_edit = QLineEdit()
        self.seed_edit.setAccessibleName("Seed")
        self.seed_edit.setPlaceholderText("random")
        self.seed_edit.setMaximumWidth(110)
        self.seed_edit.setToolTip("Seed for fake.*, uuid() and ulid(): the same seed "
                                  "reproduces a run")
        self.vars_edit = QLineEdit()
        self.vars_edit.setAccessibleName("Vars")
        self.vars_edit.setToolTip(
            "Override the scenario's vars for this run: NAME=VALUE pairs separated by spaces "
            "(quote a value with spaces: note='two words'); as run --var does")
        self.dry_run_box = QCheckBox("Dry run")
        self.dry_run_box.setToolTip("Render and check every step, send nothing")
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m steps")
        self.model = StepResultsModel(self)
        self.table = QTableView()
        self.table.setAccessibleName("Step results")
        self.table.setTabKeyNavigation(False)  # Tab leaves it; arrows move in it
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.file_problems = QLabel()  # scenario files that did not load, and why
        self.file_problems.setTextFormat(Qt.TextFormat.PlainText)
        rich.wrapping(self.file_problems)
        self.file_problems.setStyleSheet(style("failed"))
        self.file_problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_problems.hide()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        rich.wrapping(self.status)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_json_button = QPushButton("Export JSON…")
        self.export_junit_button = QPushButton("Export JUnit…")
        self.save_batch_button = QPushButton("Save batch as scenario…")
        self.save_batch_button.setToolTip(
            "Save what Send would send (the batch, else the editor's event) as a new "
            "scenario in this workspace (File > Save Batch as Scenario…)")

        grid = QGridLayout()
        grid.addWidget(QLabel("Scenario"), 0, 0)
        grid.addWidget(self.scenario_combo, 0, 1)
        grid.addWidget(QLabel("Environment"), 0, 2)
        grid.addWidget(self.env_combo, 0, 3)
        grid.addWidget(QLabel("Data"), 1, 0)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_edit, 1)
        data_row.addWidget(browse)
        grid.addLayout(data_row, 1, 1)
        grid.addWidget(QLabel("Seed"), 1, 2)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_edit)
        seed_row.addWidget(self.dry_run_box)
        seed_row.addStretch(1)
        grid.addLayout(seed_row, 1, 3)
        grid.addWidget(QLabel("Vars"), 2, 0)
        grid.addWidget(self.vars_edit, 2, 1, 1, 3)
        grid.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.stop_button, self.rerun_button):
            buttons.addWidget(button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.save_batch_button)
        exports = QHBoxLayout()
        exports.addWidget(self.status, 1)
        exports.addWidget(self.export_json_button)
        exports.addWidget(self.export_junit_button)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.file_problems)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addLayout(exports)

        self.run_button.clicked.connect(lambda: self.start())
        self.stop_button.clicked.connect(self.stop)
        self.rerun_button.clicked.connect(lambda: self.rerun_failed())
        self.export_json_button.clicked.connect(lambda: self._export("json"))
        self.export_junit_button.clicked.connect(lambda: self._export("junit"))
        self.watcher.changed.connect(self._changed)
        self.refresh_scenarios()
        self.refresh_environments()
        self._set_running(False)

    @property
    def workspace(self) -> Workspace:
        return self.watcher.workspace

    # -- choices ---------------------------------------------------------------------------
    def _changed(self, change: WorkspaceChange) -> None:
        if change.scenarios or change.templates:
            self.refresh_scenarios()

    def refresh_scenarios(self) -> None:
        """The scenarios as the workspace has them now. One that was selected and is gone
        (its file broken by a merge, renamed, removed) stays wanted, and nothing is
        selected meanwhile: the first one had been, and Run sent it."""
        current = self.scenario_combo.currentText() or self._missing
        self.scenario_combo.clear()
        self.scenario_combo.addItems(sorted(self.workspace.scenarios))
        broken = self._broken_files()
        self.file_problems.setText("Not loaded: " + "\n".join(broken) if broken else "")
        self.file_problems.setVisible(bool(broken))
        placeholder = (
            f"No scenario loaded: {len(broken)} file(s) with problems, listed below" if broken
            else "No scenarios yet: save the batch as one, or add a scenario file to "
            f"{self.workspace.dir('scenarios')}")
        self.scenario_combo.setPlaceholderText(placeholder)
        self.scenario_combo.setToolTip(tip(placeholder if not self.scenario_combo.count()
                                           else None) or "")
        if current:
            self.select_scenario(current)
        self._missing = current if current and self.scenario_combo.findText(current) < 0 \
            else None
        if self._missing:
            self.scenario_combo.setCurrentIndex(-1)
            self.scenario_combo.setPlaceholderText(f"{self._missing} (not loaded now)")
            self.scenario_combo.setToolTip(tip(self._not_loaded()) or "")
        elif self.scenario_combo.currentIndex() < 0 and self.scenario_combo.count():
            self.scenario_combo.setCurrentIndex(0)  # a placeholder stops Qt choosing the first

    def _not_loaded(self) -> str:
        return (f"{self._missing!r} is not loaded now: its file has a problem (under \"Not"
                " loaded\"), or it was renamed or removed. Fix it, or pick another scenario")

    def refresh_environments(self) -> None:
        current = self.environments.current_name(self.env_combo.currentText())  # renamed?
        self.env_combo.clear()
        names = [env.name for env in self.environments.all()]
        self.env_combo.addItems(names)
        with contextlib.suppress(UserError):  # no environments at all: the combo stays empty
            self.select_environment(current if current in names
                                    else self.environments.default().name)

    def _show_vars_hint(self, name: str) -> None:
        """The selected scenario's own vars, as the placeholder of the overrides."""
        scenario = self.workspace.scenarios.get(name)
        own = " ".join(f"{key}={_shown_var(value)}"
                       for key, value in (scenario.vars if scenario else {}).items())
        self.vars_edit.setPlaceholderText(
            f"optional: NAME=VALUE to override the scenario's {own}" if own
            else "optional: NAME=VALUE (the scenario has no vars)")

    def select_scenario(self, name: str) -> None:
        index = self.scenario_combo.findText(name)
        if index >= 0:
            self.scenario_combo.setCurrentIndex(index)

    def select_environment(self, name: str) -> None:
        index = self.env_combo.findText(name)
        if index >= 0:
            self.env_combo.setCurrentIndex(index)

    def _browse_data(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Rows file", str(self.workspace.folder),
                                              "Rows (*.csv *.json *.jsonl);;All files (*)")
        if path:
            self.data_edit.setText(path)

    # -- running ---------------------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.rerun_button.setEnabled(not running and bool(self.report and self.report.failed))
        for button in (self.export_json_button, self.export_junit_button):
            button.setEnabled(not running and self.report is not None)

    def _show_problems(self, problems: list[str], what: str) -> None:
        self.status.setStyleSheet(style("failed"))
        self.status.setText(f"Nothing sent: {what}\n" + "\n".join(problems))

    def _broken_files(self) -> list[str]:
        return [str(p) for p in self.workspace.problems_in("scenarios")]

    def _scenario(self) -> Scenario:
        name = self.scenario_combo.currentText()
        if not name and self._missing:
            raise UserError(self._not_loaded())
        if not name:
            raise UserError(
                "no scenario to run: fix the scenario files listed above" if self._broken_files()
                else "no scenario to run: add one to the workspace's scenarios/ folder")
        return self.workspace.scenario(name)

    def _build(self, scenario: Scenario, *, dry_run: bool, seed: int | None = None,
               environment: str | None = None, rerun: bool = False) -> ScenarioRunner:
        """`rerun`: for Re-run failed, which takes each row's state from the run before:
        the Data file and Vars as they are now are not read (a Data file deleted since,
        or a Vars field being edited, had refused the re-run)."""
        env = self.environments.get(environment or self.env_combo.currentText())
        seed_text = self.seed_edit.text().strip() if seed is None else str(seed)
        if seed_text and parse_seed(seed_text) is None:
            raise UserError(f"the seed must be a whole number, not {seed_text!r}")
        data = "" if rerun else self.data_edit.text().strip()
        try:
            pairs = [] if rerun else shlex.split(self.vars_edit.text())
        except ValueError as exc:  # an unclosed quote
            raise UserError(f"vars: {exc}") from None
        options: dict[str, Any] = {
            "environment": env.name, "limits": Limits(env.request_limit, env.event_limit),
            "rows": load_rows(Path(data).expanduser(), self.workspace.folder) if data else None,
            "variables": parse_var_pairs(pairs, "vars:"),
            "seed": parse_seed(seed_text) if seed_text else None, "on_result": self.model.add,
            "on_progress": self._progress, "dry_run": dry_run,
        }
        if not dry_run:
            options["client"] = self.client  # and the target once the key is read: _aim
        return ScenarioRunner(scenario, self.workspace.templates, **options)

    async def _aim(self, runner: ScenarioRunner) -> None:
        """Read the environment's key off the Qt thread (a keyring may hold the read for
        as long as its unlock prompt is open), and point the run at it: its target, and
        its history sessions or, without a history, its runs lookup."""
        env = self.environments.get(runner.environment)
        resolved = await on_daemon_thread(resolve_target, env, self.environments,
                                           self.secrets)
        runner.target = resolved.target
        history = self.history() if self.history is not None else None
        if history is not None:
            name = runner.scenario.name

            def session(events: Sequence[Any], parts: Sequence[bytes], step: str) -> Any:
                return WindowSession.open(history, resolved, events, parts, scenario=name,
                                          step=step)

            runner.sessions = session
        else:
            runner.verifier = RunsVerifier.for_target(self.client, resolved)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def start(self, *, dry_run: bool | None = None) -> asyncio.Task[Any] | None:
        """Check, then run in a task (returned); None when something is wrong (shown)."""
        if self.task is not None and not self.task.done():
            return None
        dry = self.dry_run_box.isChecked() if dry_run is None else dry_run
        try:
            scenario = self._scenario()
            problems = [str(p) for p in self.workspace.check(scenario)]
            if problems:
                self._show_problems(problems, f"{len(problems)} problem(s) in the scenario")
                return None
            runner = self._build(scenario, dry_run=dry)
        except UserError as exc:
            self._show_problems([], str(exc))
            return None
        self.model.clear()
        self.table.setColumnHidden(1, len(runner.rows) == 1 and runner.rows[0] is None)
        self._progress(0, runner.total)
        return self._launch(runner, None)

    def rerun_failed(self) -> asyncio.Task[Any] | None:
        previous = self.report
        if previous is None or not previous.failed or (self.task and not self.task.done()):
            return None
        try:
            # to where that run went: to the environment picked now, its results were
            # reported, step 1's too, as sent there
            runner = self._build(self.workspace.scenario(previous.scenario),
                                 dry_run=previous.dry_run, seed=previous.seed,
                                 environment=self.environments.current_name(
                                     previous.environment),  # renamed since: that one
                                 rerun=True)
            problem = runner.rerun_problem(previous)
            if problem:
                raise UserError(f"Not re-run: {problem}")
        except UserError as exc:
            self._show_problems([], str(exc))
            return None
        self._progress(0, len(previous.failed))
        return self._launch(runner, previous)

    def _launch(self, runner: ScenarioRunner, previous: RunReport | None) -> asyncio.Task[Any]:
        self.runner = runner
        self.status.setStyleSheet("")
        self.status.setText(f"Checking {len(runner.rows):,} row(s)…" if previous is None
                            and len(runner.rows) > 1 else "Running…" if previous is None
                            else "Re-running failed steps…")
        if previous is not None:
            runner.on_progress = None
            runner.on_result = self._rerun_result
        self._set_running(True)
        self.task = self.tasks.spawn(self._go(runner, previous), name="scenario-run")
        return self.task

    def _rerun_result(self, result: Any) -> None:
        self.model.add(result)
        self.progress.setValue(self.progress.value() + 1)

    async def _go(self, runner: ScenarioRunner,
                  previous: RunReport | None) -> RunReport | None:
        """The run (or re-run); a run renders every step of every row first, giving the
        window its turns, and sends nothing when any fails (None, the problems shown)."""
        try:
            if not runner.dry_run:
                try:
                    await self._aim(runner)
                except UserError as exc:  # no usable key: nothing was sent
                    self._show_problems([], in_window_words(exc))
                    return None
            if previous is None:
                problems = await runner.precheck_async()
                if problems:
                    self._show_problems(problems,
                                        f"{len(problems)} problem(s) rendering the steps")
                    return None
                self.status.setText("Running…")
            report = await (runner.rerun_failed(previous) if previous else runner.run())
        except HISTORY_FAILURES as exc:  # the history failed mid-run
            reason = await self.history_failed(exc) if self.history_failed else str(exc)
            self.status.setStyleSheet(style("failed"))  # steps above may have been sent
            self.status.setText(f"Stopped: the history could not record the next send "
                                f"({reason}), so it was not sent. The history is off for "
                                "this session; Run runs without it")
            return None
        finally:
            self.runner = None
            self._set_running(False)
        self.report = report
        self.model.set_results(report.results)
        self.table.setColumnHidden(1, all(r.row is None for r in report.results))
        self._summary(report)
        self._set_running(False)
        self.run_finished.emit(report)
        return report

    def _summary(self, report: RunReport) -> None:
        verdict = "stopped" if report.cancelled else "passed" if report.passed else "failed"
        self.status.setStyleSheet("" if report.passed else style("failed"))
        events = f"; events: {summary}" if (summary := report.events_summary()) else ""
        self.status.setText(f"{report.scenario}: {verdict} — {report.counts_text()} "
                            f"(seed {report.seed}, {report.duration_ms / 1000:.1f} s){events}")

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()

    # -- export ----------------------------------------------------------------------------
    def export_json(self, path: Path) -> None:
        if self.report is None:
            raise UserError("nothing to export: run the scenario first")
        write_text_atomic(path, report_json(self.report))

    def export_junit(self, path: Path) -> None:
        if self.report is None:
            raise UserError("nothing to export: run the scenario first")
        write_bytes_atomic(path, junit_xml(self.report))

    def _export(self, kind: str) -> None:
        suffix, pattern = (".json", "JSON (*.json)") if kind == "json" else (
            ".xml", "JUnit XML (*.xml)")
        name = (self.report.scenario if self.report else "results") + suffix
        path, _ = QFileDialog.getSaveFileName(self, "Export results", name, pattern)
        if not path:
            return
        try:
            (self.export_json if kind == "json" else self.export_junit)(Path(path))
        except (UserError, OSError) as exc:
            self._export_said(f"Not exported: {exc}", failed=True)
        else:
            self._export_said(f"Exported to {path}", failed=False)

    def _export_said(self, text: str, *, failed: bool) -> None:
        """Below the run's summary, which stays (it said "Nothing sent:" in its place)."""
        summary = self.status.text().split("\n")[0]
        self.status.setText(f"{summary}\n{text}")
        passed = self.report is not None and self.report.passed
        self.status.setStyleSheet(style("failed") if failed or not passed else "")


HINT_VALUE = 60  # characters of a var's value shown in the hint


def _shown_var(value: Any) -> str:
    """A var's value for the hint, shortened: a value nested 100,000 deep raised
    RecursionError out of the selection, and a big one made a huge placeholder."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value)
        except (RecursionError, ValueError):
            text = "…"
    if len(text) > HINT_VALUE:
        text = text[:HINT_VALUE] + "…"
    return shlex.quote(text)

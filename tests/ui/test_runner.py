"""Workspace widgets for real: save a template, run a two-step scenario against an inbox
(both steps pass), browse/undo templates, see outside changes, preview placeholders."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from console.core.errors import UserError
from console.services.client import EventApiClient
from console.services.environments import EnvironmentStore, inbox
from console.services.history_async import AsyncHistory
from console.services.paths import app_paths
from console.services.secrets import SecretStore
from console.services.workspace import Workspace
from console.ui.rich import shown
from console.ui.workspace import RenderedPreview, RunnerPanel, TemplateBrowser, WorkspaceWatcher
from console.ui.workspace.results_model import COLUMNS
from tests.support.fault_server import FaultServer, Reply
from tests.support.inbox_thread import running_inbox
from tests.support.writes import writes_fail
from tests.ui.conftest import wait_until

XSD = Path(__file__).resolve().parents[1] / "support" / "junit.xsd"

TWO_STEPS = {
    "format": "event-console/scenario@1", "name": "two steps", "description": "",
    "vars": {"plan": "pro"},
    "steps": [
        {"send": {"template": "signup", "with": {"data": {"plan": "{{ vars.plan }}"}}},
         "as": "signup", "expect": {"status": 200, "accepted": 1}},
        {"send": {"name": "app/welcome.sent",
                  "data": {"signupEvent": "{{ steps.signup.ids[0] }}"}}},
    ],
}


@pytest.fixture
def parts(app_home, tmp_path, qtbot):
    workspace = Workspace.open(tmp_path / "ws")
    watcher = WorkspaceWatcher(workspace)
    browser = TemplateBrowser(workspace, watcher)
    qtbot.addWidget(browser)
    return workspace, watcher, browser


def inbox_panel(qtbot, workspace, watcher, url: str, scenario: str | None = None,
                **options) -> tuple[RunnerPanel, EventApiClient]:
    """A runner panel whose environment "Test inbox" is the inbox at `url`; with
    `scenario`, that scenario and that environment are selected."""
    store = EnvironmentStore.load(app_paths())
    store.put(replace(inbox(url), name="Test inbox"))
    client = EventApiClient()
    panel = RunnerPanel(workspace, watcher, store, SecretStore(), client, **options)
    qtbot.addWidget(panel)
    if scenario is not None:
        panel.select_scenario(scenario)
        panel.select_environment("Test inbox")
    return panel, client


def test_save_a_template_and_run_a_two_step_scenario(parts, qtbot, run_async):
    workspace, watcher, browser = parts
    name = browser.save_from_event({"name": "app/user.signed_up",
                                    "data": {"userId": "u-{{ seq }}"}}, "signup")
    assert name == "signup" and browser.names() == ["signup"]
    assert (workspace.folder / "templates" / "signup.json").is_file()
    (workspace.folder / "scenarios" / "two-steps.json").write_text(
        json.dumps(TWO_STEPS, indent=2) + "\n")
    with running_inbox() as box:
        panel, client = inbox_panel(qtbot, workspace, watcher, box.url)
        # the scenario file was written "outside": the watcher picks it up
        run_async(wait_until(lambda: panel.scenario_combo.findText("two steps") >= 0,
                             message="the scenario to appear"))
        panel.select_scenario("two steps")
        panel.select_environment("Test inbox")
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.task is not None and not panel.stop_button.isHidden()
        report = run_async(panel.task)
        events = box.events()
        run_async(client.aclose())
    assert report.passed
    assert [(r.name, r.state) for r in panel.model.results] == [("signup", "passed"),
                                                                ("step 2", "passed")]
    model = panel.model
    assert [model.index(r, 2).data() for r in range(2)] == ["✔ passed", "✔ passed"]
    assert model.index(0, 3).data() == "200"
    assert model.index(0, 4).data() == events[0].internal_id
    assert model.index(0, 7).data() == "status 200, 1 accepted"
    assert panel.progress.value() == panel.progress.maximum() == 2
    assert [e.name for e in events] == ["app/user.signed_up", "app/welcome.sent"]
    assert events[0].event["data"] == {"userId": "u-1", "plan": "pro"}
    assert events[1].event["data"] == {"signupEvent": events[0].internal_id}
    assert panel.status.text().startswith("two steps: passed — 2 passed (seed ")
    assert panel.export_junit_button.isEnabled() and not panel.rerun_button.isEnabled()
    out = workspace.folder.parent / "out"
    panel.export_junit(out / "r.xml")
    panel.export_json(out / "r.json")
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(etree.parse(str(out / "r.xml")))
    assert json.loads((out / "r.json").read_text())["passed"] is True


def test_a_run_from_the_panel_is_recorded_in_the_history(parts, qtbot, run_async, tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv("EVENT_CONSOLE_VERIFY_SECONDS", "0.6")
    workspace, watcher, browser = parts
    browser.save_from_event({"name": "app/user.signed_up", "data": {"userId": "u-{{ seq }}"},
                             "id": "signup-{{ seq }}"}, "signup")
    (workspace.folder / "scenarios" / "two-steps.json").write_text(
        json.dumps(TWO_STEPS, indent=2) + "\n")
    watcher.reload()
    history = run_async(AsyncHistory.open(tmp_path / "history.db"))
    current: list[AsyncHistory | None] = [None]  # the window opens its history later
    with running_inbox() as box:
        panel, client = inbox_panel(qtbot, workspace, watcher, box.url,
                                    history=lambda: current[0])
        current[0] = history
        panel.select_scenario("two steps")
        panel.select_environment("Test inbox")
        report = run_async(panel.start())
        events = box.events()
        rows = run_async(history.query())
        again = run_async(panel.start())  # the same dedup id ("signup-1") a second time
        run_async(client.aclose())
    run_async(history.aclose())
    assert [r.dedup for r in again.results] == [["deduplicated"], ["ran"]]
    model = panel.model  # the second run's results, with their outcome icon and tooltip
    outcome = COLUMNS.index("Outcome")
    assert model.index(0, outcome).data().startswith(
        f"deduplicated: no runs (first seen as {events[0].internal_id} at ")
    assert model.index(1, outcome).data() == "ran: 1 run"
    assert model.index(0, outcome).data(Qt.ItemDataRole.DecorationRole) is not None
    tip = shown(model.index(0, outcome).data(Qt.ItemDataRole.ToolTipRole))
    assert "started no runs" in tip and "#1 app/user.signed_up: deduplicated" in tip
    assert "Before sending: duplicate of" in tip
    assert panel.status.text().endswith("; events: 2 accepted · 1 deduplicated · 1 ran")
    assert report.passed, [r.reason for r in report.results]
    assert [r.dedup for r in report.results] == [["ran"], ["ran"]]
    assert report.results[0].predicted[0]["verdict"] == "new"
    assert report.results[1].predicted[0]["verdict"] == "no dedup id"
    recorded = sorted(rows, key=lambda r: r.id)
    assert [(r.internal_id, r.name, r.source, r.scenario, r.step, r.env) for r in recorded] == [
        (events[0].internal_id, "app/user.signed_up", "replayed", "two steps", "signup",
         "Test inbox"),
        (events[1].internal_id, "app/welcome.sent", "replayed", "two steps", "step 2",
         "Test inbox")]
    assert [(r.status, r.outcome, r.runs, r.predicted) for r in recorded] == [
        (200, "ran", 1, "new"), (200, "ran", 1, "no dedup id")]
    assert recorded[0].dedup_id == "signup-1"


def test_problems_are_shown_and_nothing_is_sent(parts, qtbot):
    workspace, watcher, _ = parts
    bad = dict(TWO_STEPS, steps=[{"send": {"template": "missing"}}])
    (workspace.folder / "scenarios" / "bad.json").write_text(json.dumps(bad, indent=2))
    watcher.reload()
    store = EnvironmentStore.load(app_paths())
    panel = RunnerPanel(workspace, watcher, store, SecretStore(), EventApiClient())
    qtbot.addWidget(panel)
    panel.select_scenario("two steps")
    assert panel.start() is None
    assert panel.status.text() == (
        "Nothing sent: 1 problem(s) in the scenario\n"
        "scenarios/bad.json:11:21: no template named 'missing' (templates: none in this "
        "workspace)")
    panel.seed_edit.setText("abc")
    panel.scenario_combo.clear()
    assert panel.start() is None
    assert panel.status.text().startswith("Nothing sent: no scenario to run")


def test_an_empty_workspace_says_where_scenarios_go(parts, qtbot):
    workspace, watcher, _ = parts
    panel = RunnerPanel(workspace, watcher, EnvironmentStore.load(app_paths()), SecretStore(),
                        EventApiClient())
    qtbot.addWidget(panel)
    combo = panel.scenario_combo
    assert combo.count() == 0 and combo.currentIndex() == -1  # the placeholder is what shows
    assert combo.placeholderText() == (
        "No scenarios yet: save the batch as one, or add a scenario file to "
        f"{workspace.folder / 'scenarios'}")
    # a scenario file with a mistake: the panel says which and where, not "add one"
    broken = dict(TWO_STEPS, steps=[{"send": {"name": "a/b"}, "expect": {"dedup": ["ran"]}}])
    path = workspace.folder / "scenarios" / "two-steps.json"
    path.write_text(json.dumps(broken, indent=2))
    watcher.reload()
    assert combo.count() == 0
    assert combo.placeholderText() == "No scenario loaded: 1 file(s) with problems, listed below"
    assert not panel.file_problems.isHidden()
    assert panel.file_problems.text() == (
        "Not loaded: scenarios/two-steps.json:14:18: \"dedup\" must be one of 'ran', "
        "'deduplicated', 'no runs', 'unverified'")
    assert panel.start() is None
    assert panel.status.text() == (
        "Nothing sent: no scenario to run: fix the scenario files listed above\n")
    path.write_text(json.dumps(TWO_STEPS))
    watcher.reload()
    assert combo.currentText() == "two steps" and panel.file_problems.isHidden()


def test_browse_search_duplicate_rename_delete_and_undo(parts):
    workspace, _, browser = parts
    browser.save_from_event({"name": "shop/order.created", "data": {}}, "order",
                            tags=["shop"])
    browser.save_from_event({"name": "app/user.signed_up", "data": {}}, "signup",
                            tags=["users"])
    assert browser.save_from_event({"name": "shop/order.created", "data": {}}) == (
        "shop/order.created")
    browser.search.setText("SHOP")
    assert browser.names() == ["order", "shop/order.created"]
    browser.search.setText("users")
    assert browser.names() == ["signup"]
    browser.search.setText("")
    copy = browser.duplicate("order")
    assert copy == "order copy" and "order copy" in workspace.templates
    browser.rename("order copy", "refund")
    assert "order copy" not in workspace.templates
    assert (workspace.folder / "templates" / "refund.json").is_file()
    assert not (workspace.folder / "templates" / "order-copy.json").exists()
    before = (workspace.folder / "templates" / "signup.json").read_bytes()
    browser.delete("signup")
    assert "signup" not in browser.names()
    browser.undo_stack.undo()
    assert (workspace.folder / "templates" / "signup.json").read_bytes() == before
    assert "signup" in browser.names()
    browser.undo_stack.undo()  # the rename
    assert "order copy" in workspace.templates and "refund" not in workspace.templates
    browser.undo_stack.redo()
    assert "refund" in workspace.templates
    messages = []
    browser.message.connect(messages.append)
    browser.select("refund")
    browser._run(browser.rename, "refund", "order")
    assert messages == ["a template named 'order' already exists"]


def test_opening_a_template_emits_its_event(parts, qtbot):
    _, _, browser = parts
    browser.save_from_event({"name": "a/b", "data": {"x": "{{ seq }}"}}, "ab")
    with qtbot.waitSignal(browser.template_opened) as signal:
        browser.select("ab")
        browser.open_selected()
    assert signal.args[0] == "ab"
    assert json.loads(signal.args[1]) == {"name": "a/b", "data": {"x": "{{ seq }}"}}


def test_a_broken_template_file_is_listed_in_the_browser(parts):
    workspace, watcher, browser = parts
    (workspace.folder / "templates" / "broken.json").write_text("{\n  oops\n}\n")
    watcher.reload()
    assert browser.problems.text() == (
        "templates/broken.json:2:3: Property names must be strings in double quotes")
    assert not browser.problems.isHidden()
    assert browser.empty.text().startswith(
        "No template loaded: the files listed below have problems. Edit ▸ Save as Template")


def test_the_preview_renders_placeholders_and_points_at_problems(qtbot):
    preview = RenderedPreview()
    qtbot.addWidget(preview)
    preview.set_source('{"name": "a", "data": {"n": "{{ seq }}", "v": "{{ vars.k }}"}}')
    preview.set_variables({"k": [1]})
    qtbot.waitUntil(lambda: preview.view.toPlainText() != "", timeout=3000)
    assert json.loads(preview.view.toPlainText()) == {"name": "a", "data": {"n": 1, "v": [1]}}
    with qtbot.waitSignal(preview.problem) as signal:
        preview.set_source('{"name": "a", "data": {"n": "{{ nope }}"}}')
    assert signal.args[0].startswith("1:30: unknown variable 'nope'")
    assert not preview.error.isHidden()


def test_a_step_the_server_refuses_says_so_in_the_outcome_column(parts, qtbot, run_async,
                                                                  tmp_path):
    workspace, watcher, _browser = parts
    (workspace.folder / "scenarios" / "refused.json").write_text(json.dumps({
        "format": "event-console/scenario@1", "name": "refused",
        "steps": [{"send": [{"name": "app/a", "data": {}}, {"name": "app/b", "data": {}}]},
                  {"send": {"name": "app/c", "data": {}}}],
    }))
    watcher.reload()
    history = run_async(AsyncHistory.open(tmp_path / "history.db"))
    refusal = {"ids": [], "status": 400, "error": "event name is reserved"}
    with FaultServer(default=lambda _request: Reply.json(400, refusal)) as server:
        panel, client = inbox_panel(qtbot, workspace, watcher, server.origin, "refused",
                                    history=lambda: history)
        report = run_async(panel.start())
        run_async(client.aclose())
    run_async(history.aclose())
    assert [r.status for r in report.results] == [400, 400]
    outcome = COLUMNS.index("Outcome")
    two, one = panel.model.index(0, outcome), panel.model.index(1, outcome)
    assert two.data() == "2 not accepted"
    assert one.data() == "not accepted: event name is reserved"
    assert one.data(Qt.ItemDataRole.DecorationRole) is not None
    tip = shown(two.data(Qt.ItemDataRole.ToolTipRole))
    assert "#1 app/a: not accepted: event name is reserved" in tip
    assert "#2 app/b: not accepted" in tip
    # the server's words are shown as written, never as markup
    assert panel.status.textFormat() == Qt.TextFormat.PlainText


def test_a_history_that_cannot_record_a_step_stops_the_run_and_is_turned_off(
        parts, qtbot, run_async, tmp_path):
    """Another program held the history's write lock past the wait: the run's task raised
    (a bug dialog in the app) and the status kept saying "Running…"."""
    import sqlite3

    workspace, watcher, _browser = parts
    (workspace.folder / "scenarios" / "one.json").write_text(json.dumps({
        "format": "event-console/scenario@1", "name": "one",
        "steps": [{"send": {"name": "app/a", "data": {}}}]}))
    watcher.reload()
    db = tmp_path / "history.db"
    current = [run_async(AsyncHistory.open(db))]
    failures: list[BaseException] = []

    async def history_failed(exc: BaseException) -> str:
        failures.append(exc)
        history, current[0] = current[0], None
        if history is not None:
            await history.aclose()
        return str(exc)

    with running_inbox() as box:
        panel, client = inbox_panel(qtbot, workspace, watcher, box.url, "one",
                                    history=lambda: current[0], history_failed=history_failed)
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        try:
            assert run_async(panel.start(), timeout=30) is None
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert box.events() == []  # nothing went out unrecorded
        assert panel.status.text().startswith(
            "Stopped: the history could not record the next send (the history at ")
        assert panel.status.text().endswith(
            "so it was not sent. The history is off for this session; Run runs without it")
        assert len(failures) == 1 and current[0] is None
        assert panel.run_button.isEnabled()
        report = run_async(panel.start())  # and without it, the run goes
        run_async(client.aclose())
        assert report.passed and len(box.events()) == 1


def test_the_vars_field_overrides_the_scenarios_vars_for_a_run(parts, qtbot, run_async):
    workspace, watcher, browser = parts
    browser.save_from_event({"name": "app/user.signed_up", "data": {"userId": "u-1"}},
                            "signup")
    (workspace.folder / "scenarios" / "two-steps.json").write_text(json.dumps(TWO_STEPS))
    watcher.reload()
    with running_inbox() as box:
        panel, client = inbox_panel(qtbot, workspace, watcher, box.url, "two steps")
        assert panel.vars_edit.placeholderText() == (
            "optional: NAME=VALUE to override the scenario's plan=pro")
        for typed, said in (("plan", "vars: 'plan': expected NAME=VALUE"),
                            ("plan='pro plus", "vars: No closing quotation")):
            panel.vars_edit.setText(typed)
            assert panel.start() is None
            assert panel.status.text() == f"Nothing sent: {said}\n"
        panel.vars_edit.setText("plan='pro plus' unused=1")
        report = run_async(panel.start())
        events = box.events()
        run_async(client.aclose())
    assert report.passed and len(events) == 2
    assert events[0].event["data"] == {"userId": "u-1", "plan": "pro plus"}


def test_a_scenario_with_deep_or_big_vars_can_be_selected(parts, qtbot, run_async):
    """Selecting it raised RecursionError out of the vars hint (a var nested 100,000
    deep), and a big var made a placeholder of its whole text."""
    workspace, watcher, _browser = parts
    deep = "1"
    for _ in range(100_000):
        deep = '{"a":' + deep + "}"
    (workspace.folder / "scenarios" / "deep.json").write_text(
        '{"format": "event-console/scenario@1", "name": "deep", "vars": {"big": "'
        + "x" * 5000 + '", "deep": ' + deep + '}, "steps": [{"wait": "1ms"}]}')
    watcher.reload()
    panel, client = inbox_panel(qtbot, workspace, watcher, "http://127.0.0.1:9")
    panel.select_scenario("deep")
    run_async(client.aclose())
    assert panel.vars_edit.placeholderText() == (
        f"optional: NAME=VALUE to override the scenario's big='{'x' * 60}…' deep='…'")


def test_stop_during_a_wait_says_stopped_in_the_summary_as_in_the_table(parts, qtbot,
                                                                       run_async):
    """Stop: the step under way and the rest read "stopped" in the table, and the summary
    counts them with the same word (it said "1 cancelled" under "■ stopped")."""
    workspace, watcher, _ = parts
    (workspace.folder / "scenarios" / "slow.json").write_text(json.dumps({
        "format": "event-console/scenario@1", "name": "slow",
        "steps": [{"send": {"name": "app/a", "data": {}}}, {"wait": "30s"},
                  {"send": {"name": "app/b", "data": {}}}],
    }))
    watcher.reload()
    with running_inbox() as box:
        panel, client = inbox_panel(qtbot, workspace, watcher, box.url, "slow")
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        task = panel.task
        assert task is not None
        run_async(wait_until(  # sent, and its runs looked up: the wait is under way
            lambda: panel.model.rowCount() and panel.model.index(0, 2).data() == "✔ passed",
            message="the first step"))
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        report = run_async(task)
        run_async(client.aclose())
        sent = [e.name for e in box.events()]
    assert sent == ["app/a"]
    assert report.cancelled and not report.passed
    marks = [panel.model.index(r, 2).data() for r in range(panel.model.rowCount())]
    assert marks[0] == "✔ passed" and set(marks[1:]) == {"■ stopped"}
    text = panel.status.text()
    assert text.startswith(f"slow: stopped — 1 passed, {len(marks) - 1} stopped (seed "), text
    assert "cancelled" not in text


def test_a_stop_before_the_first_step_sends_nothing_and_odd_seeds_are_refused(
        parts, qtbot, run_async):
    """A Stop that came before the run's task took its first step was cleared, and the
    run went ahead; a seed of "²" (str.isdigit, but not int) raised out of Run."""
    workspace, watcher, _ = parts
    wait_then_send = {"format": "event-console/scenario@1", "name": "slow",
                      "steps": [{"wait": "2s"}, {"send": {"name": "qa/after-stop"}}]}
    (workspace.folder / "scenarios" / "slow.json").write_text(json.dumps(wait_then_send))
    watcher.reload()
    with running_inbox() as box:
        panel, client = inbox_panel(qtbot, workspace, watcher, box.url, "slow")
        for seed in ("²", "1.5", "5-", "9" * 5000):
            panel.seed_edit.setText(seed)
            assert panel.start() is None
            assert panel.status.text() == (
                f"Nothing sent: the seed must be a whole number, not {seed!r}\n")
        panel.seed_edit.setText("+7")
        task = panel.start()
        assert task is not None
        panel.stop()  # at once: the task has not run a step yet
        report = run_async(task, timeout=10)
        events = box.events()
        run_async(client.aclose())
    assert report.cancelled and report.seed == 7
    assert [r.state for r in report.results] == ["cancelled"]
    assert events == []


def test_a_template_that_cannot_be_written_says_so_and_leaves_nothing_to_undo(parts, qtbot):
    """A failed save said "Saved template" and raised out of the slot; failed deletes,
    renames and duplicates each added a step to undo."""
    workspace, _, browser = parts
    browser.save_from_event({"name": "shop/order.created", "data": {}}, "order")
    folder = workspace.folder / "templates"
    files = sorted(folder.iterdir())
    messages: list[str] = []
    browser.message.connect(messages.append)
    with writes_fail():
        with pytest.raises(UserError, match=r"^Save template 'new': not written: File too "
                                            rf"large in {re.escape(str(folder))}$"):
            browser.save_from_event({"name": "a/b", "data": {}}, "new")
        browser.select("order")
        browser._duplicate_selected()
        browser._run(browser.rename, "order", "refund")
    assert messages == [f"Duplicate 'order': not written: File too large in {folder}",
                        f"Rename 'order' to 'refund': not written: File too large in {folder}"]
    assert sorted(folder.iterdir()) == files  # no temporary file left either
    assert browser.names() == ["order"] and browser.undo_stack.count() == 1
    browser.delete("order")  # what can be written still can, and undone
    browser.undo_stack.undo()
    assert browser.names() == ["order"]
    # an undo that cannot be written says so and leaves the stack where it was: it had
    # stepped back, and the next undo undid the step before (the deleted one stayed gone)
    browser.undo_stack.redo()
    assert browser.names() == [] and browser.undo_stack.index() == 2
    with writes_fail():
        browser.undo_stack.undo()
        qtbot.wait(50)
    assert messages[-1] == f"Delete 'order': not written: File too large in {folder}"
    assert browser.undo_stack.index() == 2 and browser.names() == []
    browser.undo_stack.undo()
    assert browser.names() == ["order"]


def test_undo_never_throws_away_a_change_made_to_the_file_elsewhere(parts, qtbot):
    """Save as Template, then the file edited in another editor (or window): Undo deleted
    it, and Redo wrote back the first bytes; the outside edit was gone for good."""
    workspace, _, browser = parts
    browser.save_from_event({"name": "shop/paid", "data": {"v": 1}}, "paid")
    [path] = (workspace.folder / "templates").iterdir()
    edited = path.read_text().replace('"v": 1', '"v": "edited elsewhere"')
    path.write_text(edited)
    workspace.reload_if_changed()
    messages: list[str] = []
    browser.message.connect(messages.append)
    browser.undo_stack.undo()
    qtbot.wait(50)
    assert path.read_text() == edited and browser.names() == ["paid"]
    assert messages == [f"Save template 'paid': {path.name} changed on disk since (another "
                        "program or window wrote it): left as it is now"]
    assert browser.undo_stack.index() == 1  # the step is still there, not undone
    browser.delete("paid")  # what the browser did itself undoes as ever
    browser.undo_stack.undo()
    assert path.read_text() == edited


def test_a_scenarios_folder_removed_and_made_again_is_watched_again(parts, qtbot, run_async):
    """A branch switch removes scenarios/ and makes it again: the new folder was never
    watched, and its scenarios never showed."""
    workspace, watcher, _ = parts
    panel = RunnerPanel(workspace, watcher, EnvironmentStore.load(app_paths()), SecretStore(),
                        EventApiClient())
    qtbot.addWidget(panel)
    folder = workspace.folder / "scenarios"
    (folder / "two-steps.json").write_text(json.dumps(TWO_STEPS))
    run_async(wait_until(lambda: panel.scenario_combo.findText("two steps") >= 0,
                         message="the first scenario"))
    shutil.rmtree(folder)
    run_async(wait_until(lambda: panel.scenario_combo.count() == 0, message="it is gone"))
    folder.mkdir()
    (folder / "other.json").write_text(json.dumps(dict(TWO_STEPS, name="other")))
    run_async(wait_until(lambda: panel.scenario_combo.findText("other") >= 0,
                         message="the scenario in the folder made again"))
    # the whole workspace folder, too
    shutil.rmtree(workspace.folder)
    run_async(wait_until(lambda: panel.scenario_combo.count() == 0, message="all gone"))
    folder.mkdir(parents=True)
    (folder / "third.json").write_text(json.dumps(dict(TWO_STEPS, name="third")))
    run_async(wait_until(lambda: panel.scenario_combo.findText("third") >= 0,
                         message="the scenario in the workspace made again"))


def panel_with_rows(qtbot, workspace, watcher, rows: Path, steps: list) -> RunnerPanel:
    """A runner panel with the scenario "rows" (these steps) selected, and `rows` as its
    rows file."""
    doc = {"format": "event-console/scenario@1", "name": "rows", "steps": steps}
    (workspace.folder / "scenarios" / "rows.json").write_text(json.dumps(doc))
    watcher.reload()
    panel = RunnerPanel(workspace, watcher, EnvironmentStore.load(app_paths()), SecretStore(),
                        EventApiClient())
    qtbot.addWidget(panel)
    panel.select_scenario("rows")
    panel.data_edit.setText(str(rows))
    return panel


def test_checking_many_rows_gives_the_window_its_turns_and_stop_works(parts, qtbot, run_async,
                                                                      tmp_path):
    """Run rendered every row of a rows file in the click's slot: 50,000 rows held the
    window for 26 s, and neither a repaint nor Stop got through."""
    workspace, watcher, _ = parts
    rows = tmp_path / "rows.csv"
    rows.write_text("n\n" + "".join(f"{i}\n" for i in range(3000)))
    panel = panel_with_rows(qtbot, workspace, watcher, rows, [
        {"send": {"name": "qa/row", "data": {"n": "{{ row.n }}"}}}])

    async def check_then_stop():
        task = panel.start(dry_run=True)
        assert task is not None and panel.status.text() == "Checking 3,000 row(s)…"
        turns = []
        loop = asyncio.get_running_loop()
        loop.call_soon(lambda: turns.append(panel.status.text()))  # a turn while checking
        loop.call_soon(panel.stop)
        return turns, await task

    turns, report = run_async(check_then_stop(), timeout=60)
    assert turns == ["Checking 3,000 row(s)…"]
    assert report.cancelled and [r.state for r in report.results] == ["cancelled"]
    # unstopped, the same rows check and run (a dry run)
    done = run_async(panel.start(dry_run=True), timeout=120)
    assert done.passed and len(done.results) == 3000


def test_an_export_says_how_it_went_below_the_runs_summary(parts, qtbot, run_async,
                                                           tmp_path, monkeypatch):
    """A failed export read "Nothing sent: [Errno 17] File exists" in place of the run's
    summary, and a good one said nothing."""
    from console.ui.workspace import runner_panel

    workspace, watcher, _browser = parts
    (workspace.folder / "scenarios" / "one.json").write_text(json.dumps({
        "format": "event-console/scenario@1", "name": "one",
        "steps": [{"send": {"name": "app/a", "data": {}}}]}))
    watcher.reload()
    panel, client = inbox_panel(qtbot, workspace, watcher, "http://127.0.0.1:9", "one")
    report = run_async(panel.start(dry_run=True))
    run_async(client.aclose())
    assert report is not None
    summary = panel.status.text()
    assert summary.startswith("one: passed")
    (tmp_path / "a-file").write_text("x")
    chosen = [str(tmp_path / "a-file" / "one.xml"), str(tmp_path / "one.xml")]
    monkeypatch.setattr(runner_panel.QFileDialog, "getSaveFileName",
                        lambda *_a, **_k: (chosen.pop(0), ""))
    panel.export_junit_button.click()
    first, said = panel.status.text().split("\n")
    assert first == summary and said.startswith("Not exported: ")
    panel.export_junit_button.click()
    assert panel.status.text() == f"{summary}\nExported to {tmp_path / 'one.xml'}"
    assert (tmp_path / "one.xml").read_text().startswith("<?xml")


def _contrast(first: QColor, second: QColor) -> float:
    """WCAG contrast ratio of two colours."""
    def luminance(colour: QColor) -> float:
        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
                + 0.0722 * channel(colour.blueF()))
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_result_and_message_colours_stay_readable_with_a_dark_palette(qtbot, qapp):
    """With a dark palette, "○ dry run" was #44546a on #2d2d2d (contrast 1.79), "■ stopped"
    2.90 and the red of errors 2.11: barely readable (WCAG asks 4.5)."""
    from PySide6.QtGui import QPalette

    from console.services.run_results import (
        CANCELLED,
        DRY_RUN,
        ERROR,
        FAILED,
        PASSED,
        StepResult,
    )
    from console.ui import rich
    from console.ui.workspace.results_model import StepResultsModel

    before = qapp.palette()
    dark = QPalette()
    for role, value in ((QPalette.ColorRole.Window, "#2d2d2d"),
                        (QPalette.ColorRole.Base, "#1e1e1e"),
                        (QPalette.ColorRole.WindowText, "#dcdcdc"),
                        (QPalette.ColorRole.Text, "#dcdcdc")):
        dark.setColor(role, QColor(value))
    qapp.setPalette(dark)
    try:
        model = StepResultsModel()
        model.set_results([StepResult(n, f"s{n}", "send", state=state) for n, state in
                           enumerate((PASSED, FAILED, ERROR, CANCELLED, DRY_RUN))])
        column = model.columns.index("Result")
        for row in range(model.rowCount()):
            shown = model.data(model.index(row, column), Qt.ItemDataRole.ForegroundRole)
            for background in ("#2d2d2d", "#1e1e1e"):
                assert _contrast(shown.color(), QColor(background)) >= 4.5, (row, background)
        error = re.search(r"color:(#[0-9a-f]{6})", rich.error("x"))
        assert error is not None and _contrast(QColor(error[1]), QColor("#2d2d2d")) >= 4.5
    finally:
        qapp.setPalette(before)
    assert rich.error("x") == "<span style='color:#c62828'>x</span>"  # light: as it was


TWO_ORDERS = {
    "format": "event-console/scenario@1", "name": "two orders",
    "steps": [{"send": {"name": "shop/order", "id": "order-{{ uuid() }}",
                        "data": {"n": "{{ seq }}"}}, "as": "o1"},
              {"send": {"name": "shop/order", "id": "order-{{ uuid() }}",
                        "data": {"n": "{{ seq }}"}}, "as": "o2"}],
}


def _with_two_orders(parts):
    workspace, watcher, _browser = parts
    (workspace.folder / "scenarios" / "two.json").write_text(json.dumps(TWO_ORDERS))
    watcher.reload()
    return workspace, watcher


def _second_post_refused():
    """A server that refuses the 2nd POST it gets (400), and takes the others."""
    answers: list[int] = []

    def answer(request):
        if request.method != "POST":
            return Reply.json(200, {"data": []})
        answers.append(1)
        if len(answers) == 2:
            return Reply.json(400, {"ids": [], "status": 400, "error": "try again"})
        body = json.loads(request.body)
        return Reply.json(200, {"ids": [f"01ID{len(answers)}{i}" for i in range(len(body))],
                                "status": 200})
    return answer


def test_rerun_failed_sends_what_the_failed_step_sent(parts, qtbot, run_async):
    """Re-run failed rendered the step anew from the run's seed: uuid() and seq started
    over, so it sent the first step's id again (deduplicated by Inngest) and passed."""
    workspace, watcher = _with_two_orders(parts)
    with FaultServer(default=_second_post_refused()) as server:
        panel, client = inbox_panel(qtbot, workspace, watcher, server.origin, "two orders")
        report = run_async(panel.start())
        assert [r.state for r in report.results] == ["passed", "failed"]
        rerun = run_async(panel.rerun_failed())
        run_async(client.aclose())
        sent = [json.loads(r.body)[0] for r in server.requests if r.method == "POST"]
    assert [r.state for r in rerun.results] == ["passed", "passed"]
    first, refused, again = sent
    assert again == refused and again["id"] != first["id"]


def test_rerun_failed_goes_to_the_environment_that_run_went_to(parts, qtbot, run_async):
    """With another environment picked since, Re-run failed sent there and reported the
    whole run (the step sent to the first one too) under the new one."""
    workspace, watcher = _with_two_orders(parts)
    with FaultServer(default=_second_post_refused()) as staging, \
            FaultServer() as production:
        panel, client = inbox_panel(qtbot, workspace, watcher, staging.origin, "two orders")
        panel.environments.put(replace(inbox(production.origin), name="Production"))
        panel.refresh_environments()
        run_async(panel.start())
        panel.select_environment("Production")
        rerun = run_async(panel.rerun_failed())
        run_async(client.aclose())
        staging_posts = [r for r in staging.requests if r.method == "POST"]
        production_posts = [r for r in production.requests if r.method == "POST"]
    assert (len(staging_posts), len(production_posts)) == (3, 0)
    assert rerun.environment == "Test inbox"


def test_a_selected_scenario_that_stops_loading_is_not_swapped_for_another(parts, qtbot,
                                                                           run_async):
    """A merge left conflict markers in the selected scenario's file: the selection went
    to the first scenario, and Run sent that one; fixed, it stayed there."""
    workspace, watcher, _browser = parts
    folder = workspace.folder / "scenarios"
    (folder / "a.json").write_text(json.dumps(dict(TWO_ORDERS, name="a first")))
    (folder / "two.json").write_text(json.dumps(TWO_ORDERS))
    watcher.reload()
    with running_inbox() as inbox_server:
        panel, client = inbox_panel(qtbot, workspace, watcher, inbox_server.url, "two orders")
        good = (folder / "two.json").read_text()
        (folder / "two.json").write_text("<<<<<<< HEAD\n" + good)
        watcher.reload()
        assert panel.scenario_combo.currentIndex() == -1
        assert panel.scenario_combo.placeholderText() == "two orders (not loaded now)"
        assert panel.start() is None
        assert "'two orders' is not loaded now: its file has a problem" in panel.status.text()
        assert inbox_server.events() == []
        (folder / "two.json").write_text(good)
        watcher.reload()
        assert panel.scenario_combo.currentText() == "two orders"
        run_async(client.aclose())


def test_rerun_failed_follows_a_rename_of_that_runs_environment(parts, qtbot, run_async):
    """Renamed since the run: "no environment named 'Test inbox'", nothing re-run."""
    workspace, watcher = _with_two_orders(parts)
    with FaultServer(default=_second_post_refused()) as server:
        panel, client = inbox_panel(qtbot, workspace, watcher, server.origin, "two orders")
        run_async(panel.start())
        env = panel.environments.get("Test inbox")
        panel.environments.put(replace(env, name="Renamed"), replacing="Test inbox")
        panel.refresh_environments()
        rerun = run_async(panel.rerun_failed())
        run_async(client.aclose())
        posts = [r for r in server.requests if r.method == "POST"]
    assert rerun is not None and rerun.environment == "Renamed"
    assert len(posts) == 3


def test_rerun_failed_needs_neither_the_data_file_nor_the_vars_field(parts, qtbot, run_async,
                                                                     tmp_path, monkeypatch):
    """It takes each row from the run before; it had read the Data file again and
    refused when it was gone ("cannot read: No such file"), and a Vars field left with an
    unclosed quote blocked it too."""
    monkeypatch.setenv("EVENT_CONSOLE_VERIFY_SECONDS", "0.3")
    workspace, watcher, _browser = parts
    (workspace.folder / "scenarios" / "rows.json").write_text(json.dumps({
        "format": "event-console/scenario@1", "name": "rows",
        "steps": [{"send": {"name": "app/x", "data": {"c": "{{ row.c }}"}},
                   "expect": {"status": 400}}]}))
    rows = tmp_path / "rows.csv"
    rows.write_text("c\n1\n2\n")
    watcher.reload()
    with FaultServer() as server:  # accepts every event: 200, not the 400 expected
        panel, client = inbox_panel(qtbot, workspace, watcher, server.origin, "rows")
        panel.data_edit.setText(str(rows))
        report = run_async(panel.start())
        assert [r.state for r in report.results] == ["failed", "failed"]
        rows.unlink()
        panel.vars_edit.setText("a='unclosed")
        task = panel.rerun_failed()
        assert task is not None, panel.status.text()
        rerun = run_async(task)
        run_async(client.aclose())
        sent = [json.loads(r.body)[0]["data"] for r in server.requests if r.method == "POST"]
    assert [(r.row, r.state) for r in rerun.results] == [(1, "failed"), (2, "failed")]
    assert sent == [{"c": "1"}, {"c": "2"}] * 2

"""The workspace side of the window: save as template, open it, history after a send."""

from __future__ import annotations

import asyncio
import json
import threading

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.conftest import wait_until
from tests.ui.test_main_window import open_window, start_on_inbox


def test_ctrl_s_saves_the_event_as_a_template_file_and_it_opens_again(qtbot, app_home, qloop):
    _context, window = open_window(qtbot)
    panels = window.panels
    path = panels.workspace.folder / "templates"
    hint = panels.browser.empty
    # a new workspace says how a template is made and where it goes, not just an empty list
    assert not hint.isHidden()
    assert "Save as Template (Ctrl+S)" in hint.text() and str(path) in hint.text()
    window.editor.setPlainText('{"name": "shop/cart.paid", "data": {"cart": "c1"}}')
    window.editor.setFocus()
    QTest.keyClick(window.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    files = sorted(path.glob("*.json"))
    assert len(files) == 1, files
    assert hint.isHidden()
    panels.browser.search.setText("refund")
    assert not hint.isHidden() and 'No template matches "refund"' in hint.text()
    panels.browser.search.setText("cart")
    assert hint.isHidden()
    saved = json.loads(files[0].read_text())
    assert saved["format"] == "event-console/template@1"
    assert saved["event"] == {"name": "shop/cart.paid", "data": {"cart": "c1"}}
    assert files[0].read_text().endswith("}\n")
    assert "shop/cart.paid" in window.statusBar().currentMessage()
    window.editor.setPlainText("{}")
    panels.browser.open(saved["name"])
    assert json.loads(window.editor.toPlainText())["name"] == "shop/cart.paid"


def test_save_as_template_keeps_what_the_server_reads_and_only_what_loads_back(
        qtbot, app_home, qloop):
    """Ctrl+S said "Saved template" for a template that never loaded (`{{ uuid( }}`),
    dropped "Data" (which the server reads as data) without a word, and raised out of the
    slot for deeply nested data."""
    _context, window = open_window(qtbot)
    panels = window.panels
    folder = panels.workspace.folder / "templates"
    window.editor.setPlainText('{"name": "shop/y", "data": {"x": "{{ uuid( }}"}}')
    assert panels.save_editor_as_template() is None
    message = window.statusBar().currentMessage()
    assert message.startswith("Not saved: template syntax: ") and message.endswith(
        "(at /data/x)"), message
    assert not folder.exists() or list(folder.iterdir()) == []
    window.editor.setPlainText('{"name": "shop/x", "Data": {"k": 1}, "extra": 2}')
    assert panels.save_editor_as_template() == "shop/x"
    assert window.statusBar().currentMessage().endswith(
        "(left out 'extra': Inngest ignores it)")
    assert panels.workspace.template("shop/x").event == {"name": "shop/x", "data": {"k": 1}}
    deep = '{"name": "shop/deep", "data": ' + "[" * 5_000 + "]" * 5_000 + "}"
    window.editor.setPlainText(deep)
    assert panels.save_editor_as_template() is None
    assert window.statusBar().currentMessage() == (
        "Not saved: the event is nested too deep to save as a template")
    assert panels.edit_schema("payload") is None
    assert window.statusBar().currentMessage().startswith("Schemas: the event is nested too")


def test_a_broken_workspace_file_is_reported_and_the_rest_loads(qtbot, app_home, qloop):
    from console.services.paths import app_paths

    templates = app_paths().default_workspace / "templates"
    templates.mkdir(parents=True)
    (templates / "broken.json").write_text('{"format": "event-console/template@1",\n  "name": }')
    (templates / "good.json").write_text(json.dumps({
        "format": "event-console/template@1", "name": "good",
        "event": {"name": "a/b", "data": {}}}, indent=2) + "\n")
    _context, window = open_window(qtbot)
    assert "good" in window.panels.browser.names()
    message = window.statusBar().currentMessage()
    assert "broken.json:2:" in message, message


def test_placeholders_render_at_send_time_and_history_shows_the_send(qtbot, app_home, run_async):
    context, window = open_window(qtbot)

    async def session():
        await context.start(inbox_port=0)
        window.inbox_started()
        window.select_environment("Inbox")
        window.editor.setPlainText(
            '{"name": "t/ph", "id": "{{ uuid() }}", "data": {"at": "{{ now_ms() }}"}}')
        await wait_until(lambda: window.panels.preview.isVisible(), message="rendered preview")
        window.send()
        await wait_until(lambda: context.inbox.events, message="inbox event")
        event = context.inbox.events[0].event
        assert isinstance(event["data"]["at"], int) and len(event["id"]) == 36
        await wait_until(lambda: window.panels.history.model.rowCount() >= 1, timeout=15,
                         message="history rows")
        await wait_until(lambda: not window.flow.sending, message="send finished")
        await context.shutdown()

    run_async(session(), timeout=40)


def test_the_preview_says_when_a_whole_placeholder_renders_to_what_send_refuses(qtbot, app_home):
    """`"ts": "{{ now() }}"` renders to a string: the editor leaves one-placeholder values to
    Send, and nothing said so until Send refused it."""
    _context, window = open_window(qtbot)
    preview = window.panels.preview
    text = '{"name": "a",\n "ts": "{{ now() }}", "data": {"at": "{{ now_ms() }}"}}'
    preview.set_source(text)
    preview.refresh()
    assert preview.error.text().startswith("2:8: renders to what Send refuses: ")
    assert "ts" in preview.error.text()
    preview.set_source(text.replace("now()", "now_ms()"))  # renders to an integer: fine
    preview.refresh()
    assert preview.error.text() == ""
    assert isinstance(json.loads(preview.view.toPlainText())["ts"], int)
    preview.set_source('{"name": "{{ \'inngest/x\' }}", "data": {"s": "{{ 5 }}"}}')
    preview.refresh()
    assert preview.error.text().startswith("1:10: renders to what Send refuses: ")


def test_a_schema_file_written_beside_the_window_is_loaded_off_its_thread(
        qtbot, app_home, run_async, monkeypatch):
    """The watcher's reload read and compiled every schema on the Qt thread: a file touched
    beside a 1 MB schema held the window for 1.5 s."""
    _context, window = open_window(qtbot)
    panels = window.panels
    window.editor.setPlainText('{"name": "shop/x", "data": {}}')
    folder = panels.workspace.folder / "schemas"
    import console.ui.workspace_panels as module

    loaded: list[threading.Thread] = []
    real = module.load_library
    monkeypatch.setattr(module, "load_library",
                        lambda folder: loaded.append(threading.current_thread()) or real(folder))

    async def write_and_wait() -> None:
        await asyncio.sleep(0.2)  # the watcher is up
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "shop__x.json").write_text(json.dumps(
            {"x-event-name": "shop/x", "type": "object", "required": ["a"]}))
        await wait_until(lambda: any('required property "a"' in p.message
                                     for p in window.editor.problems()),
                         message="the new schema's warning")

    run_async(write_and_wait())
    assert loaded and threading.main_thread() not in loaded  # read and compiled off it
    assert panels.library.entry_for("shop/x") is not None


def test_infer_a_schema_edit_it_save_it_and_the_editor_warns_on_data(qtbot, app_home, qloop):
    from console.core.problems import Severity

    _context, window = open_window(qtbot)
    panels = window.panels
    window.editor.setPlainText('{"name": "shop/cart.paid", "data": {"cart": "c1", "total": 5}}')
    dialog = panels.edit_schema("payload")
    assert dialog is not None and dialog.isVisible()
    schema = json.loads(dialog.editor.toPlainText())
    assert schema["properties"]["total"]["type"] == "integer"
    assert sorted(schema["required"]) == ["cart", "total"]
    dialog.editor.setPlainText("{not json")
    assert dialog.save() is None and "Not saved" in dialog.status.text()
    # a schema its metaschema refuses is named at the dialog's own line, not at the line of
    # the re-indented file save would write
    dialog.editor.setPlainText('{"type": "object",\n "properties": {"n": {"type": 5}}}')
    assert dialog.save() is None
    dialog.editor.validate_now()
    [problem] = dialog.editor.problems()
    assert f"Not saved: line 2:{problem.column}: " in dialog.status.text()
    assert problem.line == 2
    dialog.editor.setPlainText(json.dumps(schema))
    path = dialog.save()
    assert path is not None and path.parent == panels.workspace.folder / "schemas"
    saved = json.loads(path.read_text())
    assert saved["x-event-name"] == "shop/cart.paid"
    window.editor.setPlainText('{"name": "shop/cart.paid", "data": {"cart": "c1", "total": "5"}}')
    window.editor.validate_now()
    warnings = [p for p in window.editor.problems() if p.severity is Severity.WARNING]
    assert warnings and "total" in warnings[0].message, window.editor.problems()
    again = panels.edit_schema("current")
    assert "the saved schema" in again.note.text()


def test_a_schema_changed_on_disk_while_its_dialog_is_open_is_not_overwritten_silently(
        qtbot, app_home, qloop):
    """Save wrote the dialog's text over a change another program made meanwhile (a pull,
    another editor) and said nothing: that change was lost."""
    from console.services.paths import app_paths

    schemas = app_paths().default_workspace / "schemas"
    schemas.mkdir(parents=True)
    file = schemas / "qa__ext.json"
    file.write_text(json.dumps({"x-event-name": "qa/ext", "type": "object"}))
    _context, window = open_window(qtbot)
    window.editor.setPlainText('{"name": "qa/ext", "data": {"a": "x"}}')
    dialog = window.panels.edit_schema("current")
    assert dialog is not None
    theirs = json.dumps({"x-event-name": "qa/ext", "type": "object", "required": ["b"]})
    file.write_text(theirs)
    assert dialog.save() is None
    assert "qa__ext.json changed on disk since this dialog opened" in dialog.status.text()
    assert file.read_text() == theirs and dialog.isVisible()
    assert dialog.save() == file  # asked again: replaced
    assert "required" not in json.loads(file.read_text())


def test_import_a_schema_file_and_a_broken_one_is_refused(qtbot, app_home, qloop, tmp_path):
    _context, window = open_window(qtbot)
    window.editor.setPlainText('{"name": "a/b", "data": {}}')
    good = tmp_path / "ab.json"
    good.write_text(json.dumps({"type": "object", "required": ["x"]}))
    dialog = window.panels.edit_schema("file", file=good)
    assert dialog is not None and "imported from" in dialog.note.text()
    assert window.panels.library.for_event("a/b") is not None
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "object",\n "required": 5}')
    assert window.panels.edit_schema("file", file=bad) is None
    assert window.statusBar().currentMessage().startswith("Not imported:")


def test_a_versioned_events_schema_is_saved_and_imported_for_its_version(
        qtbot, app_home, qloop, tmp_path):
    """Saving the schema of a `v: "2"` event wrote over the event's unversioned schema file
    (other versions then warned on valid data) and left the v2 schema as it was."""
    from console.services.paths import app_paths

    schemas = app_paths().default_workspace / "schemas"
    schemas.mkdir(parents=True)
    plain = schemas / "app__order.created.json"
    plain.write_text(json.dumps({"type": "object", "required": ["orderId"]}))
    v2 = schemas / "app__order.created@2.json"
    v2.write_text(json.dumps({"type": "object", "required": ["orderRef"]}))
    before = plain.read_text()
    _context, window = open_window(qtbot)
    panels = window.panels
    window.editor.setPlainText(
        '{"name": "app/order.created", "v": "2", "data": {"orderRef": "r1"}}')
    dialog = panels.edit_schema("current")
    assert dialog is not None and "(v 2)" in dialog.windowTitle()
    schema = json.loads(dialog.editor.toPlainText())
    assert schema["required"] == ["orderRef"]
    schema["properties"] = {"extra": {"type": "integer"}}
    dialog.editor.setPlainText(json.dumps(schema))
    assert dialog.save() == v2
    assert plain.read_text() == before
    assert json.loads(v2.read_text())["properties"] == {"extra": {"type": "integer"}}
    assert panels.library.for_event("app/order.created", "2")["properties"]["extra"]
    # an imported schema, too, is for the editor's event version
    imported = tmp_path / "v2.json"
    imported.write_text(json.dumps({"type": "object", "required": ["fromImport"]}))
    assert panels.edit_schema("file", file=imported) is not None
    assert plain.read_text() == before
    assert json.loads(v2.read_text())["required"] == ["fromImport"]
    # a version with no schema of its own edits the unversioned one it falls back to
    window.editor.setPlainText('{"name": "app/order.created", "v": "3", "data": {}}')
    fallback = panels.edit_schema("current")
    assert fallback is not None and "(v " not in fallback.windowTitle()
    assert fallback.save() == plain


def test_templates_and_history_events_go_into_the_batch_and_send_with_two_in_flight(
        qtbot, app_home, run_async):
    from console.services.paths import app_paths

    templates = app_paths().default_workspace / "templates"
    templates.mkdir(parents=True)
    (templates / "paid.json").write_text(json.dumps({
        "format": "event-console/template@1", "name": "paid",
        "event": {"name": "shop/paid", "id": "{{ uuid() }}", "data": {"n": "{{ seq }}"}}},
        indent=2) + "\n")
    from dataclasses import replace

    context, window = open_window(qtbot)
    panels = window.panels

    async def session():
        await context.start(inbox_port=0)
        window.inbox_started()
        inbox_env = context.environments.get("Inbox")  # small requests: several in the plan
        context.environments.put(replace(inbox_env, request_limit=300), replacing="Inbox")
        window.select_environment("Inbox")
        assert not panels.add_template_to_batch()  # nothing selected yet
        assert panels.browser.select("paid")
        for _ in range(6):
            assert panels.add_template_to_batch()
        events = window.composer.batch.events
        assert len(events) == 6 and len({e["id"] for e in events}) == 6
        assert all(isinstance(e["data"]["n"], int) for e in events)
        window.in_flight.setValue(2)
        env = window.environment()
        window.send()
        await wait_until(lambda: len(context.inbox.events) == 6, message="six events")
        await wait_until(lambda: not window.flow.sending, timeout=20, message="send finished")
        plan = window.composer.batch.plan(env.request_limit, env.event_limit)
        assert len(plan.requests) >= 2
        assert len(window.log_model.rows) == len(plan.requests)
        assert all(row.status == 200 for row in window.log_model.rows)
        await wait_until(lambda: window.panels.history.model.rowCount() >= 6, timeout=10,
                         message="history rows")
        window.panels.history.table.selectRow(0)
        await wait_until(lambda: window.panels.history.detail.row is not None,
                         message="history detail")
        before = len(window.composer.batch)
        assert panels.add_history_to_batch()
        assert len(window.composer.batch) == before + 1
        await context.shutdown()

    run_async(session(), timeout=60)


def copy_examples_into_the_workspace() -> None:
    """The README's example template and scenario, where the window opens its workspace."""
    import shutil
    from pathlib import Path

    from console.services.paths import app_paths

    examples = Path(__file__).resolve().parents[2] / "resources" / "examples"
    for sub in ("templates", "scenarios"):
        folder = app_paths().default_workspace / sub
        folder.mkdir(parents=True, exist_ok=True)
        for file in (examples / sub).glob("*.json"):
            shutil.copy(file, folder / file.name)


def test_a_template_that_uses_vars_is_sent_with_the_vars_field(qtbot, app_home, run_async):
    """The README's order-created uses vars.order_prefix and vars.amount, which only a
    scenario gave: opened in the window, its preview and Send said "vars has no
    'order_prefix' (it has: nothing)" and there was no way to give them."""
    copy_examples_into_the_workspace()
    context, window = open_window(qtbot)
    panels = window.panels
    preview = panels.preview
    status = window.statusBar().currentMessage

    async def session():
        await start_on_inbox(context, window)
        panels.browser.open("order-created")
        await wait_until(lambda: preview.isVisible() and preview.error.text(),
                         message="the preview's problem")
        missing = "4:17: unknown variable: vars has no 'order_prefix' (no vars are set)"
        assert preview.error.text() == missing
        assert preview.vars_edit.placeholderText() == "order_prefix=… amount=…"
        window.send()
        await wait_until(lambda: status().startswith("Not sent"), message="refused send")
        assert status() == (f"Not sent: placeholder at {missing}; "
                            "give them in Vars, above the rendered preview")
        assert preview.vars_edit.hasFocus()
        preview.vars_edit.setText("order_prefix=ord amount=42")
        await wait_until(lambda: preview.error.isHidden(), message="the preview renders")
        shown = json.loads(preview.view.toPlainText())
        assert shown["data"]["orderId"] == "ord-1" and shown["data"]["amount"] == 42
        window.send()
        await wait_until(lambda: context.inbox.events, message="the inbox gets the order")
        sent = context.inbox.events[0].event
        assert sent["data"]["orderId"].startswith("ord-") and sent["data"]["amount"] == 42
        await wait_until(lambda: not window.flow.sending, message="send finished")
        # Send ▸ Add Selected Template to Batch renders with the same vars
        panels.browser.select("order-created")
        assert panels.add_template_to_batch()
        assert window.composer.batch.events[0]["data"]["amount"] == 42
        preview.vars_edit.setText("note='two words")
        assert not panels.add_template_to_batch()
        assert status() == "Template 'order-created' not added: Vars: No closing quotation"
        await context.shutdown()

    run_async(session(), timeout=40)


def test_copy_as_of_a_captured_event_points_at_the_inbox(qtbot, app_home, run_async):
    """An event the inbox captured has no request of its own: Copy as pointed it at the
    Dev Server (http://127.0.0.1:8288), not at the inbox that received it."""
    import httpx

    context, window = open_window(qtbot)
    history = window.panels.history

    async def session():
        await start_on_inbox(context, window)
        inbox = context.inbox.url
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{inbox}/e/NO_EVENT_KEY_SET",
                                       json={"name": "app/posted", "data": {"n": 1}})
        assert answer.status_code == 200
        await wait_until(lambda: history.model.rowCount() == 1
                         and history.model.row_at(0) is not None, timeout=15,
                         message="the captured event in the history")
        assert history.model.row_at(0).source == "captured"
        history.table.setCurrentIndex(history.model.index(0, 0))
        await wait_until(lambda: history.detail.row is not None, message="the detail")
        curl = history.copy_as("curl")
        # the inbox takes any key: with none set, the placeholder the console sends
        assert (f'curl -sS -g -X POST \'{inbox}/e/\'"${{INNGEST_EVENT_KEY:-NO_EVENT_KEY_SET}}"'
                in curl), curl
        assert f'baseUrl: "{inbox}"' in history.copy_as("TypeScript")
        assert f"event_api_base_url='{inbox}'" in history.copy_as("Python")
        await context.shutdown()

    run_async(session(), timeout=40)


def test_at_1280_by_800_the_tabs_show_the_event_and_the_timeline(qtbot, app_home, qloop):
    """The editor took 480 of ~720 px: the History tab's event showed 4 lines and the
    Scenarios timeline 2 rows. The editor keeps room for a dozen lines."""
    _context, window = open_window(qtbot)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.height() == 800)
    panels = window.panels
    window.tabs.setCurrentWidget(panels.history)
    box = panels.history.detail.event_box
    qtbot.waitUntil(box.isVisible)
    assert box.viewport().height() >= 12 * box.fontMetrics().lineSpacing()
    window.tabs.setCurrentWidget(panels.runner)
    table = panels.runner.table
    qtbot.waitUntil(table.isVisible)
    row = max(table.verticalHeader().defaultSectionSize(), 30)  # 30 px with the icons
    assert table.viewport().height() >= 6 * row
    editor = window.editor
    assert editor.viewport().height() >= 12 * editor.fontMetrics().lineSpacing()


def test_the_batch_saved_as_a_scenario_replays_from_the_scenarios_tab(
        qtbot, app_home, run_async, monkeypatch):
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    context, window = open_window(qtbot)
    panels = window.panels
    folder = panels.workspace.folder / "scenarios"
    asked: list[str] = []

    def name_it(_parent, _title, _label, text=""):
        asked.append(text)
        return "QA replay", True

    monkeypatch.setattr(QInputDialog, "getText", name_it)

    async def session():
        await start_on_inbox(context, window)
        # text that reads as a placeholder is kept as text, and "ID" is the id, as the
        # window sends them (the one was rendered at the run, the other refused)
        window.composer.add_events([
            {"name": "shop/cart.paid", "data": {"n": 1}},
            {"name": "shop/cart.paid", "ID": "cart-7", "data": {"note": "Hi {{ name }}"}}])
        batch = window.composer.batch.events
        banner = window.dedup.banner.label
        await wait_until(lambda: "no dedup id" in banner.text() and not window.dedup.timer
                         .isActive(), message=banner.text())
        assert "Duplicate" not in banner.text()
        panels.runner.save_batch_button.click()  # the tab's button is the menu's action
        assert asked == ["shop/cart.paid"]  # the first event's name is offered
        files = list(folder.glob("*.json"))
        assert [f.name for f in files] == ["qa-replay.json"]
        saved = json.loads(files[0].read_text())
        assert saved["format"] == "event-console/scenario@1" and saved["name"] == "QA replay"
        assert saved["steps"] == [{"send": [batch[0], {
            "name": "shop/cart.paid", "ID": "cart-7",
            "data": {"note": "{% raw %}Hi {{ name }}{% endraw %}"}}], "as": "send"}]
        message = window.statusBar().currentMessage()
        assert "Saved scenario 'QA replay' (2 events) in scenarios/qa-replay.json" in message
        assert "1 event keeps its id" in message, message
        assert window.tabs.currentWidget() is panels.runner
        assert panels.runner.scenario_combo.currentText() == "QA replay"
        # it runs as it was saved: both events reach the inbox
        panels.runner.select_environment("Inbox")
        report = await panels.runner.start()
        assert report.passed, report
        assert [e.event["data"] for e in context.inbox.events] == [e["data"] for e in batch]
        assert context.inbox.events[1].event["id"] == "cart-7"
        # the batch's "cart-7" went out with the run: the banner says so, as after a Send
        await wait_until(lambda: "Inngest will accept it and start no runs" in banner.text()
                         and "unknown" not in banner.text(), message=banner.text())
        # the same name again: asked before replacing; No writes nothing
        window.composer.add_events([{"name": "shop/refund", "data": {}}])
        monkeypatch.setattr(QMessageBox, "question",
                            lambda *_a, **_k: QMessageBox.StandardButton.No)
        assert panels.save_batch_as_scenario() is None
        assert json.loads(files[0].read_text()) == saved
        monkeypatch.setattr(QMessageBox, "question",
                            lambda *_a, **_k: QMessageBox.StandardButton.Yes)
        assert panels.save_batch_as_scenario() == "QA replay"
        assert [f.name for f in folder.glob("*.json")] == ["qa-replay.json"]
        assert len(json.loads(files[0].read_text())["steps"][0]["send"]) == 3
        await context.shutdown()

    run_async(session(), timeout=60)


def test_the_editors_event_saved_as_a_scenario_keeps_its_placeholders(qtbot, app_home, qloop):
    _context, window = open_window(qtbot)
    panels = window.panels
    folder = panels.workspace.folder / "scenarios"
    window.editor.setPlainText('{"name": "t/ph", "id": "{{ uuid() }}", "data": {}}')
    assert panels.save_batch_as_scenario("fresh ids") == "fresh ids"
    saved = json.loads((folder / "fresh-ids.json").read_text())
    # rendered afresh at every run: a replay is never deduplicated by its own ids
    assert saved["steps"][0]["send"] == {"name": "t/ph", "id": "{{ uuid() }}", "data": {}}
    assert saved["description"] == "Saved from the window's editor: 1 event"
    # what would not load back is refused with the reason, and nothing is written
    window.editor.setPlainText('{"name": "t/ph", "data": {"x": "{{ nope( }}"}}')
    assert panels.save_batch_as_scenario("broken") is None
    assert window.statusBar().currentMessage().startswith("Not saved: placeholder at ")
    # what Send refuses is not saved to fail at Run
    window.editor.setPlainText('{"name": "inngest/x", "data": {}}')
    assert panels.save_batch_as_scenario("reserved") is None
    assert "reserved for internal use" in window.statusBar().currentMessage()
    # the Vars it is sent with go with it (Run said "vars has no 'prefix'")
    panels.preview.vars_edit.setText("prefix=ord")
    window.editor.setPlainText('{"name": "t/v", "id": "{{ vars.prefix }}-1", "data": {}}')
    assert panels.save_batch_as_scenario("with vars") == "with vars"
    assert json.loads((folder / "with-vars.json").read_text())["vars"] == {"prefix": "ord"}
    panels.preview.vars_edit.setText("")
    window.editor.setPlainText('{"name": "t/ph",\n  "data": }')
    assert panels.save_batch_as_scenario("broken") is None
    message = window.statusBar().currentMessage()
    assert "not valid JSON" in message and "line 2 column" in message, message
    window.editor.setPlainText(json.dumps([{"name": "t/big", "data": {"s": "x" * 1000}}] * 6000))
    assert panels.save_batch_as_scenario("big") is None
    assert "workspace files may take 5 MiB" in window.statusBar().currentMessage()
    window.composer.add_events([{"name": "t/ok", "data": {}}, {"name": "", "data": {}}])
    assert panels.save_batch_as_scenario("bad batch") is None
    assert window.statusBar().currentMessage().startswith("Not saved: event #2: ")
    assert sorted(f.name for f in folder.glob("*.json")) == ["fresh-ids.json", "with-vars.json"]


def test_a_recent_workspace_that_is_gone_is_not_made_again_empty(qtbot, app_home, tmp_path):
    """Open Recent on a deleted folder (a removed clone) silently made it again, empty."""
    import shutil

    _context, window = open_window(qtbot)
    panels = window.panels
    gone = tmp_path / "ws-gone"
    panels.open_workspace(gone)  # chosen in the dialog: made
    assert (gone / "templates").is_dir()
    panels.open_workspace(tmp_path / "ws-other")  # then another
    shutil.rmtree(gone)
    entry = next(a for a in panels.recent_menu.actions() if a.text() == str(gone.resolve()))
    entry.trigger()
    assert not gone.exists()
    assert window.statusBar().currentMessage() == (
        f"Workspace not opened: {gone.resolve()}: no such workspace folder")
    assert str(gone.resolve()) not in [a.text() for a in panels.recent_menu.actions()]


def test_edit_undo_undoes_where_the_focus_is(qtbot, app_home, qloop):
    """Edit > Undo (shown with Ctrl+Z) was the templates list's own: chosen while typing in
    the editor, it brought back a template deleted earlier and left the typing."""
    _context, window = open_window(qtbot)
    panels, browser = window.panels, window.panels.browser
    window.editor.setPlainText('{"name": "shop/undo", "data": {}}')
    panels.save_editor_as_template()
    name = browser.names()[0]
    browser.delete(name)
    assert browser.names() == []
    window.editor.setFocus()
    qtbot.waitUntil(window.editor.hasFocus, timeout=2000)
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    QTest.keyClicks(window.editor, " typed")
    menu = window.edit_menu
    menu.aboutToShow.emit()  # as when it opens
    assert panels.undo_item.text().split("\t") == ["Undo", "Ctrl+Z"]
    panels.undo_item.trigger()
    assert not window.editor.toPlainText().endswith("typed") and browser.names() == []
    browser.view.setFocus()
    qtbot.waitUntil(browser.view.hasFocus, timeout=2000)
    menu.aboutToShow.emit()
    assert panels.undo_item.text().startswith("Undo Delete") and panels.undo_item.isEnabled()
    assert not panels.redo_item.isEnabled()
    panels.undo_item.trigger()
    assert browser.names() == [name]
    menu.aboutToShow.emit()
    assert panels.redo_item.isEnabled()
    # a text field undoes its own typing (the templates' search box, the name field)
    browser.delete(name)
    for field in (browser.search, window.name_field):
        field.setFocus()
        qtbot.waitUntil(field.hasFocus, timeout=2000)
        before = field.text()
        QTest.keyClicks(field, "xyz")
        menu.aboutToShow.emit()
        assert panels.undo_item.text().split("\t")[0] == "Undo"
        panels.undo_item.trigger()
        assert field.text() == before
    assert browser.names() == [] and (panels.workspace.folder / "templates").exists()
    browser.undo_stack.undo()
    assert browser.names() == [name]
    # a spin box's typing is its own; on a button nothing is undone (the editor's typing
    # had been undone out of sight)
    window.editor.setFocus()
    QTest.keyClicks(window.editor, "typed")
    typed = window.editor.toPlainText()
    for elsewhere in (window.in_flight, window.panels.history.purge_button):
        elsewhere.setFocus()
        qtbot.waitUntil(elsewhere.hasFocus, timeout=2000)
        menu.aboutToShow.emit()
        panels.undo_item.trigger()
        assert window.editor.toPlainText() == typed
    assert not panels.undo_item.isEnabled()  # on the button
    # the batch list has its own
    window.composer.add_events([{"name": "shop/a", "data": {}}])
    window.composer.view.setFocus()
    qtbot.waitUntil(window.composer.view.hasFocus, timeout=2000)
    menu.aboutToShow.emit()
    panels.undo_item.trigger()
    assert len(window.composer.batch) == 0 and browser.names() == [name]


def test_events_nested_too_deep_to_show_are_named_not_a_bug(qtbot, app_home, qloop, tmp_path):
    """A template nested 5,000 deep was listed, then Open, Add to Batch, Duplicate and
    Rename raised RecursionError (a bug dialog each); a 30 KB file nested 1,200 deep did
    the same when imported into the batch, though `send` names the depth."""
    from console.services.paths import app_paths

    deep = '{"name": "shop/deep", "data": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    folder = app_paths().default_workspace / "templates"
    folder.mkdir(parents=True)
    (folder / "deep.json").write_text(json.dumps(
        {"format": "event-console/template@1", "name": "deep", "event": {}})[:-3]
        + deep + "}")
    (folder / "flat.json").write_text(json.dumps(
        {"format": "event-console/template@1", "name": "flat",
         "event": {"name": "shop/flat", "data": {}}}))
    _context, window = open_window(qtbot)
    panels = window.panels
    assert panels.browser.names() == ["flat"]
    assert "templates/deep.json" in panels.browser.problems.text()
    assert "Event is nested 5,00" in panels.browser.problems.text()
    imported = tmp_path / "deep.json"
    imported.write_text('{"name": "x", "data": ' + '{"a": ' * 1200 + "1" + "}" * 1200 + "}")
    window.composer.add_events([{"name": "shop/row", "data": {}}])
    window.composer.import_files([imported])
    assert len(window.composer.batch) == 1
    assert "nested 1,20" in window.composer.error_label.text()


def test_a_statement_block_in_the_editor_is_rendered_at_send_as_run_renders_it(
        qtbot, app_home, run_async):
    """`{% if %}…{% endif %}` typed in the editor (no "{{" in it) went out as written, and
    no preview showed; saved as a template, `run` rendered it."""
    context, window = open_window(qtbot)

    async def session():
        await start_on_inbox(context, window)
        await wait_until(lambda: window.health_dot.text() == "●", message="reachable")
        assert window.health_dot.accessibleName() == (
            "Reachability of the environment: reachable")
        window.editor.setPlainText('{"name": "t/if", "data": {"plan": '
                                   '"{% if 2 > 1 %}pro{% else %}free{% endif %}"}}')
        await wait_until(lambda: window.panels.preview.isVisible(), message="the preview")
        window.send()
        await wait_until(lambda: context.inbox.events, message="inbox event")
        assert context.inbox.events[0].event["data"] == {"plan": "pro"}
        await wait_until(lambda: not window.flow.sending, message="send finished")
        await context.shutdown()

    run_async(session(), timeout=40)


def test_a_workspace_opens_whole_when_open_recent_cannot_be_written(qtbot, app_home, tmp_path):
    """A full config disk: the write of Open Recent raised out of the menu's slot (the bug
    dialog), and the window was left half-switched (its scenarios and schemas from the
    workspace before)."""
    _context, window = open_window(qtbot)
    panels = window.panels
    other = tmp_path / "ws-other"
    (other / "scenarios").mkdir(parents=True)
    (other / "scenarios" / "smoke.json").write_text(json.dumps(
        {"format": "event-console/scenario@1", "name": "smoke",
         "steps": [{"send": {"name": "app/x", "data": {}}}]}))
    recent = panels.recent.file
    recent.unlink(missing_ok=True)
    recent.mkdir()  # its atomic write now fails, as on a full disk
    panels.open_workspace(other)
    assert panels.workspace.folder == other.resolve()
    assert window.statusBar().currentMessage() == (
        f"Workspace: {other.resolve()} (not added to Open Recent: Is a directory)")
    combo = panels.runner.scenario_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["smoke"]

"""The workspace side of the window: save as template, open it, history after a send."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.conftest import wait_until
from tests.ui.test_main_window import open_window


def test_ctrl_s_saves_the_event_as_a_template_file_and_it_opens_again(qtbot, app_home, qloop):
    _context, window = open_window(qtbot)
    panels = window.panels
    window.editor.setPlainText('{"name": "shop/cart.paid", "data": {"cart": "c1"}}')
    window.editor.setFocus()
    QTest.keyClick(window.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    path = panels.workspace.folder / "templates"
    files = sorted(path.glob("*.json"))
    assert len(files) == 1, files
    saved = json.loads(files[0].read_text())
    assert saved["format"] == "event-console/template@1"
    assert saved["event"] == {"name": "shop/cart.paid", "data": {"cart": "c1"}}
    assert files[0].read_text().endswith("}\n")
    assert "shop/cart.paid" in window.statusBar().currentMessage()
    window.editor.setPlainText("{}")
    panels.browser.open(saved["name"])
    assert json.loads(window.editor.toPlainText())["name"] == "shop/cart.paid"


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

"""What the window says about the event and its send: the name field, the dedup banner,
the "Send anyway?" and "Duplicate ids" questions, the status bar, the send log."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from console.core.schemas import SchemaLibrary
from console.ui.main_window import NAME_PLACEHOLDER, MainWindow
from console.ui.send_log import COLUMNS as LOG_COLUMNS
from console.ui.send_log import LogRow
from tests.ui.conftest import wait_until
from tests.ui.test_main_window import dialog, open_window, start_on_inbox

SIGNUP_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["plan"],
    "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}},
}


def test_the_name_field_is_cleared_when_the_event_has_no_name_or_does_not_parse(
        qtbot, app_home, run_async, monkeypatch):
    """It kept showing a name the event no longer had (its line deleted, the text broken
    or emptied), as if Send would send that name."""
    from console.ui.editor.scheduler import AT_ONCE_CHARS

    _context, window = open_window(qtbot)
    field, editor = window.name_field, window.editor
    assert field.text() == "app/user.signed_up"  # the starter event
    editor.setFocus()
    cursor = editor.textCursor()  # the "name" line deleted by hand, as QA did it
    cursor.movePosition(cursor.MoveOperation.Start)
    cursor.movePosition(cursor.MoveOperation.Down)
    cursor.movePosition(cursor.MoveOperation.Down, cursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    QTest.keyClick(editor, Qt.Key.Key_Delete)
    assert '"name"' not in editor.toPlainText() and json.loads(editor.toPlainText())
    assert field.text() == "" and field.placeholderText() == NAME_PLACEHOLDER
    for text in ('{"name": "app/x", "data": {', "", '{"name": 42}'):  # broken, empty, no str
        editor.setPlainText('{"name": "app/before"}')
        assert field.text() == "app/before"
        editor.setPlainText(text)
        assert field.text() == "" and field.isEnabled(), text

    # a big text is still not parsed per key: its check clears the field
    parses: list[int] = []
    real = window._name_from_editor
    monkeypatch.setattr(window, "_name_from_editor",
                        lambda: parses.append(len(window.event_text())) or real())
    big = json.dumps({"name": "big/one", "data": {"blob": "x" * AT_ONCE_CHARS}})
    editor.setPlainText(big)
    run_async(wait_until(lambda: field.text() == "big/one", message="the big event's name"))
    editor.setPlainText(big[:-1])  # the closing brace gone: not JSON
    assert parses == []
    run_async(wait_until(lambda: field.text() == "", message="the field cleared by the check"))


def test_an_event_no_request_carries_is_refused_where_it_is_written(qtbot, app_home):
    """The status bar said "event 0" for the editor's only event (the list index); and the
    editor underlined nothing though Send refused it (it fits the Dev Server's 3 MiB per
    event, not its 512 KiB per request)."""
    _context, window = open_window(qtbot)
    window.select_environment("Dev Server")  # requests of at most 512 KiB
    big = {"name": "app/mid", "data": {"blob": "y" * (600 * 1024)}}
    refused = ("Event is 614,437 bytes; in a request of its own it makes 614,439 bytes, over "
               "the request limit of 524,288 bytes")
    window.editor.setPlainText(json.dumps(big))
    qtbot.waitUntil(lambda: [p.message for p in window.editor.problems()] == [refused],
                    timeout=5000)
    window.send()
    assert window.statusBar().currentMessage() == f"Not sent: line 1, column 1: {refused}"
    window.editor.setPlainText(json.dumps([{"name": "app/small"}, big]))
    window.send()
    assert window.statusBar().currentMessage().startswith(
        "Not sent: line 1, column 25: Event is ")  # the second event


def answer_send_anyway(window: MainWindow, seen: list[str]) -> None:
    """Answer the next "Send anyway?" question No, keeping its text."""

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, answer)
            return
        seen.append(box.text())
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(0, answer)


def test_send_anyway_says_what_the_warnings_are_and_no_says_not_sent(
        qtbot, app_home, tmp_path):
    """It always said "The event does not match its schema", with no schema at all; and
    after No the status bar kept whatever it said before."""
    _context, window = open_window(qtbot)
    window.panels.library = SchemaLibrary.from_files(
        [("app__signup.json", json.dumps(SIGNUP_SCHEMA))])
    typo = tmp_path / "typo.json"
    typo.write_text('{"name": "app/x", "dta": {}}\n')
    window.open_files([str(typo)])
    assert window.statusBar().currentMessage() == "Opened typo.json"
    seen: list[str] = []
    answer_send_anyway(window, seen)
    window.send()
    [text] = seen
    assert text.startswith('The event has warnings:\n\nline 1:26: Unknown event field "dta"')
    assert "schema" not in text and text.endswith("Inngest will accept it. Send anyway?")
    assert window.statusBar().currentMessage() == "Not sent"

    cases = {
        '{"name": "app/signup", "data": {"plan": "gold"}}': "The event does not match its "
                                                           "schema:\n\nline 1:41: ",
        '{"name": "app/signup", "dta": 1, "data": {"plan": "gold"}}':
            "The event does not match its schema and has other warnings:\n\n",
        '[{"name": "app/signup", "data": {"plan": "gold"}}, {"name": "app/y"}]':
            "The events do not match their schemas:\n\n",
    }
    for event, headline in cases.items():
        window.editor.setPlainText(event)
        window.statusBar().showMessage("Ready")
        answer_send_anyway(window, seen)
        window.send()
        assert seen[-1].startswith(headline), seen[-1]
        assert window.statusBar().currentMessage() == "Not sent"


def test_the_duplicate_dialog_says_whether_ids_repeat_the_batch_or_earlier_sends(
        qtbot, app_home, run_async):
    """For duplicates within the batch only, it said they repeated "an id sent in the last
    24 hours", though nothing had been sent."""
    context, window = open_window(qtbot)
    composer = window.composer

    async def question() -> str:
        await wait_until(lambda: dialog(window) is not None, message="the duplicate dialog")
        box = dialog(window)
        text = box.text()
        box.button(QMessageBox.StandardButton.Cancel).click()
        await wait_until(lambda: window.statusBar().currentMessage() == "Not sent",
                         message="cancelled")
        await wait_until(lambda: not window._checking, message="the check over")
        return text

    async def session():
        await start_on_inbox(context, window)
        composer.add_events([{"name": "d/a", "id": "a-1"}, {"name": "d/b", "id": "b-1"}])
        composer.select_rows([0])
        composer.view.setFocus()
        QTest.keyClick(composer.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        assert [e["id"] for e in composer.batch.events] == ["a-1", "a-1", "b-1"]
        window.send()
        text = await question()
        assert text.startswith("1 of 3 event(s) repeat the id of an earlier event in this "
                               "batch.\nInngest will accept them and start no runs."), text
        assert "24 hours" not in text.split("\n")[0]
        assert context.inbox.events == []

        composer.select_rows([0, 1, 2])  # the batch emptied; one id sent from the editor
        composer.remove_selected()
        window.editor.setPlainText('{"name": "d/b", "id": "b-1"}')
        window.send()
        await wait_until(lambda: len(context.inbox.events) == 1, message="the first send")
        await wait_until(lambda: not window.flow.sending, message="first send finished")
        composer.add_events([{"name": "d/b", "id": "b-1"}, {"name": "d/c", "id": "c-1"},
                             {"name": "d/c", "id": "c-1"}])
        window.send()
        text = await question()
        assert text.startswith(
            "2 of 3 event(s) repeat an id: 1 of an event sent in the last 24 hours, 1 of an "
            "earlier event in this batch.\n"), text
        assert len(context.inbox.events) == 1
        await context.shutdown()

    run_async(session(), timeout=40)


def test_the_dedup_banner_hides_when_the_editor_does_not_parse(qtbot, app_home, run_async):
    """It went on describing the last text that parsed ("1 event has no dedup id")."""
    context, window = open_window(qtbot)
    banner = window.dedup.banner

    async def session():
        await start_on_inbox(context, window)
        window.editor.setPlainText('[{"name": "app/a", "id": "x"}, {"name": "app/b", "id": "x"}]')
        await wait_until(lambda: "Duplicate" in banner.label.text() and banner.isVisible(),
                         message="the banner on the array's duplicate")
        window.editor.setPlainText('[{"name": "app/a", "id": "x"}, {"name": "app/b", "id": ')
        await wait_until(lambda: not banner.isVisible(), message="the banner hidden")
        window.editor.setPlainText('{"name": "app/c"}')  # parses again: shown again
        await wait_until(lambda: banner.isVisible(), message="the banner again")
        assert "This event has no dedup id" in banner.label.text()
        window.editor.setPlainText('"just a string"')  # JSON, but no event to check
        await wait_until(lambda: not banner.isVisible(), message="hidden for a non-event")
        await context.shutdown()

    run_async(session(), timeout=30)


def test_the_send_logs_status_column_shows_sending_whole(qtbot, app_home):
    """At its default width the column showed "sendin…"."""
    _context, window = open_window(qtbot)
    window.tabs.setCurrentWidget(window.log_view)
    window.log_model.append(LogRow("Inbox", ["app/x"], 1, 40))  # not answered yet
    status = LOG_COLUMNS.index("Status")
    assert window.log_model.data(window.log_model.index(0, status)) == "sending…"
    view = window.log_view
    assert view.sizeHintForColumn(status) <= view.columnWidth(status)


def test_the_edit_menu_runs_the_editors_own_actions(qtbot, app_home):
    """The menu held actions named after the editor's keys ("format", "minify"…) that did
    nothing when clicked."""
    _context, window = open_window(qtbot)
    by_text = {a.text(): a for a in window.edit_menu.actions()}
    for label in ("Format Document", "Minify Document", "Insert Skeleton", "Suggest"):
        assert label in by_text, sorted(by_text)
    assert "format" not in by_text
    window.editor.setPlainText('{"name": "menu/x", "data": {"a": 1}}')
    by_text["Format Document"].trigger()
    assert window.editor.toPlainText() == '{\n  "name": "menu/x",\n  "data": {\n    "a": 1\n  }\n}'
    by_text["Minify Document"].trigger()
    assert window.editor.toPlainText() == '{"name":"menu/x","data":{"a":1}}'


def test_an_event_nested_too_deep_for_python_is_not_a_bug(qtbot, app_home):
    """json.loads raised RecursionError out of the window's own parse of the editor (a bug
    dialog per edit); the check names the nesting instead."""
    _context, window = open_window(qtbot)
    window.editor.setPlainText('{"name": "app/deep", "data": {"x": ' + "[" * 5000 + "]" * 5000
                               + "}}")
    assert window.editor_value() == (False, None)


def test_a_dev_server_that_is_not_running_says_what_to_do(qtbot, app_home, run_async):
    """A new user's first Send (the Dev Server is picked at first start) said "could not
    connect … All connection attempts failed" and nothing more."""
    import socket

    from console.services.environments import Environment

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        origin = f"http://127.0.0.1:{probe.getsockname()[1]}"
    context, window = open_window(qtbot)

    async def session():
        await context.start(inbox_port=0)
        context.environments.put(Environment("Local Dev", "dev", origin, origin))
        window.select_environment("Local Dev")
        window.editor.setPlainText('{"name": "app/first", "data": {}}')
        window.send()
        await wait_until(lambda: not window.flow.sending and window.log_model.rows,
                         message="answered", timeout=20)
        message = window.statusBar().currentMessage()
        port = origin.rsplit(":", 1)[1]  # not the Dev Server's 8288: said
        assert message == (f"0 of 1 accepted by Local Dev — nothing answers at {origin}: is "
                           "the Dev Server running? Start it with `npx inngest-cli@latest "
                           f"dev --port {port}`, or pick Inbox, the built-in one"), message
        assert "connection refused: nothing listens there" in window.log_model.rows[-1].error
        await context.shutdown()

    run_async(session(), timeout=40)


def test_a_number_beyond_json_beside_a_placeholder_is_refused_where_it_is_written(
        qtbot, app_home):
    """The placeholder rendered 1e400 as Infinity, and Send said "line 1, column 1:
    Infinity is not valid JSON" with the caret at 1:1, while the editor underlined 1e400."""
    _context, window = open_window(qtbot)
    text = '{"name": "a", "data": {"p": "{{ \'😀\' * 3 }}", "q": 1e400}}'
    window.editor.setPlainText(text)
    window.editor.validate_now()
    beyond = ("A number beyond what JSON can carry (over ±1.8e308, or NaN or Infinity): "
              "Inngest refuses it")
    assert [(p.line, p.column, p.message) for p in window.editor.problems()] == [
        (1, 51, beyond)]
    window.send()
    assert window.statusBar().currentMessage() == f"Not sent: line 1, column 51: {beyond}"
    cursor = window.editor.textCursor()  # at 1e400 (the emoji before it is 2 UTF-16 units)
    assert text.encode("utf-16-le")[:cursor.position() * 2].decode("utf-16-le") == text[:50]

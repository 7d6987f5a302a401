"""The walking skeleton in the window: type an event, Ctrl+Enter, see the inbox's answer."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from console.core.template import TemplateEngine
from console.core.template_scope import render_text
from console.services.outcomes import PollPolicy
from console.services.paths import app_paths
from console.ui.context import AppContext
from console.ui.main_window import MainWindow
from console.ui.rich import shown
from console.ui.send_log import COLUMNS as LOG_COLUMNS
from tests.ui.conftest import wait_until


def open_window(qtbot):
    context = AppContext.create(app_paths())
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # shortcuts need an active window
    return context, window


async def start_on_inbox(context: AppContext, window: MainWindow) -> None:
    """Start the app's services (history, inbox on a free port) and pick the Inbox."""
    await context.start(inbox_port=0)
    window.inbox_started()
    window.select_environment("Inbox")


async def start_at(context, window: MainWindow, name: str, origin: str, rest: str = "",
                   **limits: int) -> None:
    """Start the window's services and select a custom environment `name` at `origin`
    (its REST API at `rest`; none by default)."""
    from console.services.environments import Environment

    await context.start(inbox_port=0)
    context.environments.put(Environment(name, "custom", origin, rest, **limits))
    window.select_environment(name)


async def send_with_key(window: MainWindow, key: str) -> None:
    """Send to a custom environment with its key from INNGEST_EVENT_KEY (read once Send
    has checked the events, off the Qt thread)."""
    os.environ["INNGEST_EVENT_KEY"] = key
    try:
        window.send()
        await wait_until(lambda: not window._checking, message="the key read")
    finally:
        del os.environ["INNGEST_EVENT_KEY"]


def test_ctrl_enter_sends_and_the_log_shows_the_inbox_id(qtbot, app_home, run_async):
    context, window = open_window(qtbot)

    async def session():
        await start_on_inbox(context, window)
        assert window.environment().event_origin == context.inbox.url
        window.editor.setPlainText("")
        window.editor.setFocus()
        QTest.keyClicks(window.editor, '{"name": "test/typed", "data": {"n": 1}}')
        assert json.loads(window.editor.toPlainText()) == {"name": "test/typed", "data": {"n": 1}}
        assert window.name_field.text() == "test/typed"
        QTest.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        rows = window.log_model.rows
        await wait_until(lambda: rows and rows[-1].status == 200, message="200 row")
        captured = context.inbox.events
        assert len(captured) == 1 and captured[0].name == "test/typed"
        assert rows[-1].ids == [captured[0].internal_id]
        assert window.log_model.data(window.log_model.index(0, 3)) == "200"
        await wait_until(lambda: window.inbox_panel.model.rowCount() == 1, message="inbox row")
        assert window.inbox_panel.model.events[0].internal_id == captured[0].internal_id
        bar = window.send_panel.bytes_bar  # a 40-byte send fills it (whole KiB left it at 0)
        await wait_until(lambda: not window.flow.sending, message="send finished")
        assert bar.value() == bar.maximum() > 0
        address = window.inbox_panel.address.text()  # plain text: no markup shown raw
        assert address == (f"Listening on {context.inbox.url} — point an app at it with "
                           f"INNGEST_DEV={context.inbox.url}")
        await context.shutdown()

    run_async(session())


def test_invalid_event_is_not_sent_and_says_where(qtbot, app_home, run_async):
    context, window = open_window(qtbot)

    async def session():
        await start_on_inbox(context, window)
        window.editor.setPlainText('{"name": "inngest/x", "data": {}}')
        window.send()
        message = window.statusBar().currentMessage()
        assert message.startswith("Not sent: line 1, column 10:"), message
        assert "reserved" in message
        window.editor.setPlainText('{"name": "a", "data": [1]')
        window.send()
        assert "line 1" in window.statusBar().currentMessage()
        assert context.inbox.events == []
        await context.shutdown()

    run_async(session())


def test_a_refused_send_of_text_with_placeholders_names_the_place_as_written(qtbot, app_home):
    """Send checks the rendered (pretty-printed) text: it said line 3, column 9 for a ts on
    line 1 and put the cursor there, while the underline was at line 1, column 21."""
    _context, window = open_window(qtbot)
    window.editor.setPlainText('{"name": "a", "ts": 5, "data": {"x": "{{ uuid() }}"}}')
    window.send()
    message = window.statusBar().currentMessage()
    assert message.startswith("Not sent: line 1, column 21: Timestamp is before"), message
    cursor = window.editor.textCursor()
    assert (cursor.blockNumber() + 1, cursor.positionInBlock() + 1) == (1, 21)
    window.editor.setPlainText('[{"name": "a", "data": {}},\n {"name": "{{ \'inngest/x\' }}"}]')
    window.send()  # found only in what the placeholder renders to: at the placeholder
    message = window.statusBar().currentMessage()
    assert message.startswith("Not sent: line 2, column 11:") and "reserved" in message, message


def test_unreachable_environment_keeps_the_window_running(qtbot, app_home, run_async):
    from console.services.client import EventApiClient, RetryPolicy, Timeouts
    from console.services.environments import Environment

    context, window = open_window(qtbot)
    context.client = EventApiClient(retry=RetryPolicy(max_attempts=2, base_delay=0.01),
                                    timeouts=Timeouts(connect=0.5, attempt=1.0))

    async def session():
        context.environments.put(Environment("Nowhere", "custom", "http://127.0.0.1:9",
                                             "http://127.0.0.1:9"))
        window.select_environment("Nowhere")
        await send_with_key(window, "unused-key-1234")
        rows = window.log_model.rows
        await wait_until(lambda: rows and not rows[-1].pending, message="failed row")
        await wait_until(lambda: not window.flow.sending, message="send finished")
        assert rows[-1].status is None and "could not connect" in rows[-1].error
        assert rows[-1].attempts == 2
        # the Outcome column says it as the history does, with its icon; the reason is in
        # the Error column beside it, and in the tooltip
        log = window.log_model
        outcome = log.index(len(rows) - 1, LOG_COLUMNS.index("Outcome"))
        assert log.data(outcome) == "not accepted"
        assert log.data(outcome, Qt.ItemDataRole.DecorationRole) is not None
        tooltip = shown(log.data(outcome, Qt.ItemDataRole.ToolTipRole))
        assert tooltip.startswith("The server did not accept this event")
        assert "unused-key-1234" not in tooltip and "could not connect" in tooltip
        assert "unused-key-1234" not in window.statusBar().currentMessage()
        assert "could not connect" in window.statusBar().currentMessage()
        await context.shutdown()

    run_async(session())


def test_name_field_edits_the_name_value_in_place(qtbot, app_home, qloop):
    _context, window = open_window(qtbot)
    window.editor.setPlainText('{\n  "data": {"a": 1},\n  "name": "old"\n}\n')
    window.name_field.setFocus()
    window.name_field.selectAll()
    QTest.keyClicks(window.name_field, "shop/cart.paid")
    assert window.editor.toPlainText() == '{\n  "data": {"a": 1},\n  "name": "shop/cart.paid"\n}\n'
    # text that is not one event: the typing is not silently dropped, it says why
    broken = '{"name": "old/name", "data": {"x": 1,}}'
    window.editor.setPlainText(broken)
    window.name_field.setFocus()
    QTest.keyClicks(window.name_field, "z")
    assert window.editor.toPlainText() == broken
    assert window.statusBar().currentMessage().startswith("The name was not applied: the "
                                                          "editor's text is not one JSON event")
    window.editor.setPlainText('[{"name": "a1"}, {"name": "a2"}]')  # several names: no field
    assert not window.name_field.isEnabled() and window.name_field.text() == ""
    window.editor.setPlainText('{"name": "one/again"}')
    assert window.name_field.isEnabled() and window.name_field.text() == "one/again"


def test_the_name_field_edits_the_name_the_server_reads_as_one_value(qtbot, app_home,
                                                                    monkeypatch):
    """With "NAME" the field was empty, and typing added a "name" the server ignores (the
    last of the keys wins); on a 2 MB event each key re-parsed and replaced all of it."""
    _context, window = open_window(qtbot)
    window.editor.setPlainText('{"NAME": "shop/order", "data": {}}')
    assert window.name_field.text() == "shop/order"
    window.name_field.setFocus()
    window.name_field.selectAll()
    QTest.keyClicks(window.name_field, "q")
    assert window.editor.toPlainText() == '{"NAME": "q", "data": {}}'
    window.editor.setPlainText('{"name": "a", "Name": null, "NAME": "b"}')
    window.name_field.setFocus()
    window.name_field.selectAll()
    QTest.keyClicks(window.name_field, "c")  # the last set one is the name read
    assert window.editor.toPlainText() == '{"name": "a", "Name": null, "NAME": "c"}'
    big = '{\n  "data": {"blob": "' + "x" * 2_000_000 + '"},\n  "name": "big/one"\n}\n'
    window.editor.setPlainText(big)
    whole: list[int] = []  # replace_text re-parses the document and replaces all of it
    monkeypatch.setattr(window.editor, "replace_text", lambda text: whole.append(len(text)))
    window.name_field.setFocus()
    window.name_field.selectAll()
    QTest.keyClicks(window.name_field, "big/two")
    assert window.editor.toPlainText() == big.replace("big/one", "big/two")
    assert whole == []  # one value edited, found by the C scanner
    window.editor.undo()
    assert window.editor.toPlainText() == big.replace("big/one", "big/tw")


def test_the_name_field_follows_the_editor_without_a_parse_per_key_in_big_text(
        qtbot, app_home, run_async, monkeypatch):
    """A key typed in a big document must not wait for a parse of all of it."""
    from console.ui.editor.scheduler import AT_ONCE_CHARS

    _context, window = open_window(qtbot)
    window.editor.setPlainText('{"name": "small/one", "data": {}}')
    assert window.name_field.text() == "small/one"  # at once, before any check
    parses: list[int] = []
    real = window._name_from_editor
    monkeypatch.setattr(window, "_name_from_editor",
                        lambda: parses.append(len(window.event_text())) or real())
    big = json.dumps({"name": "big/one", "data": {"blob": "x" * AT_ONCE_CHARS}})
    window.editor.setPlainText(big)
    assert parses == []  # not parsed on the keystroke path...
    run_async(wait_until(lambda: window.name_field.text() == "big/one",
                         message="the name from the editor's check"))  # ...but by the check
    window.editor.setFocus()
    QTest.keyClicks(window.editor, "ab")
    assert parses == []
    # the placeholder preview, the other per-key follower, waits for a pause the same way
    preview = window.panels.preview
    templated = big.replace('"data": {', '"data": {"n": "{{ seq }}", ')
    window.editor.setPlainText(templated)
    assert preview.isHidden()
    run_async(wait_until(lambda: not preview.isHidden(), message="the placeholder preview"))


def dialog(window: MainWindow) -> QMessageBox | None:
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    return boxes[0] if boxes else None


def test_same_id_twice_warns_before_and_confirms_deduplicated_after(qtbot, app_home, run_async):
    context, window = open_window(qtbot)
    context.poll_policy = PollPolicy(total=3.0)  # "no runs" is concluded after this long
    event = '{"name": "shop/order.paid", "id": "order-42-paid", "data": {"order": 42}}'

    async def session():
        await start_on_inbox(context, window)
        window.editor.setPlainText(event)
        window.send()
        rows = window.log_model.rows
        await wait_until(lambda: rows and rows[-1].outcome_kind == "ran", timeout=15,
                         message="first send confirmed as ran")
        assert rows[-1].outcome == "ran: 1 run"
        first_id = rows[-1].ids[0]
        await wait_until(lambda: not window.flow.sending, message="first send finished")
        # before the second send: the banner predicts the duplicate
        window.editor.setPlainText(event + "\n")
        await wait_until(lambda: window.dedup.banner.isVisible(), message="dedup warning")
        warning = window.dedup.banner.label.text()
        assert "order-42-paid" in warning and "start no runs" in warning, warning
        window.send()
        # the real dialog, window-modal: the loop goes on running every other task (this
        # one included) while it waits for an answer
        await wait_until(lambda: dialog(window) is not None, message="the duplicate dialog")
        box = dialog(window)
        assert box.text().startswith("1 of 1 event(s) repeat an id sent in the last 24 hours")
        beats = 0
        for _ in range(5):
            await asyncio.sleep(0.02)
            beats += 1
        assert beats == 5 and dialog(window) is box and len(rows) == 1  # nothing sent yet
        next(b for b in box.buttons() if b.text() == "Send anyway").click()
        await wait_until(lambda: len(rows) == 2 and rows[-1].outcome_kind == "deduplicated",
                         timeout=15, message="second send confirmed as deduplicated")
        await wait_until(lambda: not window.flow.sending, message="second send finished")
        assert dialog(window) is None
        assert rows[-1].outcome.startswith(f"deduplicated: no runs (first seen as {first_id}")
        assert window.statusBar().currentMessage() == "Inbox: 1 accepted · 1 deduplicated"
        tip = shown(window.log_model.data(window.log_model.index(1, 8),
                                          Qt.ItemDataRole.ToolTipRole))
        assert "started no runs" in tip
        history = await context.history.query()
        sent = [(r.outcome, r.source, r.predicted) for r in history if r.source == "sent"]
        assert sent == [("deduplicated", "sent", "duplicate"), ("ran", "sent", "new")]
        assert sum(r.source == "captured" for r in history) == 2
        await context.shutdown()

    run_async(session(), timeout=40)


def test_the_banner_judges_the_event_as_send_renders_it(qtbot, app_home, run_async):
    """The banner judged the editor's template text: an id kept as text by {% raw %} (an
    event opened from the Inbox tab) was "no dedup id" before the send, and only the
    send's own check found the duplicate."""
    context, window = open_window(qtbot)
    context.poll_policy = PollPolicy(total=0.3)
    sent = '{"name": "lit/x", "id": "ord-{{x}}", "data": {}}'

    async def session():
        await start_on_inbox(context, window)
        window.panels._send_again(sent, "Inbox")  # History's Send again: as it was
        await wait_until(lambda: window.log_model.rows, message="sent")
        await wait_until(lambda: not window.flow.sending, message="send finished")
        window.editor.setPlainText(
            '{"name": "lit/x", "id": "{% raw %}ord-{{x}}{% endraw %}", "data": {}}')
        await wait_until(lambda: window.dedup.banner.isVisible(), message="dedup warning")
        warning = window.dedup.banner.label.text()
        assert "ord-{{x}}" in warning and "start no runs" in warning, warning
        await context.shutdown()

    run_async(session(), timeout=40)


def test_the_banner_renders_the_editor_only_when_an_id_holds_a_placeholder(qtbot, app_home,
                                                                           monkeypatch):
    """A slow template was rendered twice at every pause in typing (the preview's render,
    then the banner's): 4 s of freeze instead of 2 for a template stopped at its limit."""
    _context, window = open_window(qtbot)
    renders: list[str] = []
    render = window._render
    monkeypatch.setattr(window, "_render", lambda text: (renders.append(text), render(text))[1])
    window.editor.setPlainText('{"name": "s/x", "id": "s-1", "data": {"n": "{{ 1 + 1 }}"}}')
    assert window.editor_value_as_sent() == (
        True, {"name": "s/x", "id": "s-1", "data": {"n": "{{ 1 + 1 }}"}})
    assert renders == []  # the id is what the banner judges, and it is as written
    window.editor.setPlainText('[{"name": "s/x", "id": "s-{{ 1 + 1 }}"}, {"name": "s/y"}]')
    assert window.editor_value_as_sent() == (True, [{"name": "s/x", "id": "s-2"},
                                                    {"name": "s/y"}])
    assert len(renders) == 1


def test_an_id_another_app_sent_to_the_inbox_is_predicted_as_a_duplicate(qtbot, app_home,
                                                                          run_async):
    """An app's event captured by the window's inbox, opened and sent again: "new" was
    predicted (captures were not in the ledger), then "no runs". The inbox renamed, its
    captures go under its name, as sends to it do."""
    from dataclasses import replace

    import httpx

    context, window = open_window(qtbot)
    context.poll_policy = PollPolicy(total=0.3)

    async def session():
        await start_on_inbox(context, window)
        inbox = context.environments.get("Inbox")
        context.environments.put(replace(inbox, name="Local Inbox"), replacing="Inbox")
        window.environments_changed()
        window.select_environment("Local Inbox")
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{context.inbox.url}/e/key",
                                       json={"name": "ext/app", "id": "EXT1", "data": {}})
        assert answer.status_code == 200
        await wait_until(lambda: window.inbox_panel.model.rowCount() == 1, message="captured")
        window.editor.setPlainText('{"name": "ext/app", "id": "EXT1", "data": {}}')
        await wait_until(lambda: window.dedup.banner.isVisible(), message="dedup warning")
        assert "EXT1" in window.dedup.banner.label.text()
        rows = await context.history.query()
        assert [(r.env, r.source) for r in rows] == [("Local Inbox", "captured")]
        await context.shutdown()

    run_async(session(), timeout=40)


def test_the_inbox_tab_opens_and_saves_an_event_as_the_app_sent_it(qtbot, app_home,
                                                                   run_async):
    """The inbox keeps the receipt time as `ts`: Open and Save as template took it, so the
    template sent that fixed time ever after."""
    import httpx

    context, window = open_window(qtbot)

    async def session():
        await start_on_inbox(context, window)
        async with httpx.AsyncClient() as client:
            await client.post(f"{context.inbox.url}/e/key",
                              json={"name": "cap/a", "data": {"x": 1}})
        await wait_until(lambda: window.inbox_panel.model.rowCount() == 1, message="captured")
        assert "ts" in context.inbox.events[0].event  # what the inbox keeps
        panel = window.inbox_panel
        panel.table.selectRow(0)
        panel.template_button.click()
        name = next(iter(window.panels.workspace.templates))
        assert window.panels.workspace.templates[name].event == {
            "name": "cap/a", "data": {"x": 1}}
        panel.open_button.click()
        assert json.loads(window.editor.toPlainText()) == {"name": "cap/a", "data": {"x": 1}}
        await context.shutdown()

    run_async(session(), timeout=40)


def test_new_ids_for_the_duplicates_of_a_batch_or_an_editor_array(qtbot, app_home, run_async):
    context, window = open_window(qtbot)
    context.poll_policy = PollPolicy(total=0.5)
    sent_before = [{"name": "shop/a", "id": "a-1", "data": {}},
                   {"name": "shop/c", "id": "c-1", "data": {}}]
    batch = [sent_before[0], {"name": "shop/b", "id": "b-1", "data": {}}, sent_before[1]]
    composer, banner = window.composer, window.dedup.banner

    def ids() -> list[str]:
        return [e["id"] for e in composer.batch.events]

    async def session():
        await start_on_inbox(context, window)
        window.editor.setPlainText(json.dumps(sent_before))
        window.send()
        await wait_until(lambda: len(context.inbox.events) == 2, message="first send")
        await wait_until(lambda: not window.flow.sending, message="first send finished")

        composer.add_events(batch)
        # the batch's #1 and #3 (the editor's array, checked after the send, has #1 and #2)
        await wait_until(lambda: banner.isVisible()
                         and [p.index for p in banner.duplicates] == [0, 2],
                         message="two duplicates in the batch")
        assert banner.regenerate_button.isVisible() and banner.drop_button.isVisible()
        banner.regenerate_button.click()
        fresh = ids()
        assert fresh[1] == "b-1" and "a-1" not in fresh and "c-1" not in fresh
        assert all(len(i) == 26 for i in (fresh[0], fresh[2])) and fresh[0] != fresh[2]
        await wait_until(lambda: not banner.isVisible(), message="no duplicates left")
        composer.undo_stack.undo()  # one step puts both old ids back
        assert ids() == ["a-1", "b-1", "c-1"]

        window.send()  # the dialog's "New ids and send": fresh ids, then the batch goes
        await wait_until(lambda: dialog(window) is not None, message="the duplicate dialog")
        next(b for b in dialog(window).buttons() if b.text() == "New ids and send").click()
        await wait_until(lambda: len(context.inbox.events) == 5, message="second send")
        received = [e.event["id"] for e in context.inbox.events[2:]]
        assert received == ids() and received[1] == "b-1" and received[0] != "a-1"
        await wait_until(lambda: not window.flow.sending, message="second send finished")

        # an array in the editor (empty batch): only the duplicate's id changes in the text
        composer.undo_stack.undo()
        composer.undo_stack.undo()  # the batch is empty again (the add undone)
        assert len(composer.batch) == 0
        text = ('[\n  {"name": "shop/a", "id": "a-1", "data": {}},\n'
                '  {"name": "shop/d", "id": "d-1"}\n]')
        window.editor.setPlainText(text)
        await wait_until(lambda: [p.index for p in banner.duplicates] == [0],
                         message="the editor's duplicate")
        banner.regenerate_button.click()
        renewed = window.editor.toPlainText()
        new_id = json.loads(renewed)[0]["id"]
        assert new_id != "a-1" and renewed == text.replace('"a-1"', json.dumps(new_id))
        # an id written "ID" (the server reads it as the id): New ids wrote "/id", found
        # none, and changed nothing; in a batch it added an "id" the server does not read
        upper = '{"name": "shop/c", "ID": "c-1"}'
        window.editor.setPlainText(upper)
        await wait_until(lambda: [p.index for p in banner.duplicates] == [0],
                         message="the editor's ID duplicate")
        banner.regenerate_button.click()
        renewed_id = json.loads(window.editor.toPlainText())["ID"]
        assert renewed_id != "c-1" and window.editor.toPlainText() == upper.replace(
            '"c-1"', json.dumps(renewed_id))
        composer.add_events([{"name": "shop/c", "id": "x", "ID": "c-1"}])
        await wait_until(lambda: [p.index for p in banner.duplicates] == [0],
                         message="the batch's ID duplicate")
        banner.regenerate_button.click()
        [event] = composer.batch.events
        assert event["id"] == "x" and event["ID"] not in ("c-1", "x")
        await wait_until(lambda: not banner.isVisible(), message="no duplicate left")
        await context.shutdown()

    run_async(session(), timeout=40)


def test_a_second_send_while_the_first_is_checked_sends_nothing(qtbot, app_home, run_async):
    """Ctrl+Enter twice in quick succession: the second arrives while the first is still
    asking the ledger about its ids (before the send starts) and must not send again."""
    context, window = open_window(qtbot)

    async def session():
        await start_on_inbox(context, window)
        window.editor.setPlainText('{"name": "shop/once", "data": {}}')
        window.send()
        window.send()  # the ledger has not answered yet: nothing has started
        assert window.statusBar().currentMessage().startswith(
            "The last Send is still reading its key and checking its ids")
        await wait_until(lambda: len(context.inbox.events) == 1, message="one send")
        await wait_until(lambda: not window.flow.sending, message="send finished")
        await asyncio.sleep(0.3)
        assert len(context.inbox.events) == 1
        window.send()  # and once it has finished, Send sends again
        await wait_until(lambda: len(context.inbox.events) == 2, message="second send")
        await context.shutdown()

    run_async(session(), timeout=40)


def test_send_preview_and_save_wait_for_a_big_import_into_the_batch(qtbot, app_home, run_async,
                                                                    tmp_path):
    """Send pressed while a big file was still being checked sent the editor's event:
    the batch was still empty, so Send took the editor's text."""
    from console.ui.batch.importing import BACKGROUND_IMPORT_CHARS

    context, window = open_window(qtbot)
    context.poll_policy = PollPolicy(total=0.5)
    big = tmp_path / "big.jsonl"
    rows = ({"name": "shop/imported", "data": {"i": i, "pad": "x" * 900}} for i in range(3_000))
    big.write_text("\n".join(json.dumps(row) for row in rows))
    assert big.stat().st_size > BACKGROUND_IMPORT_CHARS

    async def session():
        await start_on_inbox(context, window)
        window.editor.setPlainText('{"name": "shop/editor", "data": {}}')
        assert window.composer.import_file(big) and window.composer.importing is not None
        window.send()
        assert window.statusBar().currentMessage() == (
            "Not sent: still importing big.jsonl: try again when it is done")
        window.preview()
        assert window.statusBar().currentMessage().startswith("Nothing to preview: still")
        assert not window.composer.preview_button.isEnabled()  # the batch's own Preview
        assert window.panels.save_batch_as_scenario("while importing") is None
        assert window.statusBar().currentMessage().startswith("Not saved: still importing")
        assert await window.composer.importing
        assert window.composer.preview_button.isEnabled()
        await asyncio.sleep(0.3)
        assert context.inbox.events == []  # the editor's event never went
        window.send()  # and once the rows are in, Send sends them
        await wait_until(lambda: len(context.inbox.events) == 3_000, message="the batch")
        assert {e.name for e in context.inbox.events} == {"shop/imported"}
        await wait_until(lambda: not window.flow.sending, message="send finished")
        await context.shutdown()

    run_async(session(), timeout=60)


def test_captured_and_sent_text_that_reads_as_a_placeholder_goes_again_as_it_was(
        qtbot, app_home, run_async):
    """An app's mail subject "Total: {{ 1 + 1 }}" captured by the inbox was rendered when
    opened (and resent as "Total: 2"); "Hi {{ name }}" could not be opened with a batch;
    History's Send again rendered it too."""
    import httpx

    from console.core.scenario import FORMAT_TEMPLATE

    context, window = open_window(qtbot)
    context.poll_policy = PollPolicy(total=0.3)
    total = {"name": "mail/send", "data": {"subject": "Total: {{ 1 + 1 }}\r\nEnd"}}
    hello = {"name": "mail/send", "data": {"subject": "Hi {{ name }}"}}
    percent = {"name": "mail/send", "data": {"subject": "50{% off {# now"}}  # no {{ at all

    async def session():
        await start_on_inbox(context, window)
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{context.inbox.url}/e/key",
                                       json=[total, hello, percent])
        assert answer.status_code == 200
        await wait_until(lambda: window.inbox_panel.model.rowCount() == 3, message="captured")
        panel = window.inbox_panel

        def open_captured(sent):
            for row in range(panel.model.rowCount()):
                panel.table.selectRow(row)
                if panel.selected().event["data"] == sent["data"]:
                    panel.open_button.click()
                    return
            raise AssertionError(f"not captured: {sent}")

        for sent in (total, percent):  # the CRLF kept, no {% raw %} left in it
            open_captured(sent)
            count = len(context.inbox.events)
            window.send()
            await wait_until(lambda n=count: len(context.inbox.events) == n + 1, message="again")
            assert context.inbox.events[-1].event["data"] == sent["data"]
            await wait_until(lambda: not window.flow.sending, message="send finished")
        window.composer.add_events([{"name": "shop/row", "data": {}}])
        open_captured(hello)  # with a batch: a new row, as it was captured
        open_captured(total)
        subjects = [e["data"]["subject"] for e in window.composer.batch.events[1:]]
        assert sorted(subjects) == ["Hi {{ name }}", "Total: {{ 1 + 1 }}\r\nEnd"]
        count = len(context.inbox.events)
        window.panels.history.sendAgainRequested.emit(json.dumps(hello), "Inbox")
        await wait_until(lambda: len(context.inbox.events) == count + 1,
                         message="history's again")
        assert context.inbox.events[-1].event["data"] == hello["data"]
        await wait_until(lambda: not window.flow.sending, message="send finished")
        saved = window.panels._save_text_as_template(json.dumps(hello), "hello", literal=True)
        assert saved == "hello"
        file = window.panels.workspace.path_of("templates", "hello")
        document = json.loads(file.read_text())
        assert document["format"] == FORMAT_TEMPLATE
        rendered, error = render_text(json.dumps(document), TemplateEngine())
        assert error is None and json.loads(rendered)["data"] == hello["data"]
        await context.shutdown()

    run_async(session(), timeout=40)


def test_a_history_that_cannot_record_stops_the_send_and_is_then_off(qtbot, app_home,
                                                                     run_async):
    """Another program held the history's write lock past the wait (or it was made read-only,
    or damaged): Send failed in a task, the status bar kept saying "Sending to Inbox…", and
    every later Send did the same."""
    import sqlite3

    context, window = open_window(qtbot)

    async def session():
        await start_on_inbox(context, window)
        window.editor.setPlainText('{"name": "shop/locked", "data": {}}')
        locker = sqlite3.connect(str(context.paths.history_db), isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # the write lock, held
        try:
            window.send()
            await wait_until(lambda: window.statusBar().currentMessage().startswith(
                "Not sent: the history could not record the send ("), timeout=20,
                message="the reason")
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        message = window.statusBar().currentMessage()
        assert message.endswith("It is off for this session: Send goes without it")
        assert context.history is None and context.inbox.events == []
        [row] = window.log_model.rows
        assert row.error == "not sent: the history could not record it"
        assert not window.flow.sending
        window.send()
        await wait_until(lambda: len(context.inbox.events) == 1, message="sent without it")
        await wait_until(lambda: not window.flow.sending, message="send finished")
        assert window.log_model.rows[-1].status == 200
        assert any(n.startswith("History is off for this session: ") for n in context.notices)
        await context.shutdown()

    run_async(session(), timeout=60)


def test_send_again_from_history_sends_only_that_event(qtbot, app_home, run_async):
    """With a batch in the window, History's Send again used to load the event into the
    editor (which edits the selected batch row, overwriting it) and send the whole batch."""
    context, window = open_window(qtbot)
    batch = [{"name": "shop/a", "data": {"n": 1}}, {"name": "shop/b", "data": {"n": 2}}]
    again = {"name": "shop/again", "id": "again-1", "data": {}}

    async def session():
        await context.start(inbox_port=0)
        window.inbox_started()
        window.select_environment("Dev Server")
        window.composer.add_events(batch)
        window.composer.select_rows([0])
        shown_before = window.editor.toPlainText()
        window.panels.history.sendAgainRequested.emit(json.dumps(again), "Inbox")
        await wait_until(lambda: len(context.inbox.events) == 1, message="the one event")
        await wait_until(lambda: not window.flow.sending, message="send finished")
        [received] = context.inbox.events
        assert {k: received.event[k] for k in again} == again  # the inbox adds a ts
        assert window.composer.batch.events == batch  # the selected row is not overwritten
        assert window.editor.toPlainText() == shown_before
        assert window.environment().name == "Dev Server"
        # again: now a duplicate; "New ids and send" renews that event, not the batch's
        window.panels.history.sendAgainRequested.emit(json.dumps(again), "Inbox")
        await wait_until(lambda: dialog(window) is not None, message="the duplicate dialog")
        next(b for b in dialog(window).buttons() if b.text() == "New ids and send").click()
        await wait_until(lambda: len(context.inbox.events) == 2, message="sent with a new id")
        renewed = context.inbox.events[1].event
        assert renewed["name"] == "shop/again" and renewed["id"] != "again-1"
        assert window.composer.batch.events == batch  # its rows keep their ids
        await wait_until(lambda: not window.flow.sending, message="second send finished")
        await context.shutdown()

    run_async(session(), timeout=40)


def test_resend_the_rest_sends_what_the_failed_send_sent_to_where_it_went(
        qtbot, app_home, run_async):
    """Resend the rest used to pick the failed rows out of the batch as it is now: after
    an editor send it raised IndexError; after History's Send again it sent batch rows."""
    from console.services.client import EventApiClient, RetryPolicy, Timeouts
    from console.services.environments import Environment

    context, window = open_window(qtbot)
    context.client = EventApiClient(retry=RetryPolicy(max_attempts=1, base_delay=0.01),
                                    timeouts=Timeouts(connect=0.5, attempt=1.0))
    nowhere = Environment("Flaky", "custom", "http://127.0.0.1:9", "http://127.0.0.1:9")
    panel = window.send_panel

    async def fail_then_resend(send: Callable[[], None]) -> None:
        context.environments.put(nowhere, replacing="Flaky")
        os.environ["INNGEST_EVENT_KEY"] = "unused-key-1234"
        try:
            send()
            await wait_until(lambda: panel.resend_button.isVisibleTo(panel),
                             message="Resend the rest offered")
            await wait_until(lambda: not window.flow.sending, message="failed send over")
            window.select_environment("Dev Server")  # the resend goes where the send went
            inbox = context.inbox.url
            context.environments.put(Environment("Flaky", "custom", inbox, inbox),
                                     replacing="Flaky")
            panel.resend_button.click()
            await wait_until(lambda: not window._checking, message="resend checked")
        finally:
            del os.environ["INNGEST_EVENT_KEY"]
        await wait_until(lambda: not window.flow.sending, message="resend over")

    async def session():
        await context.start(inbox_port=0)
        window.inbox_started()
        context.environments.put(nowhere)
        window.select_environment("Flaky")
        window.editor.setPlainText('{"name": "rest/editor", "data": {}}')
        await fail_then_resend(window.send)
        assert [e.name for e in context.inbox.events] == ["rest/editor"]

        window.composer.add_events([{"name": "rest/unrelated", "data": {}}])
        again = {"name": "rest/history", "data": {"n": 1}}
        await fail_then_resend(lambda: window.panels.history.sendAgainRequested.emit(
            json.dumps(again), "Flaky"))
        assert [e.name for e in context.inbox.events] == ["rest/editor", "rest/history"]
        assert context.inbox.events[1].event["data"] == {"n": 1}
        await context.shutdown()

    run_async(session(), timeout=40)


def test_a_whole_placeholder_is_checked_as_it_renders_and_batch_rows_are_rendered(
        qtbot, app_home):
    """`"ts": "{{ now_ms() }}"` renders to an integer when sent: the editor flagged it as a
    string (an error Send did not enforce), and Add to batch refused it."""
    _context, window = open_window(qtbot)
    text = ('{"name": "tpl/x", "data": {"n": "{{ 2 + 3 }}"}, "id": "o-{{ uuid() }}",'
            ' "ts": "{{ now_ms() }}"}')
    window.editor.setPlainText(text)
    window.editor.validate_now()
    assert window.editor.problems() == []
    window.editor.setPlainText('{"name": "tpl/x", "ts": "at {{ now_ms() }}"}')
    window.editor.validate_now()  # not one whole placeholder: a string, as before
    assert [p.message for p in window.editor.problems()] == [
        "Event ts must be an integer number of milliseconds, not a string"]

    window.editor.setPlainText(text)
    window.composer.add_current()
    [first] = window.composer.batch.events
    assert isinstance(first["ts"], int) and first["data"] == {"n": 5}
    assert first["id"].startswith("o-") and "{{" not in first["id"]
    window.open_event_text('{"name": "tpl/y", "data": {"x": "{{ vars.missing }}"}}')
    assert len(window.composer.batch) == 1  # nothing added, and the status bar says why
    assert window.statusBar().currentMessage().startswith("Not opened: placeholder at 1:")
    window.open_event_text('{"name": "tpl/y", "ts": "{{ now_ms() }}"}')
    assert [e["name"] for e in window.composer.batch.events] == ["tpl/x", "tpl/y"]
    assert isinstance(window.composer.batch.events[1]["ts"], int)


def test_opening_an_event_with_a_batch_adds_a_row_instead_of_overwriting_one(qtbot, app_home):
    _context, window = open_window(qtbot)
    composer = window.composer
    batch = [{"name": "shop/a", "data": {}}, {"name": "shop/b", "data": {}}]
    opened = {"name": "shop/template", "data": {"n": "{{ seq }}"}}
    window.open_event_text(json.dumps(opened))  # no batch: the editor shows it
    assert json.loads(window.editor.toPlainText()) == opened and len(composer.batch) == 0
    composer.add_events(batch)
    composer.select_rows([0])
    window.open_event_text(json.dumps(opened))  # a template's Open, the inbox's "Open"
    row = {"name": "shop/template", "data": {"n": 1}}  # as it will be sent: rendered
    assert composer.batch.events == [batch[0], row, batch[1]]
    assert composer.selected_rows() == [1]
    assert json.loads(window.editor.toPlainText()) == row
    composer.undo_stack.undo()
    assert composer.batch.events == batch


def test_undo_after_opening_an_event_brings_back_what_was_typed(qtbot, app_home):
    """A template's Open, the inbox's Open, Open Event File: the editor's text was replaced
    with no undo, and what the user had typed was lost."""
    _context, window = open_window(qtbot)
    typed = '{"name": "mine", "data": {"precious": 1}}'
    window.editor.setPlainText("")
    window.editor.setFocus()
    QTest.keyClicks(window.editor, typed)
    window.open_event_text('{"name": "shop/template", "data": {}}')
    assert json.loads(window.editor.toPlainText())["name"] == "shop/template"
    assert window.editor.textCursor().position() == 0
    window.editor.undo()
    assert window.editor.toPlainText() == typed
    window.editor.redo()
    assert json.loads(window.editor.toPlainText())["name"] == "shop/template"


def test_files_dropped_on_the_editor_are_opened_not_typed_in(qtbot, app_home, tmp_path):
    from PySide6.QtCore import QMimeData, QUrl

    _context, window = open_window(qtbot)

    def drop(*paths) -> None:  # what a file manager's drag carries: the files' URLs
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        assert window.editor.canInsertFromMimeData(mime)
        window.editor.insertFromMimeData(mime)

    one = tmp_path / "order.json"
    one.write_text('{\n  "name": "shop/order.paid",\n  "data": {"n": 1}\n}\n')
    drop(one)
    assert window.editor.toPlainText() == one.read_text()
    assert window.statusBar().currentMessage() == "Opened order.json"
    binary = tmp_path / "photo.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    drop(binary)
    assert window.statusBar().currentMessage().startswith("Not opened: photo.json: ")
    assert window.editor.toPlainText() == one.read_text()  # nothing lost
    lines = tmp_path / "events.jsonl"  # one event per line: the batch takes them
    lines.write_text('{"name": "a/1", "data": {}}\n{"name": "a/2", "data": {}}\n')
    drop(lines)
    assert [e["name"] for e in window.composer.batch.events] == ["a/1", "a/2"]
    mime = QMimeData()
    mime.setText('"typed"')  # ordinary text is still pasted as text
    window.composer.select_rows([0])
    window.editor.setPlainText("")
    window.editor.insertFromMimeData(mime)
    assert window.editor.toPlainText() == '"typed"'


def test_ctrl_shift_a_in_the_editor_adds_its_event_to_the_batch(qtbot, app_home):
    """The key was scoped to the batch list: pressed while typing, it did nothing."""
    _context, window = open_window(qtbot)
    window.editor.setPlainText('{"name": "keys/added", "data": {}}')
    window.editor.setFocus()
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(window.editor, Qt.Key.Key_A, mods)
    assert [e["name"] for e in window.composer.batch.events] == ["keys/added"]
    # Tab indents in the editor; Ctrl+Tab and Ctrl+Shift+Tab leave it (a keyboard trap)
    window.editor.setFocus()
    QTest.keyClick(window.editor, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert not window.editor.hasFocus() and window.focusWidget() is not None
    window.editor.setFocus()
    QTest.keyClick(window.editor, Qt.Key.Key_Backtab, mods)
    assert not window.editor.hasFocus()


def test_a_renamed_selected_environment_stays_selected_and_none_at_all_still_opens(
        qtbot, app_home):
    """Renaming the selected Inbox switched the picker (and the Scenarios tab's) to Dev
    Server, so the next Ctrl+Enter went to another server; with every environment removed
    the window raised at start and never opened again."""
    from dataclasses import replace

    context, window = open_window(qtbot)
    store = context.environments
    window.select_environment("Inbox")
    window.panels.runner.select_environment("Inbox")
    store.put(replace(store.get("Inbox"), name="Local inbox"), replacing="Inbox")
    window.environments_changed()
    assert window.env_combo.currentData() == "Local inbox"
    assert window.panels.runner.env_combo.currentText() == "Local inbox"
    for name in list(store.names()):
        store.remove(name)
    store.save()
    window.environments_changed()  # the dialog's Remove, down to none
    assert window.env_combo.count() == 0
    assert window.statusBar().currentMessage().startswith("No environments: add one")
    window.editor.setPlainText('{"name": "shop/x", "data": {}}')
    window.send()
    assert window.statusBar().currentMessage().startswith("Not sent: ")
    _context2, again = open_window(qtbot)  # the next start opens
    assert again.env_combo.count() == 0 and again.isVisible()


def test_an_environment_added_in_the_dialog_reaches_every_list_of_them(qtbot, app_home):
    """The History tab's filter and its Send again menu kept the environments of the start:
    one added later could not be filtered on or sent to without a restart."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QPushButton

    from console.ui.environments_dialog import EnvironmentsDialog

    _context, window = open_window(qtbot)
    history = window.panels.history

    def add_and_close() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, EnvironmentsDialog)
        buttons = {b.text(): b for b in dialog.findChildren(QPushButton)}
        buttons["Add Inngest Cloud"].click()
        buttons["Save"].click()  # a draft until then
        dialog.accept()

    QTimer.singleShot(0, add_and_close)
    window.open_environments()
    filter_names = [history.filter_bar.env.itemText(i)
                    for i in range(history.filter_bar.env.count())]
    assert "Inngest Cloud" in filter_names
    assert "Send again to Inngest Cloud" in [a.text() for a in history.send_menu.actions()]
    assert "Inngest Cloud" in [window.env_combo.itemData(i)
                               for i in range(window.env_combo.count())]


def test_add_twice_from_the_editor_keeps_both_events(qtbot, app_home):
    """Add bound the editor to the row it had just added, so the next event typed there
    replaced it: two Adds made [b, b] and the first event was lost without a word."""
    _context, window = open_window(qtbot)
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    window.editor.setFocus()
    for name in ("adds/first", "adds/second"):
        window.editor.selectAll()
        QTest.keyClicks(window.editor, f'{{"name": "{name}", "id": "{name}"}}')
        QTest.keyClick(window.editor, Qt.Key.Key_A, mods)
    assert [e["name"] for e in window.composer.batch.events] == ["adds/first", "adds/second"]
    assert window.editing_label.isVisible()
    assert window.editing_label.text() == (
        "Not in the batch: Add (Ctrl+Shift+A) puts this event there")
    assert window.batch_box.title() == "Batch: 2 events"
    # a row picked in the list is what the editor edits, and it says so
    window.composer.select_rows([0])
    assert window.editing_label.text() == (
        "Editing batch event #1 of 2: changes go to that event")
    assert json.loads(window.editor.toPlainText())["name"] == "adds/first"
    # Add while a row is edited puts a copy after it; the original stays as it was
    window.editor.selectAll()
    QTest.keyClicks(window.editor, '{"name": "adds/edited"}')
    QTest.keyClick(window.editor, Qt.Key.Key_A, mods)
    assert [e["name"] for e in window.composer.batch.events] == [
        "adds/edited", "adds/edited", "adds/second"]
    window.composer.remove_selected()
    window.composer.remove_selected()
    window.composer.remove_selected()
    assert window.batch_box.title().startswith("Batch: empty")
    assert not window.editing_label.isVisible()


def test_the_window_fits_an_800_by_600_screen_on_every_tab(qtbot, app_home):
    """Its least width was 953 px (the History tab's one row of buttons and settings, the
    scenario picker's long placeholder): on an 800 px screen it ran off the edge."""
    _context, window = open_window(qtbot)
    # the inbox listening (its address and what to point an app at: 929 px on one line)
    window.inbox_panel.set_address("http://127.0.0.1:48289", None)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(20)  # laid out with the tab's own least size
        hint = window.minimumSizeHint()
        assert hint.width() <= 800 and hint.height() <= 600, (window.tabs.tabText(index), hint)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)


def test_the_send_log_copies_its_rows_and_every_internal_id_in_full(qtbot, app_home):
    """Ctrl+C copied the one focused cell ('05:55:37', or two ids and "(+2)"); the ids were
    only in a tooltip, which cannot be copied."""
    from PySide6.QtGui import QGuiApplication

    from console.ui.send_log import LogRow

    _context, window = open_window(qtbot)
    ids = [f"01ID{i:022d}" for i in range(4)]
    window.log_model.append(LogRow("Inbox", ["a/b"] * 4, 4, 120, status=200, ids=ids))
    window.log_model.append(LogRow("Inbox", ["a/c"], 1, 30, status=400, error="bad\tthing"))
    view = window.log_view
    view.selectAll()
    copy_ids, _copy_rows = view.actions()
    copy_ids.trigger()
    assert QGuiApplication.clipboard().text() == "\n".join(ids)
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=2000)
    QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    header, first, second = QGuiApplication.clipboard().text().split("\n")
    assert header.split("\t") == list(LOG_COLUMNS)
    assert " ".join(ids) in first.split("\t") and second.split("\t")[-1] == "bad thing"


def test_the_bottom_tab_and_the_requests_in_flight_come_back_at_the_next_start(qtbot,
                                                                                app_home):
    """A restart put the Send log tab and 1 request in flight back, whatever was chosen."""
    _context, window = open_window(qtbot)
    window.tabs.setCurrentWidget(window.panels.browser)
    window.in_flight.setValue(4)
    window.save_state()
    _context2, again = open_window(qtbot)
    assert again.tabs.currentWidget() is again.panels.browser
    assert again.in_flight.value() == 4
    again.settings.setValue("tab", "99")  # garbage: the defaults stay
    again.settings.setValue("in_flight", "lots")
    _context3, third = open_window(qtbot)
    assert third.tabs.currentIndex() == 0 and third.in_flight.value() == 1


def test_tab_leaves_every_list_and_table_of_the_window(qtbot, app_home):
    """Tab in the batch list (two events or more) moved from row to row for ever, loading
    each into the editor: a keyboard user could not get out."""
    from PySide6.QtWidgets import QAbstractItemView

    _context, window = open_window(qtbot)
    window.composer.add_events([{"name": f"k/{i}", "data": {}} for i in range(5)])
    views = [v for v in window.findChildren(QAbstractItemView)
             if v is not window.editor.completion_popup()._list]  # the popup's own list
    trapping = [type(v).__name__ for v in views if v.tabKeyNavigation()]
    assert trapping == []
    view = window.composer.view
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=2000)
    QTest.keyClick(view, Qt.Key.Key_Tab)
    assert not view.hasFocus()


def test_no_two_window_actions_share_a_shortcut(qtbot, app_home):
    """Qt runs neither of two window-wide actions with the same keys ("ambiguous
    shortcut"): Open Event File once took Ctrl+O from Open Workspace."""
    from PySide6.QtGui import QAction

    _context, window = open_window(qtbot)
    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        if action.shortcutContext() is not Qt.ShortcutContext.WindowShortcut:
            continue  # widget-local keys (the editor's, the batch list's) may repeat
        for keys in action.shortcuts():
            text = keys.toString()
            assert text not in seen, f"{text}: {seen[text]!r} and {action.text()!r}"
            seen[text] = action.text()
    assert seen["Ctrl+Shift+O"] == "Open Event File…" and seen["Ctrl+O"] == "Open Workspace…"


def test_cancel_on_duplicate_sends_nothing(qtbot, app_home, run_async):
    context, window = open_window(qtbot)

    async def cancel(duplicates, total):
        return "cancel"

    window.dedup.confirm = cancel

    async def session():
        await start_on_inbox(context, window)
        window.editor.setPlainText('{"name": "a/b", "id": "same", "data": {}}')
        window.send()
        await wait_until(lambda: window.log_model.rows and window.log_model.rows[-1].status,
                         message="first send")
        await wait_until(lambda: not window.flow.sending, message="first send finished")
        window.send()
        await wait_until(lambda: window.statusBar().currentMessage() == "Not sent",
                         message="cancelled")
        assert len(context.inbox.events) == 1
        await context.shutdown()

    run_async(session(), timeout=40)


def test_cancel_mid_batch_says_what_was_accepted_and_what_was_in_flight(qtbot, app_home,
                                                                        run_async):
    """The log and the progress bars agree after Cancel: answered requests are "accepted"
    (runs not looked up), the one in flight is "unknown", nothing after it is sent."""
    from dataclasses import replace as replaced

    from console.services.history import CANCELLED_REASON
    from tests.support.fault_server import FaultServer, Reply, accept_all

    context, window = open_window(qtbot)

    sends = []

    def slow(request):  # the first send answered soon, the next never (Cancel comes first)
        if request.method != "POST":
            return accept_all(request)
        sends.append(request)
        return replaced(accept_all(request), delay=0.2) if len(sends) == 1 else Reply.hang()

    events = [{"name": f"shop/item.{i}", "data": {"pad": "x" * 1000}} for i in range(30)]
    with FaultServer(default=slow) as server:
        async def session():
            await start_at(context, window, "Slow", server.origin, server.origin,
                           request_limit=10_000)
            window.composer.add_events(events)
            await send_with_key(window, "slow-server-key-1234")
            rows = window.log_model.rows
            await wait_until(lambda: len(rows) == 2 and rows[0].status == 200
                             and len(sends) == 2, timeout=10,
                             message="the first request answered, the second in flight")
            window.send_panel.cancel()
            await wait_until(lambda: not window.flow.sending, message="the send stopped")
            assert len(rows) == 2
            assert sum(r.method == "POST" for r in server.requests) == 2
            assert (rows[0].outcome, rows[0].outcome_kind) == ("accepted", "accepted")
            assert rows[0].outcome_detail == "Runs were not looked up: the send was cancelled"
            assert (rows[1].outcome, rows[1].error) == ("unknown", CANCELLED_REASON)
            done = rows[0].events
            assert window.send_panel.events_label.text() == f"{done:,} of 30 events"
            assert window.send_panel.status.text().startswith(f"{done:,} of 30 events accepted")
            assert window.statusBar().currentMessage() == "Send cancelled: nothing more was sent"
            await context.shutdown()

        run_async(session(), timeout=30)


def test_with_the_batch_empty_the_meters_measure_the_editors_text(qtbot, app_home, run_async):
    from console.core.batch import Level
    from console.core.serialize import event_bytes

    _context, window = open_window(qtbot)
    meters = window.composer.meters
    one = {"name": "shop/order.paid", "data": {"total": 42}}
    window.editor.setPlainText(json.dumps(one))
    size = len(event_bytes(one))

    async def shown(text: str) -> None:
        await wait_until(lambda: meters.text("event").startswith(text), message=text)

    run_async(shown(f"editor: {size:,} of 3,145,728 bytes"))  # the Dev Server's limit
    assert meters.text("request").startswith(f"{size + 2:,} of 524,288 bytes")
    assert meters.text("count") == "1 of 5,000"
    big = {"name": "shop/order.paid", "data": {"blob": "x" * 300_000}}
    events = [one, big, {**big, "v": "2"}, one]
    sizes = [len(event_bytes(e)) for e in events]
    window.editor.setPlainText(json.dumps(events))
    run_async(shown(f"editor #3: {sizes[2]:,} of 3,145,728 bytes"))  # the largest
    body = sum(sizes) + 5
    assert meters.text("request") == (
        f"{body:,} of 524,288 bytes ({100 * body / 524_288:.0f} %) → 2 requests")
    assert meters.level("request") is Level.RED and meters.text("count") == "4 of 5,000"
    # in the batch, the batch is measured; emptied again, the editor is
    window.editor.setPlainText(json.dumps(one))
    run_async(shown("editor: "))
    window.composer.add_current()
    run_async(shown(f"#1: {size:,} of"))
    window.composer.select_rows([0])
    window.composer.remove_selected()
    run_async(shown(f"editor: {size:,} of"))


def test_with_the_batch_empty_preview_shows_the_editors_requests_and_adds_nothing(
        qtbot, app_home):
    from console.core.serialize import array_body, event_bytes

    _context, window = open_window(qtbot)
    big = {"name": "shop/order.paid", "data": {"blob": "x" * 300_000}}
    events = [big, {**big, "v": "2"}, {"name": "shop/seq", "data": {"n": "{{ seq }}"}}]
    window.editor.setPlainText(json.dumps(events))
    window.preview()
    dialog = window.composer.preview_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert len(window.composer.batch) == 0  # as Send, which sends the editor's text as is
    rendered = [big, {**big, "v": "2"}, {"name": "shop/seq", "data": {"n": 3}}]  # 3rd event
    assert dialog.request_count() == 2  # 600 KB: split as Send would split it
    assert [dialog.request_body(i) for i in range(2)] == [
        array_body([event_bytes(rendered[0])]), array_body([event_bytes(e) for e in rendered[1:]])]

    window.editor.setPlainText('{"name": "shop/x", "data": [1,]}')
    window.preview()
    assert window.statusBar().currentMessage().startswith("Nothing to preview: line 1, column")
    assert window.composer.preview_dialog is dialog and len(window.composer.batch) == 0


def test_the_inbox_tab_keeps_the_newest_rows(qtbot):
    from console.services.inbox import CapturedEvent
    from console.ui.inbox_panel import InboxPanel

    panel = InboxPanel()
    qtbot.addWidget(panel)
    panel.model.keep = 10
    for i in range(25):
        panel.add(CapturedEvent(f"01HF7YAT0000000000000000{i:02d}", 1_700_000_000_000 + i,
                                "load", {"name": "load", "data": {"i": i}}, 30, b"{}"))
    rows = panel.model.rowCount()
    assert 0 < rows <= 10 and panel.model.dropped == 25 - rows
    assert [e.event["data"]["i"] for e in panel.model.events] == list(range(25 - rows, 25))


def test_tooltips_show_server_text_and_event_names_as_written(qtbot):
    """Qt renders a tooltip as HTML when its first line holds a tag: a proxy's error page
    quoted in an error, or an event name like <b>x</b>, must read as written."""
    from PySide6 import QtGui

    from console.services.run_results import StepResult
    from console.ui.send_log import LogRow, SendLogModel
    from console.ui.workspace.results_model import COLUMNS as RESULT_COLUMNS
    from console.ui.workspace.results_model import StepResultsModel

    page = "server answered 502 with a body that is not JSON: '<html><h1>Bad Gateway</h1>…'"
    assert QtGui.Qt.mightBeRichText(page)  # as written, Qt would render it
    log = SendLogModel()
    log.append(LogRow("Inbox", ["<b>shop/x</b>", "app/y"], 2, 10, status=502, error=page))
    for column, written in (("Error", page), ("Events", "<b>shop/x</b>\napp/y")):
        tip = log.data(log.index(0, LOG_COLUMNS.index(column)), Qt.ItemDataRole.ToolTipRole)
        assert shown(tip) == written
    results = StepResultsModel()
    results.append(StepResult(0, "pay", "send", state="error", reason="status 502", error=page))
    tip = results.index(0, RESULT_COLUMNS.index("Result")).data(Qt.ItemDataRole.ToolTipRole)
    assert shown(tip) == f"status 502\n{page}"
    # a server's long text: a tooltip that fits a screen (4,000 characters stood 1,098 px
    # tall; 200 KB took 0.8 s to show), the whole of it still in the row
    long_error = "x " * 100_000
    log.append(LogRow("Inbox", ["app/z"], 1, 10, status=400, error=long_error))
    tip = log.data(log.index(1, LOG_COLUMNS.index("Error")), Qt.ItemDataRole.ToolTipRole)
    lines = shown(tip).split("\n")
    assert len(lines) == 31 and lines[-1].startswith("… (") and len(tip) < 5_000
    assert log.rows[1].error == long_error


def test_the_reachability_mark_says_why_an_environment_is_not_reachable(
        qtbot, app_home, monkeypatch, run_async):
    """Its tooltip said "not reachable" alone: a certificate, a proxy or a refused port
    was left to be guessed."""
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        origin = f"http://127.0.0.1:{closed.getsockname()[1]}"
    monkeypatch.setenv("INNGEST_BASE_URL", origin)
    _context, window = open_window(qtbot)
    assert window.env_combo.currentText() == "From environment"

    async def check() -> None:
        window.check_health()
        await wait_until(lambda: window.health_dot.text() == "✕", message="checked")

    run_async(check())
    assert shown(window.health_dot.toolTip()) == (
        f"not reachable ({origin}/health): connection refused: nothing listens there")


def test_a_key_in_the_sdk_origins_is_never_shown_or_requested(qtbot, app_home, monkeypatch):
    """INNGEST_BASE_URL=<origin>/e/<key>: the picker's and the health dot's tooltips, the
    preview and its snippets showed the key, and the health check requested it."""
    from tests.support.fault_server import FaultServer

    key = "evtkey_SECRET1234abcd"
    with FaultServer() as server:
        monkeypatch.setenv("INNGEST_BASE_URL", f"{server.origin}/e/{key}")
        _context, window = open_window(qtbot)
        assert window.env_combo.currentText() == "From environment"
        assert window.env_combo.toolTip() == f"{server.origin}/e/****abcd (from-env)"
        assert shown(window.health_dot.toolTip()).startswith("Not checked: event origin: ")
        assert window.health_dot.text() == "✕"
        assert window.health_dot.accessibleName() == (
            "Reachability of the environment: not checked")
        window.preview()
        dialog = window.composer.preview_dialog
        assert dialog is not None
        qtbot.addWidget(dialog)
        shown_text = [dialog.headers.toPlainText(), dialog.windowTitle()] + [
            dialog.snippet(kind) or "" for kind in ("curl", "ts", "python")]
        assert f"{server.origin}/e/****abcd" in shown_text[0]
        for text in shown_text:
            assert "SECRET" not in text, text
        QTest.qWait(200)  # a health request would have come by now
        assert server.requests == []


def test_the_preview_shows_which_key_a_send_would_use(qtbot, app_home, monkeypatch):
    from console.services.environments import Environment

    context, window = open_window(qtbot)

    def previewed_url() -> str:
        window.preview()
        dialog = window.composer.preview_dialog
        assert dialog is not None
        qtbot.addWidget(dialog)
        return dialog.headers.toPlainText().splitlines()[0]

    window.select_environment("Inbox")
    assert previewed_url().endswith("/e/NO_EVENT_KEY_SET")  # the placeholder, as it is
    context.environments.put(Environment("Self-hosted", "custom", "http://127.0.0.1:9",
                                         "http://127.0.0.1:9"))
    window.select_environment("Self-hosted")
    assert previewed_url() == "POST http://127.0.0.1:9/e/****"  # no key: a send refuses
    monkeypatch.setenv("INNGEST_EVENT_KEY", "evt-key-0000wxyz")  # read when it opens
    assert previewed_url() == "POST http://127.0.0.1:9/e/****wxyz"


def test_cancel_stops_the_runs_lookup(qtbot, app_home, run_async):
    """While runs were looked up, Send said "Cancel it in Progress" with Cancel disabled,
    for up to the whole budget."""
    from tests.support.fault_server import FaultServer, Reply, accept_all

    context, window = open_window(qtbot)
    context.poll_policy = PollPolicy(total=60.0, first_delay=0.01)
    with FaultServer(default=lambda r: accept_all(r) if r.method == "POST"
                     else Reply.hang()) as server:
        async def session():
            await start_at(context, window, "Hangs", server.origin, server.origin)
            window.editor.setPlainText('{"name": "shop/a"}')
            await send_with_key(window, "hangs-key-1234")
            panel = window.send_panel
            await wait_until(lambda: any(r.path.startswith("/v1/events/")
                                         for r in server.requests),
                             message="the runs lookup began")
            assert panel.cancel_button.isEnabled()
            assert panel.status.text() == (
                "1 of 1 events accepted — looking up runs (Cancel stops it)…")
            began = asyncio.get_running_loop().time()
            panel.cancel()
            await wait_until(lambda: not window.flow.sending, message="the lookup stopped")
            assert asyncio.get_running_loop().time() - began < 2
            assert not panel.cancel_button.isEnabled()
            assert panel.status.text() == "1 of 1 events accepted — runs lookup cancelled"
            assert window.statusBar().currentMessage() == (
                "1 accepted by Hangs — runs lookup cancelled")
            row = window.log_model.rows[-1]
            assert row.outcome_detail == "Runs were not looked up: the runs lookup was cancelled"
            await send_with_key(window, "hangs-key-1234")  # and the next send goes
            await wait_until(lambda: sum(r.method == "POST" for r in server.requests) == 2,
                             message="the next send")
            panel.cancel()
            await wait_until(lambda: not window.flow.sending, message="stopped again")
            await context.shutdown()

        run_async(session(), timeout=30)


def test_a_rate_limited_runs_lookup_shows_the_429_in_the_send_log(qtbot, app_home,
                                                                  run_async):
    """A REST API that asks to wait past the lookup's budget: the send log's Outcome says
    unverified and why, at once, not after the whole budget."""
    from tests.support.fault_server import FaultServer, Reply, accept_all

    limited = Reply.json(429, {"error": "rate limited"}, headers=[("retry-after", "120")])
    context, window = open_window(qtbot)
    context.poll_policy = PollPolicy(total=30.0, first_delay=0.01)
    with FaultServer(default=lambda r: accept_all(r) if r.method == "POST"
                     else limited) as server:
        async def session():
            await start_at(context, window, "Limited", server.origin, server.origin)
            window.editor.setPlainText('{"name": "shop/a", "id": "rl-1"}')
            began = asyncio.get_running_loop().time()
            await send_with_key(window, "limited-key-1234")
            await wait_until(lambda: window.log_model.rows and not window.flow.sending,
                             timeout=20, message="the send and its lookup")
            assert asyncio.get_running_loop().time() - began < 10  # not the 30 s budget
            row = window.log_model.rows[-1]
            assert row.outcome_kind == "unverified"
            assert (f"the REST API at {server.origin} answered 429 (too many requests; it "
                    "asked to wait 120 s)") in row.outcome_detail
            await context.shutdown()

        run_async(session(), timeout=30)


def test_what_a_malformed_answer_is_shown_as(qtbot, app_home, run_async):
    """A 200 that broke off said "not accepted" in the Progress log (the status and the
    send log said unknown); 4 ids for 2 events said "4 of 2 accepted"; a server's error
    with a line break and an ESC reached the status bar as it was."""
    from tests.support.fault_server import FaultServer, Reply

    context, window = open_window(qtbot)
    replies = [
        Reply.truncated(200, b'{"ids": ["01AAAA', 54),
        Reply.json(200, {"ids": ["01A", "01B", "01C", "01D"], "status": 200}),
        Reply.json(400, {"error": "bad key\nsecond line\x1b[31m red", "status": 400}),
        Reply.json(201, {"ids": ["01E", "01F"]}),  # a proxy's: it took them
    ]
    posts = iter(replies)
    with FaultServer(default=lambda r: next(posts) if r.method == "POST"
                     else Reply.json(200, {})) as server:
        async def session():
            await start_at(context, window, "Odd", server.origin)
            two = '[{"name": "shop/a"}, {"name": "shop/b"}]'
            shown = []
            for _ in replies:
                window.editor.setPlainText(two)
                await send_with_key(window, "odd-key-1234")
                await wait_until(lambda: sum(r.method == "POST" for r in server.requests)
                                 == len(shown) + 1, message="sent")
                await wait_until(lambda: not window.flow.sending, message="answered")
                shown.append((window.send_panel.log.toPlainText().splitlines()[-1],
                              window.statusBar().currentMessage()))
            assert shown[0][0] == (
                "Request 1/1: 200 · events #1–#2 unknown (the server may have taken them): "
                "server answered 200 with a truncated body (the connection closed after 16 "
                "of 54 bytes)")
            assert shown[1][1].startswith("2 of 2 accepted by Odd")
            assert shown[2][1] == "0 of 2 accepted by Odd — 400: bad key second line\\x1b[31m red"
            assert "\\x1b[31m red" in shown[2][0] and "\n" not in shown[2][0]
            # it read "2 of 2 accepted by Odd — 201: " as a failure
            assert shown[3][1] == "Odd: 2 accepted · 2 unverified", shown[3]
            await context.shutdown()

        run_async(session(), timeout=30)


def test_send_again_of_a_send_url_goes_to_that_url(qtbot, app_home, run_async):
    """The history names a `send --url` by its origin; Send again said "no environment
    named 'http://…'" and sent nothing."""
    context, window = open_window(qtbot)

    async def session():
        await context.start(inbox_port=0)
        window.select_environment("Dev Server")
        again = {"name": "shop/again", "data": {"n": 1}}
        window.panels.history.sendAgainRequested.emit(json.dumps(again), context.inbox.url)
        await wait_until(lambda: len(context.inbox.events) == 1, message="sent to the URL")
        await wait_until(lambda: not window.flow.sending, message="send finished")
        assert window.log_model.rows[-1].environment == context.inbox.url
        assert window.environment().name == "Dev Server"
        window.panels.history.sendAgainRequested.emit(json.dumps(again), "http://x:99999")
        assert window.statusBar().currentMessage().startswith(
            "Not sent: no environment named 'http://x:99999'")
        await context.shutdown()

    run_async(session(), timeout=40)


def test_the_send_log_sorts_by_a_clicked_header_and_copies_rows_as_shown(qtbot, app_home):
    """The log could not be sorted: the slowest request or the failed ones of a long
    session had to be found by scrolling."""
    from PySide6.QtGui import QGuiApplication

    from console.ui.send_log import LogRow

    _context, window = open_window(qtbot)
    window.tabs.setCurrentWidget(window.log_view)
    for n, (latency, status, size) in enumerate(((120.0, 200, 980), (9.0, 500, 1_024),
                                                 (45.0, 200, 99_000))):
        window.log_model.append(LogRow("Inbox", [f"app/{n}"], 1, size, status=status,
                                       ids=[f"id-{n}"], latency_ms=latency, at=1000.0 + n))
    window.log_model.append(LogRow("Inbox", ["app/3"], 1, 10, at=1003.0))  # not answered
    view = window.log_view
    header = view.horizontalHeader()

    def shown(column: str) -> list[str]:
        c = LOG_COLUMNS.index(column)
        return [view.model().index(r, c).data() for r in range(view.model().rowCount())]

    assert shown("Events") == ["app/0", "app/1", "app/2", "app/3"]  # time order
    latency = LOG_COLUMNS.index("Latency")
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(latency) + 10, 5))
    assert shown("Latency") == ["", "9 ms", "45 ms", "120 ms"]
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(latency) + 10, 5))
    assert shown("Latency") == ["120 ms", "45 ms", "9 ms", ""]
    view.sortByColumn(LOG_COLUMNS.index("Bytes"), Qt.SortOrder.AscendingOrder)
    assert shown("Bytes") == ["10", "980", "1,024", "99,000"]  # as numbers
    view.sortByColumn(LOG_COLUMNS.index("Status"), Qt.SortOrder.DescendingOrder)
    assert shown("Status")[:2] == ["500", "200"]
    view.selectRow(0)  # the 500: Ctrl+C and its ids copy that row, not the model's first
    view.actions()[0].trigger()
    assert QGuiApplication.clipboard().text() == "id-1"
    view.selectAll()
    view.actions()[1].trigger()
    lines = QGuiApplication.clipboard().text().split("\n")[1:]
    assert [line.split("\t")[LOG_COLUMNS.index("Status")] for line in lines] == [
        "500", "200", "200", "sending…"]
    # an answer that comes in re-sorts its row
    window.log_model.rows[3].status = 503
    window.log_model.changed(3)
    assert shown("Status")[0] == "503"


def test_no_message_widens_the_window_however_long_a_word_in_it(qtbot, app_home):
    """A 348-character event name in the History detail held the window at 2,647 px, and a
    262-character id in the duplicate banner at 2,442, wider than the screen and for good:
    Qt makes the longest word of a wrapped label its least width."""
    from PySide6.QtWidgets import QLabel

    from console.services.paths import app_paths
    from console.ui.context import AppContext
    from console.ui.environments_dialog import EnvironmentsDialog

    _context, window = open_window(qtbot)
    window.resize(900, 700)
    window.show()
    dialog = EnvironmentsDialog(AppContext.create(app_paths()))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.wait(50)
    widths = (window.width(), dialog.width())
    wrapped = [label for top in (window, dialog) for label in top.findChildren(QLabel)
               if label.wordWrap()]
    assert len(wrapped) >= 12
    for label in wrapped:
        label.show()
        label.setText("order_" + "0123456789abcdef" * 25)  # no place to break
    qtbot.wait(200)
    assert (window.width(), dialog.width()) == widths
    assert window.minimumSizeHint().width() < 800


def test_a_long_environment_name_leaves_the_other_fields_readable(qtbot, app_home):
    """An environment named in 80 characters made the Scenarios tab's environment box
    640 px wide at a window of 800: the Data field beside it was cut to "optional: CSV, J…"
    and the scenario box to a few words."""
    from console.services.environments import Environment, EnvironmentStore

    long_name = ("Staging payments cluster EU-West-1 (shared with the billing team, "
                 "do not flood)")
    store = EnvironmentStore.load(app_paths())
    store.put(Environment(long_name, "custom"))
    store.save()
    _context, window = open_window(qtbot)
    window.resize(800, 600)
    window.select_environment(long_name)
    for tab in range(window.tabs.count()):  # each shown once: combo boxes size at first show
        window.tabs.setCurrentIndex(tab)
        qtbot.wait(20)
    runner = window.panels.runner
    window.tabs.setCurrentWidget(runner)
    qtbot.wait(50)
    assert window.width() == 800
    assert runner.env_combo.findText(long_name) >= 0
    assert runner.data_edit.width() >= 250 and runner.scenario_combo.width() >= 250
    filters = window.panels.history.filter_bar
    for field in (filters.name, filters.dedup, filters.search):
        assert field.width() >= 60, (field.placeholderText(), field.width())


def test_at_first_start_the_window_fits_the_screen(qtbot, app_home):
    """It opened at 1280 x 820 whatever the screen: at 150 % scaling on a 1080p screen
    (1280 x 720 free) the status bar and the History tab's buttons were below its edge.
    (The offscreen platform's screen is 800 x 800.)"""
    from PySide6.QtGui import QGuiApplication

    _context, window = open_window(qtbot)
    free = QGuiApplication.primaryScreen().availableGeometry()
    assert free.width() < 1280  # else this checks nothing
    assert window.width() <= free.width() and window.height() <= free.height()
    # on a tall enough screen each half keeps its least height: a tab squeezed to 140 px
    # shows no row (the History tab needs 245)
    assert window.tabs.minimumSizeHint().height() >= 245 and window.tabs.minimumHeight() == 0
    assert window.minimumSizeHint().height() > 512
    window.fit_height(512)  # 1366 x 768 at 150 % leaves 911 x 512: the least was 572
    qtbot.waitUntil(lambda: window.minimumSizeHint().height() <= 512, timeout=2000)


def test_an_inbox_moved_by_a_busy_port_goes_back_to_its_port_next_start(qtbot, app_home,
                                                                       run_async):
    """A second window found the Inbox's port taken and listened elsewhere, and saved that
    port at close: every later start used it, and an app pointed at the usual port (as
    the README says) reached nothing."""
    import dataclasses
    import socket

    from console.services.environments import EnvironmentStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = EnvironmentStore.load(app_paths())
    usual = f"http://127.0.0.1:{port}"
    store.put(dataclasses.replace(store.get("Inbox"), event_origin=usual, rest_origin=usual),
              replacing="Inbox")
    store.save()
    first, second = AppContext.create(app_paths()), AppContext.create(app_paths())

    async def both() -> str:
        await first.start()
        await second.start()
        try:
            assert first.inbox is not None and first.inbox.url == usual
            assert second.inbox is not None and second.inbox.url != usual
            moved = second.environments.get("Inbox").event_origin
            assert moved == second.inbox.url  # this session sends there
            second.environments.save()  # as its window does at close
            return moved
        finally:
            await second.shutdown()
            await first.shutdown()

    run_async(both())
    assert EnvironmentStore.load(app_paths()).get("Inbox").event_origin == usual


def test_an_event_on_one_huge_line_opens_formatted(qtbot, app_home):
    """A compact 2.1 MB event (one line) opened from a file: Qt laid the line out again at
    each repaint, and the window stalled ~1 s at every blink of the cursor."""
    from console.ui.editor.json_editor import LONG_LINE_CHARS

    _context, window = open_window(qtbot)
    event = {"name": "big/one", "data": {"items": [{"i": i, "sku": f"sku-{i}"}
                                                   for i in range(20_000)]}}
    compact = json.dumps(event, separators=(",", ":"))
    assert len(compact) > LONG_LINE_CHARS
    window.open_event_text(compact)
    shown = window.editor.toPlainText()
    assert json.loads(shown) == event
    assert max(map(len, shown.splitlines())) < 100
    assert window.statusBar().currentMessage().startswith("Opened formatted, the same event")
    window.editor.undo()  # one step, as any opened event
    assert window.editor.toPlainText() != shown
    short = json.dumps({"name": "small/one", "data": {"k": 1}})
    window.open_event_text(short)  # an ordinary line stays as it was written
    assert window.editor.toPlainText() == short
    window.statusBar().clearMessage()
    one_string = json.dumps({"name": "big/blob", "data": {"b64": "A" * 150_000}})
    window.open_event_text(one_string)  # formatting leaves the long line: left as written
    assert window.editor.toPlainText() == one_string
    assert not window.statusBar().currentMessage().startswith("Opened formatted")


def test_every_control_of_the_window_has_a_name_a_screen_reader_can_say(qtbot, app_home):
    """The JSON editor, the event name field, the batch list, the send log, the History
    filters and table, the Scenarios tab's Data/Seed/Vars fields and more had no name:
    a screen reader announced "edit text" or "table", nothing more."""
    from PySide6.QtGui import QAccessible
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSpinBox,
        QComboBox,
        QFrame,
        QLineEdit,
        QPlainTextEdit,
        QTextEdit,
        QWidget,
    )

    _context, window = open_window(qtbot)
    for tab in range(window.tabs.count()):
        window.tabs.setCurrentIndex(tab)
    controls = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView,
                QPlainTextEdit, QTextEdit)
    unnamed = []
    for widget in window.findChildren(QWidget):
        parent = widget.parentWidget()
        if not isinstance(widget, controls) or (
                isinstance(widget, QLineEdit)
                and isinstance(parent, QComboBox | QAbstractSpinBox)):
            continue  # a combo box's or spin box's own line: named with it
        if (widget.objectName().startswith(("qt_", "_q_"))  # Qt's own: toolbar extension
                or isinstance(parent, QAbstractItemView | QLineEdit)  # corner, clear button
                or (isinstance(widget, QAbstractItemView) and type(parent) is QFrame)):
            continue  # (the last: a combo box's list, a popup named by its box)
        if not isinstance(widget, QAbstractButton) and (
                widget.focusPolicy() == Qt.FocusPolicy.NoFocus):
            continue
        interface = QAccessible.queryAccessibleInterface(widget)
        if interface is None or not interface.text(QAccessible.Text.Name).strip():
            unnamed.append(f"{type(widget).__name__} {widget.objectName()!r} in "
                           f"{type(parent).__name__}")
    assert unnamed == [], "\n".join(unnamed)
    dot = QAccessible.queryAccessibleInterface(window.health_dot)
    assert dot.text(QAccessible.Text.Name).startswith("Reachability of ")


def test_a_batch_row_that_reads_as_a_template_is_copied_and_saved_as_it_is(qtbot, app_home):
    """A row goes out as it is. Its text that reads as a placeholder was rendered by Add
    (the copy held "Total: 2"), saved live by Ctrl+S (the template then sent "Total: 2")
    and rendered in the preview beside the editor, though Send does no such thing."""
    _context, window = open_window(qtbot)
    captured = {"name": "p/x", "data": {"s": "Total: {{ 1 + 1 }}"}}
    window.composer.add_events([{"name": "p/y", "data": {}}])
    window.composer.select_rows([0])
    window.open_event_text(json.dumps(captured), literal=True)  # the Inbox tab's Open
    assert window.composer.current_row() == 1
    assert window.composer.batch[1] == captured
    window.panels._show_placeholders()
    assert not window.panels.preview.isVisible()
    window.composer.add_current()
    assert window.composer.batch.events[1:] == [captured, captured]
    # a row whose text in the editor does not parse: Add refuses it with why, as before
    # (it had copied the row's last valid version without a word)
    window.editor.setPlainText('{"name": "p/x", "data": {"s": 2},')
    window.composer.add_current()
    assert len(window.composer.batch) == 3
    assert window.composer.error_text().startswith("Nothing added")
    window.composer.select_rows([1])
    name = window.panels.save_editor_as_template()
    assert name == "p/x", window.statusBar().currentMessage()
    template = window.panels.workspace.templates[name]
    rendered = TemplateEngine().render_value(template.event, {})
    assert rendered["data"] == captured["data"]
    # the editor's own event (no row selected) is still a template: rendered, previewed
    window.composer.view.selectionModel().clear()
    window.editor.setPlainText('{"name": "p/z", "data": {"n": "{{ 1 + 1 }}"}}')
    window.panels._show_placeholders()
    assert window.panels.preview.isVisible()
    window.composer.add_current()
    assert window.composer.batch.events[-1] == {"name": "p/z", "data": {"n": 2}}


def test_history_saves_an_event_as_a_template_again_under_a_name_of_its_own(qtbot, app_home):
    """The second "Save as template" of a shop/order from History was refused: "a template
    named 'shop/order' already exists"."""
    _context, window = open_window(qtbot)
    order = json.dumps({"name": "shop/order", "data": {"n": 1}})
    for _ in range(2):
        window.panels.history.saveAsTemplateRequested.emit(order, "shop/order")
    assert window.statusBar().currentMessage().startswith("Saved template 'shop/order (2)'")
    assert {"shop/order", "shop/order (2)"} <= set(window.panels.workspace.templates)


def test_closed_dialogs_are_freed_not_kept_by_the_window(qtbot, app_home):
    """Environments…, Preview and Edit Schema dialogs stayed children of the window once
    closed: 1.8 MB (Environments) to 5 MB (a 2,000-event preview) more at every open."""
    from PySide6.QtCore import QCoreApplication, QEvent, QTimer
    from PySide6.QtWidgets import QApplication

    from console.ui.batch.preview import PreviewDialog
    from console.ui.environments_dialog import EnvironmentsDialog
    from console.ui.schema_dialog import SchemaDialog

    _context, window = open_window(qtbot)

    def close_the_modal() -> None:
        modal = QApplication.activeModalWidget()
        if modal is not None:
            modal.reject()
        else:
            QTimer.singleShot(20, close_the_modal)

    for _ in range(3):
        QTimer.singleShot(20, close_the_modal)
        window.open_environments()
        window.preview()
    # schema dialogs: several may be open, each with its edits; each is freed once closed
    first = window.panels._schema_dialog("app/a", {"type": "object"}, "a test", None)
    first.editor.setPlainText('{"type": "object", "required": ["orderId"]}')
    second = window.panels._schema_dialog("app/b", {"type": "object"}, "a test", None)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    assert first.isVisible() and "orderId" in first.editor.toPlainText()
    second.reject()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    QTest.qWait(50)
    assert window.findChildren(EnvironmentsDialog) == []
    assert len(window.findChildren(PreviewDialog)) == 1  # the one open: the last
    assert window.composer.preview_dialog in window.findChildren(PreviewDialog)
    assert window.findChildren(SchemaDialog) == [first]


def test_the_history_tab_refreshes_during_a_stream_of_captures_and_after_a_run(qtbot,
                                                                                app_home):
    """An app posting over two events a second to the inbox kept putting the History tab's
    refresh off: it showed none of them until the stream stopped. A scenario run did not
    refresh it at all."""
    _context, window = open_window(qtbot)
    panels = window.panels
    refreshed: list[float] = []
    panels._history_timer.timeout.connect(lambda: refreshed.append(1))
    for _ in range(30):  # a capture every 100 ms for 3 s (what each capture asks for)
        panels._refresh_history()
        QTest.qWait(100)
    assert len(refreshed) >= 1  # during the stream (2 s at most after the first)
    refreshed.clear()
    QTest.qWait(700)
    panels.runner.run_finished.emit(None)
    assert panels._history_timer.isActive()
    qtbot.waitUntil(lambda: bool(refreshed), timeout=2000)


def test_captures_the_history_cannot_write_turn_it_off_and_say_so(qtbot, app_home, run_async):
    """A full disk: the Inbox tab showed the captures, the history had none of them, and
    nothing said so."""
    import httpx

    from tests.support.writes import writes_fail

    context, window = open_window(qtbot)

    async def session():
        await start_on_inbox(context, window)
        async with httpx.AsyncClient() as client:
            with writes_fail():
                for n in range(3):
                    answer = await client.post(f"{context.inbox.url}/e/key",
                                               json={"name": f"w/cap-full{n}", "data": {}})
                    assert answer.status_code == 200
                await wait_until(lambda: context.history is None, message="history off")
        await wait_until(lambda: window.inbox_panel.model.rowCount() == 3, message="captured")
        await wait_until(lambda: "History is off" in window.statusBar().currentMessage(),
                         message="said")  # once the history is closed
        message = window.statusBar().currentMessage()
        assert message.count("History is off for this session: ") == 1, message
        assert "--no-history" not in message  # the CLI's words: the window has no such option
        assert context.notices.count(next(n for n in context.notices
                                          if n.startswith("History is off"))) == 1
        await context.shutdown()

    run_async(session(), timeout=40)

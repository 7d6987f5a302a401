"""The batch composer, meters, preview and send panel as real widgets (offscreen)."""

from __future__ import annotations

import asyncio
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from console.core.batch import Level
from console.core.serialize import array_body, event_bytes, pretty
from console.services.client import EventApiClient, Target
from console.ui.batch import BatchComposer, BatchSendPanel, PreviewDialog, PreviewTarget
from console.ui.batch.importing import BACKGROUND_IMPORT_CHARS
from tests.support.inbox_thread import running_inbox

KEY = "ui-batch-key-abcdef987654"


def ev(i: int, pad: int = 0) -> dict[str, Any]:
    return {"name": f"ui/e{i}", "data": {"i": i, "pad": "x" * pad}}


def names(composer: BatchComposer) -> list[int]:
    return [e["data"]["i"] for e in composer.batch.events]


def drag_and_drop(view: Any, mime: QMimeData, pos: QPointF,
                  actions: Qt.DropAction) -> QDropEvent:
    """Enter, move and drop on the view's viewport, as a real drag delivers them."""
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    with warnings.catch_warnings():  # PySide marks the QPoint constructors deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos.toPoint(), actions, mime, buttons, mods)
        move = QDragMoveEvent(pos.toPoint(), actions, mime, buttons, mods)
    QApplication.sendEvent(view.viewport(), enter)
    QApplication.sendEvent(view.viewport(), move)
    drop = QDropEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(view.viewport(), drop)
    return drop


def make(qtbot: Any, **kw: Any) -> BatchComposer:
    composer = BatchComposer(**kw)
    qtbot.addWidget(composer)
    composer.resize(520, 600)
    composer.show()
    return composer


def test_past_512_kib_the_request_meter_turns_red_and_preview_shows_two_requests(qtbot):
    composer = make(qtbot)
    assert composer.meters.level("request") is Level.GREEN
    composer.add_events([ev(i, pad=1000) for i in range(400)])  # ~407 KB: 78 %
    assert composer.meters.level("request") is Level.GREEN
    composer.add_events([ev(i, pad=1000) for i in range(400, 480)])  # ~488 KB: 93 %
    assert composer.meters.level("request") is Level.AMBER
    assert "→" not in composer.meters.text("request")
    composer.add_events([ev(i, pad=1000) for i in range(480, 560)])  # ~570 KB
    assert composer.meters.level("request") is Level.RED
    total = len(array_body(composer.batch.parts))
    assert composer.meters.text("request").startswith(f"{total:,} of 524,288 bytes")
    assert composer.meters.text("request").endswith("→ 2 requests")
    numbers = [composer.model.index(r).data().split(".  ")[0] for r in (0, 9, 99, 559)]
    assert numbers == ["\u2007\u20071", "\u200710", "100", "560"]  # the names line up
    assert composer.meters.text("count") == "560 of 5,000"
    assert composer.meters.level("count") is Level.GREEN

    composer.set_target(PreviewTarget("https://inn.gs", f"https://inn.gs/e/****{KEY[-4:]}",
                                      branch="feature-1"))
    dialog = composer.open_preview()
    qtbot.addWidget(dialog)
    assert dialog.request_count() == 2
    plan = composer.model.plan()
    for i in range(2):
        dialog.select_request(i)
        body = composer.batch.body(plan.requests[i])
        assert dialog.request_body(i) == body
        assert dialog.body.toPlainText() == body.decode()
        assert len(body) <= 524_288
        assert f"content-length: {len(body)}" in dialog.headers.toPlainText()
    headers = dialog.headers.toPlainText()
    assert "x-inngest-env: feature-1" in headers and KEY not in headers
    assert f"/e/****{KEY[-4:]}" in headers
    dialog.pretty.setChecked(True)
    assert json.loads(dialog.body.toPlainText()) == json.loads(body)
    dialog.copy("curl")
    clip = QGuiApplication.clipboard().text()
    assert "$INNGEST_EVENT_KEY" in clip and KEY not in clip and "x-inngest-env: feature-1" in clip
    # to a Dev Server no key need be set: the placeholder the console sends (curl sent an
    # empty key, a 401)
    composer.set_target(PreviewTarget("http://127.0.0.1:8288", "http://127.0.0.1:8288/e/****",
                                      dev=True))
    local = composer.open_preview()
    qtbot.addWidget(local)
    local.copy("curl")
    clip = QGuiApplication.clipboard().text()
    assert "'http://127.0.0.1:8288/e/'\"${INNGEST_EVENT_KEY:-NO_EVENT_KEY_SET}\"" in clip


def test_editor_edits_the_selected_event_only(qtbot):
    composer = make(qtbot, request_limit=2000, event_limit=1000)
    composer.add_events([ev(i) for i in range(3)])
    seen: list[tuple[int, str]] = []
    composer.event_selected.connect(lambda row, text: seen.append((row, text)))
    composer.select_rows([1])
    assert seen[-1] == (1, pretty(ev(1)))
    parts_before = composer.batch.parts
    composer.update_selected(json.dumps(ev(1, pad=300)))
    assert composer.batch[1] == ev(1, pad=300)
    after = composer.batch.parts
    assert after[0] is parts_before[0] and after[2] is parts_before[2]
    assert composer.meters.text("event").startswith(f"#2: {len(event_bytes(ev(1, pad=300))):,} of")
    assert len(seen) == 1  # no echo back to the editor while typing
    # half-typed text: the row says so, the last valid version is kept
    composer.update_selected('{"name": "ui/e1", "data": ')
    assert composer.batch[1] == ev(1, pad=300)
    assert "not valid JSON" in composer.model.problem(1)
    assert composer.rules_label.text().startswith("Cannot send: event #2: The editor text is "
                                                  "not valid JSON (")
    composer.update_selected('{"name": "ui/e1", "data": {"x": NaN}}')
    assert composer.model.problem(1) == (
        "The editor text is not valid JSON (NaN is not valid JSON); the last valid version is kept"
    )
    composer.update_selected('{"name": "", "data": {}}')  # an event Inngest would reject
    assert composer.rules_label.text() == "Cannot send: event #2: Event name is empty"
    composer.update_selected(json.dumps(ev(1, pad=1200)))  # now over the per-event limit
    assert composer.rules_label.isHidden()
    assert composer.model.problem(1) == (
        f"Event is {len(event_bytes(ev(1, pad=1200))):,} bytes, over the per-event limit "
        "of 1,000 bytes"
    )
    assert composer.meters.level("event") is Level.RED
    assert composer.meters.blocked_label.text() == (
        "1 event cannot be sent: over a limit (marked in the list)"
    )
    composer.select_rows([])
    assert seen[-1] == (-1, "")


def test_reorder_by_buttons_and_by_drag_with_undo_redo(qtbot):
    composer = make(qtbot)
    composer.add_events([ev(i) for i in range(5)])
    composer.select_rows([0])
    composer.move_selected(1)
    assert names(composer) == [1, 0, 2, 3, 4]
    assert composer.selected_rows() == [1]
    composer.undo_stack.undo()
    assert names(composer) == [0, 1, 2, 3, 4]
    composer.undo_stack.redo()
    assert names(composer) == [1, 0, 2, 3, 4]

    # drag rows 0 and 1 (events 1, 0) onto the lower half of the last row
    view = composer.view
    mime = composer.model.mimeData([composer.model.index(0, 0), composer.model.index(1, 0)])
    rect = view.visualRect(composer.model.index(4, 0))
    pos = QPointF(rect.center().x(), rect.bottom() - 1)
    drop = drag_and_drop(view, mime, pos, Qt.DropAction.MoveAction | Qt.DropAction.CopyAction)
    assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    assert names(composer) == [2, 3, 4, 1, 0]
    assert composer.selected_rows() == [3, 4]
    composer.undo_stack.undo()
    assert names(composer) == [1, 0, 2, 3, 4]

    # remove, duplicate: undoable too
    composer.select_rows([0, 2])
    composer.remove_selected()
    assert names(composer) == [0, 3, 4]
    composer.duplicate_selected()  # selection after remove: row 0
    assert names(composer) == [0, 0, 3, 4]
    assert composer.undo_stack.undoText() == "Duplicate 1 event"
    composer.undo_stack.undo()
    composer.undo_stack.undo()
    assert names(composer) == [1, 0, 2, 3, 4]
    assert composer.meters.text("count") == "5 of 5,000"


def test_import_a_file_with_an_invalid_line_shows_line_and_column(qtbot, tmp_path: Path):
    composer = make(qtbot)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "a", "data": {}}\n{"name" "b"}\n\n[1]\n', encoding="utf-8")
    assert not composer.import_file(bad)
    assert composer.error_text() == (
        "Nothing imported: 2 problems in bad.jsonl\n"
        "bad.jsonl:2:9: Expected ':' after property name\n"
        "bad.jsonl:4:1: Each line of a JSON Lines file must hold one event object"
    )
    assert len(composer.batch) == 0
    missing = tmp_path / "nope.json"
    assert not composer.import_file(missing)
    assert composer.error_text() == "Cannot read nope.json: No such file or directory"
    binary = tmp_path / "latin1.json"
    binary.write_bytes(b'{"name": "\xe9"}')
    assert not composer.import_file(binary)
    assert composer.error_text() == "latin1.json: not UTF-8 text at line 1, column 11 (byte 10)"
    pipe = tmp_path / "pipe.json"  # read_bytes() waited on it for ever
    os.mkfifo(pipe)
    assert not composer.import_file(pipe)
    assert composer.error_text() == "pipe.json: not a regular file"
    wide = tmp_path / "wide.json"  # what Windows PowerShell's `>` writes
    wide.write_text(json.dumps([ev(1)]), encoding="utf-16")
    assert not composer.import_file(wide)
    assert composer.error_text() == (
        "wide.json: UTF-16 text, not UTF-8: save the file as UTF-8 (in Windows PowerShell, "
        "`| Out-File -Encoding utf8` instead of `>`)")
    marked = tmp_path / "marked.json"  # PowerShell's `-Encoding utf8` starts with a BOM
    marked.write_text(json.dumps([ev(1)]), encoding="utf-8-sig")
    assert composer.import_file(marked)
    assert names(composer) == [1]
    composer.undo_stack.undo()
    assert len(composer.batch) == 0

    good = tmp_path / "good.json"
    good.write_text(json.dumps([ev(1), ev(2)]), encoding="utf-8")
    assert composer.import_file(good)
    assert composer.error_text() == ""
    assert names(composer) == [1, 2]
    assert composer.undo_stack.undoText() == "Import 2 events"
    composer.undo_stack.undo()
    assert len(composer.batch) == 0


def test_import_from_clipboard_and_by_dropping_a_file(qtbot, tmp_path: Path):
    composer = make(qtbot)
    QGuiApplication.clipboard().setText("\n".join(json.dumps(ev(i)) for i in range(3)))
    assert composer.import_clipboard()
    assert names(composer) == [0, 1, 2]
    QGuiApplication.clipboard().setText('[{"name": "x"},')
    assert not composer.import_clipboard()
    assert composer.error_text().splitlines()[1] == (
        "clipboard:1:16: Unexpected end of input: expected a value"
    )

    dropped = tmp_path / "more.jsonl"
    dropped.write_text(json.dumps(ev(7)) + "\n" + json.dumps(ev(8)) + "\n", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(dropped))])
    pos = QPointF(10, composer.view.viewport().height() - 5)
    composer.select_rows([])
    drop = drag_and_drop(composer.view, mime, pos, Qt.DropAction.CopyAction)
    assert drop.isAccepted()
    assert names(composer) == [0, 1, 2, 7, 8]


def test_a_big_file_is_checked_off_the_gui_thread_and_imported_whole(qtbot, run_async,
                                                                     tmp_path: Path):
    """Over BACKGROUND_IMPORT_CHARS the window stays live while the file is checked; the
    events arrive in one undoable step with the bytes the check made (the wire's bytes)."""
    composer = make(qtbot)
    events = [{**ev(i, pad=600), "data": {"i": i, "text": "é€😀" * 50}} for i in range(2_500)]
    big = tmp_path / "big.json"
    big.write_text(json.dumps(events), encoding="utf-8")
    assert big.stat().st_size > BACKGROUND_IMPORT_CHARS
    ticks: list[int] = []

    async def import_while_the_loop_runs() -> tuple[bool, list[bool]]:
        timer = QTimer()
        timer.setInterval(0)
        timer.timeout.connect(lambda: ticks.append(len(composer.batch)))
        timer.start()
        finished: list[bool] = []
        composer.import_finished.connect(finished.append)
        started = composer.import_file(big)
        assert composer.importing is not None and len(composer.batch) == 0
        assert composer.status_text().startswith("Importing big.json (")
        assert not composer.actions_by_name["import_file"].isEnabled()
        QGuiApplication.clipboard().setText(json.dumps(ev(1)))
        assert not composer.import_clipboard()  # one import at a time, said so
        assert composer.error_text() == "Still importing big.json: try again when it is done"
        assert await composer.importing
        timer.stop()
        return started, finished

    started, finished = run_async(import_while_the_loop_runs())
    assert started and finished == [True]
    assert 0 in ticks  # the loop ran while the file was being checked, before the rows came
    assert names(composer) == list(range(2_500))
    assert [composer.batch.part(i) for i in range(2_500)] == [event_bytes(e) for e in events]
    assert composer.batch.invalid() == {}
    assert composer.status_text() == "" and composer.actions_by_name["import_file"].isEnabled()
    assert composer.undo_stack.undoText() == "Import 2,500 events"
    composer.undo_stack.undo()
    assert len(composer.batch) == 0
    composer.undo_stack.redo()
    assert [composer.batch.part(i) for i in range(2_500)] == [event_bytes(e) for e in events]

    broken = tmp_path / "broken.jsonl"
    lines = [json.dumps({**ev(i, pad=600)}) for i in range(2_000)]
    lines[1_500] = lines[1_500].replace('"data"', '"data" 1', 1)
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    async def import_broken() -> bool:
        assert composer.import_file(broken) and composer.importing is not None
        return await composer.importing

    assert run_async(import_broken()) is False
    assert composer.error_text().splitlines()[:2] == [
        "Nothing imported: 1 problem in broken.jsonl",
        "broken.jsonl:1501:29: Expected ':' after property name",
    ]
    assert len(composer.batch) == 2_500  # nothing of the broken file, nothing lost

    latin1 = tmp_path / "latin1.json"  # read and decoded on the worker thread too
    latin1.write_bytes(b'[{"name": "caf\xe9", "data": {"x": "' + b"y" * 2**20 + b'"}}]')

    async def import_latin1() -> bool:
        assert composer.import_file(latin1) and composer.importing is not None
        return await composer.importing

    assert run_async(import_latin1()) is False
    assert composer.error_text() == "latin1.json: not UTF-8 text at line 1, column 15 (byte 14)"
    assert len(composer.batch) == 2_500

    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps(ev(9_999)) + "\n", encoding="utf-8")

    async def drop_both() -> None:
        composer.select_rows([])
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(big)), QUrl.fromLocalFile(str(small))])
        pos = QPointF(10, composer.view.viewport().height() - 5)
        assert drag_and_drop(composer.view, mime, pos, Qt.DropAction.CopyAction).isAccepted()
        while len(composer.batch) < 5_001:
            await asyncio.sleep(0.01)

    run_async(drop_both())
    assert names(composer)[2_500:] == [*range(2_500), 9_999]  # in the order dropped


def test_add_the_editor_event(qtbot):
    text = json.dumps(ev(42))
    composer = make(qtbot, current_text=lambda: text)
    composer.actions_by_name["add"].trigger()
    assert names(composer) == [42]
    text = "{broken"
    composer.actions_by_name["add"].trigger()
    assert composer.error_text().splitlines() == [
        "Nothing added: 1 problem in editor",
        "editor:1:2: Property names must be strings in double quotes",
    ]


@pytest.fixture
def inbox_client(run_async):
    with running_inbox() as inbox:
        client = EventApiClient()
        try:
            yield inbox, client, Target(inbox.url, KEY)
        finally:
            run_async(client.aclose())


def test_send_panel_partial_acceptance_and_resend_the_rest(qtbot, run_async, inbox_client):
    inbox, client, target = inbox_client
    composer = make(qtbot, request_limit=600)
    events = [ev(i, pad=100) for i in range(12)]
    events[5]["data"] = [1, 2]  # Inngest rejects data that is not an object
    composer.add_events(events)
    assert composer.rules_label.text() == (
        "Cannot send: event #6: Event data must be a JSON object, not an array"
    )
    assert composer.problems() == {5: "Event data must be a JSON object, not an array"}
    plan = composer.model.plan()
    bad = plan.request_of(5)
    assert len(plan.requests) >= 3 and bad is not None and plan.requests[bad].start < 5
    panel = BatchSendPanel()
    qtbot.addWidget(panel)
    resend: list[list[int]] = []
    panel.resend_requested.connect(resend.append)

    result = run_async(panel.start_send(client, target, composer.batch.parts, plan))

    why = result.rejected[0][1]
    assert result.rejected == [(5, why)] and "cannot unmarshal array" in why
    rest = list(range(5, plan.requests[bad].stop))
    assert result.rest == rest
    accepted = [int(e.name.removeprefix("ui/e")) for e in inbox.events()]
    assert sorted(accepted) == result.accepted == [i for i in range(12) if i not in rest]
    assert panel.status.text() == (
        f"{12 - len(rest)} of 12 events accepted; event #6 rejected: {why}; "
        f"{len(rest) - 1} not accepted"
    )
    assert panel.events_label.text() == "12 of 12 events"
    log = panel.log.toPlainText().splitlines()
    assert plan.requests[bad] == range(4, 9)  # so the log line reads:
    assert log[bad] == (
        f"Request 2/{len(plan.requests)}: 400 · event #5 accepted (ids "
        f"{inbox.events()[4].internal_id}); event #6 rejected: {why}; "
        "events #7–#9 not accepted"
    )
    assert panel.resend_button.isVisibleTo(panel)
    assert panel.resend_button.text() == f"Resend the rest ({len(rest)})"
    panel.resend_button.click()
    assert resend == [rest]
    composer.mark_outcomes(result)
    tip = composer.model.data(composer.model.index(5, 0), Qt.ItemDataRole.ToolTipRole)
    assert tip.endswith(f"rejected: {why}")


def test_send_panel_cancel_sends_nothing_more(qtbot, run_async, inbox_client):
    inbox, client, target = inbox_client
    composer = make(qtbot, request_limit=600)
    composer.add_events([ev(i, pad=100) for i in range(20)])
    plan = composer.model.plan()
    assert len(plan.requests) >= 4
    panel = BatchSendPanel()
    qtbot.addWidget(panel)

    class CancelAfterFirst:
        def on_pending(self, *args: Any) -> None:
            pass

        def on_done(self, request_no: int, *args: Any) -> None:
            if request_no == 1:
                panel.cancel()

    task = panel.start_send(client, target, composer.batch.parts, plan,
                            observer=CancelAfterFirst())
    with pytest.raises(asyncio.CancelledError):
        run_async(task)
    tally = panel.tally
    assert tally is not None
    assert tally.accepted == list(plan.requests[0])
    assert tally.in_flight == list(plan.requests[1])  # it had started: may have arrived
    assert tally.not_sent == [i for r in plan.requests[2:] for i in r]
    assert panel.status.text().endswith(f"{len(tally.not_sent)} not sent (cancelled)")
    received = len(inbox.events())
    assert received in (len(plan.requests[0]), len(plan.requests[0]) + len(plan.requests[1]))
    assert not panel.cancel_button.isEnabled()


def test_rows_and_preview_paint_offscreen(qtbot, tmp_path: Path):
    composer = make(qtbot)
    events = [ev(i, pad=1100) for i in range(520)]
    events[2]["data"]["pad"] = "y" * 600_000  # alone over the request limit: blocked
    composer.add_events(events)
    composer.select_rows([2])
    tip = composer.model.data(composer.model.index(2, 0), Qt.ItemDataRole.ToolTipRole)
    assert "over the request limit of 524,288 bytes" in tip
    dialog = PreviewDialog(composer.batch, composer.model.plan(),
                           PreviewTarget("http://127.0.0.1:8288",
                                         "http://127.0.0.1:8288/e/****7654", dev=True))
    qtbot.addWidget(dialog)
    dialog.show()
    assert "1 blocked (cannot be sent)" in dialog.summary.text()
    assert dialog.requests.item(dialog.requests.count() - 1).text().startswith(
        "Blocked: event #3\nEvent is 600,"
    )
    assert composer.grab().save(str(tmp_path / "composer.png"))
    assert dialog.grab().save(str(tmp_path / "preview.png"))


def test_rows_whose_answer_broke_off_are_marked_unknown(qtbot):
    from console.core.batch import Tally

    composer = make(qtbot)
    composer.add_events([ev(0), ev(1)])
    composer.mark_outcomes(Tally(accepted=[0], uncertain=[1]))
    tip = composer.model.data(composer.model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
    assert tip.endswith("no usable answer: the server may have taken it (see the send log)")


def test_removing_scattered_rows_plans_the_batch_once_not_once_per_run(qtbot, monkeypatch):
    """Removing every 20th row of 20,000 signalled each run of rows: each moved the
    selection and the meters planned the whole batch again (5 s for 1,000 rows of 50,000)."""
    import console.core.batch as batch_module

    composer = make(qtbot)
    composer.add_events([ev(i, pad=50) for i in range(20_000)])
    doomed = list(range(0, 20_000, 20))
    composer.select_rows(doomed)
    planned: list[int] = []
    real = batch_module.plan_requests
    monkeypatch.setattr(batch_module, "plan_requests",
                        lambda sizes, **kw: planned.append(len(sizes)) or real(sizes, **kw))
    composer.remove_selected()
    assert len(composer.batch) == 19_000 and 0 not in names(composer)
    assert names(composer)[:3] == [1, 2, 3] and 20 not in names(composer)
    assert len(planned) <= 2, len(planned)  # it was 1,000
    assert composer.meters.text("count") == "19,000 of 5,000"
    composer.undo_stack.undo()
    assert names(composer) == list(range(20_000))
    few = [3, 4, 10]  # a few runs still go one by one, keeping the view's place
    composer.select_rows(few)
    composer.remove_selected()
    assert len(composer.batch) == 19_997 and names(composer)[:5] == [0, 1, 2, 5, 6]


def test_with_several_rows_selected_the_event_meter_shows_the_largest(qtbot, tmp_path: Path):
    """After an import all its rows are selected, and the meter showed the first (100
    bytes, green) while the second was over the limit."""
    composer = make(qtbot, event_limit=262_144)
    sizes = [100, 262_145, 200]
    events = [{"name": "m/x", "data": {"p": "x" * (size - len('{"name":"m/x","data":{"p":""}}'))}}
              for size in sizes]
    file = tmp_path / "three.json"
    file.write_text(json.dumps(events))
    assert composer.import_file(file)
    assert composer.selected_rows() == [0, 1, 2]
    assert composer.meters.text("event").startswith("#2: 262,145 of 262,144 bytes")
    composer.select_rows([2])
    assert composer.meters.text("event").startswith("#3: 200 of 262,144 bytes")

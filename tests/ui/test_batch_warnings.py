"""What the batch says about its rows' warnings and about the row the editor edits: schema
warnings on a row (tooltip, marker), Send's "Send anyway?" for them, and the problems of a
row that goes out as written (its placeholders are never rendered)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from console.core.schemas import SchemaLibrary
from console.ui.batch.view import side_label
from console.ui.main_window import MainWindow
from tests.ui.test_main_window import open_window
from tests.ui.test_main_window_messages import answer_send_anyway

ORDER_SCHEMA = {"required": ["amount"],
                "properties": {"amount": {"type": "integer", "description": "cents"}}}
MISSING = 'data: required property "amount" is missing'
NOT_AN_INTEGER = 'data.amount: expected integer, got string "x"'


def with_order_schema(qtbot, tmp_path: Path) -> MainWindow:
    """The window on a workspace whose schemas/shop__order.json requires `amount`."""
    workspace = tmp_path / "ws"
    (workspace / "schemas").mkdir(parents=True)
    (workspace / "schemas" / "shop__order.json").write_text(json.dumps(ORDER_SCHEMA))
    _context, window = open_window(qtbot)
    window.panels.open_workspace(workspace)
    return window


def tooltip(window: MainWindow, row: int) -> str:
    return str(window.composer.model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole))


def test_batch_send_asks_send_anyway_for_the_rows_schema_warnings_naming_each_event(
        qtbot, app_home, tmp_path):
    """The editor's event asked "Send anyway?" for a schema warning; the same events in the
    batch went at once, and their rows showed nothing of it."""
    window = with_order_schema(qtbot, tmp_path)
    assert window.composer.import_text(json.dumps([
        {"name": "shop/order", "data": {}},
        {"name": "other/event", "data": {}},
        {"name": "shop/order", "data": {"amount": "x"}},
    ]))
    composer = window.composer
    assert len(composer.batch) == 3 and composer.error_text() == ""
    assert tooltip(window, 0).endswith(f"\nWarning: {MISSING}")
    assert tooltip(window, 2).endswith(f"\nWarning: {NOT_AN_INTEGER}")
    assert "Warning" not in tooltip(window, 1)
    labels = [side_label(composer.model.index(row, 0)) for row in range(3)]
    assert [label.startswith("△ ") for label in labels] == [True, False, True], labels

    seen: list[str] = []
    answer_send_anyway(window, seen)
    window.send()
    [question] = seen
    assert question == (f"The events do not match their schemas:\n\nevent #1: {MISSING}\n"
                        f"event #3: {NOT_AN_INTEGER}\n\nInngest will accept them. "
                        "Send anyway?")
    assert window.statusBar().currentMessage() == "Not sent"


def test_a_rows_warnings_follow_its_edits_and_the_schemas(qtbot, app_home, tmp_path):
    """Typed into the editor, the row is checked as it now is; new schemas check every row
    again; a duplicate key of the imported text is not the row's (it holds one value)."""
    window = with_order_schema(qtbot, tmp_path)
    composer = window.composer
    assert composer.import_text('{"name": "shop/order", "data": {"amount": "x", "amount": 1}}'
                                '\n{"name": "shop/order", "data": {}}')
    assert "Warning" not in tooltip(window, 0)  # no "Duplicate key": the row has one
    assert tooltip(window, 1).endswith(f"\nWarning: {MISSING}")

    composer.select_rows([1])
    window.editor.setPlainText('{"name": "shop/order", "data": {"amount": 250}}')
    assert "Warning" not in tooltip(window, 1)
    assert side_label(composer.model.index(1, 0)) == "43 B  ·  R1"  # no △
    window.editor.setPlainText('{"name": "shop/order", "data": {"amount": "x"}}')
    assert tooltip(window, 1).endswith(f"\nWarning: {NOT_AN_INTEGER}")

    composer.schemas = SchemaLibrary()  # the schema file deleted, say
    assert "Warning" not in tooltip(window, 1)
    asked: list[object] = []  # (a dialog left unanswered would be answered by a later test)
    window._send_anyway = lambda *args, **kwargs: asked.append(args) or False
    # what Send sends, asked nothing (the send itself, its key and dedup check, is not
    # this test's: it needs the window's event loop)
    assert window._prepared(window.environment()) is not None
    assert asked == []


def test_a_batch_row_in_the_editor_shows_what_send_refuses_it_for(qtbot, app_home):
    """A row goes out as written: `"ts": "{{ now_ms() }}"` is a string there. The editor
    showed no problem (a draft's placeholder is rendered before it is checked), and Send
    said "Not sent: event #1: Event ts must be an integer…"."""
    _context, window = open_window(qtbot)
    window.composer.import_text('[{"name": "a", "data": {}}, {"name": "b", "data": {}}]')
    window.composer.select_rows([0])
    text = '{"name": "a", "ts": "{{ now_ms() }}", "data": {"id": "{{ uuid() }}"}}'
    window.editor.setPlainText(text)
    window.editor.validate_now()
    shown = [(p.line, p.column, p.severity.value, p.message) for p in window.editor.problems()]
    assert shown == [
        (1, 21, "error", "Event ts must be an integer number of milliseconds, not a string"),
        (1, 22, "warning", "Placeholders are not rendered in a batch event: it is sent as "
                           "written"),
    ]
    window.send()
    assert window.statusBar().currentMessage() == (
        "Not sent: event #1: Event ts must be an integer number of milliseconds, not a string")

    # the same text as a draft (no row selected) is rendered before Send checks it
    window.composer.select_rows([])
    window.editor.validate_now()
    assert window.editor.problems() == []


def test_imported_rows_are_not_checked_again_for_warnings(qtbot, app_home, tmp_path,
                                                          monkeypatch):
    """The import checked every event against its schema already (50,000 of them on a
    worker thread): the rows keep what it found, and Send asks without a second pass."""
    from console.ui.batch import model

    window = with_order_schema(qtbot, tmp_path)
    checked: list[bytes] = []
    real = model.event_warnings
    monkeypatch.setattr(model, "event_warnings",
                        lambda part, schemas: checked.append(part) or real(part, schemas))
    events = [{"name": "shop/order", "data": {"amount": i}} for i in range(200)]
    events[150]["data"] = {}
    assert window.composer.import_text("\n".join(json.dumps(e) for e in events))
    seen: list[str] = []
    answer_send_anyway(window, seen)
    window.send()
    assert seen[0].startswith(f"The events do not match their schemas:\n\nevent #151: "
                              f"{MISSING}\n\nInngest"), seen
    assert tooltip(window, 150).endswith(f"\nWarning: {MISSING}")
    assert checked == []

"""The history view: a virtual model over a million real rows, filters, detail and actions."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication

from console.core.dedup import DedupLedger
from console.core.plan import plan_requests
from console.core.serialize import event_bytes
from console.services.client import EventApiClient, RetryPolicy, Target
from console.services.environments import from_sdk_variables
from console.services.history import HistoryStore, now_ms
from console.services.history_query import HistoryFilter
from console.services.history_recorder import HistoryRecorder
from console.services.outcomes import PollPolicy, RestAccess, confirm_outcomes
from console.services.paths import app_paths
from console.services.sender import send_events
from console.ui.history import HistoryReader, HistoryTableModel, HistoryView
from console.ui.history.detail import HistoryDetail
from console.ui.history.icons import DETAIL_LINES, event_lines
from console.ui.history.model import PLACEHOLDER, ROW_ROLE
from console.ui.rich import shown
from tests.support.history_fill import fill_history
from tests.support.inbox_thread import running_inbox

MILLION = 1_000_000


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "history.sqlite3"
    fill_history(path, MILLION)
    return path


@pytest.fixture
def reader(million: Path, qapp):
    opened = HistoryReader(million)
    yield opened
    opened.close()


def name_at(model: HistoryTableModel, row: int) -> str:
    return model.data(model.index(row, 2))


def test_a_million_rows_load_page_by_page(qtbot, reader: HistoryReader):
    model = HistoryTableModel(reader, page_size=200)
    with qtbot.waitSignal(model.countChanged, timeout=20_000):
        model.set_filters(HistoryFilter())
    assert model.rowCount() == MILLION
    assert name_at(model, 0) == PLACEHOLDER  # data() never waits for SQLite
    qtbot.waitUntil(lambda: name_at(model, 0) != PLACEHOLDER, timeout=10_000)
    assert name_at(model, 0) == f"app/event.{MILLION % 50}"  # newest first
    assert shown(model.data(model.index(0, 5), Qt.ItemDataRole.ToolTipRole)).startswith("ran")
    assert model.data(model.index(0, 5), Qt.ItemDataRole.DecorationRole) is not None
    # the very last row, then the page above it (keyset from the cached neighbour)
    assert name_at(model, MILLION - 1) == PLACEHOLDER
    qtbot.waitUntil(lambda: name_at(model, MILLION - 1) != PLACEHOLDER, timeout=10_000)
    assert model.data(model.index(MILLION - 1, 0), ROW_ROLE).id == 1
    model.row_at(MILLION - 201)
    qtbot.waitUntil(lambda: model.row_at(MILLION - 201) is not None, timeout=10_000)
    assert model.row_at(MILLION - 201).id == 201
    assert model.row_at(MILLION - 200).id == 200
    # filtered by name: 20,000 rows, served from the name index
    with qtbot.waitSignal(model.countChanged, timeout=10_000):
        model.set_filters(HistoryFilter(name="app/event.7"))
    assert model.rowCount() == MILLION // 50
    qtbot.waitUntil(lambda: model.row_at(0) is not None, timeout=10_000)
    assert {model.row_at(i).name for i in range(200)} == {"app/event.7"}


def test_scrolling_a_real_table_to_the_bottom(qtbot, reader: HistoryReader):
    view = HistoryView(reader, environments=["dev", "cloud"])
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() == MILLION, timeout=20_000)
    assert view.count_label.text() == "1,000,000 events"
    bar = view.table.verticalScrollBar()
    for fraction in (0.25, 0.5, 0.75, 1.0):  # a drag across the whole history
        bar.setValue(int(bar.maximum() * fraction))
        qtbot.wait(10)
    bottom = view.table.rowAt(view.table.viewport().height() - 2)
    assert bottom > MILLION - 100
    qtbot.waitUntil(lambda: view.model.row_at(bottom) is not None, timeout=10_000)
    assert len(view.model.loaded_pages()) <= view.model.max_pages
    view.filter_bar.name.setText("app/event.3")
    view.filter_bar.flush()
    qtbot.waitUntil(lambda: view.model.rowCount() == MILLION // 50, timeout=10_000)
    assert view.count_label.text() == "20,000 events"


def record_two_sends_of_the_same_id(store: HistoryStore, origin: str) -> None:
    """Two sends of one dedup id through the real pipeline, outcomes confirmed."""
    fast = PollPolicy(total=1.0, first_delay=0.05, max_delay=0.2, settle=0.05)

    async def send(events: list[dict]) -> None:
        parts = [event_bytes(e) for e in events]
        ids = [e["id"] for e in events if "id" in e]
        predictions = DedupLedger(store.prior_sends("Inbox", ids), env="Inbox").classify(
            events, now_ms())
        recorder = HistoryRecorder(store, "Inbox", parts, predictions=predictions,
                                   origin=origin)
        plan = plan_requests([len(p) for p in parts], request_limit=1 << 19,
                             event_limit=1 << 20)
        client = EventApiClient()
        try:
            await send_events(client, Target(origin, "k"), parts, plan, observer=recorder)
            await confirm_outcomes(client, RestAccess(origin), recorder.sent(), policy=fast,
                                   on_outcome=recorder.record_outcome)
        finally:
            await client.aclose()

    asyncio.run(send([{"name": "shop/paid", "id": "pay-1", "data": {"amount": 12}}]))
    asyncio.run(send([{"name": "shop/paid", "id": "pay-1", "data": {"amount": 12}},
                      {"name": "shop/refund", "data": {"note": "needle in a haystack"}}]))


@pytest.fixture
def sent_history(app_home: Path, qapp):
    path = app_paths().ensure().history_db
    with running_inbox() as inbox, HistoryStore(path) as store:
        record_two_sends_of_the_same_id(store, inbox.url)
        origin = inbox.url
    reader = HistoryReader(path)
    yield reader, origin
    reader.close()


def test_deduplicated_outcome_detail_and_actions(qtbot, sent_history, tmp_path: Path):
    reader, origin = sent_history
    view = HistoryView(reader, environments=["Inbox", "Dev Server"])
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=10_000)
    qtbot.waitUntil(lambda: view.model.row_at(0) is not None, timeout=10_000)
    rows = [view.model.row_at(i) for i in range(3)]
    assert [r.name for r in rows] == ["shop/refund", "shop/paid", "shop/paid"]
    dup, first = rows[1], rows[2]
    assert dup.outcome == "deduplicated" and first.outcome_text == "ran: 1 run"
    tooltip = shown(view.model.data(view.model.index(1, 5), Qt.ItemDataRole.ToolTipRole))
    assert tooltip.startswith(f"deduplicated: no runs (first seen as {first.internal_id} at ")
    assert f"Before sending: duplicate of {first.internal_id} sent at " in tooltip

    view.table.setCurrentIndex(view.model.index(1, 0))
    qtbot.waitUntil(lambda: view.detail.row is not None, timeout=10_000)
    assert json.loads(view.detail.event_box.toPlainText()) == {
        "name": "shop/paid", "id": "pay-1", "data": {"amount": 12}}
    assert json.loads(view.detail.response_box.toPlainText())["ids"][0] == dup.internal_id
    assert "deduplicated: no runs" in view.detail.runs_box.toPlainText()

    def before_sending(detail: HistoryDetail) -> str | None:
        lines = detail.runs_box.toPlainText().splitlines()
        found = [line for line in lines if line.startswith("before sending")]
        return found[0].removeprefix("before sending").strip() if found else None

    assert before_sending(view.detail).startswith(f"duplicate of {first.internal_id} sent at ")
    other = HistoryDetail()
    qtbot.addWidget(other)
    other.show_row(rows[0], [rows[0].internal_id])
    assert before_sending(other) == "no dedup id"  # the verdict, where no message was kept
    other.show_row(replace(rows[0], request_id=None), [])  # as the inbox captures
    assert before_sending(other) is None
    # a name is shown as its characters, never as markup (the sender chose it)
    other.show_row(replace(rows[0], name="<img src=x> & <b>co</b>"), [])
    assert shown(other.summary.text()).startswith("<img src=x> & <b>co</b> — ")
    assert f"origin             {origin}" in view.detail.request_box.toPlainText()
    view.resize(1200, 760)
    view.grab().save(os.environ.get("HISTORY_SCREENSHOT", "/tmp/history.png"))

    with qtbot.waitSignal(view.sendAgainRequested) as sent:
        view.send_menu.actions()[1].trigger()  # "Send again to Dev Server"
    assert json.loads(sent.args[0])["id"] == "pay-1" and sent.args[1] == "Dev Server"
    with qtbot.waitSignal(view.saveAsTemplateRequested) as saved:
        view.save_template.click()
    assert saved.args[1] == "shop/paid"
    curl = view.copy_as("curl")
    assert curl == QGuiApplication.clipboard().text()
    assert (f'curl -sS -g -X POST \'{origin}/e/\'"${{INNGEST_EVENT_KEY:-NO_EVENT_KEY_SET}}"'
            in curl)  # the inbox: the placeholder key when none is set

    selection = view.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    selection.select(view.model.index(0, 0), flags)
    selection.select(view.model.index(2, 0), flags)
    exported: list[int] = []
    view.export_selection(tmp_path / "sel.jsonl", done=exported.append)
    qtbot.waitUntil(lambda: exported == [3], timeout=10_000)
    lines = [json.loads(line) for line in (tmp_path / "sel.jsonl").read_text().splitlines()]
    assert [line["outcome"] for line in lines] == ["ran", "deduplicated", "ran"]
    assert view.status_label.text() == f"Exported 3 events to {tmp_path / 'sel.jsonl'}"


def on_the_newest_row(qtbot, reader) -> HistoryView:
    """A History view with its newest row selected and shown in the detail pane."""
    view = HistoryView(reader, environments=["Inbox"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.row_at(0) is not None, timeout=10_000)
    view.table.setCurrentIndex(view.model.index(0, 0))
    qtbot.waitUntil(lambda: view.detail.row is not None, timeout=10_000)
    return view


def test_copy_as_targets_where_the_event_went_not_what_its_environment_is_called(
        qtbot, sent_history):
    """A Cloud environment named "Development…" was taken for the local Dev Server."""
    reader, origin = sent_history
    view = on_the_newest_row(qtbot, reader)
    row = view.detail.row  # with its event
    view.detail.show_row(replace(row, env="Development", origin="https://inn.gs"), [])
    typescript, python = view.copy_as("TypeScript"), view.copy_as("Python")
    assert "isDev" not in typescript and "baseUrl" not in typescript
    assert "is_production=False" not in python
    view.detail.show_row(replace(row, env="Staging", origin=origin), [])  # a local server
    typescript = view.copy_as("TypeScript")
    assert "isDev: true" in typescript and f'baseUrl: "{origin}"' in typescript
    # a saved environment's kind decides, as in the preview: a Dev Server on another host
    view.kind_of = {"Dev box": "dev", "Development": "cloud"}.get
    view.detail.show_row(replace(row, env="Dev box", origin="http://devbox:8288"), [])
    assert "isDev: true" in view.copy_as("TypeScript")
    view.detail.show_row(replace(row, env="Development", origin="https://inn.gs"), [])
    assert "isDev" not in view.copy_as("TypeScript")


def _without_inngest_variables() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}


def test_copy_as_of_a_from_environment_send_to_this_machine_is_for_a_dev_server(
        qtbot, sent_history, tmp_path: Path):
    """INNGEST_DEV pointing at a local server: its sends were copied as production code
    (is_production=True, no isDev), which failed with KeyError: 'INNGEST_EVENT_KEY'."""
    reader, _origin = sent_history
    view = on_the_newest_row(qtbot, reader)
    row = view.detail.row
    with running_inbox() as inbox:
        sdk = from_sdk_variables({"INNGEST_DEV": inbox.url})
        assert sdk is not None and sdk.environment.kind == "from-env"
        env = sdk.environment  # the window's kind_of: the kind of the env a row names
        view.kind_of = lambda name: env.kind if name == env.history_name else None
        view.detail.show_row(replace(row, env=env.history_name, origin=inbox.url), [])
        assert "isDev: true" in view.copy_as("TypeScript")
        python = view.copy_as("Python")
        assert python is not None and "is_production=False" in python
        script = tmp_path / "send.py"
        script.write_text(python)
        done = subprocess.run([sys.executable, str(script)], env=_without_inngest_variables(),
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert [e.name for e in inbox.events()] == [row.name]
    remote = from_sdk_variables({"INNGEST_BASE_URL": "https://inngest.example.com"})
    assert remote is not None
    view.kind_of = lambda _name: "from-env"  # pointing elsewhere: production code
    view.detail.show_row(replace(row, env=remote.environment.history_name,
                                 origin="https://inngest.example.com"), [])
    assert "is_production=True" in (view.copy_as("Python") or "")
    assert "${INNGEST_EVENT_KEY:-" not in (view.copy_as("curl") or "")


def test_copy_as_curl_of_an_inbox_event_runs_without_a_key(qtbot, sent_history):
    """The console sends NO_EVENT_KEY_SET to the inbox and a Dev Server; the curl snippet
    read "$INNGEST_EVENT_KEY" and, unset, was refused with a 401."""
    reader, _origin = sent_history
    view = on_the_newest_row(qtbot, reader)
    row = view.detail.row
    with running_inbox() as inbox:
        view.detail.show_row(replace(row, origin=inbox.url), [])
        curl = view.copy_as("curl")
        assert curl is not None
        done = subprocess.run(["bash", "-c", curl], env=_without_inngest_variables(),
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["status"] == 200, done.stdout
        assert [e.name for e in inbox.events()] == [row.name]


def test_copy_as_and_send_again_keep_half_a_utf16_pair_the_inbox_captured(qtbot,
                                                                          sent_history):
    """The inbox takes "\\ud800" as sent; Copy as raised UnicodeEncodeError out of the
    menu, and Send again's text lost the character on its way through Qt."""
    reader, _origin = sent_history
    view = on_the_newest_row(qtbot, reader)
    event = {"name": "cap/sur", "id": "cs1", "data": {"s": "\ud800 lone", "t": "é"}}
    view.detail.show_row(replace(view.detail.row, payload=json.dumps(event)), [])
    for language in ("curl", "TypeScript", "Python"):
        snippet = view.copy_as(language)
        assert snippet is not None and "\\ud800 lone" in snippet, language
    with qtbot.waitSignal(view.sendAgainRequested) as sent:
        view.send_menu.actions()[0].trigger()
    assert json.loads(sent.args[0]) == event


def test_the_selected_event_stays_selected_when_new_events_are_recorded(qtbot,
                                                                       sent_history):
    """An app posting to the inbox records an event every few seconds: each refresh used
    to clear the selection, the detail pane and the row actions."""
    from console.services.inbox import CapturedEvent

    reader, _origin = sent_history
    view = HistoryView(reader, environments=["Inbox"])
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.model.row_at(2) is not None, timeout=10_000)
    view.table.setCurrentIndex(view.model.index(1, 0))
    qtbot.waitUntil(lambda: view.detail.row is not None, timeout=10_000)
    chosen = view.detail.row.id
    with HistoryStore(app_paths().history_db) as store:
        for n in range(2):
            raw = json.dumps({"name": f"app/new.{n}", "data": {}}).encode()
            store.record_captured("Inbox", CapturedEvent(
                f"01NEW{n}", now_ms(), f"app/new.{n}", json.loads(raw), len(raw), raw))
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 5, timeout=10_000)
    qtbot.waitUntil(lambda: view.table.currentIndex().row() == 3, timeout=10_000)
    assert view.model.row_at(3).id == chosen and view.detail.row.id == chosen
    assert view.send_again.isEnabled()
    view.apply_filters()  # a filter change is a new list: nothing is carried over
    qtbot.waitUntil(lambda: view.detail.row is None, timeout=10_000)
    assert not view.send_again.isEnabled()


def test_a_refresh_keeps_the_selection_and_the_export_writes_the_rows_selected(
        qtbot, sent_history, tmp_path: Path):
    """Rows recorded meanwhile moved the selected ones down: a refresh kept only the current
    row selected, and an export before the refresh wrote the rows now at those places."""
    from console.services.inbox import CapturedEvent

    reader, _origin = sent_history
    view = HistoryView(reader, environments=["Inbox"])
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.model.row_at(2) is not None, timeout=10_000)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    view.table.setCurrentIndex(view.model.index(0, 0))
    view.table.selectionModel().select(view.model.index(2, 0), flags)
    qtbot.waitUntil(lambda: view.detail.row is not None, timeout=10_000)
    chosen = [view.model.row_at(0).id, view.model.row_at(2).id]

    def record(name: str) -> None:
        raw = json.dumps({"name": name, "data": {}}).encode()
        with HistoryStore(app_paths().history_db) as store:
            store.record_captured("Inbox", CapturedEvent(
                f"01{name[-1]}", now_ms(), name, json.loads(raw), len(raw), raw))

    record("app/new.1")  # recorded by another process: the tab has not refreshed yet
    exported: list[int] = []
    view.export_selection(tmp_path / "sel.jsonl", done=exported.append)
    qtbot.waitUntil(lambda: exported == [2], timeout=10_000)
    lines = [json.loads(line) for line in (tmp_path / "sel.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == chosen
    record("app/new.2")
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 5, timeout=10_000)
    qtbot.waitUntil(lambda: view.table.currentIndex().row() == 2, timeout=10_000)
    rows = sorted(i.row() for i in view.table.selectionModel().selectedRows())
    assert rows == [2, 4] and [view.model.row_at(r).id for r in rows] == chosen


def test_last_hour_is_the_last_hour_at_each_refresh(qtbot, sent_history):
    """The range was fixed when picked: after an hour, "Last hour" showed two."""
    reader, _origin = sent_history
    view = HistoryView(reader, environments=["Inbox"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=10_000)
    view.filter_bar.when.setCurrentIndex(view.filter_bar.when.findText("Last hour"))
    view.apply_filters()
    qtbot.waitUntil(lambda: view.model.shown.since_ms is not None, timeout=10_000)
    picked = view.model.filters.since_ms
    qtbot.wait(20)
    view.refresh()
    qtbot.waitUntil(lambda: view.model.shown.since_ms != picked, timeout=10_000)
    assert view.model.shown.since_ms > picked


def test_a_short_wide_tab_shows_rows_and_the_event_side_by_side(qtbot, sent_history):
    """Under the editor the History tab is about 1260 x 330: the table keeps room for at
    least 6 rows and the selected event's JSON is shown beside it, not squeezed under it."""
    reader, _ = sent_history
    view = HistoryView(reader, environments=["Inbox"])
    qtbot.addWidget(view)
    view.resize(1260, 330)
    view.show()
    qtbot.waitUntil(lambda: view.model.row_at(2) is not None, timeout=10_000)
    row_height = view.table.verticalHeader().defaultSectionSize()
    assert view.table.viewport().height() >= 6 * row_height
    view.table.setCurrentIndex(view.model.index(1, 0))
    qtbot.waitUntil(lambda: view.detail.row is not None, timeout=10_000)
    box = view.detail.event_box
    lines = len(box.toPlainText().splitlines())
    assert lines == 7  # the pretty-printed {"name", "id", "data": {"amount"}} event
    assert box.viewport().height() >= lines * box.fontMetrics().lineSpacing()
    assert box.mapTo(view, box.rect().topLeft()).x() > view.table.width()  # beside
    assert not view.status_label.isVisible()  # no message yet: no empty line under the table
    view.say("Exported 1 event")
    assert view.status_label.isVisible()


def test_filters_search_and_retention(qtbot, sent_history):
    reader, _ = sent_history
    view = HistoryView(reader, environments=["Inbox"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=10_000)
    view.filter_bar.search.setText("hayst")
    view.filter_bar.flush()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
    view.filter_bar.search.clear()
    view.filter_bar.outcome.setCurrentIndex(view.filter_bar.outcome.findData("deduplicated"))
    view.filter_bar.flush()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
    view.filter_bar.outcome.setCurrentIndex(0)
    view.filter_bar.dedup.setText("pay-1")
    view.filter_bar.flush()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10_000)

    view.request_send_again(None)  # nothing selected yet: says so instead of failing
    assert view.status_label.text() == "Select an event first."
    qtbot.waitUntil(lambda: view.retention.value() == 90, timeout=10_000)
    view.retention.setValue(0)
    view.purge_now(confirm=False)
    assert view.status_label.text() == (
        "History is kept forever: set a number of days to purge older events.")
    view.retention.setValue(1)
    purged: list[int] = []
    view.purge_now(confirm=False, done=purged.append)
    qtbot.waitUntil(lambda: purged == [0], timeout=10_000)  # everything is from today
    assert view.status_label.text() == "Purged 0 events older than 1 day."


def test_a_dedup_id_with_spaces_around_it_is_found_as_typed(qtbot, app_home, qapp):
    """Inngest keeps " ord-7 " as sent, spaces and all: the filter took the spaces off and
    found "ord-7" (or nothing)."""
    path = app_paths().ensure().history_db
    with HistoryStore(path) as store:
        for dedup in (" ord-7 ", "ord-7"):
            store.record_pending(env="Inbox", events=[event_bytes(
                {"name": "shop/order", "id": dedup, "data": {}})])
    reader = HistoryReader(path)
    try:
        view = HistoryView(reader, environments=["Inbox"])
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10_000)

        def shown() -> list[str | None]:
            rows = [view.model.row_at(i) for i in range(view.model.rowCount())]
            return [row.dedup_id if row is not None else None for row in rows]

        for typed, found in ((" ord-7 ", [" ord-7 "]), ("ord-7", ["ord-7"]),
                             ("   ", ["ord-7", " ord-7 "])):
            with qtbot.waitSignal(view.model.countChanged, timeout=10_000):
                view.filter_bar.dedup.setText(typed)
                view.filter_bar.flush()
            qtbot.waitUntil(lambda found=found: shown() == found, timeout=10_000)
    finally:
        reader.close()


def test_the_environment_filter_finds_the_sends_of_from_environment(qtbot, app_home,
                                                                      monkeypatch):
    """The history keeps the From-environment target's sends as "From environment
    (its origin)", and the filter offered "From environment": 0 events. Its sends
    through the window's History tab, copied as code for the Dev Server it points at."""
    from console.ui.context import AppContext
    from console.ui.main_window import MainWindow

    origin = "http://127.0.0.1:48288"
    monkeypatch.setenv("INNGEST_DEV", origin)
    sdk = from_sdk_variables({"INNGEST_DEV": origin})
    assert sdk is not None
    with HistoryStore(app_paths().ensure().history_db) as store:
        for env, name in ((sdk.environment.history_name, "fe/one"), ("Inbox", "in/one")):
            store.record_pending(env=env, events=[event_bytes({"name": name, "data": {}})],
                                 origin=origin)
    window = MainWindow(AppContext.create(app_paths()))
    qtbot.addWidget(window)
    view, bar = window.panels.history, window.panels.history.filter_bar
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10_000)
    for _ in range(2):  # as the tab opened, then after Environments… changed them
        bar.env.setCurrentIndex(bar.env.findText("From environment"))
        bar.flush()
        qtbot.waitUntil(lambda: view.count_label.text() == "1 event", timeout=10_000)
        qtbot.waitUntil(lambda: view.model.row_at(0) is not None, timeout=10_000)
        assert view.model.row_at(0).name == "fe/one"
        bar.env.setCurrentIndex(0)
        bar.flush()
        qtbot.waitUntil(lambda: view.count_label.text() == "2 events", timeout=10_000)
        window.environments_changed()
    bar.env.setCurrentIndex(bar.env.findText("From environment"))
    bar.flush()
    qtbot.waitUntil(lambda: view.count_label.text() == "1 event", timeout=10_000)
    qtbot.waitUntil(lambda: view.model.row_at(0) is not None, timeout=10_000)
    view.table.setCurrentIndex(view.model.index(0, 0))
    qtbot.waitUntil(lambda: view.detail.row is not None, timeout=10_000)
    python = view.copy_as("Python")
    assert python is not None and "is_production=False" in python
    assert f"event_api_base_url='{origin}'" in python
    assert view.status_label.text() == ("Copied as Python (the key is read from "
                                        "INNGEST_EVENT_KEY, or none needed: it is for a Dev "
                                        "Server).")
    window.close()


def test_payload_size_kept_is_set_in_the_view(qtbot, sent_history):
    reader, _ = sent_history
    view = HistoryView(reader, environments=["Inbox"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.payload_cap.value() == 64, timeout=10_000)
    view.payload_cap.setValue(2)
    view.payload_cap.editingFinished.emit()
    qtbot.waitUntil(lambda: view.status_label.text()
                    == "Payloads up to 2 KiB are kept from now on.", timeout=10_000)
    with HistoryStore(app_paths().history_db) as store:  # what the next send will use
        assert store.payload_cap == 2048
        raw = event_bytes({"name": "big", "data": {"text": "y" * 4000}})
        store.record_pending(env="Inbox", events=[raw])
        [row] = store.query(HistoryFilter(name="big"), with_payload=True)
    assert row.truncated and row.size == len(raw) and len(row.payload) == 2048


def test_the_response_tab_shows_no_answer_as_none_and_a_refusal_as_read(qtbot, tmp_path):
    """A connection refused read as a server's answer, `{"ids": [], "status": null,
    "error": ...}`, and a 401's text body as JSON the server never sent."""
    import socket

    from tests.support.fault_server import FaultServer, Reply

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"

    async def send(store: HistoryStore, origin: str) -> None:
        parts = [event_bytes({"name": "shop/x", "data": {}})]
        recorder = HistoryRecorder(store, "Dev", parts, origin=origin)
        plan = plan_requests([len(p) for p in parts], request_limit=1 << 19,
                             event_limit=1 << 20)
        client = EventApiClient(retry=RetryPolicy(max_attempts=1))
        try:
            await send_events(client, Target(origin, "evtkey-8c1f3a5e7b9d2c4e"), parts, plan,
                              observer=recorder)
        finally:
            await client.aclose()

    with HistoryStore(tmp_path / "h.sqlite3") as store:
        asyncio.run(send(store, nowhere))
        with FaultServer() as server:
            server.script(Reply.text(401, "Event key not found"), Reply.reset(),
                          Reply.json(201, {"ids": ["01PROXY"]}))
            asyncio.run(send(store, server.origin))
            asyncio.run(send(store, server.origin))
            asyncio.run(send(store, server.origin))
        refused, unknown_key, reset, created = store.query()[::-1]
    detail = HistoryDetail()
    qtbot.addWidget(detail)
    detail.show_row(unknown_key, [])
    assert detail.response_box.toPlainText().splitlines() == [
        "status   401",
        "ids      none",
        "as read  server answered 401 with a body that is not JSON: 'Event key not found'"]
    detail.show_row(refused, [])
    text = detail.response_box.toPlainText()
    assert text.startswith("no answer  nothing came back from the server\n"), text
    assert "connection refused: nothing listens there" in text and "null" not in text
    assert "Outcome unknown" not in detail.summary.text()  # refused: never sent, not unknown
    detail.show_row(reset, [])  # the console did not stop: the connection broke
    assert "the server reset the connection" in detail.response_box.toPlainText()
    assert detail.summary.text().endswith("<small>Outcome unknown: no full answer came; the "
                                          "server may or may not have taken it</small>")
    # a proxy's 201 naming every id took the event: it read "as read  server answered 201"
    detail.show_row(created, ["01PROXY"])
    assert json.loads(detail.response_box.toPlainText()) == {"ids": ["01PROXY"], "status": 201}


def test_outcome_tooltips_list_the_first_events_and_count_the_rest() -> None:
    """The send log and scenario results list events the same way."""
    every = [(i, f"app/e{i}", "ran: 1 run") for i in range(DETAIL_LINES + 2)]
    lines = event_lines(every[:DETAIL_LINES], len(every))
    assert lines[0] == "#1 app/e0: ran: 1 run" and len(lines) == DETAIL_LINES + 1
    assert lines[-1] == "… and 2 more (see History)"
    assert event_lines(every[:2], 2) == ["#1 app/e0: ran: 1 run", "#2 app/e1: ran: 1 run"]


def rows_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows each HistoryStore.query returns from now on, in order."""
    read: list[int] = []
    query = HistoryStore.query

    def counted(self: HistoryStore, *args: object, **kwargs: object) -> object:
        rows = query(self, *args, **kwargs)  # type: ignore[arg-type]
        read.append(len(rows))
        return rows

    monkeypatch.setattr(HistoryStore, "query", counted)
    return read


def test_a_big_selection_is_exported_chunk_by_chunk_into_a_file_that_appears_whole(
        qtbot, reader: HistoryReader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    view = HistoryView(reader, environments=["dev", "cloud"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == MILLION, timeout=20_000)
    read = rows_read(monkeypatch)  # per query: an export must not load its selection at once
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    model, selection = view.model, view.table.selectionModel()
    selection.select(QItemSelection(model.index(0, 0), model.index(4_999, 0)), flags)
    selection.select(QItemSelection(model.index(10_000, 0), model.index(10_009, 0)), flags)
    target, exported = tmp_path / "big.jsonl", []
    view.export_selection(target, done=exported.append)
    assert view.status_label.text() == f"Exporting 5,010 events to {target}…"
    qtbot.waitUntil(lambda: exported == [5_010], timeout=30_000)
    ids = [json.loads(line)["id"] for line in target.read_text("utf-8").splitlines()]
    assert ids == ([MILLION - i for i in range(5_000)]
                   + [MILLION - 10_000 - i for i in range(10)])
    assert max(read) <= 2_000
    assert view.status_label.text() == f"Exported 5,010 events to {target}"

    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    view.export_selection(blocked / "out.csv")
    qtbot.waitUntil(lambda: view.status_label.text().startswith("Could not export"),
                    timeout=10_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "big.jsonl"]


def test_a_big_selection_costs_the_header_nothing_and_a_close_stops_its_export(
        qtbot, reader: HistoryReader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each paint of the column header asked the model about every selected row, once per
    column: 2 s for 100,000 rows, and a window frozen for a minute while an export of them
    held the GIL. Closing the window then waited for the export's end and its 600 MB."""
    import cProfile
    import pstats

    view = HistoryView(reader, environments=["dev", "cloud"])
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() == MILLION, timeout=20_000)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    view.table.selectionModel().select(
        QItemSelection(view.model.index(0, 0), view.model.index(99_999, 0)), flags)
    profile = cProfile.Profile()
    profile.runcall(view.table.horizontalHeader().grab)
    asked = sum(calls for (file, _, _), (_, calls, *_) in pstats.Stats(profile).stats.items()
                if file.endswith("history/model.py"))
    assert asked < 1_000, f"{asked:,} calls into the model for one paint of the header"

    read = rows_read(monkeypatch)
    view.table.selectAll()
    target = tmp_path / "all.jsonl"
    view.export_selection(target)
    qtbot.waitUntil(lambda: sum(read) > 0, timeout=10_000)  # under way
    reader.close()  # as the window's close does
    assert not target.exists() and list(tmp_path.iterdir()) == []  # nothing half-written
    assert sum(read) < MILLION // 2, f"{sum(read):,} rows read after the close"
    assert view.status_label.text() == f"Exporting 1,000,000 events to {target}…"


def test_focus_passing_through_the_settings_boxes_writes_nothing(qtbot, sent_history):
    """`history --set-retention 3650` in a terminal, then the focus passed through the
    window's Keep box (nothing typed): it wrote back its 90 days, and the next send purged
    by them. The payload size box did the same."""
    reader, _ = sent_history
    view = HistoryView(reader, environments=["Inbox"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.retention.value() == 90 and view.payload_cap.value() == 64,
                    timeout=10_000)
    with HistoryStore(app_paths().history_db) as store:  # as the terminal's command does
        store.set_retention_days(3650)
        store.set_payload_cap(4096 * 1024)
    for box in (view.retention, view.payload_cap):
        box.editingFinished.emit()  # as a loss of focus does, nothing typed
    view.retention.setValue(30)  # and a real edit is still written
    view.retention.editingFinished.emit()
    qtbot.waitUntil(lambda: view.status_label.text() == "History is kept for 30 days.",
                    timeout=10_000)
    with HistoryStore(app_paths().history_db) as store:
        assert store.retention_days == 30 and store.payload_cap_setting == 4096 * 1024


def test_a_page_asked_for_while_a_new_filter_is_counted_holds_that_filters_rows(qtbot, tmp_path):
    """A paint between `set_filters` and its count read the page with the filters shown
    until then; it came back after the count and was kept: "b" listed under the name "a"."""
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        for name in ("a", "b"):
            store.record_pending(env="Inbox", events=[event_bytes({"name": name, "data": {}})])
    reader = HistoryReader(path)
    try:
        model = HistoryTableModel(reader)
        model.set_filters(HistoryFilter())
        qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=10_000)
        model.set_filters(HistoryFilter(name="a"))
        model.row_at(0)  # a paint of the rows shown so far, before the count is back
        qtbot.wait(500)  # the count, and whatever page was read, are back
        assert model.rowCount() == 1
        qtbot.waitUntil(lambda: model.row_at(0) is not None, timeout=10_000)
        assert model.row_at(0).name == "a"
    finally:
        reader.close()

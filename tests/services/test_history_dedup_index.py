"""The dedup index leads with the day (schema 4): lookups by id find every row they did when
it led with the id, and read the index day by day, never the whole table.

Real SQLite files. The oracle is what was written, filtered in Python.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.dedup import DEDUP_WINDOW_MS
from console.core.ids import IdSeed
from console.core.serialize import event_bytes
from console.services import history_schema
from console.services.client import SendResult
from console.services.history import HistoryStore
from console.services.history_query import HistoryFilter
from tests.support.history_fill import fill_history

T0 = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC: under two hours before a day starts
HOUR = 60 * 60 * 1000
DAY = 24 * HOUR


def write(store: HistoryStore, n: int, dedup: str, env: str, at: int, outcome: str) -> None:
    body = event_bytes({"name": "n", "id": dedup})
    request = store.record_pending(env=env, events=[body], time_ms=at)
    if outcome in ("accepted", "refused"):
        ok = outcome == "accepted"
        store.record_done(request, SendResult(
            200 if ok else 400, [f"01SEND{n:04d}"] if ok else [], 1, int(ok),
            None if ok else "bad", 1, 1.0, len(body), IdSeed.fresh().header))


@settings(max_examples=60, deadline=None)
@given(sends=st.lists(st.tuples(
    st.sampled_from(["a", "b", "c"]), st.sampled_from(["dev", "dev", "prod"]),
    # hours before the base time: in the future (a clock ahead, by hours or years), today,
    # each day of the two windows and their edges, days with nothing between them, long
    # before
    st.sampled_from([-87600, -50, -3, -1, 0, 1, 2, 3, 23, 25, 26, 47, 48, 49, 73, 500]),
    st.sampled_from(["accepted", "pending", "refused"])), max_size=14),
    now_back=st.sampled_from([0, 2, 3, 30]),
    base=st.sampled_from([T0, 0, 5 * HOUR]))  # near 0: days before 1970 round toward 0
def test_lookups_by_id_find_every_row_on_every_day(tmp_path_factory: Any,
                                                   sends: list[tuple[str, str, int, str]],
                                                   now_back: int, base: int) -> None:
    path = tmp_path_factory.mktemp("days") / "h.sqlite3"
    now = base - now_back * HOUR
    written = []
    with HistoryStore(path, recover=False) as store:
        for n, (dedup, env, hours, outcome) in enumerate(sends):
            at = base - hours * HOUR
            write(store, n, dedup, env, at, outcome)
            written.append((dedup, env, at, outcome, f"01SEND{n:04d}"))
        ids = ["a", "b", "c", "d"]
        every = store.prior_sends("dev", ids, now=now, complete=True)
        counts = {i: store.count(HistoryFilter(dedup_id=i)) for i in ids}
        shown = {i: sorted(r.time_ms for r in store.query(HistoryFilter(dedup_id=i)))
                 for i in ids}
    since = now - 2 * DEDUP_WINDOW_MS
    expected = sorted(
        (dedup, at, internal if outcome == "accepted" else "")
        for dedup, env, at, outcome, internal in written
        if env == "dev" and at >= since and outcome != "refused")
    assert sorted((p.dedup_id, p.time_ms, p.internal_id or "") for p in every) == expected
    assert counts == {i: sum(w[0] == i for w in written) for i in ids}
    assert shown == {i: sorted(w[2] for w in written if w[0] == i) for i in ids}


def instructions(conn: sqlite3.Connection, run: Any) -> int:
    """SQLite virtual-machine instructions `run` executes on `conn` (in hundreds)."""
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    conn.set_progress_handler(tick, 100)
    try:
        run()
    finally:
        conn.set_progress_handler(None, 0)
    return count


def test_a_lookup_by_id_reads_the_index_day_by_day_not_the_table(tmp_path: Path) -> None:
    """200,000 events over 30 days, one in four with an id, and one sent by a clock 30
    years ahead: the ledger's lookup and the history filter by id each take a fiftieth of
    the instructions it takes to read every row (`scan`, the yardstick, measured on the
    same file)."""
    path = tmp_path / "h.sqlite3"
    fill_history(path, 200_000, start_ms=T0 - 30 * DAY, step_ms=30 * DAY // 200_000)
    with HistoryStore(path, recover=False) as store:
        write(store, 1, "from-the-future", "dev", T0 + 30 * 365 * DAY, "accepted")
        conn = store.conn
        wanted = "dedup-199988"  # sent to dev, accepted, within the ledger's windows
        scan = instructions(conn, lambda: conn.execute(
            "SELECT count(*) FROM events WHERE dedup_id || '' = ?", (wanted,)).fetchone())
        found: list[Any] = []
        ledger = instructions(conn, lambda: found.extend(
            store.prior_sends("dev", [wanted, "never-sent"], now=T0)
            + store.prior_sends("dev", [wanted], now=T0, complete=True)))
        shown: list[Any] = []
        view = instructions(conn, lambda: shown.extend(
            [store.count(HistoryFilter(dedup_id=wanted)),
             *store.query(HistoryFilter(dedup_id=wanted))]))
    assert [p.dedup_id for p in found] == [wanted, wanted]
    assert shown[0] == 1 and [r.dedup_id for r in shown[1:]] == [wanted]
    assert scan > 1000  # reading every row: over 100,000 instructions
    assert ledger * 50 < scan and view * 50 < scan, (ledger, view, scan)


def test_a_schema_3_file_gets_the_day_first_index(tmp_path: Path) -> None:
    """A file written by the console before schema 4 (its dedup index led by the id) is
    migrated, and whoever opens it is told first (a new file is not): the old index is
    gone, the new one is there, and its ids are found."""
    path = tmp_path / "h.sqlite3"
    heard: list[str] = []
    with HistoryStore(path, upgrading=heard.append) as store:  # a new file: nothing to say
        write(store, 1, "old-id", "dev", T0 - HOUR, "accepted")
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP INDEX events_dedup_day; CREATE INDEX events_dedup ON events(dedup_id, time_ms)"
        " WHERE dedup_id IS NOT NULL; PRAGMA user_version = 3;")
    conn.close()
    assert heard == []
    with HistoryStore(path, upgrading=heard.append) as store:
        assert heard == [history_schema.UPGRADE_NOTICE]
        indexes = {name for (name,) in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 4
        assert "events_dedup_day" in indexes and "events_dedup" not in indexes
        assert [p.internal_id for p in store.prior_sends("dev", ["old-id"], now=T0)] == [
            "01SEND0001"]
        assert store.count(HistoryFilter(dedup_id="old-id")) == 1


def test_an_open_waits_for_another_opens_migration(tmp_path: Path,
                                                   monkeypatch: Any) -> None:
    """The window opens the history twice at once; on the first start after an update one
    open migrates (v4 rebuilds an index: ~2 s per million events) and the other waits for
    it, longer than a write waits (shortened here to 0.2 s), instead of failing."""
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        write(store, 1, "old-id", "dev", T0 - HOUR, "accepted")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.executescript(
        "DROP INDEX events_dedup_day; CREATE INDEX events_dedup ON events(dedup_id, time_ms)"
        " WHERE dedup_id IS NOT NULL; PRAGMA user_version = 3;")
    monkeypatch.setattr(history_schema, "BUSY_WAIT_MS", 200)
    conn.execute("BEGIN IMMEDIATE")  # the other open, migrating for a second
    threading.Timer(1.0, lambda: conn.execute("COMMIT")).start()
    start = time.monotonic()
    with HistoryStore(path) as store:
        waited = time.monotonic() - start
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 4
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 200  # writes
        assert store.count(HistoryFilter(dedup_id="old-id")) == 1
    conn.close()
    assert waited >= 0.9

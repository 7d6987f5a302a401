"""The history store on real SQLite files: pending -> done, crashes, migrations, damage."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from console.core.dedup import DedupLedger, Outcome, OutcomeKind, Verdict
from console.core.ids import IdSeed
from console.core.plan import plan_requests
from console.core.serialize import event_bytes
from console.services.client import EventApiClient, SendResult, Target
from console.services.history import DEFAULT_PAYLOAD_CAP, HistoryStore
from console.services.history_async import AsyncHistory
from console.services.history_query import HistoryFilter, export_csv, export_jsonl
from console.services.history_recorder import AsyncHistoryRecorder, HistoryRecorder
from console.services.history_schema import SCHEMA_VERSION, HistoryError
from console.services.paths import app_paths
from console.services.sender import send_events
from tests.support.fault_server import FaultServer, Reply

T0 = 1_700_000_000_000


@pytest.fixture
def db(app_home: Path) -> Path:
    return app_paths().ensure().history_db


def result(seed: IdSeed, ids: list[str], events: int, *, status: int | None = 200,
           error: str | None = None) -> SendResult:
    return SendResult(status=status, ids=ids, events=events, accepted=len(ids), error=error,
                      attempts=1, latency_ms=12.5, request_bytes=100, seed=seed.header)


def parts(*events: dict) -> list[bytes]:
    return [event_bytes(e) for e in events]


def test_pending_then_done(db: Path):
    seed = IdSeed.fresh()
    with HistoryStore(db) as store:
        events = parts({"name": "shop/order", "id": "o-1", "data": {"n": 1}},
                       {"name": "", "data": {}})
        rid = store.record_pending(env="dev", events=events, seed=seed)
        pending = store.query()
        assert [r.outcome for r in pending] == ["pending", "pending"]
        assert pending[1].internal_id is None and pending[1].seed == seed.header
        assert pending[1].dedup_id == "o-1" and pending[1].name == "shop/order"
        body = 2 + sum(map(len, events)) + 1  # [a,b]
        assert [r.request_bytes for r in pending] == [body, body]
        rid2 = store.record_pending(env="dev", events=events, request_bytes=4321)
        assert {r.request_bytes for r in store.query() if r.request_id == rid2} == {4321}
        store.record_done(rid, result(seed, [seed.event_id(0)], 2, status=400,
                                      error="event name is empty"))
        first, second = sorted((r for r in store.query() if r.request_id == rid),
                               key=lambda r: r.index)
        assert (first.outcome, first.internal_id, first.status) == (
            "accepted", seed.event_id(0), 400)
        assert second.outcome == "not accepted"
        assert second.outcome_detail == "not accepted: event name is empty"
        assert first.state == "done" and first.attempts == 1 and first.latency_ms == 12.5
        assert store.response_ids(rid) == [seed.event_id(0)]


def test_half_a_utf16_pair_in_a_name_or_an_error_is_stored_escaped(db: Path):
    """A scenario named with "\\ud800", or a server error holding one, ended the send with
    UnicodeEncodeError; the request then read "cancelled while in flight"."""
    seed = IdSeed.fresh()
    with HistoryStore(db) as store:
        rid = store.record_pending(env="dev", events=parts({"name": "a/b"}), seed=seed,
                                   scenario="bad \ud800 name", step="step \udfff")
        store.record_done(rid, result(seed, [], 1, status=400, error="bad \ud800"))
        [row] = store.query()
    assert (row.scenario, row.step) == ("bad \\ud800 name", "step \\udfff")
    assert row.outcome == "not accepted" and row.outcome_detail == "not accepted: bad \\ud800"


def test_crash_mid_send_leaves_unknown_on_reopen(db: Path):
    script = (
        "import os, signal, sys\n"
        "from console.services.history import HistoryStore\n"
        "store = HistoryStore(sys.argv[1])\n"
        "from console.core.ids import IdSeed\n"
        "store.record_pending(env='dev', events=[b'{\"name\":\"a\",\"id\":\"k\"}'],\n"
        "                     seed=IdSeed.fresh())\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(db)], capture_output=True,
                          timeout=30, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with HistoryStore(db) as store:
        assert len(store.recovered) == 1
        assert store.messages == [
            "1 request from an earlier session ended without an answer; their outcome is "
            "unknown (see history)"
        ]
        row = store.query()[0]
        assert row.outcome == "unknown" and row.state == "unknown"
        # the id the server gives it, if the request arrived (derived from the seed)
        assert row.internal_id == IdSeed.parse(row.seed).event_id(0)
        assert row.outcome_detail == (
            "outcome unknown: the console stopped before the server answered")
        # the ledger treats it as "maybe sent": no internal id is claimed
        prior = store.prior_sends("dev", ["k"])
        assert prior[0].internal_id is None
    with HistoryStore(db) as again:
        assert again.recovered == []  # only once


def test_a_pid_now_used_by_another_process_does_not_keep_a_row_pending(db: Path):
    """A CLI killed in a container was PID 1, as the next container's command and the
    host's init are: its pending row stayed "pending" for ever (and its id "maybe sent"),
    never "outcome unknown". After a reboot any pid can come back the same way."""
    import sqlite3

    from console.services.history_schema import (
        FOREIGN_PENDING_MS,
        PID_BITS,
        START_BITS,
        now_ms,
        owner_token,
    )

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with HistoryStore(db) as writer:
            for _ in range(5):
                writer.record_pending(env="dev", events=parts({"name": "a"}))
        live = owner_token(sleeper.pid)
        assert live >> PID_BITS  # its start time is in it (Linux)
        elsewhere = live ^ (1 << (PID_BITS + START_BITS))  # another PID namespace's
        conn = sqlite3.connect(db)
        with conn:  # a live process, a dead one that had its pid, a bare pid (old rows),
            # and two of another namespace (a container), one in flight, one a day old
            for request, owner in ((1, live), (2, live + (1 << PID_BITS)), (3, sleeper.pid),
                                   (4, elsewhere), (5, elsewhere)):
                conn.execute("UPDATE requests SET owner_pid = ? WHERE id = ?", (owner, request))
            conn.execute("UPDATE requests SET created_ms = ? WHERE id = 5",
                         (now_ms() - FOREIGN_PENDING_MS - 1,))
        conn.close()
        with HistoryStore(db) as reader:
            assert sorted(reader.recovered) == [2, 5]
            states = {row.request_id: row.state for row in reader.query()}
            assert states == {1: "pending", 2: "unknown", 3: "pending", 4: "pending",
                              5: "unknown"}
    finally:
        sleeper.kill()
        sleeper.wait()
    with HistoryStore(db) as after:  # and gone now: both recovered
        assert sorted(after.recovered) == [1, 3]


def test_pending_rows_of_a_live_process_are_left_alone(db: Path):
    with HistoryStore(db) as writer:
        writer.record_pending(env="dev", events=parts({"name": "a"}))
        with HistoryStore(db) as reader:
            assert reader.recovered == []
            assert reader.query()[0].outcome == "pending"


def test_cancelled_request_becomes_unknown(db: Path):
    with HistoryStore(db) as store:
        recorder = HistoryRecorder(store, "dev", parts({"name": "a"}, {"name": "b"}))
        recorder.on_pending(1, range(2), b"[]", IdSeed.fresh())
        recorder.finish()
        rows = store.query()
        assert {r.outcome for r in rows} == {"unknown"}
        assert rows[0].outcome_detail == (
            "outcome unknown: cancelled while in flight; the server may have received it")


V1_SCHEMA = """
CREATE TABLE requests (id INTEGER PRIMARY KEY, env TEXT NOT NULL, created_ms INTEGER NOT NULL,
  request_bytes INTEGER NOT NULL, events INTEGER NOT NULL, status INTEGER, attempts INTEGER,
  latency_ms REAL, error TEXT, seed TEXT, state TEXT NOT NULL DEFAULT 'pending');
CREATE TABLE events (id INTEGER PRIMARY KEY, request_id INTEGER REFERENCES requests(id),
  idx INTEGER NOT NULL, env TEXT NOT NULL, time_ms INTEGER NOT NULL, internal_id TEXT,
  name TEXT NOT NULL, dedup_id TEXT, payload TEXT, size INTEGER NOT NULL,
  outcome TEXT NOT NULL DEFAULT 'pending');
CREATE INDEX events_name ON events(name, id);
INSERT INTO requests VALUES (1, 'dev', 1700000000000, 60, 2, 200, 1, 8.0, NULL, NULL, 'done');
INSERT INTO events VALUES
  (1, 1, 0, 'dev', 1700000000000, '01OLDA', 'old/one', 'dup-1',
   '{"name":"old/one","id":"dup-1"}', 31, 'accepted'),
  (2, 1, 1, 'dev', 1700000000000, '01OLDB', 'old/two', NULL,
   '{"name":"old/two","data":{"w":"zebra"}}', 39, 'accepted');
PRAGMA user_version = 1;
"""


def test_migrates_a_version_1_file(db: Path):
    conn = sqlite3.connect(db)
    conn.executescript(V1_SCHEMA)
    conn.close()
    with HistoryStore(db, recover=False) as store:
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION == 4
        columns = {r[1] for r in store.conn.execute("PRAGMA table_info(events)")}
        assert {"outcome_detail", "source", "truncated", "runs"} <= columns
        assert "payload" not in columns  # moved to the payloads table
        rows = store.query(with_payload=True)
        assert [(r.name, r.status, r.source, r.truncated) for r in rows] == [
            ("old/two", 200, "sent", False), ("old/one", 200, "sent", False)]
        assert rows[0].event == {"name": "old/two", "data": {"w": "zebra"}}
        assert store.count(HistoryFilter(text="zebra")) == 1  # old payloads are searchable
        assert [p.internal_id for p in store.prior_sends("dev", ["dup-1"], now=T0)] == ["01OLDA"]
        store.record_pending(env="dev", events=parts({"name": "new/one"}))  # still writable
        assert store.count() == 3



def test_new_files_get_big_pages_and_old_files_keep_theirs(db: Path):
    """A new history has 16 KiB pages (room for 15 payloads of ~1 KiB, not 3); a file an
    older console made with 4 KiB pages keeps them; both checkpoint every ~16 MiB of WAL."""
    old = db.with_name("old.sqlite3")
    conn = sqlite3.connect(old)
    conn.executescript(V1_SCHEMA)
    conn.close()
    for path, page in ((db, 16384), (old, 4096)):
        with HistoryStore(path, recover=False) as store:
            store.record_pending(env="dev", events=parts({"name": "a/b", "data": {}}))
            assert store.conn.execute("PRAGMA page_size").fetchone()[0] == page
            pages = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            assert pages * page == 16 * 1024 * 1024
            assert store.count() == (1 if path == db else 3)

def test_corrupt_file_is_moved_aside_and_a_fresh_history_started(db: Path):
    db.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    db.with_name(db.name + "-wal").write_bytes(b"stale wal")
    with HistoryStore(db) as store:
        moved = sorted(db.parent.glob("history.sqlite3.corrupt-*"))
        assert [p.name for p in moved if not p.name.endswith(("-wal", "-shm"))] == [
            moved[0].name]
        assert moved[0].read_bytes().startswith(b"this is not a database")
        assert moved[0].with_name(moved[0].name + "-wal").read_bytes() == b"stale wal"
        assert store.notice == (
            f"the history file was damaged and has been moved aside to {moved[0]}; "
            "a new, empty history was started")
        assert store.messages == [store.notice]
        assert store.count() == 0
        store.record_pending(env="dev", events=parts({"name": "a"}))
        assert store.count() == 1


def test_two_opens_of_a_damaged_file_at_once_share_one_fresh_history(db: Path):
    """The window opens the history on two threads at start. Both used to find the damage,
    and the second moved aside the fresh history the first was already writing to."""
    for attempt in range(10):
        for old in db.parent.glob("history.sqlite3*"):
            old.unlink()
        db.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
        gate = threading.Barrier(2)
        stores: list[HistoryStore] = []

        def open_store(gate: threading.Barrier, stores: list[HistoryStore]) -> None:
            gate.wait()
            stores.append(HistoryStore(db, recover=False, handoff=True))

        threads = [threading.Thread(target=open_store, args=(gate, stores)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(stores) == 2, f"attempt {attempt}: an open failed"
        moved = [p for p in db.parent.glob("history.sqlite3.corrupt-*")
                 if not p.name.endswith(("-wal", "-shm"))]
        assert len(moved) == 1, f"attempt {attempt}: {sorted(p.name for p in moved)}"
        assert sum(bool(store.messages) for store in stores) == 1
        stores[0].record_pending(env="dev", events=parts({"name": "a"}))
        assert stores[1].count() == 1, f"attempt {attempt}: the two opens hold different files"
        for store in stores:
            store.close()


def test_a_file_from_a_newer_console_is_left_untouched(db: Path):
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(HistoryError) as err:
        HistoryStore(db)
    assert str(err.value) == (
        f"the history at {db} was written by a newer Event Console (schema 99; this version "
        "knows up to 4); it was left untouched — update the console to see it")
    assert db.read_bytes() == before


def test_payload_cap_keeps_the_exact_size(db: Path):
    big = {"name": "big", "data": {"text": "é" * 3000}}  # 2 bytes per é: cut mid-character
    raw = event_bytes(big)
    with HistoryStore(db, payload_cap=1001) as store:
        store.record_pending(env="dev", events=[raw, event_bytes({"name": "small"})])
        small, large = sorted(store.query(with_payload=True), key=lambda r: r.index)[::-1]
        assert large.size == len(raw) and large.truncated
        assert len(large.payload.encode()) <= 1001 and raw.decode().startswith(large.payload)
        assert large.event is None  # a cut payload is not passed off as the event
        assert not small.truncated and small.event == {"name": "small"}
    assert DEFAULT_PAYLOAD_CAP == 64 * 1024


def test_payload_cap_is_a_setting_kept_in_the_file(db: Path):
    raw = event_bytes({"name": "big", "data": {"text": "x" * 5000}})
    with HistoryStore(db) as store:
        assert store.payload_cap_setting == DEFAULT_PAYLOAD_CAP
        store.record_pending(env="dev", events=[raw])
        with pytest.raises(ValueError, match="between 1 KiB and 16 MiB"):
            store.set_payload_cap(100)
        with HistoryStore(db) as other:  # another connection (the window's reader) sets it
            other.set_payload_cap(2048)
        store.record_pending(env="dev", events=[raw])  # the writer sees it at its next write
    with HistoryStore(db) as reopened:
        assert reopened.payload_cap_setting == 2048
        first, second = sorted(reopened.query(with_payload=True), key=lambda r: r.id)
        assert not first.truncated and first.payload == raw.decode()
        assert second.truncated and second.size == len(raw)
        assert second.payload == raw[:2048].decode()
    with HistoryStore(db, payload_cap=4096) as fixed:  # an explicit cap wins over the setting
        assert fixed.payload_cap == 4096
        for hostile, read in (("lots", DEFAULT_PAYLOAD_CAP), ("-5", 1024), ("1e99", 65536),
                              (str(1 << 40), 16 * 1024 * 1024)):
            fixed.conn.execute("UPDATE meta SET value = ? WHERE key = 'payload_cap_bytes'",
                               (hostile,))
            assert fixed.payload_cap_setting == read, hostile


def test_filters_search_and_paging(db: Path):
    with HistoryStore(db) as store:
        for i in range(30):
            seed = IdSeed(T0 + i, bytes(10))
            env = "dev" if i % 2 else "cloud"
            rid = store.record_pending(
                env=env, seed=seed, time_ms=T0 + i * 1000,
                events=parts({"name": f"app/e{i % 3}", "id": f"d-{i}",
                              "data": {"word": "needle" if i == 7 else "hay", "n": i}}))
            ok = bool(i % 5)
            store.record_done(rid, result(seed, [seed.event_id(0)] if ok else [], 1,
                                          status=200 if ok else 500))
        assert store.count() == 30
        page = store.query(offset=0, limit=10)
        assert [r.time_ms for r in page] == [T0 + i * 1000 for i in range(29, 19, -1)]
        assert store.query(offset=25, limit=10)[-1].time_ms == T0
        assert store.count(HistoryFilter(env="dev")) == 15
        assert store.count(HistoryFilter(name="app/e1")) == 10
        assert store.count(HistoryFilter(name="app/*")) == 30
        assert store.count(HistoryFilter(name="app/e[12]")) == 20  # no event has that name
        assert store.count(HistoryFilter(dedup_id="d-7")) == 1
        assert store.count(HistoryFilter(status="500")) == 6
        assert store.count(HistoryFilter(status="5xx")) == 6
        assert store.count(HistoryFilter(status="accepted")) == 24
        assert store.count(HistoryFilter(outcome="not accepted")) == 6
        assert store.count(HistoryFilter(since_ms=T0 + 10_000, until_ms=T0 + 20_000)) == 10
        assert [r.dedup_id for r in store.query(HistoryFilter(text="needle"))] == ["d-7"]
        assert store.count(HistoryFilter(text="need")) == 1  # word prefixes match
        assert store.count(HistoryFilter(text="needle hay")) == 0
        store.fts = False  # the LIKE fallback gives the same answer
        assert [r.dedup_id for r in store.query(HistoryFilter(text="needle"))] == ["d-7"]
        with pytest.raises(ValueError, match="unknown status filter 'teapot'"):
            store.count(HistoryFilter(status="teapot"))


def test_search_for_punctuation_and_search_while_another_program_writes(db: Path):
    """Text with no word in it ("$") became no query, and every row matched; a search
    waited for the write lock (to index new payloads) and failed after 5 s of it."""
    with HistoryStore(db) as store:
        for i, note in enumerate(("costs $5", "plain", "a-b")):
            seed = IdSeed(T0 + i, bytes(10))
            rid = store.record_pending(env="dev", seed=seed, time_ms=T0 + i,
                                       events=parts({"name": "app/x", "data": {"note": note}}))
            store.record_done(rid, result(seed, [seed.event_id(0)], 1))
        refused = store.record_pending(env="dev", events=parts({"name": "app/r", "data": {}}))
        store.record_done(refused, SendResult(None, [], 1, 0, "could not connect", 1, 1.0, 9,
                                                 None))
        silent = store.record_pending(env="dev", events=parts({"name": "app/t", "data": {}}))
        store.record_done(silent, SendResult(None, [], 1, 0, "no answer from x within 1 s", 5,
                                             1.0, 9, None, uncertain=True))
        # "no answer" is every request that got no HTTP answer, refused or unanswered
        for name in ("app/items[0]", "app/items0"):
            seed = IdSeed(T0 + 7, bytes(10))
            rid = store.record_pending(env="dev", seed=seed, events=parts({"name": name}))
            store.record_done(rid, result(seed, [seed.event_id(0)], 1))
        # the name of an event is that name, glob characters and all
        assert [r.name for r in store.query(HistoryFilter(name="app/items[0]"))] == [
            "app/items[0]"]
        assert [r.name for r in store.query(HistoryFilter(name="app/items[0-9]"))] == [
            "app/items0"]
        assert sorted(r.name for r in store.query(HistoryFilter(status="no answer"))) == [
            "app/r", "app/t"]
        assert store.count(HistoryFilter(text="$")) == 1
        assert store.count(HistoryFilter(text="-")) == 1
        assert store.count(HistoryFilter(text="plain")) == 1  # indexed now
        seed = IdSeed(T0 + 9, bytes(10))
        rid = store.record_pending(env="dev", seed=seed, time_ms=T0 + 9,
                                   events=parts({"name": "app/x", "data": {"note": "late"}}))
        store.record_done(rid, result(seed, [seed.event_id(0)], 1))
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            started = time.perf_counter()
            assert store.count(HistoryFilter(text="plain")) == 1  # what is indexed
            # not indexed yet, and found all the same (it was left out without a word)
            assert store.count(HistoryFilter(text="late")) == 1
            assert store.count(HistoryFilter(text="late nothing")) == 0  # every word counts
            assert time.perf_counter() - started < 1
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert store.count(HistoryFilter(text="late")) == 1  # indexed by the next search


def test_a_search_of_10000_bytes_of_short_words_finds_the_event(db: Path):
    """The words of rows the index had not reached were one LIKE each, joined by AND: a
    search of 330 words or more failed with "Expression tree is too large" (the CLI said
    the history cannot be used; the window showed "…" for ever)."""
    words = [f"w{i}" for i in range(4000)]
    while len(" ".join(words)) > 10_000:
        words.pop()
    text = " ".join(words)
    assert len(text.encode()) > 9_990 and len(set(words)) > 1_500

    def record(note: str, at: int) -> None:
        seed = IdSeed(T0 + at, bytes(10))
        rid = store.record_pending(env="dev", seed=seed, time_ms=T0 + at,
                                   events=parts({"name": "app/long", "data": {"note": note}}))
        store.record_done(rid, result(seed, [seed.event_id(0)], 1))

    with HistoryStore(db) as store:
        record(text, 1)
        record(" ".join(words[1:]), 2)  # one word short: not a match
        assert store.count(HistoryFilter(text=text)) == 1  # indexed now
        record(text, 3)
        record(" ".join(words[:-1]), 4)
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:  # rows 3 and 4 are past the index: matched word by word
            assert [r.time_ms - T0 for r in store.query(HistoryFilter(text=text))] == [3, 1]
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert [r.time_ms - T0 for r in store.query(HistoryFilter(text=text))] == [3, 1]


def test_a_word_inside_cjk_text_is_found(db: Path):
    """The index keeps a run of CJK characters as one word: テキスト in 日本語テキスト was
    found only by a search for its first characters."""
    with HistoryStore(db) as store:
        store.record_pending(env="dev", events=parts(
            {"name": "app/jp", "data": {"note": "日本語テキストです"}}))
        store.record_pending(env="dev", events=parts({"name": "app/en", "data": {"n": "x"}}))
        for text in ("日本", "テキスト", "語", "テキストです"):
            assert [r.name for r in store.query(HistoryFilter(text=text))] == ["app/jp"], text
        assert store.count(HistoryFilter(text="中文")) == 0


def test_search_reads_json_escapes_as_the_user_reads_the_text(db: Path):
    """The index held the stored JSON text: `line1\\nline2` was the words "line1" and
    "nline2", and an SDK's json.dumps (`caf\\u00e9`, `\\u6771\\u4eac`) was never found by
    the words it spells. Captured events keep the bytes received, escapes and all."""

    class Captured:
        internal_id, received_at_ms, name = "01CAP", T0, "shop/caf\u00e9"
        event: ClassVar[dict] = {"name": "shop/caf\u00e9", "data": {}}
        raw = json.dumps({"name": "shop/caf\u00e9", "data": {
            "city": "Z\u00fcrich", "greet": "Hello\nWorld", "jp": "\u6771\u4eac",
            "face": "\U0001f600", "path": "C:\\new"}}).encode()  # ensure_ascii: all escaped
        size = len(raw)

    with HistoryStore(db) as store:
        captured = store.record_captured("inbox", Captured())
        store.record_pending(env="dev", events=parts(
            {"name": "app/note", "data": {"note": "line1\nline2\ttabbed \"quoted\""}}))
        store.record_pending(env="dev", events=parts({"name": "app/plain", "data": {"n": 1}}))
        for fts in (True, False):  # the index, and the LIKE fallback
            store.fts = fts
            for text, names in (("line2", ["app/note"]), ("line1 line2", ["app/note"]),
                                ("tabbed", ["app/note"]), ("quoted", ["app/note"]),
                                ("nline2", []), ("ttabbed", []),
                                ("café", ["shop/café"]), ("Zürich", ["shop/café"]),
                                ("World", ["shop/café"]), ("東京", ["shop/café"]),
                                ("😀", ["shop/café"]), ("new", ["shop/café"]),
                                ("u00e9", [])):
                found = [r.name for r in store.query(HistoryFilter(text=text))]
                assert found == names, (fts, text, found)
        store.fts = True
        # a purge takes the escaped payloads out of the index as they went in
        store.purge(T0 + 1)
        assert store.count(HistoryFilter(text="Zürich")) == 0
        assert store.conn.execute("SELECT count(*) FROM payloads WHERE event_id = ?",
                                  (captured,)).fetchone()[0] == 0
        assert [r.name for r in store.query(HistoryFilter(text="line2"))] == ["app/note"]


def test_an_older_consoles_search_index_is_replaced(db: Path):
    """Its index (of the stored text, in `payload_fts`) is dropped at open, and the next
    search indexes every payload again, escapes decoded."""
    with HistoryStore(db) as store:
        store.record_pending(env="dev", events=parts({"name": "app/a", "data": {"s": "x\ny"}}))
        store.conn.executescript(
            "DROP TABLE payload_words; DELETE FROM meta WHERE key = 'words_indexed_upto';"
            "CREATE VIRTUAL TABLE payload_fts USING fts5(body, content='payloads',"
            " content_rowid='event_id');"
            "INSERT INTO payload_fts(rowid, body) SELECT event_id, body FROM payloads;"
            "INSERT INTO meta(key, value) VALUES ('fts_indexed_upto', '1');")
    with HistoryStore(db) as store:
        tables = {r[0] for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'payload_%' AND type = 'table'")}
        assert "payload_fts" not in tables and "payload_words" in tables
        assert store.conn.execute("SELECT value FROM meta WHERE key = 'fts_indexed_upto'"
                                  ).fetchone() is None
        assert [r.name for r in store.query(HistoryFilter(text="y"))] == ["app/a"]
        assert store.count(HistoryFilter(text="ny")) == 0
    # an older console uses the file again: it makes its own index, purges everything and
    # sends an event that takes the freed id 1 (it does not know this console's index)
    with HistoryStore(db) as store:
        store.conn.executescript(
            "CREATE VIRTUAL TABLE payload_fts USING fts5(body, content='payloads',"
            " content_rowid='event_id');"
            "DELETE FROM payloads; DELETE FROM events; DELETE FROM requests;")
        store.conn.execute("INSERT INTO requests(id, env, created_ms, request_bytes, events,"
                           " state, first_event_id) VALUES (1, 'dev', 1, 9, 1, 'done', 1)")
        store.conn.execute("INSERT INTO events(id, request_id, idx, env, time_ms, name, size)"
                           " VALUES (1, 1, 0, 'dev', 1, 't/golf', 9)")
        store.conn.execute("INSERT INTO payloads(event_id, body) VALUES (1, ?)",
                           ('{"name": "t/golf"}',))
    with HistoryStore(db) as store:  # this console's index missed all that: rebuilt
        assert [r.name for r in store.query(HistoryFilter(text="golf"))] == ["t/golf"]
        assert store.count(HistoryFilter(text="y")) == 0  # the purged event's words


def test_outcomes_ledger_and_captures(db: Path):
    class Captured:
        internal_id = "01CAPTURED"
        received_at_ms = T0
        name = "inbox/got"
        event: ClassVar[dict] = {"name": "inbox/got", "id": "cap-1"}
        raw = b'{"name":"inbox/got","id":"cap-1"}'
        size = len(raw)

    with HistoryStore(db) as store:
        seed = IdSeed(T0, bytes(10))
        rid = store.record_pending(env="dev", events=parts({"name": "a", "id": "k"}), seed=seed,
                                   time_ms=T0)
        store.record_done(rid, result(seed, [seed.event_id(0)], 1))
        row_id = store.query()[0].id
        store.set_outcome(row_id, Outcome(OutcomeKind.RAN, runs=2), '[{"run_id":"r1"}]')
        row = store.get(row_id)
        assert (row.outcome, row.outcome_detail, row.runs) == ("ran", "ran: 2 runs", 2)
        assert row.to_json()["run_list"] == [{"run_id": "r1"}]
        store.record_captured("Inbox", Captured())
        assert store.query(HistoryFilter(source="captured"))[0].outcome == "received"
        ledger = DedupLedger(store.prior_sends("dev", ["k", "cap-1"], now=T0 + 5), env="dev")
        got = ledger.classify_ids(["k", "cap-1"], T0 + 5)
        assert [p.verdict for p in got] == [Verdict.DUPLICATE, Verdict.NEW]  # another env's
        assert got[0].first_internal_id == seed.event_id(0)
        # in the inbox's own environment an event it received (another app's) counts: it
        # was predicted "new", then confirmed as "no runs"
        inbox = DedupLedger(store.prior_sends("Inbox", ["cap-1"], now=T0 + 5), env="Inbox")
        [again] = inbox.classify_ids(["cap-1"], T0 + 5)
        assert again.verdict is Verdict.DUPLICATE and again.first_internal_id == "01CAPTURED"


def test_purge_and_retention(db: Path):
    day = 24 * 3600 * 1000
    with HistoryStore(db) as store:
        for age in (40, 10, 0):
            rid = store.record_pending(env="dev", events=parts({"name": f"age{age}"}),
                                       time_ms=T0 - age * day)
            store.record_done(rid, result(IdSeed.fresh(), ["01X"], 1))
        store.index_payloads()
        assert store.retention_days == 90
        store.set_retention_days(30)
        assert store.apply_retention(now=T0) == 1
        assert [r.name for r in store.query()] == ["age0", "age10"]
        assert store.purge(T0 - 5 * day) == 1
        assert store.count(HistoryFilter(text="age10")) == 0
        assert store.conn.execute("SELECT count(*) FROM requests").fetchone()[0] == 1
        with pytest.raises(ValueError, match="retention must be 0"):
            store.set_retention_days(-1)
        for hostile, read in (("soon", 90), ("-3", 0), ("", 90)):
            store.conn.execute("UPDATE meta SET value = ? WHERE key = 'retention_days'",
                               (hostile,))
            assert store.retention_days == read, hostile


def test_the_retention_check_at_open_finds_old_requests_by_index(db: Path):
    """Every open purges what retention no longer keeps: with a big history that must not
    read the whole requests table. A file made before the index gets it on open."""
    day = 24 * 3600 * 1000
    with HistoryStore(db) as store:
        for age in (100, 0):
            rid = store.record_pending(env="dev", events=parts({"name": f"age{age}"}),
                                       time_ms=T0 - age * day)
            store.record_done(rid, result(IdSeed.fresh(), ["01X"], 1))
        store.conn.execute("DROP INDEX requests_created")  # as a file from before it
    with HistoryStore(db) as store:
        ran: list[str] = []
        store.conn.set_trace_callback(ran.append)  # the statements, values filled in
        assert store.apply_retention(now=T0) == 1
        store.conn.set_trace_callback(None)
        [purge] = [sql for sql in ran if sql.startswith("DELETE FROM requests")]
        plan = " ".join(row[-1] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {purge}"))
        assert "USING INDEX requests_created" in plan, plan
        assert store.conn.execute("SELECT count(*) FROM requests").fetchone()[0] == 1


def test_an_event_captured_with_half_a_utf16_pair_exports_and_lists(db: Path, tmp_path: Path):
    """The inbox stores a body as it came; "\\ud800" in it reads back as half a UTF-16
    pair, which UTF-8 cannot carry: `history --json` and both exports failed on it."""
    class Captured:
        internal_id = "01CAPTURED"
        received_at_ms = T0
        name = "inbox/half"
        event: ClassVar[dict] = {"name": "inbox/half", "data": {"note": "\ufffd"}}
        raw = b'{"name":"inbox/half","data":{"note":"\\ud800"}}'
        size = len(raw)

    with HistoryStore(db) as store:  # the app's own: `history` below reads it
        store.record_captured("Inbox", Captured())
        rows = store.rows([r.id for r in store.query()])
    lines, table = io.StringIO(), io.StringIO()
    assert export_jsonl(rows, lines) == 1 and export_csv(rows, table) == 1
    for name, text in (("out.jsonl", lines.getvalue()), ("out.csv", table.getvalue())):
        (tmp_path / name).write_text(text, encoding="utf-8")  # the files the window writes
    assert json.loads(lines.getvalue())["event"]["data"]["note"] == "\ud800"
    assert '""note"":""\\ud800""' in table.getvalue()
    shown = subprocess.run([sys.executable, "-m", "console", "history", "--json"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert json.loads(shown.stdout)["event"] == {"name": "inbox/half",
                                                 "data": {"note": "\ud800"}}


def test_exports(db: Path):
    with HistoryStore(db) as store:
        seed = IdSeed(T0, bytes(10))
        rid = store.record_pending(env="dev", seed=seed, time_ms=T0,
                                   events=parts({"name": "a", "data": {"q": "x,y"}}))
        store.record_done(rid, result(seed, [seed.event_id(0)], 1))
        rows = store.rows([r.id for r in store.query()])
    out = io.StringIO()
    assert export_jsonl(rows, out) == 1
    line = json.loads(out.getvalue())
    assert line["event"] == {"name": "a", "data": {"q": "x,y"}}
    assert line["internal_id"] == seed.event_id(0) and line["outcome"] == "accepted"
    table = io.StringIO()
    export_csv(rows, table)
    header, body = table.getvalue().splitlines()
    assert header.startswith("time,env,name,dedup_id,internal_id")
    assert body.endswith('"{""name"":""a"",""data"":{""q"":""x,y""}}"')



def test_csv_cells_a_spreadsheet_would_run_are_defused(db: Path):
    """Names, ids and errors come from whoever sent to the inbox: none may become a formula
    in the CSV, while JSON Lines keeps them exact."""
    import csv

    hostile = {"name": "=HYPERLINK(\"http://x\",\"y\")", "id": "@SUM(1+1)", "data": {}}
    with HistoryStore(db) as store:
        seed = IdSeed(T0, bytes(10))
        rid = store.record_pending(env="dev", seed=seed, time_ms=T0, events=parts(hostile))
        store.record_done(rid, result(seed, [seed.event_id(0)], 1))
        rows = store.rows([r.id for r in store.query()])
    table = io.StringIO()
    export_csv(rows, table)
    record = dict(zip(*csv.reader(io.StringIO(table.getvalue())), strict=True))
    assert record["name"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert record["dedup_id"] == "'@SUM(1+1)"
    assert json.loads(record["event"]) == hostile  # starts with "{": left as it is
    lines = io.StringIO()
    export_jsonl(rows, lines)
    assert json.loads(lines.getvalue())["name"] == hostile["name"]


def test_recorder_with_a_real_send_never_stores_the_key(db: Path):
    key = "signkey-prod-0123456789abcdef-SECRET"
    events = parts({"name": "a", "id": "u1", "data": {}}, {"name": "b", "data": {}})
    plan = plan_requests([len(p) for p in events], request_limit=40, event_limit=1000)

    async def go() -> None:
        client = EventApiClient()
        try:
            with HistoryStore(db) as store:
                recorder = HistoryRecorder(store, "prod", events, origin=server.origin)
                await send_events(client, Target(server.origin, key), events, plan,
                                  observer=recorder)
                recorder.finish()
                sent = recorder.sent()
                assert [e.index for e in sent] == [1] and len(store.query()) == 2  # 1st: 401
                out = io.StringIO()
                export_jsonl(store.rows([r.id for r in store.query()]), out)
                assert key not in out.getvalue()
        finally:
            await client.aclose()

    with FaultServer() as server:
        server.script(Reply.json(401, {"error": f"Event key not found: {key}"}))
        asyncio.run(go())
    blob = b"".join(p.read_bytes() for p in db.parent.glob("history.sqlite3*"))
    assert key.encode() not in blob and b"0123456789abcdef" not in blob


def test_async_history_runs_on_one_worker_thread(db: Path):
    events = parts({"name": "a"}, {"name": "b"}, {"name": "c"})
    plan = plan_requests([len(p) for p in events], request_limit=20, event_limit=1000)
    threads: set[str] = set()

    async def go() -> None:
        history = await AsyncHistory.open(db)
        client = EventApiClient()
        try:
            recorder = AsyncHistoryRecorder(history, "dev", events)
            await send_events(client, Target(server.origin, "k"), events, plan,
                              concurrency=3, observer=recorder)
            await recorder.finish()
            sent = await recorder.sent()
            assert sorted(e.index for e in sent) == [0, 1, 2]
            row_id = sent[0].row_id
            await history.run(lambda s: s.set_outcome(row_id, Outcome(OutcomeKind.RAN, runs=1)))
            threads.add(await history.run(lambda s: threading.current_thread().name))
            assert await history.count() == 3
            assert (await history.count(HistoryFilter(outcome="ran"))) == 1
        finally:
            await client.aclose()
            await history.aclose()

    with FaultServer() as server:
        asyncio.run(go())
    assert len(threads) == 1 and next(iter(threads)).startswith("history")
    assert threading.current_thread().name not in threads
    os.stat(db)  # the file is where app_paths says

"""History figures: insert rate, first page of a filtered million, cost of recording a send.

- insert: N events through the real write path (`record_pending` + `record_done`, 100
  events per request, committed per call as a send does, with the parsed events the send
  path hands over); baseline: one plain
  `executemany` of the same rows into a bare table with the same columns (no indexes).
- filter: a history of M rows; time from `set_filters(name=...)` on the Qt model to the
  first page painted-ready (count + page, through the reader thread and the queued
  signal); baseline: the same count and SELECT on a plain sqlite3 connection, no model.
  Also the last page by OFFSET and the page after it by keyset.
- retention: the check every open runs, on M one-event requests (nothing to purge), by
  index; baseline: the same file with the index dropped (a scan).
- overhead: the same ~1 KiB events to the inbox (in a thread), (a) in-process through
  `send_events` without an observer and with `HistoryRecorder` (the worst case: nothing
  else costs anything), (b) `event-console send` subprocesses with `--no-history` and
  without it (the issue's goal: under 10 % slower), both with `--no-verify`, to one inbox
  running in another process, interleaved (no-history, history, no-history, ...) so a
  load change on this shared 2-core machine hits both alike; the medians are compared,
  and the median CPU time (user + sys of the child) is printed as well, and the CLI's own
  "sent" phase (`--stats`: first request to last answer) with and without history.
  A third interleaved series runs `--no-history` again: its difference from the first is
  the noise floor of the comparison (this machine's vCPU speed changes by up to 2x from
  one second to the next). The best run of each series is compared too: the fastest
  runs are the ones least slowed by that.
  The same three series run again against a `FaultServer` that only answers (it parses
  each request and returns ids; no storage, no printing), as a remote server would cost
  this machine nothing: there the sending phase is as short as the history writer lets
  it be, since every request waits until its rows are committed.
  And once more against a `FaultServer` that answers each request after `REMOTE_DELAY`
  (10 ms): a server across a network, where each request spends most of its time on the
  wire and the history writer works meanwhile. Then to that server the same file over and
  over (a saved file replayed): every id was sent before, so the writer also makes the
  ledger's duplicate verdict for every event. Last, random ids (uuid4, as `uuid()` in a
  template gives) to that server, into a history of M events with random ids spread over
  the last 89 days: the realistic case for the dedup index.
- random ids, store alone: the same send's writes (500 events per request, pending then
  done) into a copy of that history; baseline: a copy with schema 3's dedup index (led by
  the id, not the day), in the same run: seconds and MiB of log written.
  Every CLI run has a bytecode cache (PYTHONPYCACHEPREFIX), as an installed app has.
Quick mode (the test suite): 5,000 inserts, 50,000 rows, 1,000 sends, in-process once,
CLI 3 runs each. BENCH_FULL=1: 100,000 inserts (goal < 5 s), 1,000,000 rows (goal <
200 ms), 20,000 sends, in-process best of 3, CLI 5 runs each (BENCH_CLI_RUNS=N).
Printed only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from console.core.ids import IdSeed
from console.core.plan import plan_requests
from console.core.serialize import event_bytes
from console.services.client import EventApiClient, SendResult, Target
from console.services.history import HistoryStore
from console.services.history_query import HistoryFilter
from console.services.history_recorder import HistoryRecorder
from console.services.paths import app_paths
from console.services.sender import send_events
from console.ui.history import HistoryReader, HistoryTableModel
from tests.benchmarks.test_bench_send import InboxProcess
from tests.support.fault_server import (
    FaultServer,
    RecordedRequest,
    Reply,
    Responder,
    accept_all,
)
from tests.support.history_fill import fill_history
from tests.support.inbox_thread import running_inbox

pytestmark = pytest.mark.benchmark

FULL = os.environ.get("BENCH_FULL") == "1"
INSERTS = 100_000 if FULL else 5_000
ROWS = 1_000_000 if FULL else 50_000
SENDS = 20_000 if FULL else 1_000
REPEAT = 3 if FULL else 1
CLI_RUNS = int(os.environ.get("BENCH_CLI_RUNS", "5" if FULL else "3"))
PER_REQUEST = 100
REMOTE_DELAY = 0.010  # seconds: a round trip to a server across a network
V3_DEDUP = "CREATE INDEX events_dedup ON events(dedup_id, time_ms) WHERE dedup_id IS NOT NULL"
ROOT = Path(__file__).resolve().parents[2]


def make_events(n: int, note: int = 120) -> list[dict[str, Any]]:
    return [{"name": f"bench/order.{i % 7}", "id": f"order-{i}",
             "data": {"i": i, "customer": f"c-{i % 977}", "note": "x" * note}}
            for i in range(n)]


def answered(parts: list[bytes], per: int) -> list[tuple[int, list[bytes], IdSeed, SendResult]]:
    """The requests of `per` events and what the server would answer to each."""
    answers = []
    for first in range(0, len(parts), per):
        chunk = parts[first : first + per]
        seed = IdSeed.fresh()
        ids = [seed.event_id(i) for i in range(len(chunk))]
        answers.append((first, chunk, seed, SendResult(
            200, ids, len(chunk), len(chunk), None, 1, 5.0, sum(map(len, chunk)), seed.header)))
    return answers


def record_sends(store: HistoryStore, parsed: list[dict[str, Any]], per: int) -> float:
    """Seconds to record `parsed` as a send does: each request pending, then done, each
    write committed (the answers are made before the clock starts)."""
    answers = answered([event_bytes(e) for e in parsed], per)
    start = time.perf_counter()
    for first, chunk, seed, answer in answers:
        rid = store.record_pending(env="bench", events=chunk, seed=seed, first_index=first,
                                   parsed=parsed[first : first + len(chunk)])
        store.record_done(rid, answer)
    return time.perf_counter() - start


def bench_insert(path: Path, parsed: list[dict[str, Any]]) -> tuple[float, float]:
    parts = [event_bytes(e) for e in parsed]
    with HistoryStore(path) as store:
        ours = record_sends(store, parsed, PER_REQUEST)
    bare = sqlite3.connect(path.with_name("bare.sqlite3"))
    bare.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, idx INT, env TEXT, time_ms INT,"
                 " internal_id TEXT, name TEXT, dedup_id TEXT, size INT, outcome TEXT,"
                 " payload TEXT)")
    rows = [(i, "bench", 1_700_000_000_000, "01H" + "0" * 23, f"bench/order.{i % 7}",
             f"order-{i}", len(p), "accepted", p.decode()) for i, p in enumerate(parts)]
    start = time.perf_counter()
    bare.executemany("INSERT INTO events(idx, env, time_ms, internal_id, name, dedup_id, size,"
                     " outcome, payload) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    bare.commit()
    baseline = time.perf_counter() - start
    bare.close()
    return ours, baseline


def random_id_sends(tmp: Path, history: Path) -> list[tuple[float, float]]:
    """Seconds and MiB of log to record SENDS ~1 KiB events with random ids (500 per
    request) into a copy of `history`, with this schema's dedup index (led by the day) and,
    the baseline, with schema 3's (led by the id, which put each new id at a random place
    in it). The log is not checkpointed meanwhile (the CLI's writer leaves that to a thread
    of its own), so its size is what the commits wrote. Ours first, then the baseline."""
    parsed = [{**e, "id": str(uuid.uuid4())} for e in make_events(SENDS, note=940)]
    out = []
    for schema3 in (False, True):
        path = tmp / f"random-{len(out)}.sqlite3"
        shutil.copyfile(history, path)
        if schema3:
            conn = sqlite3.connect(path)
            conn.executescript(f"DROP INDEX events_dedup_day; {V3_DEDUP};")
            conn.close()
        with HistoryStore(path, recover=False) as store:
            store.conn.execute("PRAGMA wal_autocheckpoint = 0")
            elapsed = record_sends(store, parsed, 500)
            out.append((elapsed, path.with_name(path.name + "-wal").stat().st_size / 2**20))
    return out


def first_page_through_model(qtbot, path: Path, name: str) -> tuple[float, int]:
    reader = HistoryReader(path)
    try:
        model = HistoryTableModel(reader)
        with qtbot.waitSignal(model.countChanged, timeout=60_000):
            model.set_filters(HistoryFilter())  # warm: the reader has opened its store
        start = time.perf_counter()
        with qtbot.waitSignal(model.countChanged, timeout=60_000):
            model.set_filters(HistoryFilter(name=name))
        model.row_at(0)
        with qtbot.waitSignal(model.pageLoaded, timeout=60_000):
            pass
        elapsed = time.perf_counter() - start
        assert model.row_at(0) is not None and model.row_at(0).name == name
        return elapsed, model.rowCount()
    finally:
        reader.close()


def plain_select(path: Path, name: str) -> float:
    conn = sqlite3.connect(path)
    conn.execute("SELECT count(*) FROM events").fetchone()  # warm like the model's reader
    start = time.perf_counter()
    conn.execute("SELECT count(*) FROM events WHERE name = ?", (name,)).fetchone()
    conn.execute("SELECT * FROM events WHERE name = ? ORDER BY id DESC LIMIT 200",
                 (name,)).fetchall()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def deep_pages(path: Path) -> tuple[float, float]:
    with HistoryStore(path, recover=False) as store:
        total = store.count()
        start = time.perf_counter()
        last = store.query(None, total - 400, 200)
        by_offset = time.perf_counter() - start
        start = time.perf_counter()
        store.query(None, 0, 200, before_id=last[-1].id)
        by_keyset = time.perf_counter() - start
    return by_offset, by_keyset


def retention_check(path: Path, requests: int) -> tuple[float, float]:
    """The retention check every open runs, on `requests` one-event requests spread over
    the last 60 days (nothing to purge: the common case), by index; baseline: the same
    file with the index on created_ms dropped (a scan of the requests table). Best of 3."""
    with HistoryStore(path, recover=False) as store:
        now = int(time.time() * 1000)
        store.conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " INSERT INTO requests(env, created_ms, request_bytes, events, state,"
            " first_event_id) SELECT 'dev', ? - i * ?, 100, 1, 'done', i FROM n",
            (requests, now, 60 * 24 * 3600 * 1000 // requests))

        def best() -> float:
            times = []
            for _ in range(3):
                start = time.perf_counter()
                assert store.apply_retention() == 0
                times.append(time.perf_counter() - start)
            return min(times)

        indexed = best()
        store.conn.execute("DROP INDEX requests_created")
        scanned = best()
    return indexed, scanned


async def send_all(origin: str, parsed: list[dict[str, Any]], store: HistoryStore | None
                   ) -> float:
    parts = [event_bytes(e) for e in parsed]
    plan = plan_requests([len(p) for p in parts], request_limit=524_288, event_limit=1 << 20)
    client = EventApiClient()
    try:
        recorder = (HistoryRecorder(store, "bench", parts, events=parsed)
                    if store is not None else None)
        start = time.perf_counter()
        outcomes = await send_events(client, Target(origin, "k"), parts, plan,
                                     observer=recorder)
        elapsed = time.perf_counter() - start
        assert all(o.result.ok for o in outcomes)
        return elapsed
    finally:
        await client.aclose()


def test_bench_history(qtbot, app_home: Path, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    ours, plain = bench_insert(tmp_path / "insert.sqlite3", make_events(INSERTS))

    big = tmp_path / "big.sqlite3"
    start = time.perf_counter()
    fill_history(big, ROWS)
    fill = time.perf_counter() - start
    page, matched = first_page_through_model(qtbot, big, "app/event.7")
    select = plain_select(big, "app/event.7")
    by_offset, by_keyset = deep_pages(big)
    indexed, scanned = retention_check(tmp_path / "requests.sqlite3", ROWS)

    kib = make_events(SENDS, note=940)  # ~1 KiB events, as in test_bench_send
    with running_inbox() as inbox, HistoryStore(tmp_path / "sends.sqlite3") as store:
        asyncio.run(send_all(inbox.url, kib[:200], None))  # warm-up
        bare = min(asyncio.run(send_all(inbox.url, kib, None)) for _ in range(REPEAT))
        rec = min(asyncio.run(send_all(inbox.url, kib, store)) for _ in range(REPEAT))
    other = InboxProcess(app_home, tmp_path / "inbox-cli.jsonl")
    try:
        cli = cli_overhead(app_home, tmp_path, other.url, kib, "inbox")
    finally:
        other.stop()
    with FaultServer(record=False) as server:
        quick_server = cli_overhead(app_home, tmp_path, server.origin, kib, "answer")
        one = cli_overhead(app_home, tmp_path, server.origin, kib[:1], "one")
    with FaultServer(default=answer_after(REMOTE_DELAY), record=False) as server:
        remote = cli_overhead(app_home, tmp_path, server.origin, kib, "remote")
        replayed = cli_overhead(app_home, tmp_path, server.origin, kib, "replayed",
                                ids="replayed")
        # random ids (as uuid() in a template gives) into a history of ROWS events with
        # random ids, spread over the last 89 days (the default retention keeps 90)
        span = 89 * 24 * 3600 * 1000
        random_history = tmp_path / "random-ids.sqlite3"
        fill_history(random_history, ROWS, start_ms=int(time.time() * 1000) - span,
                     step_ms=span // ROWS, random_ids=True)
        stored = random_id_sends(tmp_path, random_history)
        db = app_paths().history_db
        for side in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            side.unlink(missing_ok=True)
        shutil.copyfile(random_history, db)
        random_ids = cli_overhead(app_home, tmp_path, server.origin, kib, "random",
                                  ids="random")

    with capsys.disabled():
        mode = "full" if FULL else "quick"
        print(f"\n[bench history, {mode}]")
        print(f"  insert {INSERTS:,} events via record_pending/record_done ({PER_REQUEST}/request):"
              f" {ours:6.2f} s ({INSERTS / ours:,.0f} rows/s)  goal for 100,000: < 5 s")
        print(f"    baseline plain executemany, bare table: {plain:6.2f} s   "
              f"ratio ours/plain = {ours / plain:.1f}x")
        print(f"  filter {ROWS:,} rows by name ({matched:,} match), count + first page through "
              f"the model: {page * 1000:7.1f} ms  goal: < 200 ms   (fill: {fill:.1f} s)")
        print(f"    baseline plain count + SELECT, no model: {select * 1000:7.1f} ms   "
              f"ratio model/plain = {page / select:.1f}x")
        print(f"  last page by OFFSET: {by_offset * 1000:.1f} ms; next page by keyset: "
              f"{by_keyset * 1000:.1f} ms")
        print(f"  retention check at open, {ROWS:,} requests (nothing to purge): "
              f"{indexed * 1000:.2f} ms by index")
        print(f"    baseline the same without the index (scan): {scanned * 1000:.2f} ms   "
              f"ratio scan/index = {scanned / indexed:.0f}x")
        print(f"  send {SENDS:,} ~1 KiB events to the inbox in-process (send_events): "
              f"{bare:.2f} s bare, {rec:.2f} s with HistoryRecorder: "
              f"{100 * (rec / bare - 1):+.1f} % (worst case: no start-up, no validation)")
        print(f"  event-console send, {SENDS:,} events (subprocess, median of {CLI_RUNS} "
              "interleaved runs each):")
        print_cli("to the inbox in another process", cli)
        print_cli("to a server that only answers (FaultServer: no storage; as a remote "
                  "server costs this machine nothing)", quick_server)
        print_cli(f"to a server that answers each request after {REMOTE_DELAY * 1000:.0f} ms "
                  "(FaultServer: a server across a network)", remote)
        print_cli(f"the same file again and again to that server (every id sent before, "
                  f"by 1 to {CLI_RUNS} earlier runs: all duplicates)", replayed)
        print_cli(f"random ids (uuid4) to that server, into a history of {ROWS:,} events "
                  "with random ids over the last 89 days", random_ids)
        print(f"  record {SENDS:,} events with random ids (500 per request, pending then done)"
              f" into a history of {ROWS:,} events with random ids:")
        (ours_s, ours_log), (old_s, old_log) = stored
        print(f"    dedup index led by the day (schema 4): {ours_s:.2f} s, {ours_log:.0f} MiB"
              " of log written")
        print(f"    baseline led by the id (schema 3): {old_s:.2f} s, {old_log:.0f} MiB   "
              f"ratio schema 3/schema 4 = {old_s / ours_s:.1f}x time, "
              f"{old_log / ours_log:.1f}x log")
        print(f"  event-console send, one event (median of {CLI_RUNS} interleaved runs each):")
        print_cli("to a server that only answers (FaultServer)", one, events=1)


def answer_after(delay: float) -> Responder:
    """The FaultServer's usual answer, given `delay` seconds after the request arrived."""
    def respond(request: RecordedRequest) -> Reply:
        return dataclasses.replace(accept_all(request), delay=delay)
    return respond


def print_cli(target: str, cli: tuple[Any, ...], events: int = SENDS) -> None:
    (plain_cli, plain_cpu, plain_sent), (with_history, history_cpu, history_sent), \
        (again, _, _), best, recorded = cli
    note = "" if recorded else "  [send did not record: history not wired into send yet]"
    print(f"   {target}:")
    print(f"    --no-history {plain_cli:.3f} s ({events / plain_cli:,.0f} events/s, CPU "
          f"{plain_cpu:.2f} s); with history {with_history:.3f} s "
          f"({events / with_history:,.0f} events/s, CPU {history_cpu:.2f} s)")
    print(f"    history overhead: wall {100 * (with_history / plain_cli - 1):+.1f} %  "
          f"(goal < 10 %), CPU {100 * (history_cpu / plain_cpu - 1):+.1f} %{note}")
    change = f"{100 * (history_sent / plain_sent - 1):+.1f} %" if plain_sent else "-"
    print(f"    sending phase alone (first request to last answer, --stats): "
          f"{plain_sent:.2f} s without, {history_sent:.2f} s with history: {change}; the rest "
          "of the wall time is start-up, checking and opening/closing the history")
    print(f"    best run of each: --no-history {best[0]:.3f} s, with history {best[1]:.3f} s:"
          f" {100 * (best[1] / best[0] - 1):+.1f} %")
    print(f"    noise floor, --no-history against itself (third series): median "
          f"{100 * (again / plain_cli - 1):+.1f} %, best run "
          f"{100 * (best[2] / best[0] - 1):+.1f} %")


def cli_overhead(home: Path, tmp: Path, url: str, parsed: list[dict[str, Any]],
                 series: str, *, ids: str = "fresh",
                 ) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...],
                            tuple[float, ...], bool]:
    """Medians of (wall, CPU, sending) without history, with it, and without it again (the
    noise floor); the best wall time of each of the three; whether history recorded.
    sending: the CLI's own "sent" phase (first request to last answer, --stats).
    `ids`: "fresh" (new ids every run, in order: `<series><run>-order-<n>`), "replayed"
    (every run sends the same ids, as a saved file replayed again and again: each run
    with history finds every id among the sends before it) or "random" (uuid4, new every
    run)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("INNGEST_") and k != "PYTHONDONTWRITEBYTECODE"}
    # compiled modules are cached, as in an installed app (pip compiles them): without a
    # cache every run compiles the console's sources again, history's modules included
    env.update(EVENT_CONSOLE_HOME=str(home), INNGEST_EVENT_KEY="bench-key",
               PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
    runs = 0

    def run(*extra: str) -> tuple[float, float, float]:
        nonlocal runs
        runs += 1  # fresh ids every run unless asked: repeats add the ledger's work
        file = tmp / f"sends-{series}-{runs}.json"
        prefix = series if ids == "replayed" else f"{series}{runs:03d}"
        file.write_text(json.dumps([
            {**e, "id": str(uuid.uuid4()) if ids == "random" else f"{prefix}-{e['id']}"}
            for e in parsed]), encoding="utf-8")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "console", "send", "--url", url,
                               "--no-verify", "--stats", *extra, str(file)],
                              capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=600, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert done.returncode == 0, done.stderr[-2000:]
        sent = re.search(r" sent (\d+\.\d+) s ", done.stderr)
        assert sent is not None, done.stderr[-2000:]
        return (wall, (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime),
                float(sent[1]))

    run("--no-history")  # warm the file cache, the bytecode cache and the server
    run()
    plain, with_history, again = [], [], []
    for _ in range(CLI_RUNS):  # interleaved, so load changes hit all three alike
        plain.append(run("--no-history"))
        with_history.append(run())
        again.append(run("--no-history"))
    db = app_paths().history_db
    recorded = db.exists() and HistoryStore(db, recover=False).count() > 0

    def median(runs: list[tuple[float, float, float]]) -> tuple[float, ...]:
        return tuple(statistics.median(r[i] for r in runs) for i in range(3))

    best = tuple(min(r[0] for r in series) for series in (plain, with_history, again))
    return median(plain), median(with_history), median(again), best, recorded

"""The CLI's fast history paths record exactly what the plain ones do.

`HistoryWriter` writes each request's rows ahead (state 'queued') and flips them to
'pending' before the request leaves; `LazyPredictions` stands in for
`DedupLedger.classify` when no id repeats within the batch (the history is asked one
request at a time). Real SQLite files, the real inbox, a real killed process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.dedup import DedupLedger, PriorSend, dedup_id_of
from console.core.ids import IdSeed
from console.core.plan import plan_requests
from console.core.serialize import array_body, event_bytes
from console.services.client import EventApiClient, SendResult, Target
from console.services.history import HistoryStore
from console.services.history_recorder import HistoryRecorder
from console.services.history_session import LazyPredictions
from console.services.history_writer import HistoryWriter
from console.services.paths import app_paths
from console.services.sender import Observers, send_events
from tests.support.fault_server import FaultServer, Reply
from tests.support.inbox_thread import running_inbox

T0 = 1_700_000_000_000


@settings(max_examples=100, deadline=None)
@given(ids=st.lists(st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=6)),
                    max_size=30).map(lambda xs: [x if not x else f"{i}-{x}"
                                                 for i, x in enumerate(xs)]))
def test_predictions_without_history_are_what_the_ledger_says(ids: list[str | None]) -> None:
    events: list[Any] = [{"name": "a", **({"id": i} if i is not None else {})} for i in ids]
    ledger = DedupLedger([], env="dev")
    expected = ledger.classify(events, T0)
    fresh = LazyPredictions([dedup_id_of(e) for e in events], ledger, T0)
    assert list(fresh) == expected and fresh[1:4] == expected[1:4]
    assert fresh.entries(range(len(ids))) == [
        {"verdict": p.verdict.value, "message": p.message} for p in expected]
    assert [(p.verdict, p.message) for p in fresh.stored(range(len(ids)))] == [
        (p.verdict, p.message) for p in expected]



DAY = 24 * 60 * 60 * 1000


@settings(max_examples=100, deadline=None)
@given(data=st.data(), size=st.integers(0, 30), per=st.integers(1, 7))
def test_looked_up_request_by_request_they_are_what_the_ledger_says(data: Any, size: int,
                                                                    per: int) -> None:
    """With earlier sends in the history (found in, just before and long before the 24 h
    window, with an outcome known or not, under another name), asking one request at a
    time gives what the ledger says of the whole batch at once, and the warnings are the
    duplicates, in order, each heard once."""
    ids = [data.draw(st.sampled_from([None, f"id-{i}"])) for i in range(size)]
    events: list[Any] = [{"name": f"n{i % 2}", **({"id": d} if d else {})}
                         for i, d in enumerate(ids)]
    prior = [PriorSend(d, data.draw(st.sampled_from(["dev", "prod"])),
                       T0 - data.draw(st.sampled_from([1, DAY - 1, DAY, DAY + 5, 2 * DAY])),
                       data.draw(st.sampled_from([None, "01PRIOR"])),
                       data.draw(st.sampled_from(["n0", "other"])))
             for d in ids if d and data.draw(st.booleans())]
    asked: list[list[str]] = []

    def lookup(wanted: list[str]) -> list[PriorSend]:
        asked.append(wanted)
        return [p for p in prior if p.dedup_id in wanted]

    expected = DedupLedger(prior, env="dev").classify(events, T0)
    heard: list[Any] = []
    fresh = LazyPredictions(ids, DedupLedger([], env="dev"), T0, events=events,
                             lookup=lookup, heard=heard.append)
    requests = [range(i, min(size, i + per)) for i in range(0, size, per)]
    stored = [p for rng in requests for p in fresh.stored(rng)]
    for rng in requests:  # a request written again (the flip's fallback): asked once
        fresh.stored(rng)
    assert [(p.verdict, p.message) for p in stored] == [
        (p.verdict, p.message) for p in expected]
    assert list(fresh) == expected and fresh[1:4] == expected[1:4]
    assert fresh.entries(range(size)) == [
        {"verdict": p.verdict.value, "message": p.message} for p in expected]
    assert heard == [p for p in expected if p.duplicate]
    assert sorted(i for wanted in asked for i in wanted) == sorted(d for d in ids if d)

HOUR = 60 * 60 * 1000


@settings(max_examples=60, deadline=None)
@given(sends=st.lists(st.tuples(
    st.sampled_from(["a", "b", "c"]), st.sampled_from(["dev", "dev", "prod"]),
    st.sampled_from([-5, 1, DAY - HOUR - 1, DAY - HOUR + 1, DAY - 1, DAY, DAY + 5,
                     2 * DAY - 1, 2 * DAY + 1]),
    st.sampled_from(["accepted", "accepted", "unknown", "pending", "refused"]),
    st.sampled_from(["n0", "other"])), max_size=12))
def test_the_history_gives_the_ledger_what_it_needs_to_say_what_all_sends_say(
        tmp_path_factory: Any, sends: list[tuple[str, str, int, str, str]]) -> None:
    """`prior_sends` returns only the first send of an id first sent within the last
    window; the ledger's verdicts are the same as with every send (ids sent in, at the
    edges of and outside the windows, with outcomes known, unknown or refused)."""
    path = tmp_path_factory.mktemp("prior") / "h.sqlite3"
    with HistoryStore(path) as store:
        for n, (dedup, env, back, outcome, name) in enumerate(sends):
            body = event_bytes({"name": name, "id": dedup})
            request = store.record_pending(env=env, events=[body], time_ms=T0 - back)
            if outcome in ("accepted", "refused"):
                ok = outcome == "accepted"
                store.record_done(request, SendResult(
                    200 if ok else 400, [f"01SEND{n:04d}"] if ok else [], 1, int(ok),
                    None if ok else "bad", 1, 1.0, len(body), IdSeed.fresh().header))
            elif outcome == "unknown":
                store.record_unknown(request)
        ids = ["a", "b", "c", "d"]
        every = store.prior_sends("dev", ids, now=T0, complete=True)
        needed = store.prior_sends("dev", ids, now=T0)
    names = ["n0", "other", "n0", "n0"]
    assert len(needed) <= len(every)
    assert (DedupLedger(needed, env="dev").classify_ids(ids, T0, names)
            == DedupLedger(every, env="dev").classify_ids(ids, T0, names))


def rows(store: HistoryStore) -> list[tuple[Any, ...]]:
    return [(r.name, r.dedup_id, r.outcome, r.predicted, r.size, r.state, bool(r.internal_id))
            for r in store.query(limit=1000)]


def send(path: Path, origin: str, observer_for: Any, events: list[dict[str, Any]],
         request_limit: int) -> None:
    parts = [event_bytes(e) for e in events]
    plan = plan_requests([len(p) for p in parts], request_limit=request_limit,
                         event_limit=1 << 20)
    ids = [dedup_id_of(e) for e in events]
    predictions = LazyPredictions(ids, DedupLedger([], env="dev"), T0)

    async def go() -> None:
        client = EventApiClient()
        with HistoryStore(path, handoff=True) as store:
            observer = observer_for(store, parts, plan, predictions)
            try:
                outcomes = await send_events(client, Target(origin, "k"), parts, plan,
                                             observer=observer)
                assert all(o.result.ok for o in outcomes)
            finally:
                observer.finish()
                await client.aclose()

    asyncio.run(go())


def test_writer_records_what_the_plain_recorder_records(tmp_path: Path) -> None:
    events = [{"name": f"app/e{i % 3}", "id": f"w-{i}" if i % 4 else "", "data": {"i": i}}
              for i in range(40)]
    with running_inbox() as inbox:
        send(tmp_path / "plain.sqlite3", inbox.url,
             lambda s, parts, plan, p: HistoryRecorder(s, "dev", parts, events=events,
                                                       predictions=p), events, 300)
        send(tmp_path / "writer.sqlite3", inbox.url,
             lambda s, parts, plan, p: HistoryWriter(s, "dev", parts, events=events,
                                                     predictions=p, plan=plan), events, 300)
    with HistoryStore(tmp_path / "plain.sqlite3") as plain, \
            HistoryStore(tmp_path / "writer.sqlite3") as writer:
        assert rows(writer) == rows(plain) and len(rows(plain)) == 40
        assert writer.conn.execute("SELECT count(*), count(DISTINCT state) FROM requests"
                                   ).fetchone() == (plain.conn.execute(
                                       "SELECT count(*) FROM requests").fetchone()[0], 1)



def test_the_log_starts_over_instead_of_growing_for_the_whole_send(
        tmp_path: Path, monkeypatch: Any) -> None:
    """Passive checkpoints alone never let SQLite's log start over while the writer keeps
    appending (a 100,000-event send left a 261 MiB log); past the limit the checkpointer
    restarts it. Here: a 1 MiB limit, ~12 MiB of events."""
    import console.services.history_writer as history_writer

    monkeypatch.setattr(history_writer, "WAL_LIMIT_BYTES", 1 << 20)
    monkeypatch.setattr(history_writer, "CHECKPOINT_EVENTS", 100)
    events = [{"name": "big/e", "id": f"big-{i}", "data": {"pad": "p" * 1000}}
              for i in range(12_000)]
    parts = [event_bytes(e) for e in events]
    plan = plan_requests([len(p) for p in parts], request_limit=64 * 1024,
                         event_limit=1 << 20)
    path = tmp_path / "h.sqlite3"
    wal = Path(f"{path}-wal")
    sizes: list[int] = []

    class Sizes:
        def on_pending(self, *args: Any) -> None:
            return None

        def on_done(self, *args: Any) -> None:
            sizes.append(wal.stat().st_size if wal.exists() else 0)

    async def go(origin: str) -> HistoryWriter:
        client = EventApiClient()
        with HistoryStore(path, handoff=True) as store:
            writer = HistoryWriter(store, "dev", parts, events=events, plan=plan)
            try:
                outcomes = await send_events(client, Target(origin, "k"), parts, plan,
                                             observer=Observers(writer, Sizes()))
                assert all(o.result.ok for o in outcomes)
            finally:
                writer.finish()
                await client.aclose()
            assert store.count() == len(events)
        return writer

    with FaultServer(record=False) as server:
        writer = asyncio.run(go(server.origin))
    assert writer._checkpointer.restarts > 0
    # without restarts: 52 MB here; with them the limit plus what the writer adds while
    # the checkpointer (at background priority) catches up: 6 to 12.5 MiB in 15 runs
    # beside a core kept busy
    assert sum(map(len, parts)) > 12 << 20 and max(sizes) < 24 << 20, max(sizes)

def test_the_writer_thread_runs_at_background_priority(tmp_path: Path) -> None:
    """Recording yields the CPU to the send (and to a local server) when cores are busy;
    the process itself keeps its priority."""
    import os

    parts = [event_bytes({"name": "a"})]
    plan = plan_requests([len(parts[0])], request_limit=1000, event_limit=1000)
    before = os.getpriority(os.PRIO_PROCESS, 0)
    with HistoryStore(tmp_path / "h.sqlite3", handoff=True) as store:
        writer = HistoryWriter(store, "dev", parts, plan=plan)
        thread = writer._thread
        assert thread is not None and thread.native_id is not None
        wanted, deadline = min(19, before + 10), time.monotonic() + 10
        niced = os.getpriority(os.PRIO_PROCESS, thread.native_id)
        while niced != wanted and time.monotonic() < deadline:  # the thread sets it first
            time.sleep(0.01)
            niced = os.getpriority(os.PRIO_PROCESS, thread.native_id)
        writer.finish()
    assert niced == min(19, before + 10) and os.getpriority(os.PRIO_PROCESS, 0) == before


def _four_events_in_requests() -> tuple[list[dict[str, Any]], list[bytes], Any]:
    events = [{"name": "a", "id": f"x-{i}", "data": {"pad": "p" * 40}} for i in range(4)]
    parts = [event_bytes(e) for e in events]
    return events, parts, plan_requests([len(p) for p in parts], request_limit=150,
                                        event_limit=1 << 20)


def _idle_with_request_written_ahead(writer: HistoryWriter, request_no: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with writer._cond:
            if request_no in writer._queued and not writer._busy:
                return
        time.sleep(0.005)
    raise AssertionError("the writer never wrote the request ahead")


def test_an_idle_writer_lets_the_sender_flip_on_its_own_thread(tmp_path: Path) -> None:
    """Waking the writer to flip a row and being woken by it took 0.8 ms per request; with
    the rows written ahead and the writer idle the sender flips them itself: committed as
    pending when on_pending returns, with nothing left to wait for."""
    events, parts, plan = _four_events_in_requests()
    path = tmp_path / "h.sqlite3"
    seed = IdSeed.fresh()
    body = array_body(parts[plan.requests[0].start : plan.requests[0].stop])

    async def flip(writer: HistoryWriter) -> Any:  # as the sender calls it: on the loop
        return writer.on_pending(1, plan.requests[0], body, seed)

    with HistoryStore(path, handoff=True) as store:
        writer = HistoryWriter(store, "dev", parts, events=events, plan=plan)
        try:
            _idle_with_request_written_ahead(writer, 1)
            assert asyncio.run(flip(writer)) is None  # not a future to wait for
            with HistoryStore(path, recover=False) as other:  # another reader sees it now
                assert other.conn.execute(
                    "SELECT state, seed FROM requests WHERE request_no = 1"
                ).fetchone() == ("pending", seed.header)
            _idle_with_request_written_ahead(writer, 2)  # the writer went on to the next
        finally:
            writer.finish()
        assert store.conn.execute("SELECT request_no, state FROM requests").fetchall() == [
            (1, "unknown")]


def test_the_sender_never_waits_for_another_process_writing_the_history(
        tmp_path: Path) -> None:
    """Another console holding the history's write lock: the sender's thread does not
    wait for it (its loop keeps running); the writer flips once the lock is free, and the
    request leaves after that."""
    events, parts, plan = _four_events_in_requests()
    path = tmp_path / "h.sqlite3"
    body = array_body(parts[plan.requests[0].start : plan.requests[0].stop])
    seed = IdSeed.fresh()

    async def go(writer: HistoryWriter, other: sqlite3.Connection) -> tuple[float, str]:
        other.execute("BEGIN IMMEDIATE")  # the other console is writing
        start = time.perf_counter()
        waiting = writer.on_pending(1, plan.requests[0], body, seed)
        returned = time.perf_counter() - start
        assert waiting is not None  # a future: the writer flips it
        await asyncio.sleep(0.2)
        assert not waiting.done()  # still held by the other console
        other.execute("COMMIT")
        await asyncio.wait_for(waiting, 10)
        state = other.execute("SELECT state FROM requests WHERE request_no = 1").fetchone()[0]
        return returned, state

    with HistoryStore(path, handoff=True) as store:
        writer = HistoryWriter(store, "dev", parts, events=events, plan=plan)
        other = sqlite3.connect(path, isolation_level=None)
        try:
            _idle_with_request_written_ahead(writer, 1)
            returned, state = asyncio.run(go(writer, other))
        finally:
            other.close()
            writer.finish()
    assert state == "pending" and returned < 0.5, returned  # the lock waits up to 5 s


def test_a_flip_that_fails_on_the_senders_thread_sends_nothing(tmp_path: Path) -> None:
    events, parts, plan = _four_events_in_requests()
    path = tmp_path / "h.sqlite3"

    async def go(server: FaultServer) -> None:
        client = EventApiClient()
        with HistoryStore(path, handoff=True) as store:
            writer = HistoryWriter(store, "dev", parts, events=events, plan=plan)
            try:
                _idle_with_request_written_ahead(writer, 1)
                with HistoryStore(path, recover=False) as other:  # the row is gone meanwhile
                    other.drop_queued([writer._queued[1]])
                with pytest.raises(ValueError, match="is not queued"):
                    await send_events(client, Target(server.origin, "k"), parts, plan,
                                      observer=writer)
            finally:
                writer.finish()
                await client.aclose()

    with FaultServer() as server:
        asyncio.run(go(server))
        assert server.requests == []
    with HistoryStore(path) as store:
        assert store.conn.execute("SELECT count(*) FROM requests").fetchone()[0] == 0


def test_rows_written_ahead_for_requests_never_sent_are_removed(tmp_path: Path) -> None:
    events = [{"name": "a", "id": f"x-{i}", "data": {"pad": "p" * 40}} for i in range(6)]
    parts = [event_bytes(e) for e in events]
    plan = plan_requests([len(p) for p in parts], request_limit=150, event_limit=1 << 20)
    assert len(plan.requests) > 2
    path = tmp_path / "h.sqlite3"

    async def go(server: FaultServer) -> None:
        client = EventApiClient()
        with HistoryStore(path, handoff=True) as store:
            writer = HistoryWriter(store, "dev", parts, events=events, plan=plan)
            task = asyncio.create_task(send_events(client, Target(server.origin, "k"), parts,
                                                   plan, observer=writer))
            while not server.requests:
                await asyncio.sleep(0.01)
            task.cancel()  # request 1 is in flight; request 2 was written ahead
            await asyncio.gather(task, return_exceptions=True)
            writer.finish()
            await client.aclose()

    with FaultServer() as server:
        server.script(Reply.hang())
        asyncio.run(go(server))
    with HistoryStore(path) as store:
        assert [r[0] for r in store.conn.execute("SELECT state FROM requests")] == ["unknown"]
        assert {r.outcome for r in store.query()} == {"unknown"}
        assert store.conn.execute("SELECT count(*) FROM payloads").fetchone()[0] == len(
            plan.requests[0])


def test_queued_rows_of_a_killed_process_vanish_pending_ones_become_unknown(app_home: Path
                                                                             ) -> None:
    path = app_paths().ensure().history_db
    script = (
        "import os\n"
        "from console.services.history import HistoryStore\n"
        f"store = HistoryStore({str(path)!r})\n"
        "store.record_pending(env='dev', events=[b'{\"name\":\"sent\",\"id\":\"s1\"}'])\n"
        "store.record_pending(env='dev', events=[b'{\"name\":\"ahead\",\"id\":\"q1\"}'],"
        " queued=True)\n"
        "os._exit(0)\n"  # no cleanup, as after SIGKILL
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[2])
    with HistoryStore(path) as store:
        assert store.messages == ["1 request from an earlier session ended without an "
                                  "answer; their outcome is unknown (see history)"]
        assert [(r.name, r.outcome) for r in store.query()] == [("sent", "unknown")]
        assert store.conn.execute("SELECT count(*) FROM payloads").fetchone()[0] == 1


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4))


EVENT_OBJECTS = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.sampled_from(["app/x", "app/y"]), JSON_SCALARS),
    "id": st.one_of(st.sampled_from(["id-1", "id-2", ""]), st.none(), JSON_SCALARS),
    "data": st.just({})})


@settings(max_examples=100, deadline=None)
@given(values=st.one_of(  # objects only, or objects among other JSON values
    st.lists(EVENT_OBJECTS, max_size=12),
    st.lists(st.one_of(EVENT_OBJECTS, JSON_SCALARS, st.lists(st.integers(), max_size=2)),
             max_size=12)),
    shared=st.booleans(), given_count=st.integers(0, 12))
def test_a_request_is_stored_the_same_from_parsed_events_and_from_bytes(
        tmp_path_factory: Any, values: list[Any], shared: bool, given_count: int) -> None:
    """Whatever the events are (objects or not, names and ids of any JSON type, empty ids),
    each row's name and dedup id are the event's own when they are text (an id also not
    empty), else "" and none; with the parsed events handed over or read from the bytes
    alike. Each row's predicted verdict is its prediction's (one object shared by many,
    or one each, or fewer predictions than events: none for the rest)."""
    ledger = DedupLedger([], env="dev")
    fresh, none = ledger.classify_ids(["x", None], T0)
    duplicate = DedupLedger([PriorSend("id-1", "dev", T0 - 5, "01PRIOR")],
                            env="dev").classify_ids(["id-1"], T0)[0]
    pool = [fresh, none, duplicate]
    predictions = [pool[i % 3] if shared else dataclasses.replace(pool[i % 3])
                   for i in range(min(given_count, len(values)))]
    parts = [json.dumps(v).encode() for v in values]
    path = tmp_path_factory.mktemp("parsed") / "h.sqlite3"
    with HistoryStore(path) as store:
        store.record_pending(env="dev", events=parts, parsed=values, predictions=predictions)
        store.record_pending(env="dev", events=parts, predictions=predictions)
        stored = [(r.index, r.name, r.dedup_id, r.predicted, r.predicted_detail)
                  for r in reversed(store.query(limit=100))]

    def expected(i: int, value: Any) -> tuple[Any, ...]:
        name = value.get("name") if isinstance(value, dict) else None
        dedup = value.get("id") if isinstance(value, dict) else None
        pred = predictions[i] if i < len(predictions) else None
        return (i, name if isinstance(name, str) else "",
                dedup if isinstance(dedup, str) and dedup else None,
                pred.verdict.value if pred else None,
                pred.message if pred and pred.duplicate else None)

    assert stored == [expected(i, v) for i, v in enumerate(values)] * 2


def test_a_writer_thread_that_dies_fails_the_send_it_would_have_hung(tmp_path: Path) -> None:
    """An error no job handled ended the writer's thread, and the sender waited forever
    for a flip it would never make (a duplicate id sent under TZ=XYZ24)."""
    import threading

    events, parts, plan = _four_events_in_requests()
    with HistoryStore(tmp_path / "h.sqlite3", handoff=True) as store:
        writer = HistoryWriter(store, "dev", parts, events=events, plan=plan)

        def broken() -> None:
            raise RuntimeError("a bug in the writer")

        writer._next_job = broken  # type: ignore[method-assign]
        with writer._cond:
            writer._cond.notify()
        raised: list[BaseException] = []

        def ask() -> None:
            try:
                writer.on_pending(1, plan.requests[0], b"[]", None)
            except BaseException as exc:
                raised.append(exc)

        asking = threading.Thread(target=ask, daemon=True)  # a hang fails, never blocks
        asking.start()
        asking.join(10)
        assert not asking.is_alive(), "the flip was never made nor refused"
        assert [str(e) for e in raised] == ["a bug in the writer"]
        with pytest.raises(RuntimeError, match="a bug in the writer"):
            writer.finish()

"""The CLI's history observer: `HistoryWriter` keeps history off the send's critical path.

Writing 500 events costs ~5 ms, as long as a loopback request. The writer's own thread
writes the *next* request's rows ahead, as 'queued', while the current one is in flight,
so `on_pending` only flips one row to 'pending' (committed before the request leaves, as
ever; on the sender's own thread when the writer is idle, as it nearly always is);
answers are written while later requests are in flight. A kill leaves pending rows (shown
as "unknown") and queued ones (never sent: removed on the next open), never a missing
send.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeGuard

from console.core.dedup import SentEvent
from console.core.plan import BatchPlan
from console.services.history import HistoryStore, SendResultLike
from console.services.history_recorder import Recording
from console.services.history_schema import set_autocheckpoint

Settle = Callable[[BaseException | None], None]
BACKGROUND_NICE = 10


def background_priority() -> None:
    """Lower the calling thread's CPU priority (Linux: the nice value of this thread only).

    Recording is background work: when the cores are busy (a local Dev Server or inbox
    handling the very requests being recorded), the send should get them first. The
    writer still gets a core whenever the sender waits on it, as it does for a flip."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        tid = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + BACKGROUND_NICE))


CHECKPOINT_EVENTS = 2000  # ~2 MiB of ~1 KiB events: little left to copy at close
WAL_LIMIT_BYTES = 64 * 1024 * 1024  # the log may grow to about this during a send
RESTART_WAIT = 0.1  # seconds a restart may wait for a reader (the writer waits meanwhile)
SETTLE_WAIT = 0.05  # seconds the writer waits for the loop to see a flip (never longer)


class HistoryWriter(Recording):
    """Sender observer with its own writer thread (the CLI; see the module docstring).

    Give it the `plan` to let it write ahead. The store must be opened with
    `handoff=True`; until `stop()` (called by `finish`/`sent`) only the writer uses it."""

    def __init__(self, store: HistoryStore, env_name: str, events_bytes: Sequence[bytes], *,
                 plan: BatchPlan | None = None, lookahead: int = 1, **options: Any) -> None:
        super().__init__(env_name, events_bytes, **options)
        self.store = store
        self.planned: list[range] = list(plan.requests) if plan is not None else []
        self.lookahead = lookahead
        self._cond = threading.Condition()
        self._flips: dict[int, tuple[range, int, Any, Settle]] = {}
        self._answers: list[tuple[int, SendResultLike]] = []
        self._queued: dict[int, int] = {}  # request_no -> row id written ahead, not flipped
        self._asked = 0  # the highest request_no seen by on_pending
        self._ahead = 1  # the next request_no to write ahead
        self._stopping = False
        self._busy = True  # the writer thread is using the store (see _flip_here)
        self._error: BaseException | None = None
        self._dead = False  # the thread ended on an error (see _died)
        self._written = 0  # events answered since the last checkpoint
        self._checkpointer = _Checkpointer(store.path)
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    # -- the sender's side -----------------------------------------------------------------
    def on_pending(self, request_no: int, rng: range, body: bytes,
                   seed: Any) -> asyncio.Future[None] | None:
        if self._flip_here(request_no, rng, len(body), seed):
            return None
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        future = loop.create_future() if loop is not None else None
        flag = threading.Event()
        failure: list[BaseException] = []

        def settle(exc: BaseException | None) -> None:
            if loop is not None and future is not None:
                seen = threading.Event()
                with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                    loop.call_soon_threadsafe(_settle, future, exc, seen)
                    # let the loop take the GIL and send the request before this thread
                    # goes on to Python-heavy work (the request waited 2-4 ms otherwise)
                    seen.wait(SETTLE_WAIT)
            else:
                failure.extend([exc] if exc else [])
                flag.set()

        with self._cond:
            if self._dead and self._error is not None:
                raise self._error
            if self._thread is None:  # stopped: write here and now
                self.requests[request_no] = self.store.record_pending(
                    **self.pending_fields(request_no, rng, body, seed))
                return None
            self._asked = max(self._asked, request_no)
            self._flips[request_no] = (rng, len(body), seed, settle)
            self._cond.notify()
        if future is None:
            flag.wait()
            if failure:
                raise failure[0]
        return future

    def _flip_here(self, request_no: int, rng: range, size: int, seed: Any) -> bool:
        """Flip on the calling thread when the writer is idle and has written the request
        ahead, as it nearly always has: one committed UPDATE takes 0.07 ms, while waking
        the writer and being woken by it took 0.8 ms. The lock keeps the writer from
        taking a job meanwhile (so the connection is used by one thread at a time); an
        error goes to the sender, as the writer's would, and the row stays queued.

        The sender's thread never waits for the file: when another process is writing to
        the history, the writer flips instead (waiting as long as it must) and the sender
        awaits it."""
        with self._cond:
            queued = self._queued.get(request_no)
            if (self._thread is None or self._busy or self._dead
                    or not self._as_planned(queued, request_no, rng)
                    or not self.store.mark_pending_unless_busy(queued, seed=seed,
                                                               request_bytes=size)):
                return False
            del self._queued[request_no]
            self.requests[request_no] = queued
            self._asked = max(self._asked, request_no)
            self._cond.notify()  # the answers before it are due, the next is written ahead
        return True

    def on_done(self, request_no: int, rng: range, result: SendResultLike) -> None:
        with self._cond:
            if self._error is not None:
                raise self._error
            if self._thread is None:
                self.store.record_done(self.requests[request_no], result)
                self.done.add(request_no)
                return
            self._answers.append((request_no, result))
            self._cond.notify()

    def stop(self) -> None:
        """Write everything still queued, remove rows written ahead for nothing, and hand
        the store back to the calling thread."""
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify()
        thread.join()
        self._thread = None
        self._checkpointer.close()
        if self._error is not None:
            raise self._error

    def finish(self) -> None:
        """Requests that never got `on_done` (cancelled in flight) become "unknown" now."""
        try:
            self.stop()
        finally:
            self.mark_unanswered(self.store)

    def sent(self) -> list[SentEvent]:
        self.stop()
        return self.sent_events(self.store)

    # -- the writer thread -----------------------------------------------------------------
    def _next_ahead(self) -> int | None:
        while self._ahead in self._queued or self._ahead in self.requests:
            self._ahead += 1
        if (self._stopping or self._ahead > len(self.planned)
                or self._ahead > self._asked + self.lookahead):
            return None
        return self._ahead

    def _run(self) -> None:
        background_priority()
        conn = self.store.conn
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # no checkpoint inside a flip's commit
        # a log that starts over after a RESTART (see _Checkpointer) shrinks to the limit
        conn.execute(f"PRAGMA journal_size_limit = {self._checkpointer.limit}")
        try:
            while self._step():
                pass
        except BaseException as exc:  # handed to the sender, never lost
            self._died(exc)
        finally:
            set_autocheckpoint(conn)

    def _died(self, exc: BaseException) -> None:
        """The thread met an error no job handles: each flip waiting on it, and each one
        asked for from now on, gets that error. A send had waited forever on a flip this
        thread would never make (a time zone `astimezone` refused, raised while writing a
        request ahead)."""
        with self._cond:
            self._error = self._error or exc
            self._dead = True
            waiting, self._flips = list(self._flips.values()), {}
        for *_, settle in waiting:
            settle(self._error)

    def _step(self) -> bool:
        """One unit of work, most urgent first: flip > write ahead > answers > stop."""
        with self._cond:
            self._busy = False  # the store is free for a flip on the sender's thread
            job = self._next_job()
            while job is None and not self._stopping:
                self._cond.wait()
                job = self._next_job()
            self._busy = True
            if job is None:
                leftover, self._queued = list(self._queued.values()), {}
        if job is None:
            self._guard(lambda: self.store.drop_queued(leftover))
            return False
        job()
        return True

    def _next_job(self) -> Callable[[], None] | None:
        """The most urgent work (called with the lock held), or None when idle."""
        if self._flips:
            request_no = min(self._flips)
            rng, size, seed, settle = self._flips.pop(request_no)
            queued = self._queued.pop(request_no, None)
            return lambda: self._flip(request_no, queued, rng, size, seed, settle)
        ahead = self._next_ahead()
        if ahead is not None:
            self._ahead += 1
            return lambda: self._write_ahead(ahead)
        ready: list[tuple[int, SendResultLike]] = []
        waiting: list[tuple[int, SendResultLike]] = []
        for answer in self._answers:
            (ready if self._answer_due(answer[0]) else waiting).append(answer)
        if ready:
            self._answers = waiting
            return lambda: self._write_answers(ready)
        return None

    def _answer_due(self, request_no: int) -> bool:
        """An answer waits until the sender has asked for the next request's flip: the
        sender asks right after the answer, and a flip must never queue behind writing it
        (that wait was most of what history added to a send). The last request's answer,
        and every answer once stopping, are written at once."""
        return (self._stopping or request_no < self._asked
                or request_no >= len(self.planned))

    def _flip(self, request_no: int, queued: int | None, rng: range, size: int, seed: Any,
              settle: Settle) -> None:
        try:
            if self._as_planned(queued, request_no, rng):
                self.store.mark_pending(queued, seed=seed, request_bytes=size)
            else:
                if queued is not None:  # the sender's request differs from the plan's
                    self.store.drop_queued([queued])
                queued = self.store.record_pending(
                    **self.pending_fields(request_no, rng, size, seed))
            self.requests[request_no] = queued
        except BaseException as exc:  # the sender gets it and sends nothing
            settle(exc)
            return
        settle(None)

    def _as_planned(self, queued: int | None, request_no: int,
                    rng: range) -> TypeGuard[int]:
        """Whether the request was written ahead (`queued`: its row) as it is being sent."""
        return queued is not None and self.planned[request_no - 1] == rng

    def _write_ahead(self, request_no: int) -> None:
        rng = self.planned[request_no - 1]
        try:
            row = self.store.record_pending(**self.pending_fields(request_no, rng, None, None),
                                            queued=True)
        except Exception:  # the flip writes it the ordinary way, or says why
            return
        with self._cond:
            self._queued[request_no] = row

    def _write_answers(self, answers: list[tuple[int, SendResultLike]]) -> None:
        def write() -> None:
            self.store.record_done_many([(self.requests[n], r) for n, r in answers])
            self.done.update(n for n, _ in answers)
            self._written += sum(len(self.planned[n - 1]) if n <= len(self.planned) else 0
                                 for n, _ in answers)
            if self._written >= CHECKPOINT_EVENTS:
                self._written = 0
                self._checkpointer.kick()

        self._guard(write)

    def _guard(self, write: Callable[[], None]) -> None:
        try:
            write()
        except Exception as exc:  # handed to the next on_done or stop()
            with self._cond:
                self._error = self._error or exc


class _Checkpointer:
    """Copies the WAL into the database on a connection and thread of its own.

    The writer's connection never checkpoints during a send (a checkpoint inside a flip's
    commit would hold the request back); this one does, PASSIVE (never blocking a writer),
    each time ~`CHECKPOINT_EVENTS` events have been answered, so closing the store at exit
    has little left to copy.

    A passive checkpoint never lets the log start over: the writer has appended to it by
    the time one ends, so the log only grew (261 MiB for a 100,000-event send, 2.6 times
    the data, deleted only at exit). Past `WAL_LIMIT_BYTES` the checkpoint is a RESTART:
    it holds the writer back while it copies what the passive ones left (a few MiB) and
    waits at most `RESTART_WAIT` for readers (another console reading the history), and
    the writer's next commit starts the log again from its beginning."""

    def __init__(self, path: Path, limit: int | None = None) -> None:
        self.path = path
        self.limit = limit if limit is not None else WAL_LIMIT_BYTES
        self.restarts = 0
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="history-checkpoint",
                                            daemon=True)
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        if self._thread is not None:
            self._closing = True
            self._wake.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        background_priority()
        conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=RESTART_WAIT)
        wal = Path(f"{self.path}-wal")
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._closing:
                    return
                with contextlib.suppress(sqlite3.Error, OSError):  # next time, or at close
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    if wal.stat().st_size > self.limit:
                        busy = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0]
                        self.restarts += not busy
        finally:
            conn.close()


def _settle(future: asyncio.Future[None], exc: BaseException | None,
            seen: threading.Event) -> None:
    """Runs on the loop. `seen` is set after the sender's task has taken its next step
    (its wake-up is queued by set_result, this after it): by then the request is out."""
    asyncio.get_running_loop().call_soon(seen.set)
    if future.done():  # the sender was cancelled meanwhile
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)

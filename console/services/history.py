"""The history store: every request and event the console sent, replayed or captured.

Why it works this way:
- A request is written as *pending* (with its events) and committed BEFORE it goes out,
  and completed after. If the process dies in between, the next open finds the pending
  row of a process that no longer runs and marks it *unknown*: a send is never missing.
- Each event row is narrow; payloads (capped, default 64 KiB, exact size kept) live in
  their own table, so counting and paging a million rows stays fast.
- The store only ever sees event bytes and send results: keys are never passed in, so they
  cannot end up in a row, a search index or an export.
- One store = one sqlite3 connection = one thread. `AsyncHistory` (history_async.py) gives
  the event loop a store on a single worker thread; the Qt model opens its own reader.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, repeat
from pathlib import Path
from typing import Any, Literal, Protocol

from console.core.dedup import (
    DEDUP_WINDOW_MS,
    Outcome,
    OutcomeKind,
    Prediction,
    PriorSend,
    not_taken,
)
from console.core.envelope import KNOWN_SET, envelope_of
from console.core.ids import IdSeed
from console.core.terminal import utf8_safe
from console.services.history_query import HistoryReads
from console.services.history_schema import DAY_MS as DAY_MS
from console.services.history_schema import (
    DEDUP_DAY,
    FTS_TABLE,
    HistoryLocked,
    HistoryUpkeep,
    blank_nones,
    busy_timeout,
    cannot_write,
    dedup_days,
    insert_rows,
    is_busy,
    open_database,
    owner_token,
    pid_alive,
    searchable_sql,
    update_rows,
)
from console.services.history_schema import DEFAULT_PAYLOAD_CAP as DEFAULT_PAYLOAD_CAP
from console.services.history_schema import DEFAULT_RETENTION_DAYS as DEFAULT_RETENTION_DAYS
from console.services.history_schema import now_ms as now_ms

UNKNOWN_REASON = "the console stopped before the server answered"
CANCELLED_REASON = "cancelled while in flight; the server may have received it"

Source = Literal["sent", "replayed", "captured"]
CLOCK_SKEW_MS = 60 * 60 * 1000  # how far ahead another console's clock may run
# a send the ledger counts: to environment ?, not refused; this console's, or one the inbox
# received (another app's event there: its id was predicted "new", then "no runs")
_COUNTS = ("env = ? AND source IN ('sent', 'replayed', 'captured')"
           " AND outcome != 'not accepted'")
_PRIOR_SEND = f"time_ms >= ? AND {_COUNTS}"  # since ? (two windows back)
_SINCE_DAYS = dedup_days("?")  # the days since ? (the dedup index's days, see V4)


class SendResultLike(Protocol):
    """What `EventApiClient.send` returns (console.services.client.SendResult)."""

    status: int | None
    ids: list[str]
    events: int
    error: str | None
    attempts: int
    latency_ms: float
    request_bytes: int
    seed: str
    uncertain: bool


class CapturedLike(Protocol):
    """What the inbox hands over (console.services.inbox.CapturedEvent)."""

    internal_id: str
    received_at_ms: int
    name: str
    event: dict[str, Any]
    size: int
    raw: bytes


def _safe(text: str | None) -> str | None:
    return None if text is None else utf8_safe(text)


def parse_event(raw: bytes) -> tuple[str, str | None]:
    """Name and dedup id of serialized event bytes (anything unexpected is kept as-is)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return "", None
    return _meta(value)


def _meta(value: Any) -> tuple[str, str | None]:
    if not isinstance(value, dict):
        return "", None
    value = envelope_of(value)  # "ID" is the id, as the server reads it
    name, dedup = value.get("name"), value.get("id")
    return (name if isinstance(name, str) else "",
            dedup if isinstance(dedup, str) and dedup else None)


def _columns(pairs: list[tuple[str, str | None]]) -> tuple[list[str], list[str | None]]:
    return [name for name, _ in pairs], [dedup for _, dedup in pairs]


def _metas(values: Sequence[Any]) -> tuple[list[str], list[str | None]]:
    """Names and dedup ids of parsed events, as `_meta` gives them, a whole request at a
    time: plain lists the C loops of `map` and `set` check, not a Python call per event
    (the history writer's thread holds the GIL, which the sender needs, while it runs
    Python)."""
    if (not set(map(type, values)) <= {dict}  # not every event is an object
            or not KNOWN_SET.issuperset(chain.from_iterable(values))):  # "ID": as read
        return _columns([_meta(value) for value in values])
    names = [value.get("name") for value in values]
    ids = [value.get("id") for value in values]
    if not set(map(type, names)) <= {str}:
        names = [name if isinstance(name, str) else "" for name in names]
    if not set(map(type, ids)) <= {str, type(None)} or "" in ids:
        ids = [dedup if isinstance(dedup, str) and dedup else None for dedup in ids]
    return names, ids


def _stored_predictions(predictions: Sequence[Prediction | None] | None,
                        count: int) -> tuple[list[str | None], list[str | None]]:
    """Verdict and message of a duplicate per event. The same Prediction object (one
    shared by every fresh event of a big send) is read once: each event's pair is looked
    up by its object's id."""
    if predictions is None:
        return [None] * count, [None] * count
    preds = [*predictions[:count], *[None] * (count - len(predictions))]
    keys = list(map(id, preds))
    unique = dict(zip(keys, preds, strict=True))  # keeps each alive while its id is in use
    verdict = {k: p.verdict.value if p is not None else None for k, p in unique.items()}
    message = {k: p.message if p is not None and p.duplicate else None
               for k, p in unique.items()}
    return list(map(verdict.__getitem__, keys)), list(map(message.__getitem__, keys))


# the events columns record_pending writes, in order; those bound as '' for NULL
_PENDING_COLUMNS = ("id", "request_id", "env", "time_ms", "source", "outcome", "idx", "name",
                    "dedup_id", "size", "truncated", "predicted", "predicted_detail")
_PENDING_BLANK_IS_NULL = tuple(_PENDING_COLUMNS.index(column)
                               for column in ("dedup_id", "predicted", "predicted_detail"))


class HistoryStore(HistoryUpkeep, HistoryReads):
    """The history database of one user. Not thread-safe: use it from one thread."""

    def __init__(self, path: Path | str, *, payload_cap: int | None = None,
                 recover: bool = True, handoff: bool = False,
                 upgrading: Callable[[str], None] | None = None) -> None:
        """`handoff`: the store may be passed between threads (one at a time; the CLI's
        history writer thread takes it for the duration of a send). `payload_cap`: bytes of
        each payload kept, instead of the setting stored in the file. `upgrading`: told
        before a file from an earlier version is migrated (which may take seconds)."""
        self.path = Path(path)
        self._owner = owner_token()  # this process, as its request rows name it
        self._fixed_cap = payload_cap  # None: the user's setting (read at each write)
        self.conn, self.notice = open_database(self.path, same_thread=not handoff,
                                               upgrading=upgrading)
        self.fts = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone() is not None
        self.recovered: list[int] = self.recover_abandoned() if recover else []

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def messages(self) -> list[str]:
        """What the UI/CLI should tell the user about this open (damage, lost answers)."""
        out = [self.notice] if self.notice else []
        if self.recovered:
            n = len(self.recovered)
            out.append(f"{n} request{'s' if n != 1 else ''} from an earlier session ended "
                       "without an answer; their outcome is unknown (see history)")
        return out

    @property
    def payload_cap(self) -> int:
        return self._fixed_cap if self._fixed_cap is not None else self.payload_cap_setting

    # -- writing ---------------------------------------------------------------------------
    def _next_event_id(self) -> int:
        top = self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        return max(int(top), self._indexed_upto()) + 1

    def record_pending(
        self, *, env: str, events: Sequence[bytes], request_bytes: int | None = None,
        seed: IdSeed | str | None = None, request_no: int = 1, first_index: int = 0,
        source: Source = "sent", scenario: str | None = None, step: str | None = None,
        origin: str | None = None, branch: str | None = None,
        predictions: Sequence[Prediction | None] | None = None, time_ms: int | None = None,
        parsed: Sequence[Any] | None = None, queued: bool = False,
    ) -> int:
        """Write a request about to go out, with its events; committed on return.

        `parsed`: the same events as JSON values, when the caller has them (saves parsing
        the bytes again just to find each name and dedup id). `queued`: written ahead of
        time (state 'queued'); `mark_pending` must flip it before the request leaves, and
        a queued request whose process is gone was never sent, so it is removed."""
        when = now_ms() if time_ms is None else time_ms
        # names from files and servers: half a UTF-16 pair cannot be stored as it is
        env, origin, branch, scenario, step = (
            utf8_safe(env), _safe(origin), _safe(branch), _safe(scenario), _safe(step))
        seed_text = seed if isinstance(seed, str) or seed is None else seed.header
        size = request_bytes if request_bytes is not None else (
            2 + sum(map(len, events)) + max(len(events) - 1, 0))
        count = len(events)
        names, dedups = (_metas(parsed) if parsed is not None and len(parsed) == count
                         else _columns([parse_event(raw) for raw in events]))
        verdicts, messages = _stored_predictions(predictions, count)
        sizes = list(map(len, events))
        cap = self.payload_cap
        truncated = ([0] * count if max(sizes, default=0) <= cap  # ints bind faster than bools
                     else [int(length > cap) for length in sizes])
        bodies = [raw.decode("utf-8", errors="replace") if length <= cap
                  else self._capped(raw, cap)[0] for raw, length in zip(events, sizes, strict=True)]
        with self._transaction():
            first = self._next_event_id()
            cur = self.conn.execute(
                "INSERT INTO requests(env, created_ms, request_bytes, events, seed, state,"
                " request_no, first_event_id, origin, branch, scenario, step, source, owner_pid)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (env, when, size, len(events), seed_text, "queued" if queued else "pending",
                 request_no, first, origin, branch, scenario, step, source, self._owner),
            )
            request_id = int(cur.lastrowid or 0)
            row_ids = range(first, first + count)
            insert_rows(
                self.conn, f"INSERT INTO events({', '.join(_PENDING_COLUMNS)})",
                list(zip(row_ids, repeat(request_id), repeat(env), repeat(when), repeat(source),
                         repeat("pending"), range(first_index, first_index + count), names,
                         blank_nones(dedups), sizes, truncated, blank_nones(verdicts),
                         blank_nones(messages))),
                blank_is_null=_PENDING_BLANK_IS_NULL)
            insert_rows(self.conn, "INSERT INTO payloads(event_id, body)",
                        list(zip(row_ids, bodies, strict=True)))
        return request_id

    def mark_pending(self, request_id: int, *, seed: IdSeed | str | None,
                     request_bytes: int | None = None, time_ms: int | None = None,
                     stale_ms: int = 1000) -> None:
        """A queued request is about to leave: now it is pending (one row, committed).

        Its events keep the time they were queued at unless that is over `stale_ms` ago."""
        when = now_ms() if time_ms is None else time_ms
        seed_text = seed if isinstance(seed, str) or seed is None else seed.header
        with self._transaction():
            found = self.conn.execute(
                "SELECT first_event_id, events, created_ms FROM requests"
                " WHERE id = ? AND state = 'queued'", (request_id,)).fetchone()
            if found is None:
                raise ValueError(f"request {request_id} is not queued")
            self.conn.execute(
                "UPDATE requests SET state = 'pending', seed = ?, created_ms = ?,"
                " request_bytes = coalesce(?, request_bytes) WHERE id = ?",
                (seed_text, when, request_bytes, request_id))
            if when - int(found[2]) > stale_ms:
                first, count = int(found[0]), int(found[1])
                self.conn.execute("UPDATE events SET time_ms = ? WHERE id BETWEEN ? AND ?",
                                  (when, first, first + count - 1))

    def mark_pending_unless_busy(self, request_id: int, *, seed: IdSeed | str | None,
                                 request_bytes: int | None = None) -> bool:
        """`mark_pending`, without waiting when another connection is writing: False then
        (nothing changed), for a caller that must not block (the CLI's event loop)."""
        try:
            with busy_timeout(self.conn, 0):
                self.mark_pending(request_id, seed=seed, request_bytes=request_bytes)
        except HistoryLocked:
            return False
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            return False
        return True

    def drop_queued(self, request_ids: Iterable[int]) -> None:
        """Remove queued requests that never left (their send stopped before them)."""
        with self._transaction():
            for request_id in request_ids:
                self._drop_queued(request_id)

    def _drop_queued(self, request_id: int) -> None:
        found = self.conn.execute("SELECT first_event_id, events FROM requests"
                                  " WHERE id = ? AND state = 'queued'", (request_id,)).fetchone()
        if found is None:
            return
        first, last = int(found[0]), int(found[0]) + int(found[1]) - 1
        if self.fts and first <= self._indexed_upto():  # a search indexed them meanwhile
            self.conn.execute(
                f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) SELECT 'delete', event_id,"
                f" {searchable_sql()} FROM payloads WHERE event_id BETWEEN ? AND ?"
                " AND event_id <= ?",
                (first, last, self._indexed_upto()))
        self.conn.execute("DELETE FROM payloads WHERE event_id BETWEEN ? AND ?", (first, last))
        self.conn.execute("DELETE FROM events WHERE id BETWEEN ? AND ?", (first, last))
        self.conn.execute("DELETE FROM requests WHERE id = ?", (request_id,))

    def record_done(self, request_id: int, result: SendResultLike) -> None:
        """Complete a pending request with the server's answer (or the client's error)."""
        self.record_done_many([(request_id, result)])

    def record_done_many(self, items: Iterable[tuple[int, SendResultLike]]) -> None:
        """Several answers in one transaction (a writer that lags behind catches up)."""
        with self._transaction():
            for request_id, result in items:
                self._done(request_id, result)

    def _done(self, request_id: int, result: SendResultLike) -> None:
        found = self.conn.execute(
            "SELECT first_event_id, events FROM requests WHERE id = ?", (request_id,)
        ).fetchone()
        if found is None:
            return
        first, count = int(found[0]), int(found[1])
        accepted = min(len(result.ids), count)
        self.conn.execute(
            "UPDATE requests SET status = ?, accepted = ?, attempts = ?, latency_ms = ?,"
            " error = ?, done_ms = ?, seed = coalesce(?, seed), state = 'done'"
            " WHERE id = ?",
            (result.status, accepted, result.attempts, result.latency_ms, _safe(result.error),
             now_ms(), result.seed or None, request_id),
        )
        update_rows(self.conn, "events", ["internal_id"],
                    [(first + i, result.ids[i]) for i in range(accepted)],
                    also="status = ?, outcome = 'accepted', outcome_detail = NULL",
                    params=[result.status])
        if accepted < count:
            outcome, later = not_taken(result), not_taken(result, after_first=True)
            for low, high, said in ((first + accepted, first + accepted, outcome),
                                    (first + accepted + 1, first + count - 1, later)):
                self.conn.execute(
                    "UPDATE events SET internal_id = NULL, status = ?, outcome = ?,"
                    " outcome_detail = ? WHERE id BETWEEN ? AND ?",
                    (result.status, said.kind.value, utf8_safe(said.text), low, high),
                )
            unknown = outcome.kind is OutcomeKind.UNKNOWN
            seed = IdSeed.parse(result.seed) if unknown and result.seed else None
            if seed is not None:  # the ids the server gave them, if it took them
                update_rows(self.conn, "events", ["internal_id"],
                            [(first + i, seed.event_id(i)) for i in range(accepted, count)])

    def record_unknown(self, request_id: int, reason: str = CANCELLED_REASON) -> None:
        """A request that will get no answer in this process (cancelled mid-flight)."""
        with self._transaction():
            self._mark_unknown(request_id, reason)

    def _mark_unknown(self, request_id: int, reason: str) -> None:
        found = self.conn.execute(
            "SELECT first_event_id, events, seed FROM requests WHERE id = ? AND state = 'pending'",
            (request_id,),
        ).fetchone()
        if found is None:
            return
        seed = IdSeed.parse(found[2]) if found[2] else None
        if seed is not None:  # the ids the server gives these events, if the request arrived
            first = int(found[0])
            missing = {row[0] for row in self.conn.execute(
                "SELECT id FROM events WHERE id BETWEEN ? AND ? AND internal_id IS NULL",
                (first, first + int(found[1]) - 1))}
            update_rows(self.conn, "events", ["internal_id"],
                        [(first + i, seed.event_id(i)) for i in range(int(found[1]))
                         if first + i in missing])
        self.conn.execute("UPDATE requests SET state = 'unknown', error = ? WHERE id = ?",
                          (reason, request_id))
        first, count = int(found[0] or 0), int(found[1])
        self.conn.execute(
            "UPDATE events SET outcome = 'unknown', outcome_detail = ?"
            " WHERE id BETWEEN ? AND ? AND outcome = 'pending'",
            (Outcome(OutcomeKind.UNKNOWN, reason=reason).text, first, first + count - 1),
        )

    def recover_unless_busy(self) -> str | None:
        """`recover_abandoned` for a store opened with `recover=False`, without waiting;
        why it could not be done now (another program's write lock, a full or read-only
        disk), else None. A listing is a read: opening with the recovery, which writes,
        left `history` unable to list anything then."""
        try:
            with busy_timeout(self.conn, 0):
                self.recovered = self.recover_abandoned()
        except HistoryLocked:
            return "another program holds its write lock"
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                return "another program holds its write lock"
            if cannot_write(exc):
                return str(exc)
            raise
        return None

    def recover_abandoned(self) -> list[int]:
        """Mark pending requests of processes that are gone as unknown; their ids.

        Queued requests of such processes never left (they were not yet flipped to
        pending), so they are removed, not reported."""
        rows = self.conn.execute(  # two partial indexes, no scan
            "SELECT id, owner_pid, state, created_ms FROM requests WHERE state = 'pending'"
            " UNION ALL SELECT id, owner_pid, state, created_ms FROM requests"
            " WHERE state = 'queued'").fetchall()
        stale = [(int(rid), state) for rid, pid, state, created in rows
                 if not pid_alive(pid, created)]
        if stale:
            with self._transaction():
                for request_id, state in stale:
                    if state == "queued":
                        self._drop_queued(request_id)
                    else:
                        self._mark_unknown(request_id, UNKNOWN_REASON)
        return [rid for rid, state in stale if state == "pending"]

    def record_captured(self, env: str, captured: CapturedLike) -> int:
        """An event the built-in inbox received; returns its row id."""
        dedup = captured.event.get("id") if isinstance(captured.event, dict) else None
        body, truncated = self._capped(captured.raw)
        with self._transaction():
            row_id = self._next_event_id()
            self.conn.execute(
                "INSERT INTO events(id, request_id, idx, env, time_ms, internal_id, name,"
                " dedup_id, size, truncated, source, outcome, status)"
                " VALUES (?, NULL, 0, ?, ?, ?, ?, ?, ?, ?, 'captured', 'received', 200)",
                (row_id, env, captured.received_at_ms, captured.internal_id, captured.name,
                 dedup if isinstance(dedup, str) and dedup else None, captured.size, truncated),
            )
            self.conn.execute("INSERT INTO payloads(event_id, body) VALUES (?, ?)",
                              (row_id, body))
        return row_id

    def set_outcomes(self, items: Iterable[tuple[int, Outcome, str | None]]) -> None:
        """Confirmed outcomes: (event row id, outcome, runs as JSON or None)."""
        with self._transaction():
            update_rows(self.conn, "events", ["outcome", "outcome_detail", "runs", "runs_json"],
                        [(row_id, o.kind.value, o.text, o.runs, runs)
                         for row_id, o, runs in items])

    def set_outcome(self, row_id: int, outcome: Outcome, runs_json: str | None = None) -> None:
        self.set_outcomes([(row_id, outcome, runs_json)])

    def _capped(self, raw: bytes, cap: int | None = None) -> tuple[str, bool]:
        """The payload as stored (at most `cap` bytes) and whether it was cut."""
        cap = self.payload_cap if cap is None else cap
        if len(raw) <= cap:
            return raw.decode("utf-8", errors="replace"), False
        return raw[:cap].decode("utf-8", errors="ignore"), True

    # -- the ledger ------------------------------------------------------------------------
    def prior_sends(self, env: str, dedup_ids: Iterable[str], *, now: int | None = None,
                    window_ms: int = DEDUP_WINDOW_MS, complete: bool = False
                    ) -> list[PriorSend]:
        """Earlier sends with these ids, as many as the ledger needs to classify them now.

        An id first sent (within the last two windows) less than a window ago: only that
        first send, which opens the window still running (no later send can open another
        before now). Other ids: every send of the two windows back, so window chains
        resolve. A batch replayed for the k-th time finds 1 row per id instead of k.
        `complete`: every send of the two windows back, for all ids."""
        now = now_ms() if now is None else now
        since = now - 2 * window_ms
        # a send recorded "after now" by a clock ahead of this one could open a window
        recent = now - window_ms + CLOCK_SKEW_MS
        wanted = list({i for i in dedup_ids if i})  # any order: each chunk is one IN (...)
        if complete:
            return self._every_send(env, wanted, since)
        found: list[PriorSend] = []
        older: list[str] = []
        for chunk in _chunks(wanted):
            # each id's earliest row since then, found in the index alone (a replayed id
            # has a row per earlier send), day by day in the index's order, so the first
            # row met is the earliest (no sort); when that row does not count (another
            # environment, refused, captured), the first that does may come later
            for dedup, when, internal, name, outcome, counts in self.conn.execute(
                f"SELECT dedup_id, time_ms, internal_id, name, outcome, {_COUNTS}"
                " FROM events WHERE id IN (SELECT (SELECT e.id FROM events e"
                f"  WHERE {_SINCE_DAYS} AND e.dedup_id = wanted.value AND e.time_ms >= ?"
                f"  ORDER BY e.{DEDUP_DAY}, e.time_ms LIMIT 1) FROM json_each(?) wanted)",
                (env, since, since, json.dumps(chunk)),
            ):
                if counts and when > recent:
                    found.append(_prior(dedup, env, when, internal, name, outcome))
                else:
                    older.append(dedup)
        return found + self._every_send(env, older, since)

    def _every_send(self, env: str, wanted: list[str], since: int) -> list[PriorSend]:
        return [_prior(dedup, env, when, internal, name, outcome)
                for chunk in _chunks(wanted)
                for dedup, when, internal, name, outcome in self.conn.execute(
                    f"SELECT dedup_id, time_ms, internal_id, name, outcome FROM events e"
                    f" WHERE {_SINCE_DAYS} AND dedup_id IN ({','.join('?' * len(chunk))})"
                    f" AND {_PRIOR_SEND}", (since, *chunk, since, env))]


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    """`ids` 500 at a time (SQLite's limit on parameters)."""
    for start in range(0, len(ids), 500):
        yield ids[start : start + 500]


def _prior(dedup: str, env: str, when: int, internal: str | None, name: str | None,
           outcome: str) -> PriorSend:
    # an outcome still unknown has no internal id to be a duplicate of
    certain = outcome not in ("pending", "unknown")
    return PriorSend(dedup, env, int(when), internal if certain else None, name)

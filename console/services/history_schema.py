"""Opening the history database: WAL, versioned migrations, and a damaged file set aside.

Why this shape:
- `PRAGMA user_version` is the schema version; `MIGRATIONS[n]` takes a file from version n
  to n + 1 inside one transaction, so a crash mid-migration leaves the old version intact.
  A file from a newer console is left untouched and reported, never "repaired".
- WAL with synchronous=NORMAL: a commit reaches the OS before `record_pending` returns, so
  killing the process (even with SIGKILL) never loses a committed row; only a power cut
  can lose the last few commits, which is the usual WAL trade-off for a desktop log.
- A file SQLite cannot read (not a database, malformed) is renamed to
  `<name>.corrupt-<timestamp>` together with its -wal/-shm files, and a fresh history is
  started; the caller gets a notice to show. A locked or unreadable file is NOT corrupt
  and is reported as an error instead, so we never move a healthy history aside.
- Full-text search uses an FTS5 index over payloads when this SQLite has FTS5, else LIKE.
  Payloads are added to it in bulk when a search needs them (`HistoryUpkeep`), never by
  a trigger per row: a 50,000-event send must not pay for indexing nobody asked for yet.
- The dedup index leads with the day, then the id (v4): a new id goes into today's part,
  not to a random place in the whole index, so random ids stay cheap to record in a big
  history; lookups by id name their days (`dedup_days`).
- Requests may be written ahead of their send ('queued'); `QUEUED_INDEX` lets recovery
  find them without a scan, and `RETENTION_INDEX` lets the retention check at every open
  find old requests without one (a million requests: 29 ms by scan, 0.02 ms by index).
  Both are ensured on open, like the FTS index, not versioned: a file with or without
  them works with every console that knows schema 3.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from console.core.errors import UserError

SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 3650  # ten years: the History tab's Keep box and `history --set-retention`
DEFAULT_PAYLOAD_CAP = 64 * 1024
MIN_PAYLOAD_CAP = 1024
MAX_PAYLOAD_CAP = 16 * 1024 * 1024  # above Inngest's largest event (3 MiB paid/self-hosted)
PAGE_SIZE = 16384  # of new files (files made by older consoles keep theirs)
WAL_AUTOCHECKPOINT_BYTES = 16 * 1024 * 1024  # see set_autocheckpoint
DAY_MS = 24 * 60 * 60 * 1000
BUSY_WAIT_MS = 5000  # how long a write waits for another connection's write to end
LOCKED_OUT_WAIT_MS = 300  # each later write of a connection that waited BUSY_WAIT_MS in vain
MIGRATION_WAIT_MS = 120_000  # how long an open waits for another open's migration
NO_HISTORY_ADVICE = "send and run go without it with --no-history"  # see window_words

V1 = """
CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  env TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  request_bytes INTEGER NOT NULL,
  events INTEGER NOT NULL,
  status INTEGER,
  attempts INTEGER,
  latency_ms REAL,
  error TEXT,
  seed TEXT,
  state TEXT NOT NULL DEFAULT 'pending'
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  request_id INTEGER REFERENCES requests(id),
  idx INTEGER NOT NULL,
  env TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  internal_id TEXT,
  name TEXT NOT NULL,
  dedup_id TEXT,
  payload TEXT,
  size INTEGER NOT NULL,
  outcome TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX events_name ON events(name, id);
"""

# v2: outcomes and sources; payloads move to their own table so the events table stays
# narrow (counting and paging a million rows reads only small rows); indexes for the
# ledger (dedup id + time), time ranges, and crash recovery (pending requests).
V2 = """
ALTER TABLE requests ADD COLUMN done_ms INTEGER;
ALTER TABLE requests ADD COLUMN accepted INTEGER;
ALTER TABLE requests ADD COLUMN request_no INTEGER NOT NULL DEFAULT 1;
ALTER TABLE requests ADD COLUMN first_event_id INTEGER;
ALTER TABLE requests ADD COLUMN origin TEXT;
ALTER TABLE requests ADD COLUMN branch TEXT;
ALTER TABLE requests ADD COLUMN scenario TEXT;
ALTER TABLE requests ADD COLUMN step TEXT;
ALTER TABLE requests ADD COLUMN source TEXT NOT NULL DEFAULT 'sent';
ALTER TABLE requests ADD COLUMN owner_pid INTEGER;
ALTER TABLE events ADD COLUMN status INTEGER;
ALTER TABLE events ADD COLUMN outcome_detail TEXT;
ALTER TABLE events ADD COLUMN runs INTEGER;
ALTER TABLE events ADD COLUMN runs_json TEXT;
ALTER TABLE events ADD COLUMN predicted TEXT;
ALTER TABLE events ADD COLUMN predicted_detail TEXT;
ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT 'sent';
ALTER TABLE events ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
CREATE TABLE payloads (event_id INTEGER PRIMARY KEY, body TEXT NOT NULL);
INSERT INTO payloads(event_id, body) SELECT id, payload FROM events WHERE payload IS NOT NULL;
UPDATE events SET
  truncated = (payload IS NOT NULL AND length(CAST(payload AS BLOB)) < size),
  status = (SELECT r.status FROM requests r WHERE r.id = events.request_id),
  payload = NULL;
UPDATE requests SET
  first_event_id = (SELECT min(e.id) FROM events e WHERE e.request_id = requests.id),
  accepted = (SELECT count(*) FROM events e WHERE e.request_id = requests.id
              AND e.internal_id IS NOT NULL AND requests.state = 'done');
CREATE INDEX events_time ON events(time_ms);
CREATE INDEX events_dedup ON events(dedup_id, time_ms) WHERE dedup_id IS NOT NULL;
CREATE INDEX requests_pending ON requests(id) WHERE state = 'pending';
"""

# v3: settings (retention) and search-index bookkeeping.
V3 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

if tuple(int(p) for p in sqlite3.sqlite_version.split(".")[:2]) >= (3, 35):
    V2 += "ALTER TABLE events DROP COLUMN payload;\n"  # emptied above; older SQLite keeps it

# v4: the dedup index leads with the event's day (UTC). Led by the id, it took each new id
# at a random place: with random ids (uuid(), ulid() entropy) every request's commit
# rewrote a page per new id all over the index. Recording 20,000 such events into a
# history of a million took 1.43-1.72 s and wrote 387 MiB of log; led by the day, new ids
# go into today's part only: 0.52-0.55 s, 89 MiB (tests/benchmarks/test_bench_history.py).
# Every query by id names the days it looks in (`dedup_days`). Rebuilding the index when
# a schema 3 file is opened takes about 2 s per million events, once.
DEDUP_DAY = f"time_ms / {DAY_MS}"
V4 = f"""
DROP INDEX IF EXISTS events_dedup;
CREATE INDEX events_dedup_day ON events({DEDUP_DAY}, dedup_id, time_ms)
  WHERE dedup_id IS NOT NULL;
"""

MIGRATIONS: list[str] = [V1, V2, V3, V4]

# Not a schema version of its own (a console that does not know it just keeps it up to
# date): requests written ahead of their send (state 'queued': the CLI's history writer
# inserts the next request's rows while the current one is in flight), found at recovery
# without scanning the requests table.
QUEUED_INDEX = "CREATE INDEX IF NOT EXISTS requests_queued ON requests(id) WHERE state = 'queued'"
# The same kind: `purge` (run by the retention check at every open) finds old requests.
RETENTION_INDEX = "CREATE INDEX IF NOT EXISTS requests_created ON requests(created_ms)"
SCHEMA_VERSION = len(MIGRATIONS)


def dedup_days(since: str | None = None) -> str:
    """SQL: the event `e` is from a day on which events were recorded at or after the time
    `since` (an SQL expression; None: from the first). With `e.dedup_id = ...` beside it,
    a lookup seeks the dedup index once per such day instead of reading all of it (the
    index leads with the day, see V4). Each next day is found through the time index, so
    days without events (or a clock that once ran years ahead) cost nothing."""
    first = "SELECT min(time_ms) FROM events" + (f" WHERE time_ms >= ({since})" if since else "")
    # the first time of the day after day d (days round toward zero: day 0 is two long)
    after = f"CASE WHEN d < 0 THEN d * {DAY_MS} + 1 ELSE (d + 1) * {DAY_MS} END"
    return (f"e.{DEDUP_DAY} IN (WITH RECURSIVE days(d) AS (SELECT ({first}) / {DAY_MS}"
            f" UNION ALL SELECT (SELECT min(time_ms) FROM events WHERE time_ms >= {after})"
            f" / {DAY_MS} FROM days WHERE d IS NOT NULL) SELECT d FROM days)")


class HistoryError(UserError):
    """The history cannot be opened or used; the message says why and what to do."""


def has_fts5() -> bool:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(body)")
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()
    return True


def connect(path: Path | str, *, same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with a 5 s busy wait.

    WAL is switched on by `migrate`, after the version check: turning it on rewrites the
    file header, and a file from a newer console must stay byte-for-byte untouched.
    `same_thread=False`: the owner hands the connection from thread to thread (never uses
    it from two at once).
    """
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_WAIT_MS / 1000,
                           check_same_thread=same_thread)
    conn.create_function("searchable", 1, searchable, deterministic=True)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")
    conn.execute("PRAGMA temp_store = MEMORY")  # update_rows' scratch tables
    return conn


UPGRADE_NOTICE = ("updating the history for this version of Event Console (once; about "
                  "2 s per million events)")


def migrate(conn: sqlite3.Connection, path: Path | str,
            upgrading: Callable[[str], None] | None = None) -> int:
    """Bring the file to SCHEMA_VERSION; returns the version it had before. `upgrading`
    hears `UPGRADE_NOTICE` before a file from an earlier version is migrated (a new,
    empty file is not)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"the history at {path} was written by a newer Event Console (schema {version}; "
            f"this version knows up to {SCHEMA_VERSION}); it was left untouched — update the "
            "console to see it"
        )
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
        # a new file: pages that hold 15 payloads of ~1 KiB, not 3 and a quarter page left
        # empty (50,000 such events: 62 MiB, not 75; a big send writes and checkpoints less)
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    set_autocheckpoint(conn)
    if 0 < version < SCHEMA_VERSION and upgrading is not None:
        upgrading(UPGRADE_NOTICE)
    # another open may be migrating this file (the window opens two connections at once):
    # wait for it, not just the 5 s a write waits (v4 rebuilds an index: ~2 s per million
    # events)
    with busy_timeout(conn, MIGRATION_WAIT_MS):
        _migrate_from(conn, version)
    conn.execute(QUEUED_INDEX)
    conn.execute(RETENTION_INDEX)
    ensure_fts(conn)
    return version


def _migrate_from(conn: sqlite3.Connection, current: int) -> None:
    while current < SCHEMA_VERSION:
        # one script, one transaction: executescript would commit an open transaction first
        script = (f"BEGIN IMMEDIATE;\n{MIGRATIONS[current]}\n"
                  f"PRAGMA user_version = {current + 1};\nCOMMIT;")
        try:
            conn.executescript(script)
        except sqlite3.OperationalError:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            now = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if now <= current:
                raise
            current = now  # another connection migrated meanwhile (two opens at once)
            continue
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        current += 1


@contextlib.contextmanager
def busy_timeout(conn: sqlite3.Connection, ms: int) -> Iterator[None]:
    """Inside the block, `conn` waits up to `ms` for another connection's lock (0: not at
    all); after it, as long as before."""
    before = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute(f"PRAGMA busy_timeout = {int(ms)}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA busy_timeout = {before}")


def set_autocheckpoint(conn: sqlite3.Connection) -> None:
    """Checkpoint (the only fsyncs with synchronous=NORMAL) every ~16 MiB of WAL, not every
    1,000 pages: a big send commits per request, and each checkpoint syncs both files."""
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.execute(f"PRAGMA wal_autocheckpoint = {max(1, WAL_AUTOCHECKPOINT_BYTES // page)}")


# The search index holds each payload's `searchable` text (its JSON escapes decoded), in
# `payload_words`. Consoles before it indexed the stored text itself in `payload_fts`, where
# `line1\nline2` was the words "line1" and "nline2", and `caf\u00e9` (an SDK's json.dumps)
# was never "café"; that index is dropped at open, and the new one filled at the next search.
FTS_TABLE = "payload_words"
FTS_UPTO = "words_indexed_upto"  # the meta key: payloads up to this event id are indexed
_OLD_FTS = ("payload_fts", "fts_indexed_upto")
_UNICODE = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")
_SIMPLE = (("\\n", " "), ("\\t", " "), ("\\r", " "), ("\\b", " "), ("\\f", " "),
           ('\\"', '"'), ("\\/", "/"))
_HALF = re.compile("[\ud800-\udfff]")
_SLASH = "\x00"  # stands for an escaped backslash meanwhile (JSON text has no raw NUL)


def searchable(body: str | None) -> str | None:
    r"""The words of a stored payload as the user reads them: its JSON escapes decoded
    (`\n` a space, `\u00e9` é, a pair of `\u` a character beyond the BMP). A payload cut
    at the size cap is not JSON, so escapes are decoded one by one, not by parsing it; as
    string replacements where they can be (the index of a million payloads is built at the
    first search after them)."""
    if body is None or "\\" not in body:
        return body
    text = body.replace("\\\\", _SLASH)
    if "\\u" in text:
        text = _UNICODE.sub(_unicode, text)
    for escape, character in _SIMPLE:
        text = text.replace(escape, character)
    return text.replace(_SLASH, "\\")


def searchable_sql(column: str = "body") -> str:
    """SQL: `searchable(column)`, called only for a payload holding an escape (a call from
    SQLite into Python costs ~5 us: a million payloads' index took 5 s longer)."""
    return f"(CASE WHEN instr({column}, '\\') THEN searchable({column}) ELSE {column} END)"


def _unicode(match: re.Match[str]) -> str:
    decoded: str = json.loads(f'"{match.group()}"')
    return _HALF.sub(" ", decoded)  # half a pair cannot go back to SQLite


def ensure_fts(conn: sqlite3.Connection) -> bool:
    """Create the payload search index when FTS5 is here; True when search can use it.
    An index of an older console (of the text as stored) is dropped; and this console's
    own too when both are there: an older console has used the file since, so this one's
    index missed its purges and writes (its purge freed event ids for its next send, which
    this index still knew by the words of the events purged)."""
    if _fts_tables(conn) == {FTS_TABLE}:
        return True
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:  # another open holds the lock: search by LIKE for now
        return FTS_TABLE in _fts_tables(conn)
    try:
        tables = _fts_tables(conn)  # again: another open may have made it meanwhile
        if _OLD_FTS[0] in tables:
            conn.execute(f"DROP TABLE {_OLD_FTS[0]}")
            conn.execute("DELETE FROM meta WHERE key = ?", (_OLD_FTS[1],))
            if FTS_TABLE in tables:
                conn.execute(f"DROP TABLE {FTS_TABLE}")
                tables.discard(FTS_TABLE)
        if FTS_TABLE not in tables:
            conn.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
                         "body, content='payloads', content_rowid='event_id')")
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, '0')", (FTS_UPTO,))
    except sqlite3.OperationalError:  # this SQLite has no FTS5
        conn.execute("ROLLBACK")
        return False
    conn.execute("COMMIT")
    return True


def _fts_tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE name IN (?, ?)", (FTS_TABLE, _OLD_FTS[0]))}


def is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def history_failure(exc: sqlite3.Error, path: Path) -> str:
    """What to say of a history that failed after it opened (a page damaged past the
    header, the file made read-only): a damaged file is moved aside, as at open."""
    if (isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)
            and is_corrupt(exc)):
        try:
            moved = move_aside(path)
        except OSError as error:
            return (f"the history at {path} is damaged ({exc}) and could not be moved "
                    f"aside: {error.strerror or error}")
        return (f"the history file was damaged ({exc}) and has been moved aside to {moved}; "
                "the next command starts a fresh one")
    return f"the history at {path} cannot be used: {exc} ({NO_HISTORY_ADVICE})"


def failure_message(exc: BaseException, path: Path) -> str:
    """What to say of any of HISTORY_FAILURES that stopped a send or run part way."""
    return history_failure(exc, path) if isinstance(exc, sqlite3.Error) else str(exc)


def move_aside(path: Path) -> Path:
    """Rename a damaged database (and its -wal/-shm) to `<name>.corrupt-<timestamp>`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.replace(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    return target


# The window opens the history twice at start (its writer and its reader, each on a thread
# of its own): one at a time, or both could find a damaged file and the second would move
# aside the fresh history the first had just started (and keep writing to it).
_OPENING = threading.Lock()


def open_database(path: Path, *, same_thread: bool = True,
                  upgrading: Callable[[str], None] | None = None,
                  ) -> tuple[sqlite3.Connection, str | None]:
    """An open, migrated connection and a notice for the user (None when all is well);
    `upgrading`: see `migrate`."""
    with _OPENING:
        return _open_database(path, same_thread=same_thread, upgrading=upgrading)


def _open_database(path: Path, *, same_thread: bool,
                   upgrading: Callable[[str], None] | None,
                   ) -> tuple[sqlite3.Connection, str | None]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path, same_thread=same_thread)
    except (OSError, sqlite3.Error) as exc:  # a folder in its place, no permission…
        raise _cannot_open(path, getattr(exc, "strerror", None) or exc) from None
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        migrate(conn, path, upgrading)
        return conn, None
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) or not is_corrupt(exc):
            conn.close()
            raise _cannot_open(path, exc) from None
    except BaseException:
        conn.close()
        raise
    # move aside while still open: closing would make SQLite delete the -wal/-shm files,
    # which may hold the last commits (Windows cannot rename open files: close first there)
    try:
        moved = move_aside(path)
    except PermissionError:
        conn.close()
        moved = move_aside(path)
    conn.close()
    notice = (f"the history file was damaged and has been moved aside to {moved}; "
              "a new, empty history was started")
    fresh = connect(path, same_thread=same_thread)
    try:
        migrate(fresh, path)
    except sqlite3.DatabaseError as exc:
        fresh.close()
        raise HistoryError(f"cannot start a new history at {path}: {exc}") from None
    return fresh, notice


def _cannot_open(path: Path, reason: object) -> HistoryError:
    """Why the history cannot be opened, and what to do: "disk I/O error" alone (a full
    disk: SQLite cannot make its -shm file) left the user with no next step."""
    try:
        folder = path.is_dir()
    except OSError:  # a parent that cannot be searched
        folder = False
    check = ("a folder is in its place: move it away" if folder else
             f"check that {path.parent} is writable and has free space")
    return HistoryError(f"cannot open the history at {path}: {reason} ({check}; "
                        f"{NO_HISTORY_ADVICE})")


def window_words(message: str) -> str:
    """`message` without the CLI's advice to go on with --no-history: the window goes on
    without the history by itself, and has no such option."""
    return (message.replace(f" ({NO_HISTORY_ADVICE})", "")
            .replace(f"; {NO_HISTORY_ADVICE})", ")"))


def now_ms() -> int:
    return int(time.time() * 1000)


PID_BITS = 22  # Linux's pid_max is at most 2**22
# the start time in clock ticks since boot, its low 28 bits (31 days at 100 a second): a
# pid used again shows another start unless it started a multiple of 31 days later
START_BITS = 28
NS_BITS = 13  # of the PID namespace (1 in 8,192 alike): 22 + 28 + 13 = 63, a positive int
# A pending row of a process in another PID namespace (another container) cannot be
# checked by its pid: it is taken as abandoned only when older than any request can be in
# flight (20 attempts of an hour at most, `--attempts`, `--timeout`).
FOREIGN_PENDING_MS = 24 * 60 * 60 * 1000


def owner_token(pid: int | None = None) -> int:
    """A process as a request row keeps its owner (`owner_pid`): the pid and, on Linux,
    the process's start time and PID namespace. A pid alone is used again: a CLI killed in
    a container was PID 1, as the next container's command and the host's init are, so its
    pending rows stayed "pending" for ever instead of "outcome unknown"; a reboot does the
    same. (Pids of another namespace mean other processes: see `pid_alive`.)"""
    pid = os.getpid() if pid is None else pid
    started = _start_ticks(pid)
    if started is None:
        return pid
    started &= (1 << START_BITS) - 1
    return pid | (started << PID_BITS) | (_namespace() << (PID_BITS + START_BITS))


def _namespace() -> int:
    """This process's PID namespace, in NS_BITS (0 where there is none to read)."""
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return 0
    return (zlib.crc32(link.encode()) & ((1 << NS_BITS) - 1)) or 1


def _start_ticks(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22);
    None where there is no /proc (macOS, Windows) or no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        # after the name in parentheses (which may hold spaces and ")"), from field 3 on
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(token: int | None, created_ms: int | None = None) -> bool:
    """Whether the process that wrote a pending row (at `created_ms`) still runs (it may
    still get an answer). `token`: an `owner_token`, or a bare pid (older consoles)."""
    if token is None:
        return False
    pid = token & ((1 << PID_BITS) - 1)
    started = (token >> PID_BITS) & ((1 << START_BITS) - 1)
    namespace = token >> (PID_BITS + START_BITS)
    if namespace and namespace != _namespace():  # its pids are not ours to look up
        return created_ms is not None and now_ms() - created_ms < FOREIGN_PENDING_MS
    if started and _start_ticks(pid) not in (started, None):
        return False  # the pid is another process's now
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return False  # no cheap, safe probe; treat other processes' rows as abandoned
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def insert_rows(conn: sqlite3.Connection, head: str, rows: Sequence[tuple[Any, ...]], *,
                blank_is_null: Sequence[int] = ()) -> None:
    """`head VALUES (...), (...), ...`: many rows per statement, not one per row.

    Why not `executemany`: the sqlite3 module lets go of the GIL around every row's step
    and must win it back before the next one. On a writer thread beside a busy event loop
    each of those hand-backs can wait a whole switch interval (5 ms): 50,000 rows took 50 s
    in a test with a spinning main thread, against 2.7 s written this way (and 20 % less
    CPU when nothing competes). Rows go in chunks within SQLite's bound-variable limit.

    `blank_is_null`: the columns (by position) whose '' is stored as NULL, for callers that
    bind '' where they mean NULL (see `blank_nones`)."""
    if not rows:
        return
    width = len(rows[0])
    per = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        conn.execute(_values_sql(head, width, len(chunk), tuple(blank_is_null)),
                     tuple(itertools.chain.from_iterable(chunk)))


def blank_nones(values: list[Any]) -> list[Any]:
    """`values` with '' for None, to bind in a `blank_is_null` column of `insert_rows`.

    The sqlite3 module binds str, int and float directly, but None (and bool) only after
    looking for an adapter, with the GIL held: 0.4 us per None, 0.9 per bool, 2/3 of the
    binding time of a 500-event request of the history writer, whose GIL the sender
    needs."""
    return ["" if value is None else value for value in values] if None in values else values


def update_rows(conn: sqlite3.Connection, table: str, columns: Sequence[str],
                rows: Sequence[tuple[Any, ...]], *, also: str = "",
                params: Sequence[Any] = ()) -> None:
    """Set `columns` of each row `(id, *values)` of `table` in a few statements (see
    `insert_rows` for why not `executemany`); `also`: more `col = ?` assignments, the same
    for every row, with their `params`. The rows go through a temporary table."""
    if not rows:
        return
    width = len(columns)
    cols = ", ".join(f"c{n}" for n in range(width))
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS _rows{width}"
                 f" (id INTEGER PRIMARY KEY, {cols})")
    conn.execute(f"DELETE FROM temp._rows{width}")
    insert_rows(conn, f"INSERT INTO temp._rows{width}(id, {cols})", rows)
    sets = ", ".join(f"{column} = (SELECT r.c{n} FROM temp._rows{width} r"
                     f" WHERE r.id = {table}.id)" for n, column in enumerate(columns))
    conn.execute(f"UPDATE {table} SET {sets}{', ' + also if also else ''}"
                 f" WHERE id IN (SELECT id FROM temp._rows{width})", tuple(params))
    conn.execute(f"DELETE FROM temp._rows{width}")


@functools.lru_cache(maxsize=64)
def _values_sql(head: str, width: int, count: int, blank_is_null: tuple[int, ...] = ()) -> str:
    one = "(" + ",".join("NULLIF(?, '')" if n in blank_is_null else "?"
                         for n in range(width)) + ")"
    return f"{head} VALUES {','.join([one] * count)}"


class HistoryLocked(HistoryError):
    """Another connection held the write lock for longer than the busy wait."""


# what a history that worked at open raises when it fails later (made read-only, damaged,
# locked past the wait): the window then turns it off for the session
HISTORY_FAILURES = (sqlite3.Error, HistoryError)


def cannot_write(exc: sqlite3.OperationalError) -> bool:
    """A full disk, a read-only file or disk: nothing the next write here can mend."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return any(text in str(exc) for text in ("is full", "readonly", "disk I/O"))
    return int(code) & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
                                sqlite3.SQLITE_IOERR)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(exc) or "busy" in str(exc)
    return int(code) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # BUSY_RECOVERY…


def locked_message(conn: sqlite3.Connection) -> str:
    try:
        path = next((row[2] for row in conn.execute("PRAGMA database_list")
                     if row[1] == "main"), "")
    except sqlite3.Error:
        path = ""
    return (f"the history{f' at {path}' if path else ''} stayed locked by another program "
            f"for {BUSY_WAIT_MS // 1000} s (a database browser in the middle of a change?): "
            "close it and try again")


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); takes the write lock up front."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    _locked_out: ClassVar[set[int]] = set()  # connections (by id) waiting less for now

    def __enter__(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            if id(self.conn) in self._locked_out:  # the lock is free again: wait as ever
                self._locked_out.discard(id(self.conn))
                self.conn.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            message = locked_message(self.conn)
            # the command stops now; what it still writes on its way out (answers, requests
            # left unknown) waits a moment each, not the whole wait again: a send held by
            # a lock ended after 21 s, four waits of 5 s
            self.conn.execute(f"PRAGMA busy_timeout = {LOCKED_OUT_WAIT_MS}")
            self._locked_out.add(id(self.conn))
            raise HistoryLocked(message) from None

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


class HistoryUpkeep:
    """Search index and retention of `HistoryStore` (bulk work on the whole file)."""

    conn: sqlite3.Connection
    fts: bool

    def _transaction(self) -> Transaction:
        return Transaction(self.conn)

    def _indexed_upto(self) -> int:
        row = self.conn.execute(
            "SELECT value FROM meta WHERE key = ?", (FTS_UPTO,)).fetchone()
        return int(row[0]) if row else 0

    def index_payloads(self) -> int:
        """Add payloads written since the last search to the FTS index (in one bulk insert,
        far cheaper than a trigger per row); returns how many were added."""
        if not self.fts:
            return 0
        if self._payloads_top() <= self._indexed_upto():  # read first: no write lock wanted
            return 0
        with self._transaction():
            upto = self._indexed_upto()
            top = self._payloads_top()
            if top <= upto:
                return 0
            cur = self.conn.execute(
                f"INSERT INTO {FTS_TABLE}(rowid, body) SELECT event_id, {searchable_sql()}"
                " FROM payloads"
                " WHERE event_id > ? AND event_id <= ?", (upto, top))
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                              (FTS_UPTO, str(top)))
            return int(cur.rowcount)

    def _payloads_top(self) -> int:
        return int(self.conn.execute(
            "SELECT coalesce(max(event_id), 0) FROM payloads").fetchone()[0])

    def index_payloads_unless_busy(self) -> None:
        """`index_payloads`, unless another program holds the write lock, or the file
        cannot be written now (a full disk, a read-only one): the search then reads the
        index as it is, and the payloads not in it word by word (slower, as complete).
        Every search waited for the lock, and failed after 5 s of it; on a full disk
        `history --search` failed outright."""
        try:
            with busy_timeout(self.conn, 0):
                self.index_payloads()
        except HistoryLocked:
            pass
        except sqlite3.OperationalError as exc:
            if not (is_busy(exc) or cannot_write(exc)):
                raise

    def purge(self, older_than_ms: int) -> int:
        """Delete events (and finished requests) older than this time; returns events gone."""
        with self._transaction():
            if self.fts:
                self.conn.execute(
                    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body)"
                    f" SELECT 'delete', p.event_id, {searchable_sql('p.body')} FROM payloads p"
                    " JOIN events e ON e.id = p.event_id WHERE e.time_ms < ?"
                    " AND e.outcome != 'pending' AND p.event_id <= ?",
                    (older_than_ms, self._indexed_upto()))
            self.conn.execute("DELETE FROM payloads WHERE event_id IN (SELECT id FROM events"
                              " WHERE time_ms < ? AND outcome != 'pending')", (older_than_ms,))
            gone = self.conn.execute("DELETE FROM events WHERE time_ms < ? AND outcome !="
                                     " 'pending'", (older_than_ms,)).rowcount
            self.conn.execute("DELETE FROM requests WHERE created_ms < ?"
                              " AND state NOT IN ('pending', 'queued')", (older_than_ms,))
        return int(gone)

    def _setting(self, key: str, default: int, low: int, high: int) -> int:
        """An integer setting from `meta`; a value edited by hand falls back to the default
        (not a number) or to the nearest bound."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        try:
            value = int(row[0]) if row else default
        except (TypeError, ValueError):
            return default
        return min(max(value, low), high)

    def _store_setting(self, key: str, value: int) -> None:
        with self._transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                              (key, str(value)))

    @property
    def retention_days(self) -> int:
        """Days of history kept (0 = keep everything)."""
        return self._setting("retention_days", DEFAULT_RETENTION_DAYS, 0, 1 << 31)

    def set_retention_days(self, days: int) -> None:
        if days < 0:
            raise ValueError("retention must be 0 (keep everything) or a number of days")
        self._store_setting("retention_days", days)

    @property
    def payload_cap_setting(self) -> int:
        """Bytes of each event's payload kept (the exact size is recorded either way)."""
        return self._setting("payload_cap_bytes", DEFAULT_PAYLOAD_CAP, MIN_PAYLOAD_CAP,
                             MAX_PAYLOAD_CAP)

    def set_payload_cap(self, size: int) -> None:
        """Keep this many bytes of each payload from now on (rows already written stay)."""
        if not MIN_PAYLOAD_CAP <= size <= MAX_PAYLOAD_CAP:
            raise ValueError(f"the payload size kept must be between {MIN_PAYLOAD_CAP // 1024}"
                             f" KiB and {MAX_PAYLOAD_CAP // 1024 // 1024} MiB")
        self._store_setting("payload_cap_bytes", size)

    def apply_retention(self, now: int | None = None) -> int:
        """Purge what the retention setting no longer keeps (never the last 24 h)."""
        days = self.retention_days
        if days <= 0:
            return 0
        return self.purge((now_ms() if now is None else now) - max(days, 1) * DAY_MS)

"""Big histories, fast: a million event rows for the view test and the benchmarks.

Rows go straight in with one `INSERT ... SELECT` over a recursive counter, inside SQLite
(about 5x faster than binding a million parameter tuples through `executemany`). The
schema is the store's own (opened once through HistoryStore, so migrations ran).
"""

from __future__ import annotations

from pathlib import Path

from console.services.history import HistoryStore

T0 = 1_700_000_000_000
NAMES = 50
OUTCOMES = ("ran", "ran", "ran", "deduplicated", "no runs", "accepted", "not accepted")


def fill_history(path: Path, rows: int, *, start_ms: int = T0, step_ms: int = 100,
                 random_ids: bool = False) -> None:
    """`rows` events named app/event.0 .. app/event.49 in turn, one every `step_ms`; every
    fourth with a dedup id `dedup-<n>`, or (`random_ids`) every one with a random id, as
    `uuid()` in a template gives (32 hex digits)."""
    dedup = ("lower(hex(randomblob(16)))" if random_ids
             else "CASE WHEN i % 4 = 0 THEN 'dedup-' || i END")
    HistoryStore(path, recover=False).close()
    outcomes = " ".join(f"WHEN {i} THEN '{o}'" for i, o in enumerate(OUTCOMES))
    with HistoryStore(path, recover=False) as store:
        conn = store.conn
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA journal_mode = OFF")  # a bulk load: no WAL copy of every page
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN IMMEDIATE")
        indexes = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index'"
                               " AND tbl_name = 'events' AND sql IS NOT NULL").fetchall()
        for (sql,) in indexes:  # building an index once beats updating it a million times
            conn.execute(f"DROP INDEX {sql.split()[2]}")
        conn.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO events(id, request_id, idx, env, time_ms, internal_id, name, dedup_id,
                               size, truncated, status, outcome, outcome_detail, source)
            SELECT i, NULL, 0, CASE WHEN i % 3 THEN 'dev' ELSE 'cloud' END, ? + i * ?,
                   printf('01H%023d', i), 'app/event.' || (i % {NAMES}),
                   {dedup}, 100 + i % 900, 0,
                   CASE WHEN i % {len(OUTCOMES)} = 6 THEN 400 ELSE 200 END,
                   CASE i % {len(OUTCOMES)} {outcomes} END, NULL, 'sent'
            FROM n""",
            (rows, start_ms, step_ms),
        )
        for (sql,) in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")

"""Reading the history: filters as SQL, rows as plain objects, exports as JSONL or CSV.

Filters only touch the narrow events table (status and outcome are kept per event), so a
filter over a million rows never joins; the request details are joined for the page shown.
Full-text search matches words and word prefixes of the stored payloads (FTS5), or any
substring where this SQLite has no FTS5.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import IO, Any

from console.core.clock import iso_local
from console.core.errors import UserError
from console.core.expect import is_2xx
from console.core.serialize import json_text
from console.services.history_schema import FTS_TABLE, dedup_days, searchable_sql

# a request's events are consecutive rows from first_event_id: a rowid range, no index needed
_REQUEST_EVENTS = ("requests r JOIN events e ON e.id BETWEEN r.first_event_id AND"
                   " r.first_event_id + r.events - 1 AND e.request_id = r.id WHERE r.id = ?")
MAX_PATTERN_BYTES = 10_000  # of a search text or a name pattern (SQLite's own cap is 50,000)
_GLOB = re.compile(r"[*?\[]")
_WORD = re.compile(r"[^\W_]+")

STATUS_CHOICES = ("accepted", "not accepted", "4xx", "5xx", "no answer", "unknown", "pending")


def answered_ok(status: int | None, error: str | None) -> bool:
    """The server took the request and said nothing against it."""
    return is_2xx(status) and not error


def _status_clause(status: str) -> tuple[str, list[Any]]:
    value = status.strip().lower()
    if value.isdigit():
        return "e.status = ?", [int(value)]
    fixed = {
        "accepted": "e.outcome NOT IN ('not accepted', 'pending', 'unknown', 'received')",
        "not accepted": "e.outcome = 'not accepted'",
        "4xx": "e.status BETWEEN 400 AND 499",
        "5xx": "e.status >= 500",
        # no HTTP answer at all: refused, or gone unanswered (then "unknown")
        "no answer": "e.status IS NULL AND e.outcome IN ('not accepted', 'unknown')",
        "unknown": "e.outcome = 'unknown'",
        "pending": "e.outcome = 'pending'",
    }
    if value not in fixed:
        raise ValueError(f"unknown status filter {status!r}: use an HTTP status or one of "
                         + ", ".join(STATUS_CHOICES))
    return fixed[value], []


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """What the table shows. Empty fields do not filter. `name` may hold a glob (`app/*`)."""

    env: str | None = None
    name: str | None = None
    status: str | None = None
    dedup_id: str | None = None
    outcome: str | None = None
    source: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    text: str | None = None
    upto_id: int | None = None  # rows recorded up to this one only: a list that holds still

    def where(self, *, exact_name: bool = False) -> tuple[str, list[Any]]:
        """The SQL condition on `events e` (without full-text search) and its parameters.
        `exact_name`: `name` is a name, glob characters and all."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("e.env", self.env), ("e.dedup_id", self.dedup_id),
                              ("e.outcome", self.outcome), ("e.source", self.source)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.dedup_id:  # the dedup index is read day by day (its days come first)
            clauses.append(dedup_days())
        if self.name:
            glob = _GLOB.search(self.name) and not exact_name
            clauses.append("e.name GLOB ?" if glob else "e.name = ?")
            params.append(self.name)
        if self.since_ms is not None:
            clauses.append("e.time_ms >= ?")
            params.append(self.since_ms)
        if self.until_ms is not None:
            clauses.append("e.time_ms < ?")
            params.append(self.until_ms)
        if self.status:
            clause, extra = _status_clause(self.status)
            clauses.append(clause)
            params.extend(extra)
        if self.upto_id is not None:
            clauses.append("+e.id <= ?")  # a filter, never the index to scan by
            params.append(self.upto_id)
        return (" AND ".join(clauses) or "1 = 1"), params


def fts_query(text: str) -> str:
    """User text as an FTS5 query: every word must appear, as a word or a word prefix."""
    return " ".join(f'"{word}"*' for word in _WORD.findall(text))


_COLUMNS = (
    "e.id, e.request_id, e.idx, e.env, e.time_ms, e.name, e.dedup_id, e.internal_id, e.size,"
    " e.truncated, e.status, e.outcome, e.outcome_detail, e.runs, e.source, e.predicted,"
    " e.predicted_detail, r.attempts, r.latency_ms, r.error, r.state, r.scenario, r.step,"
    " r.origin, r.branch, r.request_bytes, r.seed, r.request_no, r.events"
)


def row_sql(with_payload: bool) -> str:
    if with_payload:
        return (f"SELECT {_COLUMNS}, p.body, e.runs_json FROM events e"
                " LEFT JOIN requests r ON r.id = e.request_id"
                " LEFT JOIN payloads p ON p.event_id = e.id")
    return (f"SELECT {_COLUMNS}, NULL, NULL FROM events e"
            " LEFT JOIN requests r ON r.id = e.request_id")


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One event with the request it went out in (request fields None for captures)."""

    id: int
    request_id: int | None
    index: int
    env: str
    time_ms: int
    name: str
    dedup_id: str | None
    internal_id: str | None
    size: int
    truncated: bool
    status: int | None
    outcome: str
    outcome_detail: str | None
    runs: int | None
    source: str
    predicted: str | None
    predicted_detail: str | None
    attempts: int | None
    latency_ms: float | None
    error: str | None
    state: str | None
    scenario: str | None
    step: str | None
    origin: str | None
    branch: str | None
    request_bytes: int | None
    seed: str | None
    request_no: int | None
    request_events: int | None
    payload: str | None = None
    runs_json: str | None = None

    @classmethod
    def from_db(cls, row: tuple[Any, ...]) -> HistoryRow:
        values = list(row)
        values[9] = bool(values[9])
        return cls(*values)

    @property
    def outcome_text(self) -> str:
        return self.outcome_detail or self.outcome

    @property
    def answered_ok(self) -> bool:
        """The server took the request and said nothing against it (a 2xx: a proxy's 201
        as well as the Event API's 200)."""
        return answered_ok(self.status, self.error)

    @property
    def event(self) -> Any:
        """The stored event as JSON, or None when the payload was cut at the cap."""
        if self.payload is None or self.truncated:
            return None
        try:
            return json.loads(self.payload)
        except ValueError:
            return None

    def to_json(self, *, with_payload: bool = False) -> dict[str, Any]:
        # every field is a scalar: a plain read of each (dataclasses.asdict deep-copies
        # field by field, 90 % of the time of `history --json` and of an export)
        data = {name: getattr(self, name) for name in _JSON_FIELDS}
        data["time"] = iso_time(self.time_ms)
        data["outcome_text"] = self.outcome_text
        if self.runs_json:
            data["run_list"] = json.loads(self.runs_json)
        if with_payload:
            event = self.event
            data["event"] = event
            if event is None and self.payload is not None:
                data["payload"] = self.payload
        return data


_JSON_FIELDS = tuple(f.name for f in fields(HistoryRow)
                     if f.name not in ("payload", "runs_json", "request_events"))


class HistoryReads:
    """The read side of `HistoryStore` (kept here with the filters and rows it serves)."""

    conn: sqlite3.Connection
    fts: bool

    def index_payloads(self) -> int:
        raise NotImplementedError

    def index_payloads_unless_busy(self) -> None:
        raise NotImplementedError

    def query(self, filters: HistoryFilter | None = None, offset: int = 0, limit: int = 200,
              *, with_payload: bool = False, before_id: int | None = None,
              after_id: int | None = None) -> list[HistoryRow]:
        """Matching events, newest first: `limit` from `offset`, or (keyset paging, cheap at
        any depth) the `limit` rows right below `before_id` or right above `after_id`."""
        where, params = self._where(filters or HistoryFilter())
        order = "DESC"
        if before_id is not None:
            where, offset = where + " AND e.id < ?", 0
            params.append(before_id)
        elif after_id is not None:
            where, offset, order = where + " AND e.id > ?", 0, "ASC"
            params.append(after_id)
        # pick the ids on the narrow table first, then join only the rows of the page
        inner = f"SELECT e.id FROM events e WHERE {where} ORDER BY e.id {order} LIMIT ? OFFSET ?"
        sql = row_sql(with_payload) + f" WHERE e.id IN ({inner}) ORDER BY e.id DESC"
        return [HistoryRow.from_db(r) for r in self.conn.execute(sql, (*params, limit, offset))]

    def pages(self, filters: HistoryFilter | None, offset: int, count: int, *,
              with_payload: bool = False, chunk: int = 2000) -> Iterator[HistoryRow]:
        """`count` matching rows from `offset`, newest first, read `chunk` at a time (an
        export of a million rows holds one chunk in memory, not the million)."""
        left, before = count, None
        while left > 0:
            page = (self.query(filters, offset, min(chunk, left), with_payload=with_payload)
                    if before is None else
                    self.query(filters, limit=min(chunk, left), with_payload=with_payload,
                               before_id=before))
            if not page:
                return
            yield from page
            left -= len(page)
            before = page[-1].id

    def last_event_id(self) -> int:
        """The id of the newest row (0: none): with `HistoryFilter.upto_id`, what a list
        read now shows, whatever is recorded after."""
        return int(self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])

    def count(self, filters: HistoryFilter | None = None) -> int:
        where, params = self._where(filters or HistoryFilter())
        return int(self.conn.execute(f"SELECT count(*) FROM events e WHERE {where}",
                                     params).fetchone()[0])

    def get(self, row_id: int) -> HistoryRow | None:
        row = self.conn.execute(row_sql(True) + " WHERE e.id = ?", (row_id,)).fetchone()
        return HistoryRow.from_db(row) if row else None

    def rows(self, row_ids: Sequence[int], *, with_payload: bool = True) -> list[HistoryRow]:
        """These rows, newest first (for exports of a selection)."""
        out: list[HistoryRow] = []
        for start in range(0, len(row_ids), 500):
            chunk = list(row_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            sql = row_sql(with_payload) + f" WHERE e.id IN ({marks})"
            out.extend(HistoryRow.from_db(r) for r in self.conn.execute(sql, chunk))
        out.sort(key=lambda r: r.id, reverse=True)
        return out

    def response_ids(self, request_id: int) -> list[str]:
        """The internal ids the server returned for a request, in order."""
        return [r[0] for r in self.conn.execute(
            f"SELECT e.internal_id FROM {_REQUEST_EVENTS} AND r.state = 'done'"
            " AND e.outcome NOT IN ('not accepted', 'pending', 'unknown') ORDER BY e.id",
            (request_id,))]

    def accepted_events(self, request_id: int) -> list[tuple[int, int, str, int, str | None,
                                                               str]]:
        """(row id, batch index, internal id, time, dedup id, name) of accepted events."""
        return [(int(a), int(b), str(c), int(d), e, str(f)) for a, b, c, d, e, f in
                self.conn.execute(
                    "SELECT e.id, e.idx, e.internal_id, e.time_ms, e.dedup_id, e.name"
                    f" FROM {_REQUEST_EVENTS} AND e.internal_id IS NOT NULL AND e.outcome"
                    " NOT IN ('not accepted', 'pending', 'unknown') ORDER BY e.id",
                    (request_id,))]

    def names(self, limit: int = 500) -> list[str]:
        """Distinct event names (for the filter's completer); uses the name index."""
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT name FROM events ORDER BY name LIMIT ?", (limit,))]

    def _where(self, filters: HistoryFilter) -> tuple[str, list[Any]]:
        for what, value in (("search text", filters.text), ("event name pattern", filters.name)):
            if value and len(value.encode("utf-8", "surrogatepass")) > MAX_PATTERN_BYTES:
                # SQLite refuses longer LIKE/GLOB patterns ("pattern too complex", a
                # traceback in the CLI); no payload or name is found by one anyway
                raise UserError(f"the {what} is over {MAX_PATTERN_BYTES:,} bytes: search "
                                "for a shorter part of it")
        # a name that is an event's name is that name, though it holds glob characters
        # (`app/items[0]` matched `app/items0` only, the window's completer offering it)
        exact = bool(filters.name and _GLOB.search(filters.name) and self.conn.execute(
            "SELECT 1 FROM events WHERE name = ? LIMIT 1", (filters.name,)).fetchone())
        where, params = filters.where(exact_name=exact)
        if filters.text:
            # CJK text is one "word" to the index from its first character to its last: a
            # word inside it (テキスト in 日本語テキスト) is found only as a substring
            query = fts_query(filters.text) if self.fts and not _CJK.search(filters.text) else ""
            if query:
                self.index_payloads_unless_busy()
                # rows past the index (another program held the lock, so it was not brought
                # up to date) are matched word by word, not left out without a word: every
                # word's pattern from one JSON array (one LIKE per word, joined by AND, was
                # an expression over 1,000 deep for a search of 330 words, which failed)
                words = dict.fromkeys(_WORD.findall(filters.text))
                where += (f" AND (e.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE}"
                          " MATCH ?) OR e.id IN (SELECT event_id FROM payloads WHERE"
                          f" event_id > ? AND NOT EXISTS (SELECT 1 FROM json_each(?) WHERE"
                          f" ({_LIKE_EACH}) IS NOT 1)))")
                params += [query, self._indexed_upto(), json.dumps(list(map(_like, words)))]
            else:  # no FTS5, no word in the text ("$", "-"), or CJK: a substring match
                where += f" AND e.id IN (SELECT event_id FROM payloads WHERE {_LIKE})"
                params.append(_like(filters.text))
        return where, params

    def _indexed_upto(self) -> int:
        raise NotImplementedError


_LIKE = f"{searchable_sql()} LIKE ? ESCAPE '\\'"  # the text as the index has it
_LIKE_EACH = f"{searchable_sql()} LIKE json_each.value ESCAPE '\\'"  # one word of a list
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def iso_time(ms: int) -> str:
    return iso_local(ms)


def export_jsonl(rows: Iterable[HistoryRow], file: IO[str]) -> int:
    """One JSON object per row (metadata plus the event); returns rows written."""
    count = 0
    for row in rows:
        file.write(json_text(row.to_json(with_payload=True)) + "\n")
        count += 1
    return count


CSV_FIELDS = ("time", "env", "name", "dedup_id", "internal_id", "source", "status", "outcome",
              "outcome_text", "runs", "size", "truncated", "attempts", "latency_ms", "error",
              "scenario", "step", "event")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (names,
    ids and errors come from whoever sent to the inbox); JSON Lines keeps values exact."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def export_csv(rows: Iterable[HistoryRow], file: IO[str]) -> int:
    """A spreadsheet-friendly table; the event (or the stored part) as compact JSON text."""
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    count = 0
    for row in rows:
        count += 1
        data = row.to_json()
        event = row.event
        data["event"] = (json_text(event, separators=(",", ":"))
                         if event is not None else (row.payload or ""))
        writer.writerow([_cell(data.get(f)) for f in CSV_FIELDS])
    return count

"""`event-console history`: what was sent, replayed or captured, newest first.

A table for people, JSON Lines (`--json`) for scripts. Opening the history is also when a
send that was cut off (the process killed mid-request) turns from pending into "unknown",
so this is the command that shows such rows; when that cannot be written (a full disk,
another program holding the write lock), it lists what is there all the same.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from typing import Any

from console.commands.common import emit, given, print_line, write_out
from console.core.dedup import OutcomeKind
from console.core.errors import InputError, UserError
from console.core.terminal import say, typed_text, visible
from console.services.environments import EnvironmentStore, normalize_origin
from console.services.history import HistoryStore, now_ms
from console.services.history_query import HistoryFilter, HistoryRow
from console.services.history_schema import MAX_RETENTION_DAYS
from console.services.paths import app_paths

OUTCOMES = tuple(kind.value for kind in OutcomeKind)  # the stored outcomes, all of them

_UNITS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> int:
    """"90s", "30m", "2h", "7d", "1w", "1h30m" -> milliseconds."""
    value = text.strip().lower()
    pos, total = 0, 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not value or pos != len(value):
        raise InputError(f"--since: {text!r} is not a duration (use e.g. 30m, 2h, 7d)")
    return int(min(total, 2.0**62))


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("history", help="list sent, replayed and captured events")
    parser.add_argument("--json", action="store_true", help="JSON Lines, one event per line")
    parser.add_argument("--since", metavar="DURATION", help="only the last 30m, 2h, 7d, ...")
    parser.add_argument("--name", metavar="NAME", help="event name (globs like app/* work)",
                        type=typed_text)
    parser.add_argument("--env", metavar="NAME", type=typed_text,
                        help="environment name (for `send --url`, the URL)")
    parser.add_argument("--outcome", metavar="OUTCOME", choices=OUTCOMES,
                        help=f"the stored outcome, one of: {', '.join(OUTCOMES)}")
    parser.add_argument("--search", metavar="TEXT", help="words in the payload", type=typed_text)
    parser.add_argument("--limit", type=int, default=50, metavar="N",
                        help="at most N events (default 50)")
    parser.add_argument("--set-payload-cap", type=int, metavar="KIB",
                        help="keep this many KiB of each payload from now on, then exit")
    parser.add_argument("--set-retention", type=int, metavar="DAYS",
                        help=f"keep history this many days (0: forever; at most "
                        f"{MAX_RETENTION_DAYS}), then exit")
    parser.set_defaults(func=run_history)


def _settings(args: argparse.Namespace, store: HistoryStore) -> None:
    try:
        if args.set_payload_cap is not None:
            store.set_payload_cap(args.set_payload_cap * 1024)
        if args.set_retention is not None:
            store.set_retention_days(args.set_retention)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    days = store.retention_days
    kept = "forever" if days == 0 else f"{days} day{'s' if days != 1 else ''}"
    print_line(f"history: payloads up to {store.payload_cap_setting // 1024:,} KiB are kept; "
               f"events are kept {kept}")


def history_env(text: str | None) -> str | None:
    """`--env` as the history keeps it, the name read as `send --env` reads it: `local`
    is the saved "Local" and "From environment" is where its variables point now (the
    text as given found neither); a URL is the origin `send --url` keeps
    (`http://host:port/` found none of its sends). A name no longer saved is as given."""
    if text is None:
        return None
    name = text.strip()
    store = EnvironmentStore.load(app_paths())
    if store.notice:  # as send says it (a damaged file is moved aside)
        print(f"event-console: {store.notice}", file=sys.stderr)
    try:
        return store.get(name).history_name
    except UserError:  # none, or several in other cases: a URL, or a name no longer saved
        pass
    if name.lower().startswith(("http://", "https://")):
        return normalize_origin(name)
    return text


def run_history(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit <= 0:
        raise InputError("--limit must be a positive number")
    # the History tab's Keep box has the same range (the store clamped 99999999999 days to
    # 2**31 without a word)
    if args.set_retention is not None and not 0 <= args.set_retention <= MAX_RETENTION_DAYS:
        raise InputError(f"--set-retention {args.set_retention}: keep history from 1 to "
                         f"{MAX_RETENTION_DAYS} days, or 0 to keep everything")
    # SQLite's integers end at 2**63: a longer look back is simply "all of it"
    since = (max(0, now_ms() - parse_duration(args.since)) if args.since is not None
             else None)
    args.limit = min(args.limit, 2**62)
    for option in ("env", "name", "search"):  # `--env "$ENV"` unset counted every environment
        given(args, option)
    filters = HistoryFilter(env=history_env(args.env), name=args.name, outcome=args.outcome,
                            text=args.search, since_ms=since)
    with HistoryStore(app_paths().ensure().history_db, recover=False, upgrading=say) as store:
        why = store.recover_unless_busy()
        if why is not None:  # the rows stay "pending" until a later command
            say(f"requests from an earlier session that ended without an answer are listed "
                f"as pending: the history cannot be written now ({why}); a later command "
                "marks them unknown")
        for message in store.messages:
            say(message)
        if args.set_payload_cap is not None or args.set_retention is not None:
            _settings(args, store)
            return 0
        if args.json:  # streamed: `--limit 1000000 --json` need not hold a million rows
            for row in store.pages(filters, 0, args.limit, with_payload=True):
                emit(row.to_json(with_payload=True))  # the event too: what was sent
            return 0
        rows = store.query(filters, 0, args.limit)
    if not rows:
        print("event-console: no events in the history match", file=sys.stderr)
        return 0
    print_table(rows)
    return 0


def _cell_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def print_table(rows: list[HistoryRow]) -> None:
    header = ("TIME", "ENV", "NAME", "DEDUP ID", "STATUS", "OUTCOME")
    table = [header] + [
        tuple(visible(cell) for cell in (
            _cell_time(r.time_ms), r.env, r.name or "(no name)", r.dedup_id or "-",
            str(r.status) if r.status is not None else "-", r.outcome_text))
        for r in rows
    ]
    widths = [min(max(len(line[i]) for line in table), 40) for i in range(len(header) - 1)]
    text = []
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        text.append("  ".join([*cells, line[-1]]).rstrip() + "\n")
    write_out("".join(text))  # in one write: its rows are all in memory already


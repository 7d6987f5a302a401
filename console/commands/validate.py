"""`event-console validate FILE...`: the editor's checks, for CI and the shell.

Prints one `FILE:LINE:COL: severity: message` line per problem on stdout (what editors
and CI annotators parse) using the same core code as the editor's underlines. Exit code:
0 clean, 1 problems found (warnings included), 2 unreadable input or bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.commands.common import positive_bytes
from console.core.batch import is_jsonl_name
from console.core.errors import InputError
from console.core.plan import REQUEST_LIMIT
from console.core.problems import Problem
from console.core.schemas import SchemaLibrary
from console.core.terminal import typed_text, visible
from console.core.validation import validate_text

DEFAULT_EVENT_LIMIT = 3 * 1024 * 1024




def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate", help="check event files: syntax, envelope rules, schemas, sizes",
        description="Check events (one event or an array per file; .jsonl/.ndjson files are "
        "JSON Lines) and print FILE:LINE:COL: message per problem. Exit 0 clean, 1 problems, "
        "2 unreadable input.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="event file, or - for stdin")
    parser.add_argument("--schemas", metavar="DIR", help="folder of event schemas (*.json)")
    limits = parser.add_mutually_exclusive_group()
    limits.add_argument("--env", metavar="NAME", help="use this environment's per-event limit",
                        type=typed_text)
    limits.add_argument("--event-limit", metavar="BYTES", type=positive_bytes,
                        help=f"per-event size limit (default {DEFAULT_EVENT_LIMIT:,})")
    parser.add_argument("--request-limit", metavar="BYTES", type=positive_bytes,
                        help="largest request body: an event no request can carry is an "
                        f"error (default: the --env environment's, or {REQUEST_LIMIT:,})")
    parser.add_argument("--jsonl", action="store_true", help="read every FILE as JSON Lines")
    parser.set_defaults(func=run_validate)


def _limit(args: argparse.Namespace) -> tuple[int, int, str | None]:
    """The per-event limit, the request limit and the environment's name (or None)."""
    request_limit = getattr(args, "request_limit", None)
    if getattr(args, "event_limit", None):
        return int(args.event_limit), request_limit or REQUEST_LIMIT, None
    from console.commands.common import given

    if given(args, "env") is not None:  # "" is refused, as send and run refuse it
        from console.services.environments import EnvironmentStore
        from console.services.paths import app_paths

        env = EnvironmentStore.load(app_paths()).get(args.env)  # UserError when unknown
        return env.event_limit, request_limit or env.request_limit, env.name
    return DEFAULT_EVENT_LIMIT, request_limit or REQUEST_LIMIT, None


def _line(file: str, problem: Problem) -> str:
    return visible(
        f"{file}:{problem.line}:{problem.column}: {problem.severity.value}: {problem.message}")


def run_validate(args: argparse.Namespace) -> int:
    from console.commands.common import jsonl_hint, read_input
    from console.services.schema_store import load_schema_dir

    limit, request_limit, env_name = _limit(args)
    library: SchemaLibrary | None = None
    found = 0
    if args.schemas:
        folder = Path(args.schemas)
        if not folder.is_dir():
            what = "a file, not a folder" if folder.exists() else "no such folder"
            print(f"event-console: --schemas {args.schemas}: {what}", file=sys.stderr)
            return 2
        library = load_schema_dir(folder)
        for file_problem in library.problems:
            print(_line(file_problem.file, file_problem.problem))
            found += 1
    unreadable = 0
    for path in args.files:
        try:
            name, text = read_input(path)
        except InputError as exc:
            print(f"event-console: {exc}", file=sys.stderr)
            unreadable += 1
            continue
        jsonl = args.jsonl or is_jsonl_name(path)
        report = validate_text(text, event_limit=limit, schemas=library, jsonl=jsonl,
                               env_name=env_name, request_limit=request_limit)
        for problem in report.problems:
            print(_line(name, problem))
        hint = jsonl_hint(report.problems, jsonl)
        if hint:
            sys.stdout.flush()
            print(hint, file=sys.stderr)
        found += len(report.problems)
    sys.stdout.flush()
    if found:
        print(f"event-console: {found} problem{'s' if found != 1 else ''} found",
              file=sys.stderr)
    if unreadable:
        return 2
    return 1 if found else 0

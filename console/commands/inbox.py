"""`event-console inbox`: the built-in Event API, headless, until interrupted.

Point an app under test at it (`INNGEST_DEV=http://127.0.0.1:8288`) and every event it
sends is printed as one JSON line, so a shell or CI job can watch what an app fires.
The first line says where it listens (useful with `--port 0`). The event key, when one
is required, comes from an environment variable: never from argv, where `ps` shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any

from console.commands.common import emit
from console.core.errors import InputError, UserError
from console.services.inbox import (
    DEFAULT_EVENT_LIMIT,
    KEEP_BYTES,
    KEEP_EVENTS,
    CapturedEvent,
    InboxServer,
)
from console.services.inbox_store import iso_millis

DEFAULT_PORT = 8288


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "inbox",
        help="run the built-in inbox (an Inngest Event API on loopback); "
        "print one JSON line per event received",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on; 0 picks a free one (default {DEFAULT_PORT})")
    parser.add_argument("--event-key-env", metavar="VAR",
                        help="require the event key held in environment variable VAR")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (anyone who can reach it may send)")
    parser.add_argument("--trigger", action="append", metavar="GLOB",
                        help="simulate a function triggered by event names matching GLOB "
                        "(repeatable; default '*')")
    parser.add_argument("--run-delay", type=float, default=0.0, metavar="SECONDS",
                        help="simulated runs appear this long after their event")
    parser.add_argument("--event-limit", type=int, default=DEFAULT_EVENT_LIMIT,
                        metavar="BYTES", help="largest event accepted (default 3 MiB)")
    parser.add_argument("--keep", type=int, default=KEEP_EVENTS, metavar="N",
                        help="captured events kept for lookups (GET /v1/events/…); older "
                        f"ones are forgotten, not their printed lines (default {KEEP_EVENTS:,})")
    parser.add_argument("--keep-mib", type=int, default=KEEP_BYTES // 2**20, metavar="MIB",
                        help="and at most this many MiB of them (default "
                        f"{KEEP_BYTES // 2**20}; memory use is about twice that)")
    parser.set_defaults(func=run_inbox)


def run_inbox(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop."""
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: must be between 0 and 65535")
    if args.event_limit <= 0:
        raise InputError("--event-limit must be a positive number")
    if args.keep < 1:
        raise InputError("--keep must be a positive number")
    if args.keep_mib < 1:
        raise InputError("--keep-mib must be a positive number")
    if args.run_delay < 0:
        raise InputError("--run-delay must not be negative")
    key: str | None = None
    if args.event_key_env:
        key = os.environ.get(args.event_key_env)
        if not key:
            raise InputError(f"--event-key-env {args.event_key_env}: that variable is not set "
                             "or is empty")
    printer = _Printer()
    server = InboxServer(
        args.host, args.port, allow_remote=args.allow_remote, event_limit=args.event_limit,
        event_key=key, triggers=tuple(args.trigger or ("*",)), on_event=printer,
        run_delay=args.run_delay, keep_events=args.keep,
        keep_bytes=args.keep_mib * 2**20,
    )
    return asyncio.run(_serve(server, printer))


class _Printer:
    """One JSON line per event; a closed stdout (`| head`) ends the inbox quietly."""

    def __init__(self) -> None:
        self.stop: asyncio.Event | None = None

    def __call__(self, event: CapturedEvent) -> None:
        try:
            emit({
                "internal_id": event.internal_id,
                "name": event.name,
                "id": event.dedup_id,
                "size": event.size,
                "received_at": iso_millis(event.received_at_ms),
            })
        except BrokenPipeError:
            _silence_stdout()
            if self.stop is not None:
                self.stop.set()


async def _serve(server: InboxServer, printer: _Printer) -> int:
    loop = asyncio.get_running_loop()
    stop = printer.stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            await server.start()
        except OSError as exc:
            raise UserError(f"the inbox cannot listen on {server.url}: "
                            f"{exc.strerror or exc}") from None
        try:
            emit({"listening": server.url})
        except BrokenPipeError:
            _silence_stdout()
            return 0
        await stop.wait()
    finally:
        await server.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)

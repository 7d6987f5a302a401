"""`event-console inbox`: the built-in Event API, headless, until interrupted.

Point an app under test at it (`INNGEST_DEV=http://127.0.0.1:8288`) and every event it
sends is printed as one JSON line, so a shell or CI job can watch what an app fires.
The first line says where it listens (useful with `--port 0`). The event key, when one
is required, comes from an environment variable: never from argv, where `ps` shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import select
import signal
import sys
import threading
import time
from typing import Any

from console.commands.common import emit, json_line, positive_bytes
from console.core.errors import InputError, UserError
from console.core.terminal import typed_text
from console.services.inbox import (
    DEFAULT_EVENT_LIMIT,
    KEEP_BYTES,
    KEEP_EVENTS,
    CapturedEvent,
    InboxServer,
    listen_problem,
)
from console.services.inbox_store import iso_millis

DEFAULT_PORT = 8288
MAX_RUN_DELAY = 86_400  # a day: simulated runs later than that are never looked for


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
    parser.add_argument("--trigger", action="append", metavar="GLOB", type=typed_text,
                        help="simulate a function triggered by event names matching GLOB "
                        "(repeatable; default '*')")
    parser.add_argument("--run-delay", type=float, default=0.0, metavar="SECONDS",
                        help="simulated runs appear this long after their event")
    parser.add_argument("--event-limit", type=positive_bytes, default=DEFAULT_EVENT_LIMIT,
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
    if not 0 <= args.run_delay <= MAX_RUN_DELAY:  # NaN too; inf had every POST answer 500
        raise InputError(f"--run-delay must be 0 to {MAX_RUN_DELAY:,} seconds")
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


MAX_QUEUED = 100_000  # event lines waiting for a reader of stdout, at most
FLUSH_SECONDS = 2.0  # at exit, how long the lines still queued may take to go out


class _Printer:
    """One JSON line per event, written to stdout by a thread of its own.

    A reader that stops reading (`| less` waiting for a key, a full pipe) held the event
    loop in write(): the inbox answered no one, and Ctrl+C and SIGTERM could not stop it.
    Lines now wait in a queue (at most `MAX_QUEUED`; past that they are counted, not
    printed), and at exit what is left gets `FLUSH_SECONDS`. A closed stdout (`| head`)
    ends the inbox quietly."""

    def __init__(self) -> None:
        self.stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.dropped = self.queued = self.printed = 0
        self.reader_gone = False
        self.failure: str | None = None  # why stdout took no more lines, when it failed
        self._lines: queue.Queue[bytes | None] = queue.Queue(MAX_QUEUED)
        self._thread = threading.Thread(target=self._write, name="inbox-printer", daemon=True)
        self._thread.start()

    def __call__(self, event: CapturedEvent) -> None:
        record = {
            "internal_id": event.internal_id,
            "name": event.name,
            "id": event.dedup_id,
            "size": event.size,
            "received_at": iso_millis(event.received_at_ms),
        }
        try:  # as emit() writes it
            data = (json_line(record) + "\n").encode(sys.stdout.encoding or "utf-8")
        except UnicodeEncodeError:  # half a UTF-16 pair, or a terminal without UTF-8
            data = (json.dumps(record) + "\n").encode("ascii")
        try:
            self._lines.put_nowait(data)
            self.queued += 1
        except queue.Full:
            self.dropped += 1

    def close(self) -> int:
        """Let the queued lines go out (for at most FLUSH_SECONDS); how many did not."""
        with contextlib.suppress(queue.Full):
            self._lines.put(None, timeout=FLUSH_SECONDS)
        self._thread.join(FLUSH_SECONDS)
        return self.dropped + self.queued - self.printed

    def _write(self) -> None:
        fd = sys.stdout.fileno()
        while (data := self._lines.get()) is not None:
            try:
                while data:
                    try:
                        data = data[os.write(fd, data):]
                    except BlockingIOError:  # a non-blocking pipe (shared with another
                        _wait_writable(fd)  # program) is full: wait, as a blocking one does
                self.printed += 1
            except BrokenPipeError:  # the reader is gone (`| head`): nothing to say
                self.reader_gone = True
                _silence_stdout()
                if self.loop is not None and self.stop is not None:
                    with contextlib.suppress(RuntimeError):  # the loop has closed
                        self.loop.call_soon_threadsafe(self.stop.set)
                return
            except OSError as exc:  # said at exit, with the lines it cost
                self.failure = exc.strerror or str(exc)
                return


async def _serve(server: InboxServer, printer: _Printer) -> int:
    loop = printer.loop = asyncio.get_running_loop()
    stop = printer.stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            await server.start()
        except OSError as exc:
            raise UserError(f"the inbox cannot listen on {server.url}: "
                            f"{listen_problem(exc, server.port)}") from None
        try:
            emit({"listening": server.url})
        except BrokenPipeError:
            _silence_stdout()
            return 0
        except OSError as exc:  # a full disk, say
            _silence_stdout()
            raise UserError("cannot write to standard output: "
                            f"{exc.strerror or exc}") from None
        await stop.wait()
    finally:
        await server.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        lost = await asyncio.to_thread(printer.close)
        if lost and not printer.reader_gone:
            why = (f"writing to standard output failed ({printer.failure})" if printer.failure
                   else "standard output was not being read")
            print(f"event-console: {lost:,} event line(s) not printed: {why}", file=sys.stderr)
    return 0


def _wait_writable(fd: int) -> None:
    try:
        select.select([], [fd], [], 1.0)
    except (OSError, ValueError):  # Windows selects sockets only
        time.sleep(0.05)


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)

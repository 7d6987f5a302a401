"""`event-console send [FILE|-]`: validate, plan, send; one JSON line per request.

The same pipeline as the window: core validation refuses what Inngest would reject
(before anything leaves), one serialization per event, the request plan, the sender.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from console.commands.common import (
    STOP_SIGNALS,
    add_request_options,
    add_target_options,
    client_options,
    emit,
    interruptible,
    jsonl_hint,
    pick_environment,
    positive_bytes,
    raising_on_stop_signals,
    read_input,
    resolve,
)
from console.core.errors import InputError
from console.core.terminal import discard_stdout, say, visible


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "send", help="send one event or an array (JSON) or JSON Lines from FILE or stdin"
    )
    add_target_options(parser)
    parser.add_argument("file", nargs="?", default="-", metavar="FILE|-",
                        help="one event, an array of events, or JSON Lines (--jsonl); "
                        "- or nothing: standard input")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, send nothing")
    parser.add_argument("--jsonl", action="store_true",
                        help="input is JSON Lines (.jsonl and .ndjson files are)")
    parser.add_argument("--request-limit", type=positive_bytes, metavar="BYTES",
                        help="largest request body; bigger batches are split (default: the "
                        "environment's, 524,288 unless raised)")
    parser.add_argument("--event-limit", type=positive_bytes, metavar="BYTES",
                        help="largest event (default: the environment's)")
    parser.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help="requests in flight at once (default 1: in order)")
    parser.add_argument("--no-verify", action="store_true", help="do not poll for runs")
    parser.add_argument("--no-history", action="store_true", help="do not record this send")
    add_request_options(parser)
    parser.add_argument("--stats", action="store_true",
                        help="say on stderr where the time went (reading, checking, sending...)")
    parser.set_defaults(func=run_send)


def run_send(args: argparse.Namespace) -> int:
    from console.core.batch import is_jsonl_name
    from console.core.pipeline import prepare_text

    if args.concurrency <= 0:  # the limits are checked as they are read (positive_bytes)
        raise InputError("--concurrency must be a positive number")
    clock = Stopwatch()
    chosen, store = pick_environment(args)
    env = replace(
        chosen,
        request_limit=args.request_limit or chosen.request_limit,
        event_limit=args.event_limit or chosen.event_limit,
    )
    name, text = read_input(args.file)
    clock.lap("read")
    jsonl = args.jsonl or is_jsonl_name(name)
    prepared = prepare_text(
        text, request_limit=env.request_limit, event_limit=env.event_limit, jsonl=jsonl,
    )
    for problem in prepared.errors:
        print(visible(problem.located(name)), file=sys.stderr)
    hint = jsonl_hint(prepared.errors, jsonl)
    if hint:
        print(hint, file=sys.stderr)
    if prepared.errors:
        count = len(prepared.errors)
        print(f"event-console: nothing sent: {count} problem(s) in {name}", file=sys.stderr)
        return 2
    if not prepared.events:
        raise InputError(f"{name}: no events to send")
    plan = prepared.plan
    clock.lap("checked")
    if not plan.ok:
        for blocked in plan.blocked:
            print(visible(f"{name}: event #{blocked.index + 1}: {blocked.reason}"),
                  file=sys.stderr)
        return 2
    if args.dry_run:
        for number, rng in enumerate(plan.requests, start=1):
            emit({
                "request": number, "events": len(rng), "bytes": plan.request_bytes(number - 1),
                "first": rng.start, "last": rng.stop - 1,
            })
        return 0
    resolved = resolve(args, chosen, store)
    # everything so far (the parsed events, their bytes, the modules) lives until exit:
    # keep it out of the collector's passes, the last one at exit included (it went over
    # 20,000 events in 35-70 ms)
    gc.freeze()
    code = asyncio.run(interruptible(
        _send(args, resolved, prepared.events, prepared.parts, plan, clock),
        signals=STOP_SIGNALS))
    if args.stats:
        print(f"event-console: {clock.summary(len(prepared.events), plan)}", file=sys.stderr)
    return code


class Stopwatch:
    """Seconds per phase of one send, for `--stats`."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps[phase] = self.laps.get(phase, 0.0) + now - self.last
        self.last = now

    def summary(self, events: int, plan: Any) -> str:
        total = time.perf_counter() - self.start
        sent = self.laps.get("sent", 0.0)
        mib = sum(plan.request_bytes(i) for i in range(len(plan.requests))) / 2**20
        parts = [f"{phase} {secs:.2f} s" + (f" ({events / secs:,.0f} events/s)"
                                             if phase == "sent" and sent > 0 else "")
                 for phase, secs in self.laps.items()]
        return (f"{events:,} events in {len(plan.requests):,} requests ({mib:.1f} MiB): "
                + " · ".join(parts) + f" · total {total:.2f} s (after start-up)")


async def _send(
    args: argparse.Namespace, resolved: Any, events: list[Any], parts: list[bytes], plan: Any,
    clock: Stopwatch,
) -> int:
    from console.core.threads import on_daemon_thread
    from console.services.client import EventApiClient
    from console.services.history_schema import HISTORY_FAILURES, failure_message
    from console.services.paths import app_paths
    from console.services.sender import Observers, send_events
    from console.services.targets import not_running_hint

    # history first: its writer prepares the first request while the client starts up.
    # Opened on a thread of its own: a history another program is writing to is waited
    # for (up to 5 s), and Ctrl+C is heard meanwhile (it was heard after the wait, exit 2)
    clock.lap("resolved")
    try:
        session = await on_daemon_thread(_history_session, args, resolved, events, parts,
                                         plan)
    except asyncio.CancelledError as exc:
        print("event-console: interrupted while the history was opened: nothing was sent",
              file=sys.stderr)
        return 128 + int(signal.Signals[_stop_signal(exc)])
    if session:
        clock.lap("history opened")
    origins = (resolved.target.event_origin, resolved.environment.rest_origin or "")
    try:
        client = EventApiClient(
            tls=not all(o.lower().startswith("http://") for o in origins if o),
            **client_options(args))
        if client.environment_problem:
            say(client.environment_problem)
    except BaseException:
        if session:
            session.close()
        raise
    answered = _Answered()
    interrupted = ""  # the signal that stopped the send (or the runs lookup after it)
    looking_up = False  # every request was answered; the runs lookup is under way
    stopped = ""  # why the history stopped the send
    verified = None
    try:
        try:
            observer = Observers(answered, session.observer if session else None)
            outcomes = await send_events(client, resolved.target, parts, plan,
                                         concurrency=args.concurrency, observer=observer)
            clock.lap("sent")
            if session and not args.no_verify:
                looking_up = True
                verified = await session.confirm(client, outcomes)
                clock.lap("verified")
        except asyncio.CancelledError as exc:  # Ctrl+C, SIGTERM: say what came of it
            interrupted = _stop_signal(exc)
            if looking_up:  # the lines keep `runs`: "accepted", as events not looked up
                verified = {}
            else:
                outcomes = sorted(answered.done, key=lambda o: o.request_no)
        except HISTORY_FAILURES as exc:  # locked, a full disk mid-send: nothing more goes
            # out unrecorded; what was answered is printed (a full disk was exit 2, silent)
            _print_outcomes(sorted(answered.done, key=lambda o: o.request_no), None, None)
            why = failure_message(exc, app_paths().history_db)
            stopped = (f"{why}. {len(answered.done):,} of {len(plan.requests):,} requests "
                       "were answered (above); nothing more was sent, and what the history "
                       "could not record shows as \"outcome unknown\" there")
        finally:
            await client.aclose()
    except BaseException:
        if session:
            with contextlib.suppress(*HISTORY_FAILURES):
                session.close()
        raise
    if stopped:
        if session:
            with contextlib.suppress(*HISTORY_FAILURES):
                session.close()
        print(f"event-console: {visible(stopped)}", file=sys.stderr)
        return 1
    closing = _Closing(session.close) if session else None
    try:
        try:
            with raising_on_stop_signals():  # every request was answered: just the lines
                code = _print_outcomes(outcomes, session, verified)
            errors = [o.result.error for o in outcomes if o.result.status is None]
            hint = not_running_hint(resolved.environment, errors[0] if errors else None,
                                    window=False)
            if hint:
                say(hint)
        except BrokenPipeError:  # stdout's reader went away (`| head -1`): all was sent
            discard_stdout()  # and what follows (--stats, the lines below) still comes
            code = 141  # 128 + SIGPIPE, as `run` ends on a closed pipe
        clock.lap("printed")
    finally:
        if closing is not None:
            closing.wait()
            clock.lap("history closed")
    if interrupted and looking_up:
        print(f"event-console: interrupted while looking up runs: {len(outcomes):,} of "
              f"{len(plan.requests):,} requests answered, none in flight; the accepted "
              "events show as \"accepted\" (their runs were not looked up to the end)",
              file=sys.stderr)
    elif interrupted:
        print(f"event-console: interrupted: {len(outcomes):,} of {len(plan.requests):,} "
              "requests answered; nothing more was sent, and a request in flight is "
              "\"outcome unknown\" in the history", file=sys.stderr)
    if interrupted:
        return 128 + int(signal.Signals[interrupted])  # 130 Ctrl+C, 143 SIGTERM, 129 SIGHUP
    return code


def _stop_signal(exc: asyncio.CancelledError) -> str:
    """The name of the signal that cancelled the send (see `interruptible`)."""
    return next((a for a in exc.args if a in signal.Signals.__members__), "SIGINT")


def _print_outcomes(outcomes: list[Any], session: Any, verified: Any) -> int:
    """One JSON line per request; 0 when every request was accepted, else 1."""
    all_ok = True
    for outcome in outcomes:
        result = outcome.result
        all_ok = all_ok and result.ok
        record: dict[str, Any] = {
            "request": outcome.request_no, "status": result.status, "ids": result.ids,
            "events": result.events, "bytes": result.request_bytes, "attempts": result.attempts,
            "latency_ms": round(result.latency_ms, 1), "error": result.error,
        }
        if session:
            record.update(session.describe(outcome, verified))
        emit(record)
    return 0 if all_ok else 1


class _Closing:
    """Closes the history session on a thread of its own while the lines are printed:
    most of closing is SQLite copying the rest of its log into the file, syncing it and
    deleting the log (25 ms after 20,000 events), none of which needs the interpreter.
    Describing the outcomes reads only what the session holds in memory."""

    def __init__(self, close: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(close,), name="history-close")
        self._thread.start()

    def _run(self, close: Callable[[], None]) -> None:
        try:
            close()
        except BaseException as exc:  # raised again by wait(), on the thread that waits
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


class _Answered:
    """Keeps each answered request, so that an interrupted send still prints what came
    of those (the sender returns its outcomes only at the end)."""

    def __init__(self) -> None:
        self.done: list[Any] = []

    def on_pending(self, request_no: int, rng: range, body: bytes, seed: Any) -> None:
        return None

    def on_done(self, request_no: int, rng: range, result: Any) -> None:
        from console.services.sender import RequestOutcome

        self.done.append(RequestOutcome(request_no, rng, result))


def _history_session(args: argparse.Namespace, resolved: Any, events: list[Any],
                     parts: list[bytes], plan: Any) -> Any:
    """History recording and dedup outcomes, when that part of the console is present."""
    if args.no_history:
        return None
    try:
        from console.services.history_session import SendSession
    except ModuleNotFoundError:
        return None
    return SendSession.open(resolved, events, parts, plan=plan)

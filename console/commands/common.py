"""Pieces every subcommand shares: picking the target, reading input, JSON lines out."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import json
import re
import signal
import sys
from collections.abc import Callable, Coroutine, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from console.core.errors import InputError, Interrupted, UserError
from console.core.positions import ANOTHER_EVENT
from console.core.problems import Problem
from console.core.terminal import discard_stdout, say, typed_text
from console.services.environments import Environment, EnvironmentStore
from console.services.paths import app_paths
from console.services.secrets import SecretStore
from console.services.targets import ResolvedTarget, adhoc_environment, resolve_target
from console.services.text_files import (
    MAX_INPUT_BYTES,
    NotUtf8,
    decode_utf8,
    read_text_file,
    utf16_problem,
)

T = TypeVar("T")

# what stops a send or a run in order: Ctrl+C, SIGTERM (a CI job's timeout, `docker stop`)
# and SIGHUP (the terminal closed: it had ended either at once, with nothing written)
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def raising_on_stop_signals() -> Iterator[None]:
    """Inside, a stop signal raises `Interrupted` where the main thread is, for blocking
    work on the loop's thread (printing to a pipe nobody reads): the loop's own handler
    only wakes the loop, which cannot run until the write returns, and Python retries an
    interrupted write. `send` had ignored Ctrl+C and SIGTERM there until SIGKILL."""
    previous: dict[signal.Signals, Any] = {}
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, _raise_interrupted)
    except ValueError:  # not the main thread: nothing to do
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum, signal.Signals(signum).name)


@contextlib.contextmanager
def on_interrupt(handler: Callable[[], object], *,
                 signals: tuple[signal.Signals, ...] = (signal.SIGINT,)) -> Iterator[None]:
    """Ctrl+C (and any other of `signals`) calls `handler` on the running loop, through
    the loop's own signal handling.

    asyncio.run's handler alone could leave Ctrl+C unheard for as long as the loop slept
    (30 s, on a request that hangs): the kernel may hand SIGINT to another thread (the
    history writer's), and then nothing wakes the loop to run Python's handler. The loop's
    handler writes to its wake-up pipe from whichever thread gets the signal."""
    loop = asyncio.get_running_loop()
    added: list[signal.Signals] = []
    try:
        for signum in signals:
            loop.add_signal_handler(signum, handler)
            added.append(signum)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        pass
    try:
        yield
    finally:
        for signum in added:
            loop.remove_signal_handler(signum)


async def interruptible(work: Coroutine[Any, Any, T], *,
                        signals: tuple[signal.Signals, ...] = (signal.SIGINT,)) -> T:
    """`await work`, Ctrl+C (or another of `signals`) cancelling it (see on_interrupt);
    the CancelledError `work` sees carries the signal's name ("SIGTERM")."""
    task = asyncio.current_task()
    assert task is not None  # awaited by a task
    with contextlib.ExitStack() as stack:
        for signum in signals:
            stack.enter_context(on_interrupt(functools.partial(task.cancel, signum.name),
                                             signals=(signum,)))
        return await work


def add_target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--env", metavar="NAME", help="a saved environment (default: selected)",
                       type=typed_text)
    group.add_argument("--url", metavar="ORIGIN", help="an event API origin, e.g. a Dev Server",
                       type=typed_text)


MAX_TIMEOUT = 3600.0  # seconds one attempt may wait, at most
MAX_ATTEMPTS = 20


def seconds_argument(most: float, *, zero: bool = False) -> Callable[[str], float]:
    """An argparse type: seconds above 0 (from 0 with `zero`), at most `most`. NaN and
    inf are refused: a budget of either never runs out."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        low_ok = value >= 0 if zero else value > 0
        if not (low_ok and value <= most):  # NaN fails both
            span = f"from 0 to {most:,.0f}" if zero else f"above 0 and at most {most:,.0f}"
            raise argparse.ArgumentTypeError(f"{text!r}: give seconds {span}")
        return value

    return parse


def _attempt_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= MAX_ATTEMPTS:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 to {MAX_ATTEMPTS}")
    return value


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """--timeout and --attempts: how long a request to a server that does not answer may
    hold a send or a run (by default 5 attempts of up to 30 s each)."""
    parser.add_argument("--timeout", type=seconds_argument(MAX_TIMEOUT), metavar="SECONDS",
                        help="how long one attempt of a request waits for its answer "
                        "(default 30)")
    parser.add_argument("--attempts", type=_attempt_count, metavar="N",
                        help="attempts per request after network errors, no answer, 5xx and "
                        "429, with the same seed (default 5; 1: never retried)")


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """EventApiClient's retry and timeouts, as --timeout and --attempts ask."""
    from console.services.client import RetryPolicy, Timeouts

    out: dict[str, Any] = {}
    if args.timeout is not None:
        out["timeouts"] = Timeouts(connect=min(Timeouts.connect, args.timeout),
                                   attempt=args.timeout)
    if args.attempts is not None:
        out["retry"] = RetryPolicy(max_attempts=args.attempts)
    return out


def given(args: argparse.Namespace, option: str) -> str | None:
    """The value of `--option`, None when not given; an empty one is refused. `--env
    "$TARGET"` with the variable unset must never mean the selected environment."""
    value: str | None = getattr(args, option, None)
    if value is not None and not value.strip():
        raise UserError(f"--{option}: empty (is the variable it comes from set?)")
    return value


def pick_environment(args: argparse.Namespace) -> tuple[Environment, EnvironmentStore]:
    store = EnvironmentStore.load(app_paths())
    if store.notice:
        print(f"event-console: {store.notice}", file=sys.stderr)
    for option in ("url", "env"):
        given(args, option)
    if getattr(args, "url", None) is not None:
        return adhoc_environment(args.url), store
    if getattr(args, "env", None) is not None:
        return store.get(args.env), store
    unloaded = store.selected_unloaded()
    if unloaded is not None:
        raise UserError(f"the selected environment {unloaded!r} is not used (see above): "
                        f"mend it in {store.path}, or name another with --env")
    return store.default(), store


def resolve(args: argparse.Namespace, env: Environment | None = None,
            store: EnvironmentStore | None = None) -> ResolvedTarget:
    """The environment and key a command sends to (see services.targets for the order)."""
    if env is None or store is None:
        env, store = pick_environment(args)
    return resolve_target(env, store, SecretStore())


def read_input(path: str) -> tuple[str, str]:
    """(display name, text) of FILE or `-` (stdin); unreadable input is an InputError."""
    if path != "-":
        try:
            return path, read_text_file(Path(path), max_bytes=MAX_INPUT_BYTES,
                                        kind="an input file", not_binary="not JSON text")
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
    if sys.stdin.isatty():  # `event-console send` typed alone would seem to hang
        end = "Ctrl+Z then Enter" if sys.platform == "win32" else "Ctrl+D"
        print(f"event-console: reading events from the terminal; end with {end}",
              file=sys.stderr)
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"<stdin>: larger than {MAX_INPUT_BYTES:,} bytes")
    problem = utf16_problem(data)
    if problem:  # PowerShell 5 pipes UTF-16 too (`Get-Content x.json | event-console send -`)
        raise InputError(f"<stdin>: {problem}")
    try:
        return "<stdin>", decode_utf8(data)
    except NotUtf8 as exc:
        raise InputError(f"<stdin>: {exc}") from None


def jsonl_hint(problems: Iterable[Problem], jsonl: bool) -> str | None:
    """What to say when a file read as one JSON document holds one event per line."""
    if jsonl or not any(p.message.endswith(ANOTHER_EVENT) for p in problems):
        return None
    return ("event-console: one event per line is JSON Lines: pass --jsonl "
            "(files named .jsonl or .ndjson are read as JSON Lines)")


def emit(record: dict[str, Any]) -> None:
    """One JSON object per line on stdout, flushed (CI reads it as it comes); see
    write_out for a stdout that fails."""
    if _STDOUT.failure is not None:  # set aside: 20,000 lines need not be encoded for it
        return
    line = json_line(record)
    try:  # checked here: stdout itself escapes what it cannot encode (see cli), not JSON
        line.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:  # half a UTF-16 pair (an event captured as sent), or a
        line = json.dumps(record)  # terminal without UTF-8: \u escapes
    write_out(line + "\n")


def print_line(text: str) -> None:
    """`print(text)` for a command's output, through write_out."""
    write_out(text + "\n")


@dataclasses.dataclass
class _Stdout:
    """What became of standard output in this process (there is one per process)."""

    failure: str | None = None  # why it took no more output, once a write failed
    stops_command: bool = False  # a failed write is raised to the command (the inbox)


_STDOUT = _Stdout()


def stop_on_stdout_failure() -> None:
    """A write to stdout that fails is raised to the command, as it always was: for
    `inbox`, whose lines are its whole work (it says so and exits 2 at once)."""
    _STDOUT.stops_command = True


def write_out(text: str) -> None:
    """`text` on stdout, flushed. A stdout that fails (a full disk: `send ... >
    out.jsonl`) is said once on stderr and then set aside, and the command goes on to its
    end: a send's lines had ended in a traceback after its events were accepted, and a
    run stopped after its first step, its other steps unsent and no --junit written. The
    history and --report still record all of it, and `cli` exits non-zero. A reader
    that went away (BrokenPipeError, `| head -1`) is still the command's to handle."""
    if _STDOUT.failure is not None:
        return
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        if _STDOUT.stops_command:
            raise
        _set_stdout_aside(exc)


def flush_out() -> str | None:
    """Flush what is still buffered for stdout (print() output waits for exit, when a
    failure could only end in "Exception ignored"); why stdout failed in this process,
    None when it did not. A BrokenPipeError is raised, for `cli` to end as on any."""
    if _STDOUT.failure is None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            _set_stdout_aside(exc)
    return _STDOUT.failure


def _set_stdout_aside(exc: OSError) -> None:
    _STDOUT.failure = exc.strerror or str(exc)
    say(f"cannot write to standard output: {_STDOUT.failure}; nothing more is printed "
        "there, and the command goes on to its end")
    with contextlib.suppress(OSError):  # what is still buffered goes there, not to the disk
        discard_stdout()


def json_line(record: dict[str, Any]) -> str:
    """`json.dumps(record, ensure_ascii=False)` with the C1 controls (U+0080 to U+009F)
    escaped: JSON leaves them raw, and a terminal acts on them (U+009B starts a control
    sequence, as ESC [ does: a template's text quoted in a step's reason cleared the CI
    log's screen). A list that holds the same dict object many times (a send's `dedup`
    entries: 500 per request, nearly all one of two shared dicts) has each object encoded
    once: 20,000 entries took 29 ms."""
    if (not any(_repeats(v) for v in record.values())
            or not all(type(k) is str for k in record)):
        text = json.dumps(record, ensure_ascii=False)
    else:
        text = "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_value(v)}"
                               for k, v in record.items()) + "}"
    return _C1.sub(_escaped, text)


_C1 = re.compile("[\x80-\x9f]")  # only ever inside a JSON string: \u escapes are valid there


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _repeats(value: Any) -> bool:
    """A long list of dicts, most of them the same objects as others."""
    return (type(value) is list and len(value) > 8 and type(value[0]) is dict
            and len({id(v) for v in value}) * 2 < len(value))


def _value(value: Any) -> str:
    if not _repeats(value):
        return json.dumps(value, ensure_ascii=False)
    done: dict[int, str] = {}
    parts = []
    for item in value:
        text = done.get(id(item))
        if text is None:
            text = json.dumps(item, ensure_ascii=False)
            if type(item) is dict:
                done[id(item)] = text
        parts.append(text)
    return "[" + ", ".join(parts) + "]"


def fail(message: str) -> UserError:
    return UserError(message)


def positive_bytes(value: str) -> int:
    """An argparse type: a positive number of bytes ("524288", "524_288", "524,288")."""
    try:
        number = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of bytes")
    return number

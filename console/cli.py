"""The headless face: `event-console [COMMAND]`; no command opens the window.

Every subcommand lives in `console.commands.<name>` with `add_parser(subparsers)`; they
share the services the GUI uses. Exit codes: 0 success, 1 something was rejected or
failed, 2 usage or input errors. User errors print one plain line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sqlite3
import sys
from collections.abc import Sequence

from console import __version__
from console.core.errors import Interrupted, UserError
from console.core.terminal import QuietStream, discard_stdout

COMMANDS = ("send", "validate", "run", "inbox", "env", "history")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that subcommand is imported (start-up stays fast)."""
    parser = argparse.ArgumentParser(
        prog="event-console",
        description="Fire events at Inngest by hand; replay saved scenarios. "
        "With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"event-console {__version__}")
    parser.add_argument(
        "--smoke-test", action="store_true",
        help="open the main window offscreen, check keyring and resources, exit",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only else COMMANDS:
        try:
            module = importlib.import_module(f"console.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"console.commands.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl+C while a command's modules load: no traceback
        return 130


def _main(argv: Sequence[str] | None) -> int:
    _stdio_that_can_be_written()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list == ["--smoke-test"] or _gui_only(args_list):
        from console.app import run_gui

        return run_gui(smoke_test="--smoke-test" in args_list)
    if args_list == ["--version"]:
        try:
            print(f"event-console {__version__}", flush=True)
        except OSError as exc:  # /dev/full, a closed pipe: said, not a traceback
            discard_stdout()
            if isinstance(exc, BrokenPipeError):
                return 141
            print(f"event-console: {_os_failure(exc)}", file=sys.stderr)
            return 1
        return 0
    first = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(first if first in COMMANDS else None)
    _escape_what_stdout_cannot_encode()  # before parsing: --help writes too
    args = parser.parse_args(args_list)
    if args.command is None:
        from console.app import run_gui

        return run_gui(smoke_test=args.smoke_test)
    return _output_done(_run(args))


def _stdio_that_can_be_written() -> None:
    """A stdout or stderr closed by the caller (`>&-`) is None in Python: every command
    had ended in an AttributeError on its first line. What goes there is dropped."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _run(args: argparse.Namespace) -> int:
    """The command's exit code; the errors a user can act on as one line on stderr (a
    stderr that stops taking them does not stop the command: see QuietStream)."""
    stderr = sys.stderr
    sys.stderr = QuietStream(stderr)
    try:
        return _run_command(args)
    finally:
        sys.stderr = stderr


def _run_command(args: argparse.Namespace) -> int:
    if args.command == "inbox":
        from console.commands.common import stop_on_stdout_failure

        stop_on_stdout_failure()
    try:
        return int(args.func(args))
    except UserError as exc:  # it may quote a server's answer or a file's text
        from console.core.terminal import visible

        print(f"event-console: {visible(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Interrupted as exc:  # a second stop signal: at once, no traceback
        discard_stdout()  # what is still buffered for a reader that may never read it
        return exc.code
    except sqlite3.Error as exc:  # the history failed after it opened (only it is SQLite)
        from console.services.history_schema import history_failure
        from console.services.paths import app_paths

        print(f"event-console: {history_failure(exc, app_paths().history_db)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`... --json | head -1`): stop quietly
        discard_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a tool that SIGPIPE stopped
    except OSError as exc:  # a full disk, a read-only folder: the system said no, plainly
        from console.core.terminal import visible

        print(f"event-console: {visible(_os_failure(exc))}", file=sys.stderr)
        return 2


def _os_failure(exc: OSError) -> str:
    """"stopped: No space left on device (/path)": what the system said, and where; not
    `[Errno 28]` and a traceback. Only OSError: a bug still shows its traceback."""
    where = f" ({exc.filename})" if exc.filename else ""
    return f"stopped: {exc.strerror or exc}{where}"


def _output_done(code: int) -> int:
    """`code`, once what is still buffered for stdout is out. A stdout that failed (a full
    disk, said once on stderr by commands.common) makes a command that went well exit 1:
    its output is lost. Only for the commands that write through commands.common:
    importing it for `validate` (print() alone) would load httpx too."""
    common = sys.modules.get("console.commands.common")
    if common is None:
        return code
    try:
        failed = common.flush_out()
    except BrokenPipeError:
        discard_stdout()
        return code or 141
    return 1 if failed and code == 0 else code


def _escape_what_stdout_cannot_encode() -> None:
    """A name or path with characters the output's encoding lacks (cp1252 in a Windows CI
    pipe, ASCII under LANG=C) is written with backslash escapes, as stderr writes it,
    instead of ending `env list`, `validate` or `history` with a UnicodeEncodeError."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="backslashreplace")


def _gui_only(args: list[str]) -> bool:
    """Qt's own options (`-platform offscreen`, `-style`) with no command still mean the GUI."""
    return all(a.startswith("-") and a not in ("-h", "--help", "--version") for a in args) and (
        not any(a in COMMANDS for a in args)
    )

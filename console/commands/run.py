"""`event-console run SCENARIO`: replay a scenario headless, one JSON line per step result.

Exit codes: 0 every expectation held; 1 an expectation failed or a send failed; 2 the
input is invalid (scenario, templates, --var, --data), in which case nothing was sent;
130 stopped by Ctrl+C, 143 by SIGTERM (a CI job's timeout), 129 by SIGHUP (the terminal
closed); the report and JUnit files are still written either way, unless a second signal
quits at once; 141 when stdout's reader went away (`| head -1`), after the run
went on to its end without printing.
The summary (with the seed that reproduces the run) goes to stderr, so stdout stays
pure JSON Lines for CI tools.

Every send step's line carries `dedup` (the ledger's prediction per event, from the
history; null with --no-history) and `runs` (the confirmed outcome per event: runs are
polled after each send step within --verify-window). With --no-verify nothing is polled
and `runs` is null, except on steps whose `expect.dedup` needs the confirmed outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from console.commands.common import (
    STOP_SIGNALS,
    add_request_options,
    add_target_options,
    client_options,
    emit,
    on_interrupt,
    pick_environment,
    resolve,
    seconds_argument,
)
from console.core.errors import InputError, Interrupted, UserError
from console.core.scenario import (
    Scenario,
    SendStep,
    parse_scenario,
    parse_seed,
    parse_var_pairs,
)
from console.core.terminal import discard_stdout, say, typed_text, visible
from console.services.atomic import write_bytes_atomic
from console.services.history_session import MAX_VERIFY_SECONDS, verify_seconds_from_env
from console.services.run_results import RunReport, StepResult, load_rows, report_json
from console.services.runner import Limits, ScenarioRunner
from console.services.text_files import checkout_root, real_path
from console.services.workspace import Workspace, read_workspace_file


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run", help="run a scenario (file or name in the workspace); one JSON line per step"
    )
    add_target_options(parser)
    parser.add_argument("scenario", metavar="SCENARIO",
                        help="a scenario file, or the name of a scenario in the workspace")
    parser.add_argument("--var", action="append", default=[], metavar="K=V", type=typed_text,
                        help="set or override a scenario variable (repeatable)")
    parser.add_argument("--data", metavar="ROWS",
                        help="CSV, JSON array or JSON Lines file: run once per row (row.*)")
    parser.add_argument("--seed", type=_seed, metavar="N",
                        help="seed for fake.*, uuid() and ulid(): reproduces a run")
    parser.add_argument("--junit", metavar="FILE", help="write results as JUnit XML")
    parser.add_argument("--report", metavar="FILE", help="write all results as one JSON file")
    parser.add_argument("--dry-run", action="store_true",
                        help="render and check every step, send nothing")
    parser.add_argument("--verify-window", metavar="SECONDS",
                        type=seconds_argument(MAX_VERIFY_SECONDS, zero=True),
                        help="how long to look for each send step's runs before concluding "
                        "that none started (default: EVENT_CONSOLE_VERIFY_SECONDS or 10)")
    parser.add_argument("--no-verify", action="store_true",
                        help="do not poll for runs after sending (\"runs\" is null), except "
                        "for steps that expect a dedup outcome")
    parser.add_argument("--no-history", action="store_true",
                        help="do not record the sends in the history")
    add_request_options(parser)
    parser.add_argument("--workspace", metavar="DIR",
                        help="templates/ and scenarios/ folder (default: the scenario file's "
                        "workspace, else the app's)")
    parser.set_defaults(func=run_scenario_cmd)


def _seed(text: str) -> int:
    """A whole number in ASCII digits, as the Scenarios tab's Seed field takes it."""
    seed = parse_seed(text)
    if seed is None:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return seed


def _workspace_folder(args: argparse.Namespace) -> Path | None:
    if args.workspace:
        return Path(args.workspace)
    file = Path(args.scenario)
    # where the file sits, not where a link leads: a link in scenarios/ is in that workspace
    # (and may not lead out of it), whatever it points at
    if file.is_file() and file.absolute().parent.name == "scenarios":
        return file.absolute().parent.parent
    return None


def load_scenario(args: argparse.Namespace) -> tuple[Workspace, Scenario]:
    folder = _workspace_folder(args)
    workspace = Workspace.open(folder, create=folder is None)
    file = Path(args.scenario)
    if not file.exists() and not file.is_absolute() and (workspace.folder / file).exists():
        file = workspace.folder / file
    # a bare word that names a scenario is that scenario, though a file of that name sits
    # in the current folder (`checkout`, a shell script there, was read as JSON)
    by_name = (args.scenario in workspace.scenarios and not args.scenario.endswith(".json")
               and "/" not in args.scenario and os.sep not in args.scenario)
    if not by_name and (file.is_file() or args.scenario.endswith(".json")):
        # a file in the workspace (or the checkout) may not lead out of it through a link:
        # a scenario in a pull request linked to a secret file, and a CI log showed its
        # first word
        try:
            text = read_workspace_file(file, within=checkout_root(file, workspace.folder))
        except UserError as exc:
            raise InputError(f"{args.scenario}: {exc}") from None
        scenario, problems = parse_scenario(text, args.scenario)
        used: Path | None = file
    else:
        try:
            scenario, problems = workspace.scenario(args.scenario), []
        except UserError:
            # a scenario file that did not load may be the one asked for: say why each failed
            _print_problems([str(p) for p in workspace.problems_in("scenarios")])
            raise
        used = workspace.path_of("scenarios", scenario.name)
    if scenario is None or problems:
        _print_problems([str(p) for p in problems])
        raise InputError(f"nothing sent: {len(problems)} problem(s) in {args.scenario}")
    _report_skipped(workspace, scenario, used)
    problems = workspace.check(scenario)
    if problems:
        _print_problems([str(p) for p in problems])
        raise InputError(f"nothing sent: {len(problems)} problem(s) in {args.scenario}")
    return workspace, scenario


def _report_skipped(workspace: Workspace, scenario: Scenario, used: Path | None) -> None:
    """The workspace files the window would list as skipped (broken, or a name used twice),
    on stderr before the run: a CI log must show that the scenario or a template it uses
    may not be the file one meant. The run goes on, as the window's does; a scenario file
    given by its path is not "skipped" even when its name is also used elsewhere."""
    mine = real_path(used) if used is not None else None
    skipped = [p for p in workspace.problems
               if mine is None or real_path(workspace.folder / p.file) != mine]
    if not skipped:
        return
    _print_problems([str(p) for p in skipped])
    root = real_path(workspace.folder)
    where = ("?" if mine is None else str(mine.relative_to(root)) if mine.is_relative_to(root)
             else str(mine))
    files = len({p.file for p in skipped})
    print(visible(f"event-console: {files} workspace file(s) skipped, listed above; running "
                  f"{scenario.name!r} from {where}"), file=sys.stderr)


def _print_problems(lines: list[str]) -> None:
    for line in lines:
        print(visible(line), file=sys.stderr)


def _check_outputs(args: argparse.Namespace) -> None:
    """--junit and --report must be writable files, known before anything is sent."""
    for flag, value in (("--junit", args.junit), ("--report", args.report)):
        if not value:
            continue
        path = Path(value)
        if path.is_dir():
            raise InputError(f"{flag} {value}: that is a folder; give a file name")
        folder = path.absolute().parent  # made when missing: its first existing ancestor
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise InputError(f"{flag} {value}: {folder} is not a folder")
        try:  # written next to it and renamed over it at the end: try that now
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".event-console-"):
                pass
        except OSError as exc:
            raise InputError(f"{flag} {value}: cannot write there "
                             f"({exc.strerror or exc})") from None


def run_scenario_cmd(args: argparse.Namespace) -> int:
    _check_outputs(args)
    variables = parse_var_pairs(args.var)
    rows = load_rows(Path(args.data), _workspace_folder(args)) if args.data else None
    workspace, scenario = load_scenario(args)
    if args.dry_run:
        try:
            env, _store = pick_environment(args)
            environment, limits = env.name, Limits(env.request_limit, env.event_limit)
        except UserError:
            if args.env is not None or args.url is not None:
                raise  # the target asked for is wrong: say so, even in a dry run
            environment, limits = "", Limits()
        out = _Lines()
        runner = ScenarioRunner(scenario, workspace.templates, variables=variables, rows=rows,
                                seed=args.seed, limits=limits, environment=environment,
                                dry_run=True, on_result=out)
        report, stopped_by = asyncio.run(_dry_run(runner))
        return _finish(args, runner, report, out, stopped_by)
    resolved = resolve(args)
    env = resolved.environment
    return asyncio.run(_send_run(args, scenario, workspace, resolved, variables, rows,
                                 Limits(env.request_limit, env.event_limit)))


class _Lines:
    """Each step result to stdout as a JSON line, until stdout's reader goes away (`run ...
    | head -1`): the rest are dropped and the run goes on to its end, as `send` sends all
    it planned. The BrokenPipeError had stopped the run mid-way, with neither --junit nor
    --report written."""

    def __init__(self) -> None:
        self.broken = False

    def __call__(self, result: StepResult) -> None:
        if self.broken:
            return
        try:
            emit(result.to_json())
        except BrokenPipeError:
            self.broken = True
            discard_stdout()  # what is still buffered goes there at exit, not to the pipe


async def _dry_run(runner: ScenarioRunner) -> tuple[RunReport, list[signal.Signals]]:
    """A dry run stops on a signal as a run does, its files written (it had ended with
    none of them, and with no summary)."""
    with _stop_on_interrupt(runner) as stopped_by:
        return await _checked_run(runner), stopped_by


async def _checked_run(runner: ScenarioRunner) -> RunReport:
    # giving the loop its turns: a Ctrl+C during the check of 10,000 rows was not heard
    # until it ended, and then the first step went out anyway
    problems = await runner.precheck_async()
    if problems and not runner.stopping:  # stopped: the run says "stopped", files written
        _print_problems(problems)
        raise InputError(f"nothing sent: {len(problems)} problem(s) rendering "
                         f"{runner.scenario.name!r}")
    return await runner.run()


async def _send_run(args: argparse.Namespace, scenario: Scenario, workspace: Workspace,
                    resolved: Any, variables: dict[str, str],
                    rows: list[dict[str, Any]] | None, limits: Limits) -> int:
    from console.services.client import EventApiClient

    client = EventApiClient(**client_options(args))
    if client.environment_problem:
        say(client.environment_problem)
    out = _Lines()
    try:
        runner = ScenarioRunner(
            scenario, workspace.templates, client=client, target=resolved.target,
            environment=resolved.environment.name, limits=limits, variables=variables,
            rows=rows, seed=args.seed, on_result=out,
            verify=not args.no_verify, **_outcome_options(args, scenario, resolved, client),
            history_failure=_history_failure,
        )
        with _stop_on_interrupt(runner) as stopped_by:
            report = await _checked_run(runner)
    finally:
        await client.aclose()
    return _finish(args, runner, report, out, stopped_by)


@contextlib.contextmanager
def _stop_on_interrupt(runner: ScenarioRunner) -> Iterator[list[signal.Signals]]:
    """Ctrl+C, SIGTERM (what a CI job's timeout or `docker stop` sends) or SIGHUP (the
    terminal closed) stops the run as the window's Stop does: the step in flight ends
    "stopped", nothing more is sent, and the report and JUnit file are still written
    (SIGTERM had ended the process with neither). A second signal quits at once
    (`Interrupted`: it had ended in a CancelledError traceback and exit 1). Yields the
    signals that came."""
    task = asyncio.current_task()
    came: list[signal.Signals] = []

    def interrupt(signum: signal.Signals) -> None:
        came.append(signum)
        if len(came) == 1:
            runner.stop()  # first: the line below may not be writable (a closed terminal)
            again = "Ctrl+C" if signum == signal.SIGINT else "signal"
            print(f"event-console: stopping ({again} again to quit at once)", file=sys.stderr)
        elif task is not None:
            task.cancel()

    with contextlib.ExitStack() as stack:
        for signum in STOP_SIGNALS:
            stack.enter_context(on_interrupt(functools.partial(interrupt, signum),
                                             signals=(signum,)))
        try:
            yield came
        except asyncio.CancelledError:
            if len(came) < 2:
                raise
            raise Interrupted(int(came[-1]), came[-1].name) from None


def _window(args: argparse.Namespace) -> float:
    return args.verify_window if args.verify_window is not None else verify_seconds_from_env()


def _outcome_options(args: argparse.Namespace, scenario: Scenario, resolved: Any,
                     client: Any) -> dict[str, Any]:
    """History sessions (recording + dedup ledger + confirmed runs) when the history is
    there and wanted; otherwise a plain runs lookup (for every step, or with --no-verify
    only for "dedup" expectations)."""
    if not args.no_history:
        try:
            from console.core.threads import on_daemon_thread
            from console.services.history_session import SendSession
            from console.services.outcomes import PollPolicy
        except ModuleNotFoundError:
            pass
        else:
            policy = PollPolicy(total=_window(args))

            def session(events: Any, parts: Any, step: str) -> Any:
                # on a thread of its own: a history another program is writing to is
                # waited for (up to 5 s), and Ctrl+C is heard meanwhile
                return on_daemon_thread(functools.partial(
                    SendSession.open, resolved, events, parts, scenario=scenario.name,
                    step=step, source="replayed", policy=policy))

            return {"sessions": session}
    from console.services.runner import RunsVerifier

    wants_dedup = any(isinstance(s, SendStep) and s.expect and s.expect.dedup
                      for s in scenario.steps)
    if args.no_verify and not wants_dedup:
        return {}
    from console.services.outcomes import PollPolicy

    return {"verifier": RunsVerifier.for_target(client, resolved,
                                                policy=PollPolicy(total=_window(args)))}


def _history_failure(exc: BaseException) -> str:
    """What to say of a history that failed mid-run (a full disk had ended the run with
    exit 2, the steps after unsaid and the JUnit unwritten)."""
    from console.services.history_schema import failure_message
    from console.services.paths import app_paths

    return failure_message(exc, app_paths().history_db)


def _finish(args: argparse.Namespace, runner: ScenarioRunner, report: RunReport,
            out: _Lines, stopped_by: list[signal.Signals] | None = None) -> int:
    from console.services.junit import junit_xml

    unwritten = False
    outputs: list[tuple[str, str | None, bytes]] = [
        ("--junit", args.junit, junit_xml(report) if args.junit else b""),
        ("--report", args.report, report_json(report).encode("utf-8") if args.report else b""),
    ]
    for flag, value, content in outputs:
        if not value:
            continue
        try:
            write_bytes_atomic(Path(value), content)
        except OSError as exc:  # checked before the run; the folder changed meanwhile
            unwritten = True
            print(f"event-console: {flag} {value}: not written ({exc.strerror or exc})",
                  file=sys.stderr)
    if runner.stopped_by_history:
        print(visible(f"event-console: stopped: {runner.stopped_by_history}; nothing more "
                      "was sent"), file=sys.stderr)
    elif report.cancelled:
        print("event-console: interrupted: the step in flight was stopped and nothing more "
              "was sent", file=sys.stderr)
    summary = report.counts_text()
    events = f"; events: {line}" if (line := report.events_summary()) else ""
    print(visible(f"event-console: {report.scenario}: {summary} (seed {runner.seed}){events}"),
          file=sys.stderr)
    if report.cancelled and not runner.stopped_by_history:
        return 128 + int(stopped_by[0]) if stopped_by else 130
    if out.broken:
        return 141  # 128 + SIGPIPE, as the other commands end on a closed pipe
    return 0 if report.passed and not unwritten else 1

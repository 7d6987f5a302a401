"""Run a scenario against a target: render, check, send, compare with expectations.

Why it is shaped like this:
- The same pipeline as a hand send: every rendered event passes the envelope rules, is
  serialized once, planned within the environment's limits and sent by `send_events`.
- Nothing is sent until the whole scenario has rendered once with throwaway state
  (`precheck`): an unknown variable in step 5 must not surface after steps 1-4 went out.
- Each repeat of a step is its own send and its own result; a data file runs the whole
  scenario once per row, `row.*` holding that row's columns. `steps.NAME` holds the
  latest send of step NAME in the current row (`ids`, `status`, `accepted`, `events`).
- `stop()` cancels the step in flight (its request is aborted) and runs nothing more;
  cancelling the task that awaits `run()` does the same and propagates.
- Dry runs render, check and plan everything and send nothing; later steps see made-up
  ids so `steps.NAME.ids[0]` still renders.
- After each send step the outcome is confirmed (runs polled, `result.runs`/`dedup`) unless
  `verify=False`; then only steps that expect a dedup outcome are polled, and the other
  steps' `runs` stay None.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from console.core.dedup import Outcome, OutcomeKind, dedup_id_of, not_taken_each, run_entry
from console.core.errors import UserError
from console.core.expect import Observed, check_expect, is_2xx
from console.core.ids import IdSeed
from console.core.pipeline import prepare_events
from console.core.plan import REQUEST_LIMIT
from console.core.positions import escape_token
from console.core.scenario import (
    EventTemplate,
    InlineEvent,
    Scenario,
    SendStep,
    Step,
    TemplateRef,
    WaitStep,
    step_label,
)
from console.core.sourcemap import SourceMap
from console.core.template import Bag, Emptied, TemplateEngine, TemplateError
from console.core.template_scope import Clock, RenderRun, system_clock
from console.services.client import EventApiClient, Target
from console.services.history_schema import HISTORY_FAILURES
from console.services.run_results import (
    CANCELLED,
    DRY_RUN,
    ERROR,
    FAILED,
    PASSED,
    RowState,
    RunReport,
    StepResult,
)
from console.services.run_verify import (
    OutcomeVerifier,
    RunsVerifier,
    SessionFactory,
    StepSession,
)
from console.services.sender import RequestOutcome, SendObserver, send_events

Sleep = Callable[[float], Any]
__all__ = ["Limits", "RunsVerifier", "ScenarioRunner", "StepError"]


@dataclass(frozen=True)
class Limits:
    request_limit: int = REQUEST_LIMIT
    event_limit: int = 3 * 1024 * 1024


class StepError(Exception):
    """A step could not be sent (render error, envelope rule, blocked event)."""


def deep_merge(base: Any, overrides: Any) -> Any:
    """`with` overrides: objects merge key by key, anything else replaces. A loop, not
    recursion: a template and a `with` nested 100,000 deep raised RecursionError (the
    envelope check then says "nested too deeply", as for an event written inline)."""
    if not (isinstance(base, dict) and isinstance(overrides, dict)):
        return overrides
    merged = dict(base)
    stack = [(merged, base, overrides)]
    while stack:
        out, under, over = stack.pop()
        for key, value in over.items():
            below = under.get(key)
            if key in under and isinstance(below, dict) and isinstance(value, dict):
                out[key] = child = dict(below)
                stack.append((child, below, value))
            else:
                out[key] = value
    return merged


class ScenarioRunner:
    def __init__(
        self,
        scenario: Scenario,
        templates: Mapping[str, EventTemplate],
        *,
        client: EventApiClient | None = None,
        target: Target | None = None,
        environment: str = "",
        limits: Limits = Limits(),
        variables: Mapping[str, Any] | None = None,
        rows: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        clock: Clock = system_clock,
        sleep: Sleep = asyncio.sleep,
        engine: TemplateEngine | None = None,
        verifier: OutcomeVerifier | None = None,
        send_observer: SendObserver | None = None,
        sessions: SessionFactory | None = None,
        verify: bool = True,
        on_result: Callable[[StepResult], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        dry_run: bool = False,
        history_failure: Callable[[BaseException], str] | None = None,
    ) -> None:
        """`history_failure`: a history that fails mid-run (a full disk, locked) ends the
        step in an error, says why (what it returns), and stops the run, so the report
        and JUnit are still written (the CLI); without it the failure is raised (the window
        turns its history off). A run that sends may be made without its `target` (the
        window reads the key off its thread meanwhile), set before it runs."""
        if not dry_run and client is None:
            raise ValueError("a run that sends needs a client")
        self.scenario = scenario
        self.templates = templates
        self.client = client
        self.target = target
        self.environment = environment
        self.limits = limits
        self.variables = dict(variables or {})
        self.rows: list[Mapping[str, Any] | None] = list(rows) if rows else [None]
        self.engine = engine or TemplateEngine()
        self.render = RenderRun(self.engine, clock=clock) if seed is None else RenderRun(
            self.engine, seed=seed, clock=clock)
        self.sleep = sleep
        self.verifier = verifier
        self.send_observer = send_observer
        self.sessions = sessions
        self.verify = verify
        self.on_result = on_result
        self.on_progress = on_progress
        self.dry_run = dry_run
        self.history_failure = history_failure
        self.stopped_by_history = ""  # why, when the history stopped the run
        self._current: asyncio.Task[StepResult] | None = None
        self._stopping = False
        self._seen_ids: set[str] = set()
        self._done = 0

    @property
    def seed(self) -> int:
        return self.render.seed

    @property
    def total(self) -> int:
        per_row = sum(s.repeat if isinstance(s, SendStep) else 1 for s in self.scenario.steps)
        return per_row * len(self.rows)

    def stop(self) -> None:
        self._stopping = True
        if self._current is not None:
            self._current.cancel()

    @property
    def stopping(self) -> bool:
        """Whether the run was asked to stop (it sends nothing more)."""
        return self._stopping

    def _source(self) -> SourceMap:
        if self.scenario.source is None:
            raise ValueError("the scenario was not parsed from a file")
        return self.scenario.source

    # -- rendering -------------------------------------------------------------------------
    def _row_state(self, render: RenderRun, row: Mapping[str, Any] | None) -> RowState:
        state = RowState(dict(row or {}))
        # the scenario's vars in their order, a --var (the window's Vars) in the place of
        # the one it overrides, so it may use the vars before it; and a --var the scenario
        # does not have first, so the scenario's may use it ("https://{{ vars.host }}/x"
        # with --var host=...: rendered last, it said "vars has no 'host'")
        merged = {**{name: raw for name, raw in self.variables.items()
                     if name not in self.scenario.vars},
                  **{name: self.variables.get(name, raw)
                     for name, raw in self.scenario.vars.items()}}
        for name, raw in merged.items():
            pointer = f"/vars/{escape_token(name)}" if name not in self.variables else ""
            try:
                scope = {**render.scope(vars=state.vars, row=state.row), "steps": _NO_STEPS}
                state.vars[name] = self.engine.render_value(raw, scope, pointer=pointer)
            except TemplateError as exc:
                if not pointer:
                    raise StepError(f"--var {name}: {exc.message}") from None
                raise StepError(str(self._source().template_problem(exc))) from None
        return state

    def _events(self, render: RenderRun, step: SendStep, state: RowState) -> list[Any]:
        events = []
        for item in step.items:
            render.seq += 1
            scope = render.scope(vars=state.vars, row=state.row, steps=state.steps)
            if isinstance(item, InlineEvent):
                events.append(self._render(item.event, scope, self._source(), item.pointer))
                continue
            template = self.templates.get(item.template)
            if template is None or template.source is None:
                raise StepError(str(self._source().problem(
                    f"{item.pointer}/template", f"no template named {item.template!r}")))
            base = self._render(template.event, scope, template.source, "/event")
            extra = self._render(item.overrides, scope, self._source(), f"{item.pointer}/with")
            events.append(deep_merge(base, extra))
        return events

    def _render(self, value: Any, scope: Mapping[str, Any], source: SourceMap,
                pointer: str) -> Any:
        try:
            return self.engine.render_value(value, scope, pointer=pointer)
        except TemplateError as exc:
            raise StepError(str(source.template_problem(exc))) from None

    def _locate(self, step: SendStep, index: int, pointer: str) -> str:
        """Where the part of event `index` at `pointer` was written: the `with` override,
        the template file, or the inline event in the scenario."""
        item = step.items[index] if index < len(step.items) else None
        if isinstance(item, InlineEvent):
            return str(self._source().problem(item.pointer + pointer, ""))
        if isinstance(item, TemplateRef):
            template = self.templates.get(item.template)
            if _has(item.overrides, pointer) or template is None or template.source is None:
                return str(self._source().problem(f"{item.pointer}/with{pointer}", ""))
            return str(template.source.problem("/event" + pointer, ""))
        return ""

    def _prepare(self, events: list[Any], step: SendStep | None = None) -> Any:
        from console.core.envelope import check_event

        for i, event in enumerate(events):
            for pointer, message, severity in check_event(
                    event, event_limit=self.limits.event_limit):
                if getattr(severity, "value", severity) == "error":
                    where = self._locate(step, i, pointer) if step is not None else ""
                    raise StepError(f"{where}event {i + 1}: {message}")
        prepared = prepare_events(events, request_limit=self.limits.request_limit,
                                  event_limit=self.limits.event_limit)
        if not prepared.plan.ok:
            blocked = prepared.plan.blocked[0]
            raise StepError(f"event #{blocked.index + 1}: {blocked.reason}")
        return prepared

    def precheck(self) -> list[str]:
        """Render every repeat of every step of every row with throwaway state; the
        problems found."""
        found: dict[str, _Met] = {}
        for _ in self._precheck_rows(found):
            pass
        return _said(found)

    async def precheck_async(self, turn: float = 0.005) -> list[str]:
        """`precheck`, giving the loop a turn every `turn` seconds: in the window, 50,000
        rows held it for 26 s, and Stop could not be pressed."""
        found: dict[str, _Met] = {}
        last = time.perf_counter()
        for _ in self._precheck_rows(found):
            if time.perf_counter() - last > turn:
                await asyncio.sleep(0)
                if self._stopping:
                    break
                last = time.perf_counter()
        return _said(found)

    def _precheck_rows(self, found: dict[str, _Met]) -> Iterator[None]:
        """The precheck, one row at a time (a yield after each), adding to `found`. Each
        repeat is rendered, as the run renders it: `seq` and `fake.unique` go on from one
        repeat to the next, and `vars.skus[seq - 1]` runs out at the fourth repeat of
        three skus. Rendered once per step, that had surfaced after three repeats went
        out."""
        render = RenderRun(self.engine, seed=self.seed, clock=self.render.clock)
        for row_no, row in enumerate(self.rows, start=1):
            yield
            row_label = row_no if row is not None else None
            try:
                state = self._row_state(render, row)
            except StepError as exc:
                _meet(found, str(exc), row_label)
                continue
            for index, step in enumerate(self.scenario.steps):
                if not isinstance(step, SendStep):
                    continue
                for iteration in range(1, step.repeat + 1):
                    if iteration > 1:
                        yield  # a turn for the loop (Stop) within 10,000 repeats too
                    try:
                        events = self._events(render, step, state)
                        self._prepare(events, step)
                    except StepError as exc:
                        _meet(found, str(exc), row_label,
                              (iteration, step.repeat) if step.repeat > 1 else None)
                        continue
                    self._remember(state, step, index, _fake_ids(len(events)), 200, events)

    @staticmethod
    def _remember(state: RowState, step: SendStep, index: int, ids: list[str],
                  status: int | None, events: list[Any]) -> None:
        if step.name:
            state.steps[step.name] = {"ids": ids, "status": status, "accepted": len(ids),
                                      "events": events}

    # -- running ---------------------------------------------------------------------------
    def _can_send(self) -> None:
        if not self.dry_run and self.target is None:
            raise ValueError("a run that sends needs a target")

    async def run(self) -> RunReport:
        self._can_send()
        report = self._new_report()
        started = time.perf_counter()
        try:
            for row_no, row in enumerate(self.rows, start=1):
                row_label = row_no if row is not None else None
                try:
                    state = self._row_state(self.render, row)
                except StepError as exc:
                    self._emit(report, StepResult(0, "vars", "send", row_label, state=ERROR,
                                                  reason=str(exc)))
                    continue
                report.rows.append(state)
                for index, step in enumerate(self.scenario.steps):
                    repeats = step.repeat if isinstance(step, SendStep) else 1
                    for iteration in range(1, repeats + 1):
                        result = await self._guarded(step, index, iteration, row_label, state)
                        self._emit(report, result)
                        if result.state == CANCELLED:
                            report.cancelled = True
                            return report
        finally:
            report.duration_ms = (time.perf_counter() - started) * 1000
            if report.cancelled:  # said in the JUnit file: a stopped run is not all green
                per_row = sum(s.repeat for s in self.scenario.steps if isinstance(s, SendStep))
                report.not_run = max(0, per_row * len(self.rows)
                                     - sum(r.kind == "send" for r in report.results))
        return report

    async def rerun_failed(self, previous: RunReport) -> RunReport:
        """Run again only the failed results of `previous`, with each row's saved state;
        the new results replace the old ones in a copy of the report."""
        self._can_send()
        problem = self.rerun_problem(previous)
        if problem:
            raise UserError(problem)
        report = self._new_report()
        report.rows = previous.rows
        report.results = list(previous.results)
        # by identity, not by value: list.index compared whole results (dataclass __eq__)
        # with every one before it, and would pick the first of two equal ones
        position = {id(result): i for i, result in enumerate(previous.results)}
        started = time.perf_counter()
        try:
            for result in previous.failed:
                step = self.scenario.steps[result.step] if result.step < len(
                    self.scenario.steps) else None
                if step is None or not previous.rows:
                    continue
                state = previous.rows[(result.row or 1) - 1]
                # what it sent, again; or, when it failed before sending, rendered from
                # where its rendering began: rendered anew from the run's seed, uuid() and
                # seq started over, and a step sent another step's id (deduplicated, passed)
                new = await self._guarded(step, result.step, result.iteration, result.row,
                                          state, rendered=result.rendered or None,
                                          resume=result.render_mark)
                report.results[position[id(result)]] = new
                self._done += 1
                if self.on_result is not None:
                    self.on_result(new)
                if new.state == CANCELLED:
                    report.cancelled = True
                    break
        finally:
            report.duration_ms = (time.perf_counter() - started) * 1000
        return report

    def _new_report(self) -> RunReport:
        shown = "" if self.dry_run or self.target is None else self.target.display_url()
        # a Stop before the first step stays (it was cleared here, and the run went ahead)
        self._done = 0
        return RunReport(self.scenario.name, self.environment, shown, self.seed,
                         self.dry_run, started_ms=int(time.time() * 1000),
                         steps=self._steps_json())

    def _steps_json(self) -> str:
        return json.dumps(self.scenario.to_json()["steps"], sort_keys=True)

    def rerun_problem(self, previous: RunReport) -> str | None:
        """Why the failed steps of `previous` cannot be run again by this runner: its results
        name steps by their place, so a step added above one ran another step."""
        if previous.steps != self._steps_json():
            return ("the scenario's steps changed since that run (a step added, removed or "
                    "edited): run it again from the start")
        return None

    def _emit(self, report: RunReport, result: StepResult) -> None:
        report.results.append(result)
        self._done += 1
        if self.on_result is not None:
            self.on_result(result)
        if self.on_progress is not None:
            self.on_progress(self._done, self.total)

    async def _guarded(self, step: Step, index: int, iteration: int, row: int | None,
                       state: RowState, *, rendered: list[Any] | None = None,
                       resume: Any = None) -> StepResult:
        result = StepResult(index, step_label(step, index),
                            "send" if isinstance(step, SendStep) else "wait", row, iteration,
                            started_ms=int(time.time() * 1000))
        if self._stopping:
            result.state, result.reason = CANCELLED, "stopped before it started"
            return result
        began = time.perf_counter()
        self._current = asyncio.ensure_future(
            self._execute(step, index, state, result, rendered=rendered, resume=resume))
        try:
            return await self._current
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            result.state, result.reason = CANCELLED, "stopped"
            return result
        except HISTORY_FAILURES as exc:
            if self.history_failure is None:
                raise
            self.stopped_by_history = self.history_failure(exc)
            self._stopping = True  # what follows is "stopped before it started"
            result.state = ERROR
            result.reason = f"{self.stopped_by_history}; nothing more was sent"
            return result
        finally:
            self._current = None
            result.duration_ms = (time.perf_counter() - began) * 1000

    async def _execute(self, step: Step, index: int, state: RowState, result: StepResult, *,
                       rendered: list[Any] | None = None, resume: Any = None) -> StepResult:
        """Render the step (or take the events it `rendered` before; or render from
        `resume`, where its rendering began before), check, send, judge."""
        if isinstance(step, WaitStep):
            if self.dry_run:
                result.state, result.reason = DRY_RUN, f"would wait {step.text}"
                return result
            result.reason = f"waited {step.text}"
            await self.sleep(step.millis / 1000)
            return result
        try:
            if rendered is None:
                if resume is not None:  # where this step's rendering began in its run
                    self.render.resume(resume)
                result.render_mark = self.render.mark()
                events = self._events(self.render, step, state)
            else:
                events = rendered
            prepared = self._prepare(events, step)
        except StepError as exc:
            result.state, result.reason = ERROR, str(exc)
            return result
        result.rendered, result.events = events, len(events)
        result.requests, result.bytes = len(prepared.plan.requests), prepared.plan.total_bytes
        if self.dry_run:
            result.state, result.reason = DRY_RUN, "rendered and checked; nothing sent"
            # the stand-ins the pre-check renders with (status 200): `steps.a.status + 1`
            # passed the pre-check, then failed the dry run on None
            self._remember(state, step, index, _fake_ids(len(events)), 200, events)
            return result
        assert self.client is not None and self.target is not None
        session = await _opened(self.sessions(events, prepared.parts, result.name)
                                ) if self.sessions else None
        try:
            observer = session.observer if session is not None else self.send_observer
            outcomes = await send_events(self.client, self.target, prepared.parts,
                                         prepared.plan, observer=observer)
            statuses = [o.result.status for o in outcomes]
            # a request with no answer makes the step's status none, whatever the others
            # said ([400, None] had read as 400, and passed an expected 400)
            result.status = None if None in statuses else next(
                (s for s in statuses if not is_2xx(s)), statuses[0] if statuses else 200)
            result.ids = [i for o in outcomes for i in o.result.ids]
            result.accepted = len(result.ids)
            result.error = next((o.result.error for o in outcomes if o.result.error), None)
            await self._outcomes(step, session, events, outcomes, result)
        finally:
            if session is not None:
                closing = session.close()
                if inspect.isawaitable(closing):
                    await closing
        result.taken = _taken(outcomes)
        # the events each request took: with a request refused in the middle, the first
        # `accepted` events are not the ones taken
        for o in outcomes:
            for event_index in o.events[: len(o.result.ids)]:
                dedup_id = dedup_id_of(events[event_index])
                if dedup_id is not None:
                    self._seen_ids.add(dedup_id)
        # `steps.order.ids[0]` of a step not taken says why, not only "the list has no item"
        ids = result.ids or Emptied(f"step {result.name!r} had no event accepted: "
                                    f"{result.error or f'status {result.status}'}")
        self._remember(state, step, index, ids, result.status, events)
        every = ([kind.value for kind in result.outcome_kinds]
                 if result.dedup is not None else None)
        verdict = check_expect(step.expect, Observed(
            result.status, result.events, result.accepted, result.error, every))
        if result.status is None:  # no answer (from some request): nothing can be judged
            result.state = ERROR
            result.reason = (verdict.reason if not verdict.passed else
                             f"no answer, so \"{verdict.reason}\" proves nothing: "
                             f"{result.error or 'the server did not answer'}")
            return result
        result.state = PASSED if verdict.passed else FAILED
        result.reason = verdict.reason
        return result

    async def _outcomes(self, step: SendStep, session: StepSession | None, events: list[Any],
                        outcomes: list[RequestOutcome], result: StepResult) -> None:
        """Predicted and confirmed outcomes. Confirming (polling runs) happens for every
        step unless `verify` is off; a step whose expectation names a dedup outcome is
        confirmed even then, since the expectation cannot be checked otherwise."""
        wanted = self.verify or (step.expect is not None and step.expect.dedup is not None)
        if session is not None:
            verified = await session.confirm(self.client, outcomes) if wanted else None
            details = [session.describe(o, verified) for o in outcomes]
            result.predicted = [d for detail in details for d in detail.get("dedup", [])]
            if verified is not None:
                result.runs = [r for detail in details for r in detail.get("runs", [])]
                result.dedup = [r["outcome"] for r in result.runs
                                if r.get("outcome") != "not accepted"]
        elif wanted and self.verifier is not None:
            # per request, as a session describes them: accepted events are looked up,
            # the others keep why they were not taken (ids line up even when a request
            # in the middle failed)
            accepted = [(events[index], internal_id) for o in outcomes
                        for index, internal_id in zip(o.events, o.result.ids, strict=False)]
            found = iter(await self.verifier.outcomes(
                [e for e, _ in accepted], [i for _, i in accepted], frozenset(self._seen_ids)))
            kinds: list[Outcome] = []
            for o in outcomes:
                taken = min(len(o.result.ids), len(o.events))
                kinds += [next(found) for _ in range(taken)]
                kinds += not_taken_each(o.result, len(o.events) - taken)
            result.runs = [run_entry(k) for k in kinds]
            result.dedup = [k.kind.value for k in kinds
                            if k.kind is not OutcomeKind.NOT_ACCEPTED]


# what a var sees of `steps`: it is rendered before any step runs (it had said "no earlier
# step with an "as" name has succeeded", of a step that had not failed)
_NO_STEPS = Bag("steps", {}, empty="vars are rendered before any step runs: use "
                "steps.NAME in a step's event")


def _taken(outcomes: Sequence[RequestOutcome]) -> list[OutcomeKind]:
    """Each event's fate as the answers tell it: accepted, or why not (refused, unknown)."""
    kinds: list[OutcomeKind] = []
    for o in outcomes:
        taken = min(len(o.result.ids), len(o.events))
        kinds += [OutcomeKind.ACCEPTED] * taken
        kinds += [k.kind for k in not_taken_each(o.result, len(o.events) - taken)]
    return kinds


@dataclass
class _Met:
    """A pre-check problem as first met, where, and how many more times one was met at its
    place."""

    problem: str
    row: int | None
    repeat: tuple[int, int] | None
    more: int = 0


# where a problem is (its FILE:LINE:COL): problems at one place are one mistake, said once,
# though their words differ ("no item [3]", "no item [4]", ... for each repeat)
_PLACE = re.compile(r"^(.+?:\d+:\d+): ")


def _meet(found: dict[str, _Met], problem: str, row: int | None,
          repeat: tuple[int, int] | None = None) -> None:
    place = _PLACE.match(problem)
    key = place.group(1) if place else problem
    if key in found:
        found[key].more += 1
    else:
        found[key] = _Met(problem, row, repeat)


def _said(found: dict[str, _Met]) -> list[str]:
    """Each problem once, with the data row and repeat it was first met in (a data file
    of thousands of rows had named neither) and how many more times one was met there."""
    out = []
    for met in found.values():
        place = [f"row {met.row}"] if met.row is not None else []
        if met.repeat is not None:
            place.append(f"repeat {met.repeat[0]} of {met.repeat[1]}")
        where = ", ".join(place)
        if met.more:
            again = f"{met.more:,} more {'time' if met.more == 1 else 'times'}"
            where = f"first in {where}; {again}" if where else again
        out.append(f"{met.problem} ({where})" if where else met.problem)
    return out


async def _opened(session: StepSession | Awaitable[StepSession]) -> StepSession:
    """A session factory may open its session synchronously or (the window's history,
    whose reads run on the history thread) as an awaitable."""
    return await session if inspect.isawaitable(session) else session


def _has(value: Any, pointer: str) -> bool:
    for token in pointer.split("/")[1:] if pointer else []:
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(value, dict) or token not in value:
            return False
        value = value[token]
    return bool(pointer)


def _fake_ids(count: int) -> list[str]:
    seed = IdSeed.fresh()
    return [seed.event_id(i) for i in range(count)]

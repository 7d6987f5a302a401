"""What templates can use: `uuid()`, `ulid()`, `now()`, `now_ms()`, `seq`, `vars`, `row`,
`fake`, `steps`, for one run.

Why one object per run: `--seed N` must reproduce a run, so Faker, `uuid()` and the
entropy of `ulid()` all draw from generators seeded once per run, and the clock can be
injected (tests pin it). Faker is created on first use: it costs a quarter of a second.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid as uuid_mod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from console.core import template_limits as limits
from console.core.batch import NO_SIZE_LIMIT
from console.core.ids import ulid as make_ulid
from console.core.positions import parse_with_positions
from console.core.problems import Problem
from console.core.scenario import FORMAT_TEMPLATE
from console.core.serialize import pretty
from console.core.sourcemap import SourceMap
from console.core.template import Bag, TemplateEngine, TemplateError, to_json_value
from console.core.validation import validate_text, whole_placeholder_spans

Clock = Callable[[], int]  # epoch milliseconds
UNIQUE_TRIES = 1000  # draws `fake.unique.NAME()` makes for a new value, as Faker's does

def system_clock() -> int:
    return time.time_ns() // 1_000_000


def iso_millis(ms: int) -> str:
    """ISO 8601 UTC with milliseconds and `Z`, the form JavaScript's toISOString gives."""
    stamp = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class FakeProxy:
    """`fake.*` in templates: a seeded Faker, created on first use, JSON-typed results.

    Only providers can be called, with JSON values, within the sizes and the work budget
    of template_limits; whatever else goes wrong inside Faker is a TemplateError that
    names the provider. `fake.unique.NAME()` is kept here rather than Faker's, so that its
    retries share one budget and running out of values is a TemplateError too.
    """

    def __init__(self, seed: int, locale: str | None = None) -> None:
        self._seed = seed
        self._locale = locale
        self._faker: Any = None
        self._budget = limits.FakeBudget()
        self._seen: dict[tuple[str, str], set[str]] = {}

    def state(self) -> Any:
        """Faker's random state (None before its first use, or where Faker keeps one per
        locale)."""
        if self._faker is None:
            return None
        try:
            return self._faker.random.getstate()
        except (NotImplementedError, AttributeError):
            return None

    def set_state(self, state: Any) -> None:
        if state is None:  # not used yet then: used from its seed's start
            self._faker = None
            return
        with contextlib.suppress(NotImplementedError, AttributeError):
            self._instance().random.setstate(state)

    def _instance(self) -> Any:
        if self._faker is None:
            from faker import Faker

            faker = Faker(self._locale)
            faker.seed_instance(self._seed)
            for generator in faker.factories:
                limits.guard_generator(generator, self._budget)
            self._faker = faker
        return self._faker

    def _provider(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        function = limits.fake_provider(self._instance(), name)
        if function is None:
            raise AttributeError(name)
        return function

    def __getattr__(self, name: str) -> Any:
        if name == "unique":
            return UniqueFake(self)
        function = self._provider(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._budget.start(name, limits.fake_work(name, function, args, kwargs))
            return self._call(name, function, args, kwargs)

        return call

    def _call(self, name: str, function: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Any:
        try:
            value = function(*args, **kwargs)
        except (SecurityError, UndefinedError, TemplateError):
            raise
        except Exception as exc:  # Faker's own errors come from the user's arguments
            text = str(exc).splitlines()[0] if str(exc) else ""
            raise TemplateError(f"fake.{name} failed: {type(exc).__name__}"
                                + (f": {text}" if text else "")) from None
        return to_json_value(value)

    def describe_missing(self, name: str) -> str:
        return f"fake has no {name!r} (use Faker providers such as fake.name())"


class UniqueFake:
    """`fake.unique.NAME(...)`: a value NAME has not given before in this run (for the
    same arguments), or a TemplateError when UNIQUE_TRIES draws or the work budget run
    out. `fake.unique.clear()` forgets what was given."""

    def __init__(self, fake: FakeProxy) -> None:
        self._fake = fake

    def __getattr__(self, name: str) -> Any:
        fake = self._fake
        if name == "clear":
            return fake._seen.clear
        function = fake._provider(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            work = limits.fake_work(name, function, args, kwargs)
            seen = fake._seen.setdefault((name, repr((args, sorted(kwargs.items())))), set())
            fake._budget.start(f"unique.{name}", work)
            for attempt in range(UNIQUE_TRIES):
                if attempt:
                    fake._budget.spend(work)
                value = fake._call(f"unique.{name}", function, args, kwargs)
                key = repr(value)
                if key not in seen:
                    seen.add(key)
                    return value
            raise TemplateError(f"fake.unique.{name} gave no new value in {UNIQUE_TRIES:,} "
                                f"tries (it has given {len(seen):,} different ones)")

        return call

    def describe_missing(self, name: str) -> str:
        return self._fake.describe_missing(name)


def step_bag(steps: Mapping[str, Any]) -> Bag:
    """`steps`: each earlier step's results (`ids`, `status`, `accepted`, `events`)."""
    return Bag("steps", {
        name: value if isinstance(value, Bag) else Bag(f"steps.{name}", value)
        for name, value in steps.items()
    })


@dataclass
class RenderRun:
    """One run's rendering state: seed (Faker, uuid, ulid), clock, `seq` counter."""

    engine: TemplateEngine
    seed: int = field(default_factory=lambda: random.SystemRandom().randrange(2**31))
    clock: Clock = system_clock
    locale: str | None = None
    seq: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.fake = FakeProxy(self.seed, self.locale)

    def mark(self) -> tuple[Any, ...]:
        """Where the rendering stands (its random state, `seq`, Faker's): `resume` goes
        back there, so a step rendered again gives what it gave the first time."""
        return (self._rng.getstate(), self.seq, self.fake.state())

    def resume(self, mark: tuple[Any, ...]) -> None:
        rng, self.seq, fake = mark
        self._rng.setstate(rng)
        self.fake.set_state(fake)

    def uuid(self) -> str:
        return str(uuid_mod.UUID(int=self._rng.getrandbits(128), version=4))

    def ulid(self) -> str:
        return make_ulid(self.clock(), self._rng.randbytes(10))

    def now(self) -> str:
        return iso_millis(self.clock())

    def now_ms(self) -> int:
        return self.clock()

    def scope(
        self,
        *,
        vars: Mapping[str, Any] | None = None,
        row: Mapping[str, Any] | None = None,
        steps: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "uuid": self.uuid, "ulid": self.ulid, "now": self.now, "now_ms": self.now_ms,
            "seq": self.seq, "vars": Bag("vars", vars or {}), "row": Bag("row", row or {}),
            "fake": self.fake, "steps": step_bag(steps or {}),
        }

    def render_event(
        self,
        value: Any,
        *,
        vars: Mapping[str, Any] | None = None,
        row: Mapping[str, Any] | None = None,
        steps: Mapping[str, Any] | None = None,
        pointer: str = "",
    ) -> Any:
        """Render one event (or any JSON value); `seq` advances once per call."""
        self.seq += 1
        scope = self.scope(vars=vars, row=row, steps=steps)
        return self.engine.render_value(value, scope, pointer=pointer)


PREVIEW_SEED = 1


def preview_render(value: Any, engine: TemplateEngine, *, vars: Mapping[str, Any] | None = None,
                   seed: int = PREVIEW_SEED, clock: Clock = system_clock) -> Any:
    """What a template or event (or an array of events) renders to, for showing beside
    the editor and for Send.

    Steps it refers to get made-up results (an id, status 200), since no scenario is
    running; a TemplateError says what is wrong and where, exactly as a send would.
    """
    _errors, refs = engine.check_value(value)
    steps = {
        name: {"ids": [make_ulid(clock(), bytes(10))], "status": 200, "accepted": 1,
               "events": [{}]}
        for _pointer, name in refs
    }
    run = RenderRun(engine, seed=seed, clock=clock)
    if isinstance(value, list):  # an array of events: `seq` advances for each, as in a run
        return [run.render_event(item, vars=vars, steps=steps, pointer=f"/{index}")
                for index, item in enumerate(value)]
    return run.render_event(value, vars=vars, steps=steps)


def problems_in_source(text: str, problems: Sequence[Problem]) -> list[Problem]:
    """Problems found in what `text` rendered to (`render_text`), placed where their JSON
    Pointer is in `text` itself: rendered text is pretty-printed, so its LINE:COL named
    another place, and the cursor was sent there."""
    doc = parse_with_positions(text)
    if doc.error is not None:
        return list(problems)
    base = "/event" if (isinstance(doc.value, dict)
                        and doc.value.get("format") == FORMAT_TEMPLATE) else ""
    source = SourceMap("", doc)
    placed = []
    for problem in problems:
        at = source.problem(base + problem.pointer, problem.message).problem
        placed.append(replace(problem, start=at.start, end=at.end, line=at.line,
                              column=at.column))
    return placed


def placeholder_errors(text: str, rendered: str) -> list[Problem]:
    """What Send would refuse in the values of `text` that are one placeholder (`"ts":
    "{{ now() }}"` renders to a string), at those placeholders. The editor's own check
    leaves such values to Send, since they are strings until rendered."""
    spans = whole_placeholder_spans(text)
    if not spans:
        return []
    report = validate_text(rendered, event_limit=NO_SIZE_LIMIT)  # sizes: Send says
    return [p for p in problems_in_source(text, report.errors)
            if any(start <= p.start and p.end <= end for start, end in spans)]


def render_text(text: str, engine: TemplateEngine, variables: Mapping[str, Any] | None = None,
                *, seed: int = PREVIEW_SEED) -> tuple[str | None, str | None]:
    """An event's text (or a template document's) with its placeholders rendered:
    (pretty JSON, None), or (None, "LINE:COL: message") at the place in `text`.

    The preview uses a fixed seed so it does not jump; a send passes a fresh one."""
    doc = parse_with_positions(text)
    if doc.error is not None:
        return None, f"{doc.error.line}:{doc.error.column}: {doc.error.message}"
    value, base = doc.value, ""
    if isinstance(value, dict) and value.get("format") == FORMAT_TEMPLATE:
        value, base = value.get("event"), "/event"
    try:
        rendered = preview_render(value, engine, vars=variables, seed=seed)
    except TemplateError as exc:
        problem = SourceMap("", doc).problem(base + exc.pointer, exc.message,
                                             string_offset=exc.offset, line=exc.line)
        return None, f"{problem.problem.line}:{problem.problem.column}: {exc.message}"
    return pretty(rendered), None

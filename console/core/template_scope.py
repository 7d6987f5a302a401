"""What templates can use: `uuid()`, `ulid()`, `now()`, `now_ms()`, `seq`, `vars`, `row`,
`fake`, `steps`, for one run.

Why one object per run: `--seed N` must reproduce a run, so Faker, `uuid()` and the
entropy of `ulid()` all draw from generators seeded once per run, and the clock can be
injected (tests pin it). Faker is created on first use: it costs a quarter of a second.
"""

from __future__ import annotations

import random
import time
import uuid as uuid_mod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from console.core.ids import ulid as make_ulid
from console.core.positions import parse_with_positions
from console.core.scenario import FORMAT_TEMPLATE
from console.core.serialize import pretty
from console.core.sourcemap import SourceMap
from console.core.template import Bag, TemplateEngine, TemplateError, to_json_value

Clock = Callable[[], int]  # epoch milliseconds

_FAKE_DENIED = frozenset({
    "seed", "seed_instance", "seed_locale", "add_provider", "get_providers", "provider",
    "set_arguments", "get_arguments", "del_arguments", "set_formatter", "get_formatter",
    "random", "factories", "binary", "zip", "tar", "image", "json_bytes", "weights", "items",
})


def system_clock() -> int:
    return time.time_ns() // 1_000_000


def iso_millis(ms: int) -> str:
    """ISO 8601 UTC with milliseconds and `Z`, the form JavaScript's toISOString gives."""
    stamp = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")



class FakeProxy:
    """`fake.*` in templates: a seeded Faker, created on first use, JSON-typed results."""

    def __init__(self, seed: int, locale: str | None = None, *, _faker: Any = None) -> None:
        self._seed = seed
        self._locale = locale
        self._faker = _faker

    def _instance(self) -> Any:
        if self._faker is None:
            from faker import Faker

            self._faker = Faker(self._locale)
            self._faker.seed_instance(self._seed)
        return self._faker

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in _FAKE_DENIED:
            raise AttributeError(name)
        faker = self._instance()
        if name == "unique":
            return FakeProxy(self._seed, _faker=faker.unique)
        try:
            attr = getattr(faker, name)
        except AttributeError:
            raise AttributeError(name) from None
        if not callable(attr):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return to_json_value(attr(*args, **kwargs))

        return call

    def describe_missing(self, name: str) -> str:
        return f"fake has no {name!r} (use Faker providers such as fake.name())"


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
    """What a template or event renders to, for showing beside the editor.

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
    return run.render_event(value, vars=vars, steps=steps)


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

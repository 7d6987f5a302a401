"""Regular expressions from schemas, run with a time limit and without the GIL.

A schema's `pattern` and `patternProperties` are its author's code, run on what the user
types. Python's `re` cannot be stopped and holds the GIL while it backtracks: a pattern
such as `^(a|a)*$` on a 40-character value ran for hours, and since the GIL was held, the
window froze too, though the check runs on a worker thread. The `regex` module stops a
match after `PATTERN_SECONDS` and lets go of the GIL while it matches (`concurrent`).

The keyword functions here replace jsonschema's `pattern`, `patternProperties` and
`additionalProperties` (the three that match patterns against values and keys) in every
validator `schemas.validator_class` hands out. `unevaluatedProperties` matches the
`patternProperties` keys it meets in jsonschema's own code, through the `re` of the
jsonschema modules that search patterns: `bound_library_patterns` has them search here.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import regex
from jsonschema import FormatChecker, ValidationError

PATTERN_SECONDS = 0.25
PatternError = regex.error  # an invalid pattern


class SlowPattern(Exception):
    """A match took too long and was stopped (see `search`)."""

    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self.pattern = pattern


class SlowPatternError(ValidationError):  # type: ignore[misc]
    """The validation error of a value (or key) a pattern could not be checked against."""


@functools.lru_cache(maxsize=1024)
def compiled(pattern: str) -> regex.Pattern[str]:
    """The compiled pattern; raises PatternError with the reason when it is invalid."""
    return regex.compile(pattern)


def pattern_error(pattern: str) -> str | None:
    """Why `pattern` is not a regular expression, or None when it is."""
    try:
        compiled(pattern)
    except PatternError as exc:
        return str(exc)
    except (RecursionError, OverflowError, ValueError):
        return "too complex to compile"
    return None


STOPPED_SECONDS = 0.01  # the limit of a pattern stopped before, in this process
_STOPPED: set[str] = set()

# One check of one event (`budget`): its matches together get CHECK_SECONDS; past that,
# each gets SPENT_SECONDS (a key or value that matches or fails at once still gets its
# verdict), and a match already stopped in it on the same text is not run again. Per
# match only, 1,000 keys against a pattern that backtracks took 12.9 s, and 40 such
# patterns 10.4 s: at every pause in typing, on the window's thread.
CHECK_SECONDS = 0.5
SPENT_SECONDS = 0.0005


@dataclass
class _Check:
    deadline: float
    stopped: set[tuple[str, str]] = field(default_factory=set)


_CHECK: ContextVar[_Check | None] = ContextVar("pattern_check", default=None)


@contextlib.contextmanager
def budget(seconds: float = CHECK_SECONDS) -> Iterator[None]:
    """The matches made inside share `seconds` (see CHECK_SECONDS)."""
    token = _CHECK.set(_Check(time.monotonic() + seconds))
    try:
        yield
    finally:
        _CHECK.reset(token)


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (as JSON Schema's `pattern`: not
    anchored). Raises SlowPattern when the match takes over PATTERN_SECONDS (a pattern
    stopped once gets STOPPED_SECONDS from then on: an array of 1,000 values it backtracks
    on would take 4 minutes otherwise; and inside a `budget`, less), and PatternError when
    the pattern is invalid (schemas are checked for that on load)."""
    limit = STOPPED_SECONDS if pattern in _STOPPED else PATTERN_SECONDS
    check = _CHECK.get()
    if check is not None:
        if (pattern, text) in check.stopped:
            raise SlowPattern(pattern)
        left = check.deadline - time.monotonic()
        limit = min(limit, left) if left > SPENT_SECONDS else SPENT_SECONDS
    try:
        return compiled(pattern).search(text, timeout=limit, concurrent=True) is not None
    except TimeoutError:
        if limit >= PATTERN_SECONDS:  # not one cut short by a check's budget: a pattern
            _STOPPED.add(pattern)  # of linear time on a long text would stay "stopped"
        if check is not None:
            check.stopped.add((pattern, text))
        raise SlowPattern(pattern) from None


def slow_message(pattern: str) -> str:
    return (f"could not be checked: the schema's pattern {pattern} took too long and was "
            "stopped (simplify the pattern)")


def pattern_keyword(validator: Any, pattern: str, instance: Any,
                    schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        if not search(pattern, instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")
    except SlowPattern:
        yield SlowPatternError(slow_message(pattern))


def pattern_properties_keyword(validator: Any, patterns: dict[str, Any], instance: Any,
                               schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            try:
                if search(pattern, key):
                    yield from validator.descend(value, subschema, path=key,
                                                 schema_path=pattern)
            except SlowPattern:
                yield SlowPatternError(slow_message(pattern), path=[key])


def _covered(pattern: str, key: str) -> bool:
    """Whether `patternProperties` covers `key`; a stopped pattern counts as covering it
    (patternProperties reports it: the key is not called unexpected on a guess)."""
    try:
        return search(pattern, key)
    except SlowPattern:
        return True


def additional(instance: dict[str, Any], schema: Any) -> list[str]:
    """Keys of `instance` that neither `properties` nor `patternProperties` cover."""
    schema = schema if isinstance(schema, dict) else {}
    known, patterns = schema.get("properties", {}), list(schema.get("patternProperties", {}))
    return [key for key in instance if key not in known
            and not any(_covered(p, key) for p in patterns)]


def additional_properties_keyword(validator: Any, allowed: Any, instance: Any,
                                  schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = additional(instance, schema)
    if validator.is_type(allowed, "object"):
        for key in extras:
            yield from validator.descend(instance[key], allowed, path=key)
    elif not allowed and extras:
        listed = ", ".join(repr(key) for key in extras)
        yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


class _BoundedRe:
    """What the jsonschema modules in `LIBRARY_MODULES` see as `re`: all they use of it
    is `re.search(pattern, key)`, on a `patternProperties` key (searching for the keys
    `unevaluatedProperties` counts as evaluated), and only whether it matched."""

    search = staticmethod(_covered)


# jsonschema's modules that call `re.search` on a schema's patterns
LIBRARY_MODULES = ("jsonschema._utils", "jsonschema._keywords", "jsonschema._legacy_keywords")


def bound_library_patterns() -> None:
    """Have jsonschema's own pattern searches stop after `PATTERN_SECONDS` too: with
    `re`, `{"patternProperties": {"^(a|a)*$": {}}, "unevaluatedProperties": false}` ran
    for hours on a 31-character key, holding the GIL (a frozen window). Such a key counts
    as evaluated (`_covered`); `patternProperties` reports the pattern that was stopped."""
    for name in LIBRARY_MODULES:  # tests/core/test_schemas.py: drafts 2019-09 and 2020-12
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "re"):
            setattr(module, "re", _BoundedRe)  # noqa: B010 (a module's global, on purpose)


KEYWORDS = {
    "pattern": pattern_keyword,
    "patternProperties": pattern_properties_keyword,
    "additionalProperties": additional_properties_keyword,
}

# for the meta-schema check of a schema: its `pattern`s and `patternProperties` keys
# must compile (the meta-schemas say `"format": "regex"` there); nothing else is checked
PATTERN_SYNTAX = FormatChecker(formats=())
PATTERN_SYNTAX.checks("regex", raises=())(lambda value: not isinstance(value, str)
                                          or pattern_error(value) is None)

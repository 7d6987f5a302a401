"""Size limits on what one template operation may build, checked before it builds it.

A template comes from a workspace someone else may have written. Jinja's sandbox keeps it
away from Python's internals, but not from memory: `{{ 'x' | center(3000000000) }}` asks
for a 3 GB string in one C call, and the window (or a CI run) dies of it. The rendered
text is capped afterwards (template.MAX_TEXT), but by then the memory is gone; so the
operations whose result can be far bigger than their input are checked here first, and
refused with a SecurityError ("refused by the template sandbox: …") when it would be over
`limit` characters or items:

- filters: center, indent, replace, join, format, wordwrap, batch, slice;
- str methods: center, ljust, rjust, zfill, expandtabs, replace, join, format, format_map;
- the `%` operator on a string (printf widths and precisions).

`*`, `**`, `+` and `~` are checked by template._Sandbox; `map`'s output is counted here
(`counted`), as are `fake.*` calls (see "fake.*" below).
"""

from __future__ import annotations

import functools
import inspect
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from jinja2.exceptions import SecurityError

_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")


def _too_big(size: int, limit: int) -> None:
    if size > limit:
        raise SecurityError(f"result longer than {limit:,} characters")


def printf_widths(fmt: Any, limit: int) -> None:
    """`fmt % args`: no width or precision over `limit`, none taken from the arguments."""
    if not isinstance(fmt, str):
        return
    for width, precision in _PRINTF.findall(fmt):
        if "*" in (width, precision):
            raise SecurityError("a width or precision taken from the arguments (*)")
        for number in (width, precision):
            _too_big(int(number or 0), limit)


def format_widths(fmt: Any, limit: int) -> None:
    """`fmt.format(...)`: the same for each replacement field's format spec."""
    if not isinstance(fmt, str):
        return
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # format() says what is wrong with it
    for _text, _name, spec, _conversion in fields:
        if not spec:
            continue
        if "{" in spec:
            raise SecurityError("a width or precision taken from the arguments ({...})")
        for number in _NUMBER.findall(spec):
            _too_big(int(number), limit)


def replaced_size(text: Any, old: Any, new: Any, count: Any, limit: int) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    _too_big(len(text) + found * (len(new) - len(old)), limit)


def joined_size(separator: Any, items: Any, limit: int) -> None:
    if not isinstance(items, list | tuple):
        return  # a generator's items are made one at a time (and the render is timed)
    glue = len(separator) if isinstance(separator, str) else 0
    _too_big(glue * max(len(items) - 1, 0)
             + sum(len(item) for item in items if isinstance(item, str)), limit)


def _width(value: Any) -> int:
    return len(value) if isinstance(value, str) else value if isinstance(value, int) else 0


def _lines(text: Any) -> int:
    return text.count("\n") + 1 if isinstance(text, str) else 1


def _args(names: Iterable[str], args: tuple[Any, ...], kwargs: Mapping[str, Any],
          defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of a call by parameter name (what was not passed: its default)."""
    out = dict(defaults)
    out.update(zip(names, args, strict=False))
    out.update(kwargs)
    return out


def _wrapped_size(a: dict[str, Any], limit: int) -> None:
    text = a["value"]
    if isinstance(text, str):
        breaks = len(text) // max(_width(a["width"]), 1) + 1
        _too_big(len(text) + _width(a["wrapstring"]) * breaks, limit)


Check = Callable[[dict[str, Any], int], None]

# filter -> (its parameters after the value, their defaults, the check); an argument left
# out is left to the filter to complain about (`.get`), in its own words
FILTER_CHECKS: dict[str, tuple[tuple[str, ...], dict[str, Any], Check]] = {
    "center": (("width",), {"width": 80}, lambda a, n: _too_big(_width(a["width"]), n)),
    "indent": (("width", "first", "blank"), {"width": 4},
               lambda a, n: _too_big(_width(a["width"]) * _lines(a["value"]), n)),
    "replace": (("old", "new", "count"), {"count": None},
                lambda a, n: replaced_size(a["value"], a.get("old"), a.get("new"), a["count"], n)),
    "join": (("d", "attribute"), {"d": ""},
             lambda a, n: joined_size(a["d"], a["value"], n)),
    "format": ((), {}, lambda a, n: printf_widths(a["value"], n)),
    "wordwrap": (("width", "break_long_words", "wrapstring"),
                 {"width": 79, "wrapstring": "\n"}, _wrapped_size),
    "batch": (("linecount", "fill_with"), {},
              lambda a, n: _too_big(_width(a.get("linecount")), n)),
    "slice": (("slices", "fill_with"), {}, lambda a, n: _too_big(_width(a.get("slices")), n)),
}


def guarded_filter(name: str, function: Callable[..., Any], limit: int) -> Callable[..., Any]:
    """`function` (Jinja's filter `name`), checked before it runs."""
    names, defaults, check = FILTER_CHECKS[name]
    # a filter marked pass_eval_context / pass_environment gets that first, then the value
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)  # keeps that mark
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if len(args) > skip:
            check(_args(("value", *names), args[skip:], kwargs, defaults), limit)
        return function(*args, **kwargs)

    return guarded


# str method -> the check of its arguments (the string itself first)
METHOD_CHECKS: dict[str, Callable[[str, tuple[Any, ...], dict[str, Any], int], None]] = {
    **{name: (lambda s, a, k, n: _too_big(_width(a[0]) if a else 0, n))
       for name in ("center", "ljust", "rjust", "zfill")},
    "expandtabs": lambda s, a, k, n: _too_big(
        len(s) + s.count("\t") * _width(a[0] if a else k.get("tabsize", 8)), n),
    "replace": lambda s, a, k, n: replaced_size(
        s, a[0] if a else None, a[1] if len(a) > 1 else None,
        a[2] if len(a) > 2 else k.get("count", -1), n),
    "join": lambda s, a, k, n: joined_size(s, a[0] if a else None, n),
    "format": lambda s, a, k, n: format_widths(s, n),
    "format_map": lambda s, a, k, n: format_widths(s, n),
}


def check_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any], limit: int) -> None:
    """Refuse a call of a str method that would build more than `limit` characters (the
    sandbox hands out str.format wrapped: the method is its `__wrapped__`)."""
    method = getattr(obj, "__wrapped__", obj)
    owner = getattr(method, "__self__", None)
    if isinstance(owner, str):
        check = METHOD_CHECKS.get(getattr(method, "__name__", ""))
        if check is not None:
            check(owner, args, kwargs, limit)


def weight(value: Any, limit: int) -> int:
    """About how many characters `value` takes as text: a string its length, every other
    item at least 1. Counted only until it passes `limit`, so a list that holds another
    list twice, which holds another twice… (a million times over, by reference) is not
    walked to its end."""
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, list | tuple | dict):
        return 1
    total = 0
    stack: list[Any] = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple):
            total += 1
            stack.extend(item[: limit - total + 1])
        elif isinstance(item, dict):
            total += 1
            for key, child in list(item.items())[: limit - total + 1]:
                stack.append(key)
                stack.append(child)
        else:
            total += 1
    return total


def counted(items: Iterable[Any], limit: int) -> Iterator[Any]:
    """`items`, refused once they come to more than `limit` characters in all (`map`
    applies a widening filter to each of up to 100,000 items)."""
    total = 0
    for item in items:
        total += weight(item, limit)
        _too_big(total, limit)
        yield item


def counted_filter(function: Callable[..., Any], limit: int) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps a pass_context mark
    def guarded(*args: Any, **kwargs: Any) -> Any:
        return counted(function(*args, **kwargs), limit)

    return guarded


# -- fake.* ---------------------------------------------------------------------------------
# Faker's providers take sizes (`text(max_nb_chars=10**9)` ran for minutes) and reach each
# other by name (`format`, `parse`, `pystr_format('{{seed_instance}}')`, `json`'s columns,
# `pylist`'s value_types). So: only provider methods are callable, each argument is checked
# (JSON values only; sizes and other numbers capped), and each call has a work budget that
# the providers it calls by name draw on too.
FAKE_DENIED = frozenset({"binary", "zip", "tar", "image", "json_bytes", "enum", "pyobject"})
FAKE_TEXT = 100_000  # characters (or items) one argument may hold, and a length may ask for
FAKE_ITEMS = 1_000  # how many words, sentences, rows, elements… one argument may ask for
FAKE_LEVELS = 100  # levels of a host name, folders of a path, parts of a URL path
FAKE_NUMBER = 10**18  # any other number (a minimum, a maximum, a timestamp)
# one call's budget: its longest length times its counts, plus its calls by name (a
# json(num_rows=1000) of names and addresses makes some 12,000 of them: 0.1-0.5 s)
FAKE_WORK = 500_000
_CALL_WORK = 20  # what one call by name costs (a provider call takes 10-40 µs)
_SIZES = {
    **dict.fromkeys(("length", "max_nb_chars", "max_chars", "min_chars", "digits",
                     "left_digits", "right_digits"), FAKE_TEXT),
    **dict.fromkeys(("nb", "nb_elements", "nb_sentences", "nb_texts", "nb_words",
                     "num_rows", "count", "num_files"), FAKE_ITEMS),
    **dict.fromkeys(("levels", "depth", "deep"), FAKE_LEVELS),
}
# parameters whose numbers are values, not sizes; a number anywhere else is a size
_VALUES = frozenset({
    "min", "max", "min_value", "max_value", "step", "number", "le", "ge", "elements",
    "ext_word_list", "start_date", "end_date", "start_datetime", "end_datetime",
    "datetime_start", "datetime_end", "date_start", "date_end", "birthday", "center",
    "radius", "chance_of_getting_true", "truth_probability", "minimum_age", "maximum_age",
    "version_from", "version_to", "build_from", "build_to", "year", "month", "day",
    "precision", "width", "height", "start", "end", "seed", "hue",
})


def fake_provider(source: Any, name: str) -> Callable[..., Any] | None:
    """`source.NAME` if it is a provider's method templates may call, else None (the
    generator's own methods, `format`, `parse`, `seed_instance`… are not providers)."""
    if name.startswith(("_", "seed")) or name in FAKE_DENIED:
        return None
    from faker.providers import BaseProvider

    try:
        function = getattr(source, name)
    except Exception:  # Faker raises TypeError for a few names
        return None
    if not isinstance(getattr(function, "__self__", None), BaseProvider):
        return None
    return function  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1024)
def _signature(function: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(function)


def _arguments(function: Callable[..., Any], args: tuple[Any, ...],
               kwargs: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(parameter, value) of a call; a wrong call raises the TypeError the call would."""
    plain = getattr(function, "__func__", None)  # cached by function, not by provider
    if plain is None:
        return list(_signature(function).bind(*args, **kwargs).arguments.items())
    return list(_signature(plain).bind(None, *args, **kwargs).arguments.items())[1:]


def fake_work(name: str, function: Callable[..., Any], args: tuple[Any, ...],
              kwargs: Mapping[str, Any]) -> int:
    """The work `function(*args, **kwargs)` may do (its longest length times the product
    of its counts, or the characters it is given), after refusing an argument that is not
    a JSON value or asks for too much. Lengths are not multiplied together: `pystr(
    min_chars=400, max_chars=400)` asks for 400 characters, not 160,000."""
    if not args and not kwargs:
        return 1
    longest, counts, given = 1, 1, 0
    for parameter, value in _arguments(function, args, kwargs):
        cap = _SIZES.get(parameter, FAKE_NUMBER if parameter in _VALUES else FAKE_TEXT)
        size, sizes = _argument(name, parameter, value, cap)
        if cap == FAKE_TEXT:
            longest = max(longest, sizes)
        else:
            counts *= sizes
        product, given = longest * counts, given + size
        if product > FAKE_WORK or given > FAKE_TEXT:
            raise SecurityError(f"fake.{name} is asked for too much (over {FAKE_WORK:,} "
                                "characters or items in all)")
    return max(longest * counts, given)


def _argument(name: str, parameter: str, value: Any, cap: int) -> tuple[int, int]:
    """(characters in `value`, product of the sizes in it), or a SecurityError."""
    counts_as_size = parameter not in _VALUES
    size, sizes = 0, 1
    stack = [value]
    while stack:
        item = stack.pop()
        size += 1
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, list | tuple):
            stack.extend(item[:FAKE_TEXT])
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, int | float) and not isinstance(item, bool):
            if not abs(item) <= cap:  # NaN too
                raise SecurityError(f"fake.{name}: {parameter} is over {cap:,}")
            if counts_as_size:
                sizes *= max(int(item), 1)
        elif item is not None and not isinstance(item, bool):
            str(item)  # an undefined name says so
            raise SecurityError(f"fake.{name}: {parameter} is a {type(item).__name__} (fake.* "
                                "takes text, numbers, true/false, none, lists and objects)")
        if size > FAKE_TEXT:
            raise SecurityError(f"fake.{name}: {parameter} is longer than {FAKE_TEXT:,} "
                                "characters")
    return size, sizes


class FakeBudget:
    """What is left of one `fake.NAME(...)` call's FAKE_WORK, shared with every provider
    it calls by name (a `pylist` of a thousand values, a thousand `json` rows)."""

    def __init__(self) -> None:
        self.name = ""
        self.left = FAKE_WORK

    def start(self, name: str, work: int) -> None:
        self.name, self.left = name, FAKE_WORK
        self.spend(work)

    def spend(self, work: int) -> None:
        self.left -= work
        if self.left < 0:
            raise SecurityError(f"fake.{self.name} is asked for too much (over "
                                f"{FAKE_WORK:,} characters or items in all)")


def guard_generator(generator: Any, budget: FakeBudget) -> None:
    """Make a Faker generator's look-up by name (behind `format`, `parse` and the
    providers that use them) refuse what `fake.NAME` refuses, and charge `budget`."""
    lookup = generator.get_formatter

    def get_formatter(name: str) -> Callable[..., Any]:
        function = lookup(name)
        if fake_provider(generator, name) is None:
            raise SecurityError(f"fake.{budget.name} may not use {name!r}")

        def checked(*args: Any, **kwargs: Any) -> Any:
            budget.spend(_CALL_WORK + fake_work(name, function, args, kwargs))
            return function(*args, **kwargs)

        return checked

    generator.get_formatter = get_formatter

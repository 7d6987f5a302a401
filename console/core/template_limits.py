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

`*` and `**` are checked by template._Sandbox.call_binop.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterable, Mapping
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

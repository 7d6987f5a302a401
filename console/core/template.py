"""Placeholders in templates and scenario steps, rendered in Jinja2's sandbox.

Why the sandbox: template and scenario files come from git repositories and other people;
rendering one must never reach Python internals (`''.__class__.__mro__`), the file system
or the network, and must not be able to build a gigabyte string by accident.

Why per-string compilation: every string value of an event is its own template, compiled
once and cached. A string that is exactly one placeholder (`"{{ now_ms() }}"`) is compiled
as an *expression* and keeps the JSON type of its value (a number stays a number). A string
made of text and `{{ ... }}` placeholders is evaluated piece by piece so an error can name
the exact placeholder (its offset in the string); anything with `{% ... %}` statements is
rendered as a whole template. Values are put into text as JSON (`true`, `null`), not as
Python reprs, since the result is JSON.
"""

from __future__ import annotations

import math
import re
import sys
import time
import uuid as uuid_mod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from functools import lru_cache
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, UndefinedError, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from console.core import template_limits as limits
from console.core.errors import InputError
from console.core.serialize import event_bytes

HELPERS = ("uuid", "ulid", "now", "now_ms", "seq", "vars", "row", "fake", "steps")
MAX_TEXT = 1_000_000  # characters any one operation or rendered string may produce
MAX_INT_BITS = 64_000  # an integer `*` or `**` may make (about 19,000 digits)
# `{{ }}` placeholders and `{% %}` statements in one string: each is compiled (~0.2 to
# 0.4 ms), and a 1 MB template of 200,000 took 80 s and 660 MB at every load of its
# workspace, used or not
MAX_PLACEHOLDERS = 5_000
MAX_DEPTH = 200  # nesting of values converted to JSON
RENDER_SECONDS = 2.0  # the longest a `{% ... %}` template may run
CHECK_EVERY = 4096  # template lines between looks at the clock
_MARKERS = ("{{", "{%", "{#")
_CONTAINERS = (list, tuple, dict)
# what a template's own code can raise: the user's mistake, said as a TemplateError
_ERRORS = (ArithmeticError, TypeError, ValueError, LookupError, NameError, AttributeError,
           RuntimeError, AssertionError)


def first_template_mark(text: str) -> int:
    """Where the first `{{`, `{%` or `{#` of `text` is, or -1."""
    return min((at for at in map(text.find, _MARKERS) if at >= 0), default=-1)


def has_template_marks(text: str) -> bool:
    """Whether `text` holds anything a template renders (`{{ }}`, `{% %}`, `{# #}`). Only
    such text is rendered, by Send as by `run`: the window had looked for "{{" alone, so
    an `{% if %}` block typed in the editor went out as it was written."""
    return any(marker in text for marker in _MARKERS)


class TemplateError(InputError):
    """A placeholder that cannot be compiled or rendered.

    `pointer` is the JSON Pointer of the string value holding it, `offset` the character
    offset of the failing placeholder inside that string (None when only the line is known,
    `line` is 1-based inside the string).
    """

    def __init__(
        self, message: str, *, pointer: str = "", offset: int | None = None, line: int = 1
    ) -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer
        self.offset = offset
        self.line = line

    def at(self, pointer: str) -> TemplateError:
        return TemplateError(self.message, pointer=pointer, offset=self.offset, line=self.line)


def to_json_value(value: Any) -> Any:
    """A value as JSON data: dates become ISO text, tuples lists; anything else is refused,
    and so is a value longer than MAX_TEXT characters as JSON (counted as it is copied, so
    a list holding the same list twice, forty levels deep, is refused, not walked)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _json_int(value)
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise TemplateError(f"rendered text is longer than {MAX_TEXT:,} characters")
        return str(value)
    return _JsonCopy().copy(value, 0)


def _json_int(value: int) -> int:
    """An int Python can write as text (it refuses over 4,300 digits, when already sent)."""
    if value.bit_length() > 14_000:
        raise TemplateError("a number longer than 4,000 digits cannot be put in JSON")
    return value


class _JsonCopy:
    """One to_json_value: the characters left of MAX_TEXT (each item counts one or more)."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_TEXT

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise TemplateError(f"rendered value is longer than {MAX_TEXT:,} characters")

    def copy(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise TemplateError(f"value nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, Undefined):
            str(value)  # raises the UndefinedError/SecurityError that says what is missing
        if isinstance(value, str):
            self.spend(len(value) + 2)
            return str(value)
        self.spend(1)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return _json_int(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise TemplateError(f"{value} is not a JSON number")
            return value
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise TemplateError(f"{value} is not a JSON number")
            if value != value.to_integral_value():
                return float(value)
            if value.adjusted() > 4_000:
                raise TemplateError("a number longer than 4,000 digits cannot be put in JSON")
            return int(value)
        if isinstance(value, datetime | date | dtime):
            return value.isoformat()
        if isinstance(value, uuid_mod.UUID):
            return str(value)
        if isinstance(value, Bag):
            value = {key: value[key] for key in value}
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TemplateError(f"object key {key!r} is not a string")
                self.spend(len(key))
                out[key] = self.copy(item, depth + 1)
            return out
        if isinstance(value, list | tuple):
            return [self.copy(item, depth + 1) for item in value]
        raise TemplateError(f"a value of type {type(value).__name__} cannot be put in JSON")


def to_text(value: Any) -> str:
    """How a value appears inside a larger string: text as is, everything else as JSON."""
    value = to_json_value(value)
    if isinstance(value, str):
        return value
    return event_bytes(value).decode("utf-8")


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, except that `a ~ b` is checked for size before it is joined
    (it is no operator the sandbox can intercept: it compiles to a join)."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802
        self.write("environment.concat_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Namespace(Namespace):
    """`namespace()`, whose text does not show what it holds: a namespace holding itself
    twice, forty levels deep, would otherwise be 2**40 times as long as text."""

    def __repr__(self) -> str:
        return "<namespace>"


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus caps so one expression cannot exhaust memory: on `*`, `**`, `%`,
    `+`, `~`, on what `map` makes and on a template's output here, on widening filters and
    str methods in template_limits."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _CodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name in limits.FILTER_CHECKS:
            self.filters[name] = limits.guarded_filter(name, self.filters[name], MAX_TEXT)
        self.filters["map"] = limits.counted_filter(self.filters["map"], MAX_TEXT)
        self.globals["namespace"] = _Namespace

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        limits.check_call(__obj, args, kwargs, MAX_TEXT)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                size = limits.weight(left, MAX_TEXT)
                if size + limits.weight(right, MAX_TEXT - size) > MAX_TEXT:
                    raise SecurityError(f"result longer than {MAX_TEXT:,} characters")
            return left + right
        if operator == "%":
            limits.printf_widths(left, MAX_TEXT)
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (isinstance(seq, str | list | tuple) and isinstance(count, int) and count > 1
                        and limits.weight(seq, MAX_TEXT // count + 1) * count > MAX_TEXT):
                    raise SecurityError(f"result longer than {MAX_TEXT:,} items")
        if (operator == "**" and isinstance(left, int) and isinstance(right, int)
                and abs(left) > 1 and right * left.bit_length() > MAX_INT_BITS):
            raise SecurityError("number too large")
        if (operator == "*" and isinstance(left, int) and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS):
            # squaring a 3**20000 eleven times took 160 s: `**` alone had been checked
            raise SecurityError("number too large")
        return super().call_binop(context, operator, left, right)

    @staticmethod
    def concat_parts(parts: tuple[Any, ...]) -> str:
        """`a ~ b ~ …`: each part as text, refused when over MAX_TEXT. A list or dict is
        weighed before it is made text (a list holding itself twice, forty levels deep,
        would never finish); the parts' text is then measured once joined."""
        for part in parts:
            if isinstance(part, _CONTAINERS) and limits.weight(part, MAX_TEXT) > MAX_TEXT:
                raise SecurityError(f"result longer than {MAX_TEXT:,} characters")
        text = "".join(map(str, parts))
        if len(text) > MAX_TEXT:
            raise SecurityError(f"result longer than {MAX_TEXT:,} characters")
        return text

    @staticmethod
    def concat(parts: Iterable[str]) -> str:
        """A template's (or macro's, or block's) output, stopped once over MAX_TEXT."""
        out: list[str] = []
        size = 0
        for part in parts:
            size += len(part)
            if size > MAX_TEXT:
                raise TemplateError(f"rendered text is longer than {MAX_TEXT:,} characters")
            out.append(part)
        return "".join(out)


class Bag:
    """`vars`, `row`, `steps`, `steps.NAME`: keys as attributes, and errors that say
    which keys exist. Not a dict, so a key named `items` or `keys` is not shadowed."""

    __slots__ = ("_data", "_empty", "_label")

    def __init__(self, label: str, data: Mapping[str, Any], *, empty: str | None = None) -> None:
        """`empty`: why it has nothing, when not the usual reason for its label."""
        self._label = label
        self._data = dict(data)
        self._empty = empty

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def describe_missing(self, name: str) -> str:
        if not self._data:
            why = self._empty or _EMPTY.get(self._label, "it is empty")
            return f"{self._label} has no {name!r} ({why})"
        return f"{self._label} has no {name!r} (it has: {', '.join(sorted(self._data))})"


_EMPTY = {"vars": "no vars are set", "row": "the row is empty",
          # an "as" step that failed (to render, to send) is not there either
          "steps": "no earlier step with an \"as\" name has succeeded"}


class Emptied(list[Any]):
    """An empty list that can say why it is empty (`steps.NAME.ids` of a step not taken):
    `steps.order.ids[0]` then says why, not only "the list has no item [0]"."""

    def __init__(self, why: str) -> None:
        super().__init__()
        self.why = why


class _Undefined(StrictUndefined):
    """StrictUndefined whose message names the bag or helper that lacks the key."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        obj, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint is None and isinstance(name, str):
            describe = getattr(type(obj), "describe_missing", None)
            if describe is not None:
                return str(describe(obj, name))
        if self._undefined_hint is None and isinstance(obj, dict):  # an event, its data…
            keys = ", ".join(sorted(map(str, obj))) or "nothing: it is empty"
            return f"the object has no {name!r} (it has: {keys})"
        if self._undefined_hint is None and isinstance(obj, list) and isinstance(name, int):
            size = (f"{len(obj)} item{'s' if len(obj) != 1 else ''}" if obj else
                    f"none: {obj.why}" if isinstance(obj, Emptied) else "none")
            return f"the list has no item [{name}] (it has {size})"
        message: str = super()._undefined_message
        return message


def _finalize(value: Any) -> str:
    return to_text(value)


@dataclass(frozen=True)
class _Expr:
    source: str
    offset: int
    end: int
    run: Callable[..., Any]


@dataclass(frozen=True)
class CompiledString:
    """A compiled string value: literal, one native expression, pieces, or a whole template."""

    source: str
    kind: str  # "literal" | "single" | "pieces" | "whole"
    pieces: tuple[str | _Expr, ...] = ()
    whole: Any = None
    names: frozenset[str] = frozenset()
    step_refs: frozenset[str] = frozenset()

    def render(self, scope: Mapping[str, Any]) -> Any:
        if self.kind == "literal":
            return self.source
        if self.kind == "whole":
            try:
                text: str = _within_time(self.whole.render, scope)
            except TemplateError:
                raise
            except RecursionError:
                raise TemplateError("the template calls itself without end (a macro that "
                                    "calls itself?)") from None
            except (SecurityError, UndefinedError, JinjaTemplateError) as exc:
                raise _runtime_error(exc, None) from None
            except _ERRORS as exc:
                raise TemplateError(": ".join(_problem(exc))) from None
            return _capped(text)
        if self.kind == "single":
            piece = self.pieces[0]
            assert isinstance(piece, _Expr)
            return _evaluate(piece, scope)  # to_json_value caps its size
        parts: list[str] = []
        size = 0
        for piece in self.pieces:
            text = piece if isinstance(piece, str) else to_text(_evaluate(piece, scope))
            size += len(text)
            _capped_size(size)
            parts.append(text)
        return "".join(parts)


def _within_time(render: Callable[[Mapping[str, Any]], str], scope: Mapping[str, Any]) -> str:
    """`render(scope)`, stopped with a TemplateError after RENDER_SECONDS.

    Only `{% ... %}` templates get here, and only they can loop inside a loop: two nested
    loops over `range(100000)` would run for hours, freezing the window that renders a
    preview. The template's own code (Jinja compiles it to Python, in "<template>") is
    traced line by line, other code only where a function is called, and the clock read
    every CHECK_EVERY of those steps. Under a
    debugger or coverage, which trace already, it runs untraced."""
    if sys.gettrace() is not None:
        return render(scope)
    deadline = time.perf_counter() + RENDER_SECONDS
    steps = 0

    def on_line(_frame: FrameType, event: str, _arg: Any) -> Any:
        nonlocal steps
        if event == "line":
            steps += 1
            if steps % CHECK_EVERY == 0 and time.perf_counter() > deadline:
                raise TemplateError(f"the template ran for over {RENDER_SECONDS:g} s and was "
                                    "stopped (a loop inside a loop?)")
        return on_line

    def on_call(frame: FrameType, _event: str, _arg: Any) -> Any:
        nonlocal steps
        if frame.f_code.co_filename == "<template>":
            return on_line
        steps += 1  # a call made by the template (a slow filter, fake.*) counts as a line
        if steps % CHECK_EVERY == 0 and time.perf_counter() > deadline:
            raise TemplateError(f"the template ran for over {RENDER_SECONDS:g} s and was "
                                "stopped (a loop inside a loop?)")
        return None

    sys.settrace(on_call)
    try:
        return render(scope)
    finally:
        sys.settrace(None)


def _capped(text: str) -> str:
    _capped_size(len(text))
    return text


def _capped_size(size: int) -> None:
    if size > MAX_TEXT:
        raise TemplateError(f"rendered text is longer than {MAX_TEXT:,} characters")


def _evaluate(expr: _Expr, scope: Mapping[str, Any]) -> Any:
    try:
        return to_json_value(expr.run(**scope))
    except TemplateError as exc:
        raise TemplateError(exc.message, offset=expr.offset) from None
    except (SecurityError, UndefinedError, JinjaTemplateError) as exc:
        raise _runtime_error(exc, expr.offset) from None
    except _ERRORS as exc:
        what, why = _problem(exc)
        raise TemplateError(f"{what} in {{{{{expr.source}}}}}: {why}",
                            offset=expr.offset) from None


_TAKES = re.compile(r"((?:\w+\.)*)(\w+)\(\) takes (\d+) positional arguments? but (\d+) "
                    r"(?:were|was) given")
_NO_ATTRIBUTE = re.compile(r"'(\w+) object' has no attribute '(.*)'", re.DOTALL)
_KINDS = {"int": "a number", "float": "a number", "str": "a text", "bool": "true or false",
          "list": "a list", "tuple": "a list", "dict": "an object", "NoneType": "null"}


def _problem(exc: Exception) -> tuple[str, str]:
    """(what, why) of an error in the template's own Python code, in words, not Python's
    class names ("ZeroDivisionError", "RenderRun.uuid() takes 1 positional argument but 2
    were given"). Jinja folds constants as it compiles: `"nan" | float` becomes the Python
    name `nan`, which is not defined."""
    if isinstance(exc, NameError) and exc.name in ("nan", "inf"):
        return "NaN or Infinity", "JSON cannot hold it"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero", "a number cannot be divided by 0"
    if isinstance(exc, OverflowError):
        return "a number too large", str(exc)
    text = str(exc)
    if isinstance(exc, TypeError):
        takes = _TAKES.fullmatch(text)
        if takes:  # a helper of the template's scope is a method: its `self` is counted
            owner, name = takes.group(1), takes.group(2)
            wanted, given = (int(takes.group(n)) - bool(owner) for n in (3, 4))
            count = "no arguments" if wanted == 0 else f"{wanted} argument{'s' * (wanted > 1)}"
            return "wrong arguments", f"{name}() takes {count}, not {given}"
        return "wrong type", text
    if isinstance(exc, ValueError):
        return "bad value", text
    return "cannot compute it", text


def _runtime_error(exc: Exception, offset: int | None) -> TemplateError:
    text = str(getattr(exc, "message", None) or exc)
    if isinstance(exc, SecurityError):
        return TemplateError(f"refused by the template sandbox: {text}", offset=offset)
    if isinstance(exc, UndefinedError):
        missing = _NO_ATTRIBUTE.fullmatch(text)
        # `{{ seq.x }}`: Jinja's "'int object' has no attribute 'x'" (a private name, the
        # sandbox hides: said as before)
        if missing and not missing.group(2).startswith("_"):
            kind = _KINDS.get(missing.group(1), f"a {missing.group(1)}")
            return TemplateError(f"no such attribute: {kind} has no {missing.group(2)!r}",
                                 offset=offset)
        return TemplateError(f"unknown variable: {text}", offset=offset)
    return TemplateError(text, offset=offset)


class TemplateEngine:
    """Compiles string values once (cached) and renders JSON values with a scope."""

    def __init__(self, cache_size: int = 4096) -> None:
        self.env = _Sandbox(undefined=_Undefined, finalize=_finalize, autoescape=False,
                            keep_trailing_newline=True)
        self.env.globals.pop("lipsum", None)
        self._known = frozenset(HELPERS) | frozenset(self.env.globals)
        self.compile = lru_cache(maxsize=cache_size)(self._compile)

    def _compile(self, source: str) -> CompiledString:
        if not has_template_marks(source):
            return CompiledString(source, "literal")
        if source.count("{{") + source.count("{%") > MAX_PLACEHOLDERS:
            raise TemplateError(f"over {MAX_PLACEHOLDERS:,} placeholders and statements in one "
                                "string: split it, or build the text with a {% for %} loop")
        try:
            return self._compiled(source)
        except (RecursionError, SyntaxError, MemoryError):
            # 3,000 nested parentheses, 25 nested {% for %} ("too many statically nested
            # blocks"): an uncaught error that ended `run` and kept the window from opening
            raise TemplateError("template too deeply nested or too complex to compile") from None

    def _compiled(self, source: str) -> CompiledString:
        try:
            tokens = list(self.env.lexer.tokeniter(source, None))
            pieces = self._pieces(source, tokens)
            ast = self.env.parse(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax: {exc.message}", line=exc.lineno or 1) from None
        names = frozenset(find_undeclared_variables(ast))
        unknown = sorted(names - self._known)
        if unknown:
            raise TemplateError(
                f"unknown variable {unknown[0]!r} (known: {', '.join(HELPERS)})",
                offset=_offset_of_name(source, pieces, unknown[0]),
            )
        refs = frozenset(_step_refs(ast))
        if pieces is None:
            whole = self.env.from_string(source)
            return CompiledString(source, "whole", whole=whole, names=names, step_refs=refs)
        kind = "single" if len(pieces) == 1 and isinstance(pieces[0], _Expr) else "pieces"
        return CompiledString(source, kind, tuple(pieces), names=names, step_refs=refs)

    def _pieces(self, source: str, tokens: list[tuple[int, str, str]]) -> list[str | _Expr] | None:
        """Text and `{{ }}` expressions with their offsets; None if statements are used.

        The lexer works on text whose line breaks are normalized to \\n; `at` maps its
        offsets back to `source`, whose text (a \\r\\n in a payload) is kept exactly.
        """
        at = _original_offsets(source)
        pieces: list[str | _Expr] = []
        offset = 0
        expr_start: int | None = None
        for _line, kind, value in tokens:
            if kind == "data":
                pieces.append(source[at(offset) : at(offset + len(value))])
            elif kind == "variable_begin":
                if value != "{{":
                    return None
                expr_start = offset
            elif kind == "variable_end":
                if value != "}}" or expr_start is None:
                    return None
                start, end = at(expr_start), at(offset + 2)
                inner = source[start + 2 : end - 2]
                try:
                    run = self.env.compile_expression(inner, undefined_to_none=False)
                except TemplateSyntaxError as exc:
                    raise TemplateError(f"template syntax: {exc.message}", offset=start) from None
                pieces.append(_Expr(inner.strip(), start, end, run))
                expr_start = None
            elif expr_start is None:
                return None  # a block, comment or raw section: render the whole template
            offset += len(value)
        return [p for p in pieces if p != ""]

    def render_string(self, source: str, scope: Mapping[str, Any]) -> Any:
        return self.compile(source).render(scope)

    def render_value(self, value: Any, scope: Mapping[str, Any], *, pointer: str = "") -> Any:
        """A copy of a JSON value with every string rendered (document order, no recursion)."""
        holder: list[Any] = [None]
        stack: list[tuple[Any, Any, Any, str]] = [(value, holder, 0, pointer)]
        while stack:
            item, parent, key, ptr = stack.pop()
            if isinstance(item, str):
                try:
                    parent[key] = self.render_string(item, scope)
                except TemplateError as exc:
                    raise exc.at(ptr) from None
            elif isinstance(item, dict):
                copy: dict[str, Any] = {}
                parent[key] = copy
                children = []
                for k, child in item.items():
                    copy[k] = None
                    children.append((child, copy, k, f"{ptr}/{_escape(k)}"))
                stack.extend(reversed(children))
            elif isinstance(item, list):
                out: list[Any] = [None] * len(item)
                parent[key] = out
                stack.extend(
                    (child, out, i, f"{ptr}/{i}") for i, child in reversed(list(enumerate(item)))
                )
            else:
                parent[key] = item
        return holder[0]

    def check_value(self, value: Any, *, pointer: str = ""
                    ) -> tuple[list[TemplateError], list[tuple[str, str]]]:
        """Compile every string: syntax and unknown-name errors, and the steps referenced
        as (pointer of the string, step name), in document order."""
        errors: list[TemplateError] = []
        refs: list[tuple[str, str]] = []
        stack: list[tuple[Any, str]] = [(value, pointer)]
        while stack:
            item, ptr = stack.pop()
            if isinstance(item, str):
                try:
                    refs.extend((ptr, name) for name in sorted(self.compile(item).step_refs))
                except TemplateError as exc:
                    errors.append(exc.at(ptr))
            elif isinstance(item, dict):
                stack.extend((v, f"{ptr}/{_escape(k)}") for k, v in reversed(list(item.items())))
            elif isinstance(item, list):
                stack.extend((v, f"{ptr}/{i}") for i, v in reversed(list(enumerate(item))))
        return errors, refs


def _original_offsets(source: str) -> Callable[[int], int]:
    """Offset in the lexer's text (line breaks as \\n) -> offset in `source`."""
    if "\r" not in source:
        return lambda offset: offset
    table = []
    pos = 0
    while pos < len(source):
        table.append(pos)
        pos += 2 if source.startswith("\r\n", pos) else 1
    table.append(pos)
    return lambda offset: table[min(offset, len(table) - 1)]


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _offset_of_name(source: str, pieces: list[str | _Expr] | None, name: str) -> int | None:
    word = re.compile(rf"\b{re.escape(name)}\b")
    for piece in pieces or ():
        if isinstance(piece, _Expr) and word.search(source, piece.offset, piece.end):
            return piece.offset
    found = word.search(source)
    return found.start() if found else None


def _step_refs(ast: nodes.Template) -> list[str]:
    refs: list[str] = []
    for node in ast.find_all(nodes.Getattr):
        assert isinstance(node, nodes.Getattr)
        if isinstance(node.node, nodes.Name) and node.node.name == "steps":
            refs.append(node.attr)
    for item in ast.find_all(nodes.Getitem):
        assert isinstance(item, nodes.Getitem)
        if (isinstance(item.node, nodes.Name) and item.node.name == "steps"
                and isinstance(item.arg, nodes.Const) and isinstance(item.arg.value, str)):
            refs.append(item.arg.value)
    return refs

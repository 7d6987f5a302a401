"""JSON that remembers where everything is, so a JSON Pointer maps to line:column.

Every problem the console finds must point at the exact characters the user typed;
`json.loads` forgets positions, and position-keeping parsers either recurse (10,000
levels of nesting would blow the stack) or are slow. So:

* the value comes from `json.loads` (C speed); duplicate keys are noticed on the way
  through an `object_pairs_hook`;
* ranges are found lazily, only along the pointers asked for: a container's children
  are discovered one by one and the siblings before the wanted one are skipped by C
  (`JSONDecoder.scan_once`), so mapping a few problems in a 10 MB document stays cheap;
* when `json.loads` fails (a syntax error, or nesting too deep for its C recursion) our
  own iterative scanner (an explicit stack, no recursion) finds the first error with a
  human message, or builds the value and the whole range tree;
* ranges live in a tree of nodes, not a pointer->range dict: a 10,000-level document
  costs linear memory (its pointers alone would add up to 100 MB of text).

Offsets are str offsets (code points); `LineIndex` turns them into 1-based line:column,
counting CRLF (and a lone CR) as one line break.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from console.core.problems import Problem, Severity

AFTER_THE_END = "Unexpected text after the end of the JSON document"
ANOTHER_EVENT = ": several events go in one array [ … ], or one per line as JSON Lines"
# the next event on the same line: JSON Lines would not read it either
ANOTHER_ON_THE_LINE = ": several events go in one array [ … ]"
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null")
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_BREAK = re.compile(r"\r\n?|\n")
_SKIP = re.compile(r'(?:[^"\[\]{}]+|"[^"\\]*(?:\\.[^"\\]*)*")*')
_SKIP_DEPTH = 32  # below this depth the scanner tries C on whole containers
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(  # type: ignore[attr-defined]
    parse_constant=_reject_constant
).scan_once


def _ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]  # `*` always matches


class Span(NamedTuple):
    """A half-open range [start, end) of str offsets."""

    start: int
    end: int


class LineIndex:
    """Offset -> (line, column), both 1-based; columns count code points."""

    __slots__ = ("_starts",)

    def __init__(self, text: str) -> None:
        self._starts = [0]
        self._starts.extend(m.end() for m in _BREAK.finditer(text))

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def offset(self, line: int, column: int) -> int:
        """The inverse of `line_col` (lines clamped to the text)."""
        index = min(max(line, 1), len(self._starts)) - 1
        return self._starts[index] + max(column, 1) - 1


def text_lines(text: str) -> list[str]:
    """The lines of `text` as JSON and editors see them: broken at CR, LF and CRLF only.

    `str.splitlines` also breaks at U+2028, U+2029, U+0085 and other controls, which JSON
    allows raw inside strings: a JSON Lines row holding one was cut in two."""
    return _BREAK.split(text)


def escape_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def pointer_tokens(pointer: str) -> list[str]:
    """RFC 6901 reference tokens of `pointer` ("" is the whole document)."""
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def join_pointer(parts: list[str | int] | list[str]) -> str:
    return "".join("/" + escape_token(str(part)) for part in parts)


def nesting_depth(value: Any) -> int:
    """How many containers deep `value` goes (iterative: safe for any depth)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            items = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in items)
    return deepest


class Node:
    """The range of one value; members of an object also know their key's range.

    In a document `json.loads` accepted, nodes are discovered lazily: `end` is -1 until
    known, `resume` >= 0 while more children may follow, and `pending` is the last child
    found, whose end may not be known yet.
    """

    __slots__ = ("children", "end", "key_end", "key_start", "pending", "resume", "start")

    def __init__(self, start: int, end: int = -1) -> None:
        self.start = start
        self.end = end
        self.key_start = -1
        self.key_end = -1
        self.children: dict[str, Node] | list[Node] | None = None
        self.resume = -1
        self.pending: Node | None = None


class _Fail(Exception):  # control flow inside the scanner; never escapes it
    def __init__(self, message: str, start: int, end: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = start + 1 if end is None else end


class _Scan(NamedTuple):
    value: Any
    root: Node | None
    fail: _Fail | None
    duplicates: list[tuple[str, int, int]]  # (pointer, key start, key end)
    depth: int


def _string_fail(text: str, quote: int, exc: json.JSONDecodeError) -> _Fail:
    pos, msg = exc.pos, exc.msg
    if msg.startswith("Unterminated") or (msg.startswith("Invalid control")
                                          and text[pos] in "\r\n"):
        line_end = _BREAK.search(text, quote)
        eol = line_end.start() if line_end else len(text)
        return _Fail("Unterminated string: add the closing '\"'", quote, max(eol, quote + 1))
    if msg.startswith("Invalid control"):
        return _Fail(f"Control character U+{ord(text[pos]):04X} in a string: write it as an "
                     "escape such as \\n, \\t or \\u0009", pos)
    start = pos if text[pos] == "\\" else text.rfind("\\", quote, pos)
    if msg.startswith("Invalid \\u"):
        return _Fail("Invalid escape: \\u must be followed by four hex digits", start, start + 6)
    return _Fail("Invalid escape: use \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX",
                 start, start + 2)


def _bad_value(text: str, pos: int, key: bool = False) -> _Fail:
    """The clearest message for a character that cannot start a value (or a key)."""
    c = text[pos]
    word = _WORD.match(text, pos)
    if key and (word or c == "'"):
        return _Fail("Property names must be strings in double quotes", pos,
                     word.end() if word else pos + 1)
    if word:
        name = word.group()
        if name in ("NaN", "Infinity"):
            return _Fail(f"{name} is not valid JSON: use a number or null", pos, word.end())
        return _Fail(f"Unexpected word '{name}': strings must be in double quotes", pos,
                     word.end())
    if c == "'":
        return _Fail("Strings must use double quotes", pos)
    if text.startswith(("//", "/*"), pos):
        return _Fail("Comments are not allowed in JSON", pos, pos + 2)
    if c in "+.":
        return _Fail("Invalid number: a number starts with '-' or a digit", pos)
    if key:
        return _Fail(f"Expected a property name in double quotes, found {_shown(c)}", pos)
    if c in "}],":
        return _Fail(f"Unexpected '{c}': expected a value", pos)
    return _Fail(f"Unexpected character {_shown(c)}", pos)


def _shown(c: str) -> str:
    """A character as a message names it: quoted when it can be seen, by its code point
    when it cannot (a no-break space looked like a space, a zero-width one like nothing)."""
    if c.isprintable() and not c.isspace():
        return f"'{c}'"
    name = unicodedata.name(c, "")
    return f"U+{ord(c):04X}" + (f" ({name.lower()})" if name else "")


def _another(text: str, end: int, pos: int) -> str:
    """What follows a whole document at `pos` (`end`: where the document ended)."""
    if text[pos] != "{":
        return _unseen(text, pos)
    return ANOTHER_EVENT if "\n" in text[end:pos] else ANOTHER_ON_THE_LINE


def _unseen(text: str, pos: int) -> str:
    """", found U+00A0 (no-break space)" when the character at `pos` cannot be seen (the
    underline sat on what looked like a space), else nothing."""
    if pos >= len(text) or (text[pos].isprintable() and not text[pos].isspace()):
        return ""
    return f", found {_shown(text[pos])}"


def _unclosed(text: str, frame: list[Any], pos: int, message: str) -> _Fail:
    if pos < len(text):
        return _Fail(message + _unseen(text, pos), pos)
    line, col = LineIndex(text).line_col(frame[1].start)
    opener = "{" if frame[2] else "["
    return _Fail(f"Unexpected end of input: '{opener}' at {line}:{col} is never closed",
                 len(text), len(text))


def _scan(text: str, *, skip_valid: bool = False) -> _Scan:
    """One pass over `text`: value, range tree, duplicates; or the first syntax error.

    `skip_valid` (when only the error is wanted) lets C parse each container that is valid
    as a whole, so a 10 MB document with an error near its end is quick too.
    """
    n = len(text)
    stack: list[list[Any]] = []  # [container, node, is_object, key, key_start, key_end]
    duplicates: list[tuple[str, int, int]] = []
    depth = 0

    def read_key(pos: int, frame: list[Any], after_comma: bool) -> int:
        if pos >= n:
            raise _unclosed(text, frame, pos, "")
        if text[pos] != '"':
            if after_comma and text[pos] == "}":
                raise _Fail("Trailing comma: remove the ',' before '}'", text.rfind(",", 0, pos))
            raise _bad_value(text, pos, key=True)
        try:
            frame[3], end = _scanstring(text, pos + 1, True)
        except json.JSONDecodeError as exc:
            raise _string_fail(text, pos, exc) from None
        frame[4], frame[5] = pos, end
        pos = _ws(text, end)
        if pos >= n or text[pos] != ":":
            raise _Fail("Expected ':' after property name" + _unseen(text, pos), min(pos, n),
                        min(pos + 1, n))
        return _ws(text, pos + 1)

    try:
        pos = _ws(text, 0)
        if pos >= n:
            raise _Fail("Unexpected end of input: the document is empty", n, n)
        while True:  # -- one value at pos ---------------------------------------------
            if pos >= n:
                raise _Fail("Unexpected end of input: expected a value", n, n)
            start, c = pos, text[pos]
            node = Node(start)
            value: Any = None
            if c in "{[" and skip_valid and len(stack) < _SKIP_DEPTH:
                try:
                    value, pos = _SCAN_ONCE(text, pos)
                    c = "="  # parsed whole by C
                except (ValueError, StopIteration, RecursionError):
                    pass
            if c == "{" or c == "[":
                pos = _ws(text, pos + 1)
                if pos < n and text[pos] == ("}" if c == "{" else "]"):
                    pos += 1
                    value, node.children = ({}, {}) if c == "{" else ([], [])
                    depth = max(depth, len(stack) + 1)
                else:
                    node.children = {} if c == "{" else []
                    frame: list[Any] = [{} if c == "{" else [], node, c == "{", "", 0, 0]
                    stack.append(frame)
                    depth = max(depth, len(stack))
                    if c == "{":
                        pos = read_key(pos, frame, False)
                    continue
            elif c == '"':
                try:
                    value, pos = _scanstring(text, pos + 1, True)
                except json.JSONDecodeError as exc:
                    raise _string_fail(text, start, exc) from None
            elif c in "-0123456789":
                m = _NUMBER.match(text, pos)
                if m is None:
                    raise _Fail("Invalid number: a digit must follow '-'", pos)
                pos = m.end()
                if pos < n and text[pos] in "0123456789.eE":
                    raise _Fail("Invalid number: leading zeros are not allowed"
                                if text[pos].isdigit() else
                                "Invalid number: a digit must follow '.' or 'e'", start, pos + 1)
                if m.group(1) or m.group(2):
                    value = float(m.group())
                else:
                    try:
                        value = int(m.group())
                    except ValueError:
                        raise _Fail("Number has too many digits", start, pos) from None
            elif c != "=":
                word = _WORD.match(text, pos)
                if word is None or word.group() not in _LITERALS:
                    raise _bad_value(text, pos)
                value, pos = _LITERALS[word.group()], word.end()
            node.end = pos
            while True:  # -- hand the value to its container; close finished ones -------
                if not stack:
                    pos = _ws(text, pos)
                    if pos < n:
                        raise _Fail(AFTER_THE_END + _another(text, node.end, pos), pos)
                    return _Scan(value, node, None, duplicates, depth)
                frame = stack[-1]
                pos = _ws(text, pos)
                nxt = text[pos] if pos < n else ""
                if frame[2]:
                    key, obj, children = frame[3], frame[0], frame[1].children
                    if key in obj:
                        parent = join_pointer([f[3] if f[2] else len(f[0]) for f in stack[:-1]])
                        duplicates.append((f"{parent}/{escape_token(key)}", frame[4], frame[5]))
                        del children[key]
                    obj[key] = value
                    node.key_start, node.key_end = frame[4], frame[5]
                    children[key] = node
                    if nxt == ",":
                        pos = read_key(_ws(text, pos + 1), frame, True)
                        break
                    if nxt != "}":
                        raise _unclosed(text, frame, pos, "Expected ',' or '}' after object member")
                else:
                    frame[0].append(value)
                    frame[1].children.append(node)
                    if nxt == ",":
                        pos = _ws(text, pos + 1)
                        if pos < n and text[pos] == "]":
                            raise _Fail("Trailing comma: remove the ',' before ']'",
                                        text.rfind(",", 0, pos))
                        break
                    if nxt != "]":
                        raise _unclosed(text, frame, pos, "Expected ',' or ']' after array element")
                stack.pop()
                node, value = frame[1], frame[0]
                pos = node.end = pos + 1
    except _Fail as fail:
        return _Scan(None, None, fail, duplicates, depth)


def _skip_brackets(text: str, start: int) -> int:
    """End of the (valid) container at `start`, counting brackets outside strings."""
    depth, pos = 0, start
    while True:
        depth += 1 if text[pos] in "[{" else -1
        pos += 1
        if depth == 0:
            return pos
        pos = _SKIP.match(text, pos).end()  # type: ignore[union-attr]


class ParsedDocument:
    """A parsed JSON text: its value, its first syntax error, and where each value is."""

    def __init__(self, text: str, value: Any, *, scan: _Scan | None = None,
                 has_duplicates: bool = False) -> None:
        self.text = text
        self.value = value
        self.error: Problem | None = None
        self._root = scan.root if scan else None
        self._depth = scan.depth if scan else -1
        self._duplicates = scan.duplicates if scan else None
        self._has_duplicates = has_duplicates
        self._lines: LineIndex | None = None

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    @property
    def root(self) -> Node | None:
        if self._root is None and self.error is None:
            self._root = self._new_node(_ws(self.text, 0))
            self._root.end = len(self.text.rstrip(" \t\n\r"))
        return self._root

    @property
    def depth(self) -> int:
        """Deepest nesting of containers."""
        if self._depth < 0:
            self._depth = nesting_depth(self.value)
        return self._depth

    def _new_node(self, start: int) -> Node:
        text, node = self.text, Node(start)
        c = text[start]
        if c == "{" or c == "[":
            node.children = {} if c == "{" else []
            node.resume = start + 1
        elif c == '"':
            node.end = _scanstring(text, start + 1, True)[1]
        else:
            m = _SCALAR.match(text, start)
            node.end = m.end() if m else start + 1
        return node

    def _end_of(self, node: Node) -> int:
        if node.end < 0:
            try:  # C skips the container; the objects it builds are thrown away
                node.end = _SCAN_ONCE(self.text, node.start)[1]
            except RecursionError:
                node.end = _skip_brackets(self.text, node.start)
        return node.end

    def _discover(self, node: Node, key: str | None = None, index: int = -1,
                  offset: int = -1) -> None:
        """Find more children of `node`: until `key`, `index` or `offset` is reached, or all."""
        text, children = self.text, node.children
        if node.resume < 0 or children is None:
            return
        pos = node.resume
        if node.pending is not None:
            pos = _ws(text, self._end_of(node.pending))
            node.pending = None
            if text[pos] != ",":
                node.end, node.resume = pos + 1, -1
                return
            pos += 1
        stop_at_key = key is not None and not self._has_duplicates
        while True:
            pos = _ws(text, pos)
            node.resume = pos
            if text[pos] in "}]":
                node.end, node.resume = pos + 1, -1
                return
            if isinstance(children, dict):
                name, key_end = _scanstring(text, pos + 1, True)
                key_start, pos = pos, _ws(text, _ws(text, key_end) + 1)
                child = self._new_node(pos)
                child.key_start, child.key_end = key_start, key_end
                children.pop(name, None)
                children[name] = child
                hit = stop_at_key and name == key
                first = key_start
            else:
                child = self._new_node(pos)
                children.append(child)
                hit, first = len(children) - 1 == index, pos
            if hit or 0 <= offset < first:
                node.pending = child
                return
            pos = _ws(text, self._end_of(child))
            if text[pos] != ",":
                node.end, node.resume = pos + 1, -1
                return
            pos += 1

    def _child(self, node: Node, token: str) -> Node | None:
        children = node.children
        if isinstance(children, dict):
            if node.resume >= 0 and (token not in children or self._has_duplicates):
                self._discover(node, key=token)
            return children.get(token)
        if children is None or not token.isdigit() or (token[0] == "0" and token != "0"):
            return None
        index = int(token)
        if index >= len(children) and node.resume >= 0:
            self._discover(node, index=index)
        return children[index] if index < len(children) else None

    def node(self, pointer: str) -> Node | None:
        node = self.root
        for token in pointer_tokens(pointer):
            if node is None:
                return None
            node = self._child(node, token)
        return node

    def span(self, pointer: str) -> Span | None:
        """Text range of the value at `pointer`, or None when there is no such value."""
        node = self.node(pointer)
        return Span(node.start, self._end_of(node)) if node else None

    def key_span(self, pointer: str) -> Span | None:
        """Text range of the key (with its quotes) of an object member."""
        node = self.node(pointer)
        return Span(node.key_start, node.key_end) if node and node.key_start >= 0 else None

    def nearest(self, pointer: str) -> tuple[str, Span] | None:
        """The deepest existing value on the way to `pointer` (itself when it exists)."""
        node, found = self.root, ""
        if node is None:
            return None
        for token in pointer_tokens(pointer):
            child = self._child(node, token)
            if child is None:
                break
            node, found = child, found + "/" + escape_token(token)
        return found, Span(node.start, self._end_of(node))

    def pointer_at(self, offset: int) -> str:
        """Pointer of the innermost value whose range (or key) holds the char at `offset`.

        Ranges are half-open: a cursor just after a value's last char is outside it.
        """
        node, parts = self.root, list[str | int]()
        if node is None or not node.start <= offset < node.end:
            return ""
        while node.children is not None:
            self._discover(node, offset=offset)
            children = node.children
            members: list[tuple[str | int, Node]] = (
                list(children.items()) if isinstance(children, dict) else list(enumerate(children))
            )
            found: tuple[str | int, Node] | None = None
            for token, child in reversed(members):
                if (child.key_start if child.key_start >= 0 else child.start) <= offset:
                    if offset < self._end_of(child):
                        found = token, child
                    break
            if found is None:
                break
            parts.append(found[0])
            node = found[1]
        return join_pointer(parts)

    def __iter__(self) -> Iterator[str]:
        """Every pointer, in document order (iterative; discovers the whole tree)."""
        root = self.root
        stack: list[tuple[str, Node]] = [("", root)] if root else []
        while stack:
            pointer, node = stack.pop()
            yield pointer
            self._discover(node)
            children = node.children
            if children is None:
                continue
            items = (sorted(children.items(), key=lambda item: item[1].start)
                     if isinstance(children, dict) else enumerate(children))
            stack.extend(reversed([(f"{pointer}/{escape_token(str(t))}", c) for t, c in items]))

    @property
    def warnings(self) -> list[Problem]:
        """Duplicate keys (json keeps the last one silently; so does Inngest)."""
        if not self._has_duplicates:
            return []
        if self._duplicates is None:
            self._duplicates = _scan(self.text).duplicates
        return [
            self.problem(f'Duplicate key "{pointer_tokens(pointer)[-1]}": only the last value '
                         "is kept", start, end, severity=Severity.WARNING, pointer=pointer)
            for pointer, start, end in self._duplicates
        ]

    def problem(self, message: str, start: int, end: int, *,
                severity: Severity = Severity.ERROR, pointer: str = "") -> Problem:
        """A Problem at [start, end) of this text, with its line and column."""
        line, col = self.lines.line_col(start)
        return Problem(message, severity, start, end, line, col, pointer)


def parse_with_positions(text: str) -> ParsedDocument:
    """Parse `text`; never raises for bad input (see `.error`) or deep nesting."""
    duplicates: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            duplicates.append(True)
        return obj

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        too_deep = isinstance(exc, RecursionError)  # else: bad syntax, NaN, a huge integer
    else:
        return ParsedDocument(text, value, has_duplicates=bool(duplicates))
    scan = _scan(text, skip_valid=not too_deep)
    if scan.fail is None and not too_deep:
        scan = _scan(text)  # C skipped containers, so build the full tree
    if scan.fail is None:
        return ParsedDocument(text, scan.value, scan=scan, has_duplicates=bool(scan.duplicates))
    doc = ParsedDocument(text, None)
    doc.error = doc.problem(scan.fail.message, scan.fail.start, max(scan.fail.end, scan.fail.start))
    return doc

"""Go's JSON syntax error messages, from Python's JSONDecodeError.

Python's decoder stops at the same byte Go's scanner does, but words it differently
("Expecting ',' delimiter" vs "invalid character 'x' after array element"). A client
that shows the server's `error` text must see what the real Dev Server would say.
"""

from __future__ import annotations

import json

_CONTROL_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
                    0x5C: "\\\\"}
_LITERALS = {"t": "true", "f": "false", "n": "null"}
_HEX = set("0123456789abcdefABCDEF")


class ConstantError(ValueError):
    """Python accepts NaN/Infinity; Go does not."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def go_message(self) -> str:
        if self.name.startswith("-"):
            return "invalid character 'I' in numeric literal"
        return f"invalid character {quote_char(self.name[0])} looking for beginning of value"


def quote_char(ch: str) -> str:
    """Go's `quoteChar`: the first UTF-8 byte of the character, quoted like a Go rune (a
    byte that is not UTF-8 arrives as its surrogateescape character)."""
    b = ch.encode("utf-8", "surrogateescape")[0]
    if b == 0x27:
        return "'\\''"
    if b == 0x22:
        return "'\"'"
    if b in _CONTROL_ESCAPES:
        return f"'{_CONTROL_ESCAPES[b]}'"
    if b < 0x20 or b == 0x7F:
        return f"'\\x{b:02x}'"
    if 0x80 <= b < 0xA0 or b in (0xA0, 0xAD):
        return f"'\\u{b:04x}'"
    return f"'{chr(b)}'"


def go_syntax_error(text: str, exc: json.JSONDecodeError, eof: str) -> str:
    """Go's message for the syntax error Python found; `eof` is Go's end-of-input wording."""
    pos, msg, n = exc.pos, exc.msg, len(text)
    if msg.startswith("Unterminated string") or pos >= n:
        return eof
    ch = text[pos]
    if msg.startswith("Invalid control character"):
        return f"invalid character {quote_char(ch)} in string literal"
    if msg.startswith("Invalid \\escape"):
        if pos + 1 >= n:
            return eof
        return f"invalid character {quote_char(text[pos + 1])} in string escape code"
    if msg.startswith("Invalid \\u"):
        for i in range(pos + 1, pos + 5):
            if i >= n:
                return eof
            if text[i] not in _HEX:
                bad = quote_char(text[i])
                return f"invalid character {bad} in \\u hexadecimal character escape"
        return eof  # not reached: Python only complains about a bad hex digit
    number = _number_problem(text, pos, eof)
    if number is not None:
        return number
    if msg.startswith("Expecting value"):
        literal = _LITERALS.get(ch)
        if literal is not None:
            return _literal_problem(text, pos, literal, eof)
        if ch == "-":
            nxt = text[pos + 1] if pos + 1 < n else None
            return eof if nxt is None else f"invalid character {quote_char(nxt)} in numeric literal"
        return f"invalid character {quote_char(ch)} looking for beginning of value"
    if msg.startswith(("Expecting property name", "Illegal trailing comma")):
        return f"invalid character {quote_char(ch)} looking for beginning of object key string"
    if msg.startswith("Expecting ':'"):
        return f"invalid character {quote_char(ch)} after object key"
    if msg.startswith("Expecting ','"):
        where = "object key:value pair" if _innermost(text, pos) == "{" else "array element"
        return f"invalid character {quote_char(ch)} after {where}"
    if msg.startswith("Extra data"):
        return f"invalid character {quote_char(ch)} after top-level value"
    return f"invalid character {quote_char(ch)} looking for beginning of value"


def _number_problem(text: str, pos: int, eof: str) -> str | None:
    """Python ends a number early (`1.` then complains about `.`); Go complains inside it."""
    ch = text[pos]
    if ch not in ".eE" or pos == 0 or not text[pos - 1].isdigit():
        return None
    i = pos + 1
    n = len(text)
    if ch == ".":
        if i >= n:
            return eof
        if not text[i].isdigit():
            return f"invalid character {quote_char(text[i])} after decimal point in numeric literal"
        while i < n and text[i].isdigit():
            i += 1
        if i >= n or text[i] not in "eE":
            return None
        i += 1
    if i < n and text[i] in "+-":
        i += 1
    if i >= n:
        return eof
    if not text[i].isdigit():
        return f"invalid character {quote_char(text[i])} in exponent of numeric literal"
    return None


def _literal_problem(text: str, pos: int, literal: str, eof: str) -> str:
    for offset, expected in enumerate(literal):
        i = pos + offset
        if i >= len(text):
            return eof
        if text[i] != expected:
            return (f"invalid character {quote_char(text[i])} in literal {literal} "
                    f"(expecting {quote_char(expected)})")
    return f"invalid character {quote_char(text[pos])} looking for beginning of value"


def _innermost(text: str, pos: int) -> str:
    """Whether `pos` sits inside an object or an array (scanning only on the error path)."""
    stack: list[str] = []
    in_string = False
    escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""

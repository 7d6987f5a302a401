"""A one-line JSON lexer shared by the highlighter, bracket matching and completion.

JSON strings cannot hold a raw newline, so every token starts and ends on one line and a
line can be lexed on its own: that is what keeps highlighting and bracket lookup cheap on
each keystroke (only the edited line is re-lexed). The lexer is forgiving: half-typed
text (an unterminated string, a stray word) still yields tokens, because the editor shows
what the user is typing, not only valid JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    KEY = "key"
    STRING = "string"
    NUMBER = "number"
    KEYWORD = "keyword"
    PUNCTUATION = "punctuation"
    WORD = "word"


@dataclass(frozen=True, slots=True)
class Token:
    """`start`/`end` are code-point columns within the line; `closed` for strings."""

    kind: Kind
    start: int
    end: int
    closed: bool = True


_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*(?P<close>")?)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.]))
  | (?P<keyword>\b(?:true|false|null)\b)
  | (?P<punct>[{}\[\]:,])
  | (?P<word>[A-Za-z_][\w.+-]*|-)
    """,
    re.VERBOSE,
)
_COLON_AHEAD = re.compile(r"\s*:")

OPENERS = "{["
CLOSERS = "}]"
PAIRS = {"{": "}", "[": "]", "}": "{", "]": "["}


_STRING = re.compile(r'"(?:[^"\\]|\\.)*(")?')
# strings (skipped) and brackets: a line's brackets found by the regex engine alone
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[{}\[\]]')


def tokens(line: str) -> list[Token]:
    """All tokens of one line, in order; a string followed by `:` is a KEY."""
    return list(_lex(line))


def _lex(line: str, start: int = 0) -> Iterator[Token]:
    for m in _TOKEN.finditer(line, start):
        group = m.lastgroup
        if group in ("string", "close"):
            closed = m.group("close") is not None
            key = closed and _COLON_AHEAD.match(line, m.end()) is not None
            yield Token(Kind.KEY if key else Kind.STRING, m.start(), m.end(), closed)
        elif group == "number":
            yield Token(Kind.NUMBER, m.start(), m.end())
        elif group == "keyword":
            yield Token(Kind.KEYWORD, m.start(), m.end())
        elif group == "punct":
            yield Token(Kind.PUNCTUATION, m.start(), m.end())
        else:
            yield Token(Kind.WORD, m.start(), m.end())


def brackets(line: str) -> list[tuple[int, str]]:
    """(column, char) of every bracket outside strings on this line."""
    return [(m.start(), m[0]) for m in _STRING_OR_BRACKET.finditer(line) if m[0] in "{}[]"]


def token_at(line: str, column: int) -> Token | None:
    """The string or word token the cursor at `column` is typing in, if any.

    Inside a string means after its opening quote and before its closing one; in a word
    means anywhere from its first character to just after its last.
    """
    # the strings before the caret first, by the regex engine alone (a minified event is
    # one line of megabytes, and this runs on each keystroke); then the rest is lexed from
    # the end of the last of them
    start = 0
    for m in _STRING.finditer(line):
        if m.start() >= column:
            break
        if column < m.end() or m[1] is None:  # in it (or in one left open)
            key = m[1] is not None and _COLON_AHEAD.match(line, m.end()) is not None
            return Token(Kind.KEY if key else Kind.STRING, m.start(), m.end(), m[1] is not None)
        start = m.end()
    for t in _lex(line, start):
        if t.kind in (Kind.STRING, Kind.KEY):
            if t.start < column and (column < t.end or not t.closed):
                return t
        elif t.kind in (Kind.WORD, Kind.KEYWORD, Kind.NUMBER) and t.start <= column <= t.end:
            return t
        if t.start > column:
            break
    return None


def in_string(line: str, column: int) -> bool:
    t = token_at(line, column)
    return t is not None and t.kind in (Kind.STRING, Kind.KEY)

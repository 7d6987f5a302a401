"""The editor's one-line lexer: the caret's token and a line's brackets, found fast on a
minified event of megabytes, agree with the full lexer on any line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.ui.editor.lexer import Kind, Token, brackets, token_at, tokens

lines = st.text(alphabet='"\\{}[]:, a1-.et\u00e9', max_size=40)


def token_at_by_full_lexing(line: str, column: int) -> Token | None:
    """The definition: the first of the whole line's tokens that the caret is typing in
    (after a string's opening quote and before its closing one; anywhere in a word)."""
    typing_in = [t for t in tokens(line)
                 if (t.kind in (Kind.STRING, Kind.KEY) and t.start < column
                     and (column < t.end or not t.closed))
                 or (t.kind in (Kind.WORD, Kind.KEYWORD, Kind.NUMBER)
                     and t.start <= column <= t.end)]
    return typing_in[0] if typing_in else None


@given(lines, st.data())
def test_token_at_is_the_token_the_full_lexer_finds(line, data):
    column = data.draw(st.integers(0, len(line)))
    assert token_at(line, column) == token_at_by_full_lexing(line, column)


@given(lines)
def test_brackets_are_the_bracket_tokens(line):
    assert brackets(line) == [(t.start, line[t.start]) for t in tokens(line)
                              if t.kind is Kind.PUNCTUATION and line[t.start] in "{}[]"]


def test_examples():
    line = '{"a": "x{y", "b": [tru'
    assert token_at(line, 8).kind is Kind.STRING  # inside "x{y"
    assert token_at(line, 3).kind is Kind.KEY
    assert token_at(line, len(line)).kind is Kind.WORD
    assert brackets(line) == [(0, "{"), (18, "[")]

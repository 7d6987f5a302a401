"""JSON syntax colouring, and a per-line bracket cache for bracket matching.

Qt re-runs `highlightBlock` only for lines that changed, so it is the cheap place to
remember where each line's brackets are (outside strings): bracket matching then walks
those cached lists instead of re-reading a 5,000-line document on every cursor move.
"""

from __future__ import annotations

from PySide6.QtGui import (
    QColor,
    QFont,
    QSyntaxHighlighter,
    QTextBlockUserData,
    QTextCharFormat,
    QTextDocument,
)

from console.ui.editor.lexer import Kind, brackets, tokens
from console.ui.editor.offsets import OffsetMap
from console.ui.editor.theme import LIGHT, EditorTheme

# a line longer than this (a minified event of megabytes) is not coloured: its hundreds of
# thousands of format ranges made each keystroke on it take seconds (see highlightBlock)
LONG_LINE = 20_000


class BlockBrackets(QTextBlockUserData):
    """Brackets of one line as (UTF-16 column, char), outside strings."""

    def __init__(self, items: list[tuple[int, str]]) -> None:
        super().__init__()
        self.items = items


class JsonHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, theme: EditorTheme = LIGHT) -> None:
        super().__init__(document)
        self._formats: dict[Kind, QTextCharFormat] = {}
        self.set_theme(theme, rehighlight=False)

    def set_theme(self, theme: EditorTheme, *, rehighlight: bool = True) -> None:
        def fmt(color: str, *, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            if bold:
                f.setFontWeight(QFont.Weight.DemiBold)
            return f

        self._formats = {
            Kind.KEY: fmt(theme.key),
            Kind.STRING: fmt(theme.string),
            Kind.NUMBER: fmt(theme.number),
            Kind.KEYWORD: fmt(theme.keyword, bold=True),
            Kind.PUNCTUATION: fmt(theme.punctuation),
            Kind.WORD: fmt(theme.foreground),
        }
        if rehighlight:
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        offsets = OffsetMap(text) if not text.isascii() else None
        if len(text) > LONG_LINE:  # a minified event: brackets only, no colours
            self.setCurrentBlockUserData(BlockBrackets([
                (offsets.to_utf16(col) if offsets is not None else col, ch)
                for col, ch in brackets(text)]))
            return
        bracket_items: list[tuple[int, str]] = []
        for tok in tokens(text):
            start, end = tok.start, tok.end
            if offsets is not None:
                start, end = offsets.to_utf16(start), offsets.to_utf16(end)
            self.setFormat(start, end - start, self._formats[tok.kind])
            if tok.kind is Kind.PUNCTUATION:
                ch = text[tok.start]
                if ch in "{}[]":
                    bracket_items.append((start, ch))
        self.setCurrentBlockUserData(BlockBrackets(bracket_items))


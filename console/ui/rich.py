"""Plain text inside the rich text of labels: names, ids and errors are whatever their
sender made them, and a "<" in one must read as "<", not start a tag."""

from __future__ import annotations

import html
import textwrap

ERROR_COLOUR = "#c62828"


def text(value: str) -> str:
    """`value` as rich-text content that shows exactly those characters."""
    return html.escape(value, quote=False)


def error(value: str) -> str:
    """`value` shown in the error colour."""
    return f"<span style='color:{ERROR_COLOUR}'>{text(value)}</span>"


TIP_COLUMNS = 100  # a tooltip line longer than this is wrapped


def tip(value: str | None) -> str | None:
    """`value` as a tooltip that shows exactly its characters, long lines wrapped.

    Qt renders a tooltip as rich text when its first line holds something like an HTML
    tag: a proxy's error page quoted in an error, or an event name such as `<b>x</b>`,
    was rendered as markup. Every tooltip with text from outside goes through here. The
    lines are wrapped here, not by Qt: Qt wraps a rich-text tooltip at a few words."""
    if not value:
        return None
    lines = [piece for line in value.split("\n") for piece in (
        textwrap.wrap(line, TIP_COLUMNS, replace_whitespace=False, drop_whitespace=False)
        or [""])]
    return f"<p style='white-space:pre'>{text(chr(10).join(lines))}</p>"


def shown(value: str) -> str:
    """What a rich-text `value` shows, as plain text (for tests and accessible names)."""
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(value)
    return document.toPlainText()

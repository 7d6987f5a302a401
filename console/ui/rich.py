"""Plain text inside the rich text of labels: names, ids and errors are whatever their
sender made them, and a "<" in one must read as "<", not start a tag."""

from __future__ import annotations

import html
import textwrap

from PySide6.QtWidgets import QComboBox, QLabel

from console.ui.colours import colour


def text(value: str) -> str:
    """`value` as rich-text content that shows exactly those characters."""
    return html.escape(value, quote=False)


def wrapping(label: QLabel) -> QLabel:
    """`label` word-wrapped and never wider than its place: a word longer than a line (an
    id, a path, an event name without spaces) is cut at the edge. Qt makes the longest
    word a wrapped label's least width: one 348-character event name held the window at
    2,647 px, wider than the screen."""
    label.setWordWrap(True)
    label.setMinimumWidth(1)  # a set least width stands instead of the longest word's
    return label


def names_box(box: QComboBox, chars: int) -> QComboBox:
    """`box`, a list of names users chose (environments, scenarios), `chars` characters
    wide: a long name must not set the window's least width (its list still shows it
    whole). One environment named in 80 characters held the window at 999 px, and cut the
    History tab's filters to "E…", "D…", "S…"."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(chars)
    return box


def error(value: str) -> str:
    """`value` shown in the error colour."""
    return f"<span style='color:{colour('error')}'>{text(value)}</span>"


TIP_COLUMNS = 100  # a tooltip line longer than this is wrapped


TIP_CHARS = 3000  # a tooltip shows at most this much (a 200 KB error took 0.8 s to show,
TIP_LINES = 30  # and one of 4,000 characters stood 1,098 px tall)
STATUS_CHARS = 300  # of an answer's text in a one-line status


def clipped(value: str, limit: int = STATUS_CHARS) -> str:
    """`value`, or its start and how much was left out (the whole is in the send log)."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value) - limit:,} more characters)"


def tip(value: str | None) -> str | None:
    """`value` as a tooltip that shows exactly its characters, long lines wrapped.

    Qt renders a tooltip as rich text when its first line holds something like an HTML
    tag: a proxy's error page quoted in an error, or an event name such as `<b>x</b>`,
    was rendered as markup. Every tooltip with text from outside goes through here. The
    lines are wrapped here, not by Qt: Qt wraps a rich-text tooltip at a few words."""
    if not value:
        return None
    lines = [piece for line in clipped(value, TIP_CHARS).split("\n") for piece in (
        textwrap.wrap(line, TIP_COLUMNS, replace_whitespace=False, drop_whitespace=False)
        or [""])]
    if len(lines) > TIP_LINES:
        lines = [*lines[:TIP_LINES], f"… ({len(lines) - TIP_LINES:,} more lines)"]
    return f"<p style='white-space:pre'>{text(chr(10).join(lines))}</p>"


def shown(value: str) -> str:
    """What a rich-text `value` shows, as plain text (for tests and accessible names)."""
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(value)
    return document.toPlainText()

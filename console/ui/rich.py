"""Plain text inside the rich text of labels: names, ids and errors are whatever their
sender made them, and a "<" in one must read as "<", not start a tag."""

from __future__ import annotations

import html

ERROR_COLOUR = "#c62828"


def text(value: str) -> str:
    """`value` as rich-text content that shows exactly those characters."""
    return html.escape(value, quote=False)


def error(value: str) -> str:
    """`value` shown in the error colour."""
    return f"<span style='color:{ERROR_COLOUR}'>{text(value)}</span>"

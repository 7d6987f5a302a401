"""The colours of states and messages, readable on the window's background, light or dark.

With a dark palette the light ones read at a contrast of 1.8 to 3 ("○ dry run" #44546a on
#2d2d2d: 1.79); WCAG asks 4.5. The dark set gives at least 4.5 on #1e1e1e to #353535.
Read at the time of use, so a theme chosen before the window opens is followed.
"""

from __future__ import annotations

from console.ui.editor.theme import DARK, system_theme

LIGHT_COLOURS = {
    "error": "#c62828", "ok": "#2e7d32", "warn": "#b26a00", "amber": "#ef8f00",
    "muted": "#616161", "stopped": "#7a6400", "dry": "#44546a", "passed": "#1b7f3b",
    "failed": "#b3261e", "text": "#000000",
}
DARK_COLOURS = {
    "error": "#ff6e6e", "ok": "#66bb6a", "warn": "#ffb74d", "amber": "#ffb74d",
    "muted": "#bdbdbd", "stopped": "#e6c84f", "dry": "#90a4ae", "passed": "#66bb6a",
    "failed": "#ff6e6e", "text": "#e0e0e0",
}


def colour(name: str) -> str:
    """The colour named `name` ("error", "ok", "warn", …) for the palette in use."""
    return (DARK_COLOURS if system_theme() is DARK else LIGHT_COLOURS)[name]


def style(name: str) -> str:
    """A style sheet giving a widget's text that colour."""
    return f"color: {colour(name)};"

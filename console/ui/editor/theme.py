"""Editor colours for light and dark, chosen from the system colour scheme.

The palette is a plain value object so the highlighter, gutter and problem marks all read
the same colours and a scheme change (the desktop switching to dark) re-themes everything
in one call.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette


@dataclass(frozen=True)
class EditorTheme:
    """Colours as `#rrggbb` strings (hashable, easy to compare in tests)."""

    name: str
    background: str
    foreground: str
    key: str
    string: str
    number: str
    keyword: str
    punctuation: str
    current_line: str
    bracket_match: str
    bracket_mismatch: str
    gutter_background: str
    gutter_foreground: str
    gutter_current: str
    error: str
    warning: str
    selection: str

    def color(self, field: str) -> QColor:
        return QColor(getattr(self, field))


LIGHT = EditorTheme(
    name="light",
    background="#ffffff",
    foreground="#1f2328",
    key="#0451a5",
    string="#a31515",
    number="#098658",
    keyword="#0000ff",
    punctuation="#57606a",
    current_line="#f3f6fa",
    bracket_match="#c8e1ff",
    bracket_mismatch="#ffd7d5",
    gutter_background="#f6f8fa",
    gutter_foreground="#8c959f",
    gutter_current="#1f2328",
    error="#d1242f",
    warning="#bf8700",
    selection="#b6d7ff",
)

DARK = EditorTheme(
    name="dark",
    background="#1e1e1e",
    foreground="#d4d4d4",
    key="#9cdcfe",
    string="#ce9178",
    number="#b5cea8",
    keyword="#569cd6",
    punctuation="#a0a0a0",
    current_line="#2a2d2e",
    bracket_match="#264f78",
    bracket_mismatch="#5a1d1d",
    gutter_background="#1e1e1e",
    gutter_foreground="#858585",
    gutter_current="#c6c6c6",
    error="#f14c4c",
    warning="#cca700",
    selection="#264f78",
)


def system_theme() -> EditorTheme:
    """DARK when the desktop says dark (or, if it says nothing, when its window is dark)."""
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return DARK
    if scheme == Qt.ColorScheme.Light:
        return LIGHT
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightnessF() < 0.5 else LIGHT

"""The rendered event beside the editor: what the placeholders will turn into.

Shows the editor's event (or the event of a template document) rendered with a fixed
seed, so the preview does not jump while the user types; a problem is shown as
LINE:COL: message of the editor text, the same words a send would use. Rendering is
debounced and happens off the keystroke path.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from console.core.positions import parse_with_positions
from console.core.scenario import FORMAT_TEMPLATE
from console.core.serialize import pretty
from console.core.sourcemap import SourceMap
from console.core.template import TemplateEngine, TemplateError
from console.core.template_scope import PREVIEW_SEED, preview_render
from console.services.workspace import Workspace

DEBOUNCE_MS = 200


def render_text(text: str, engine: TemplateEngine, variables: dict[str, Any] | None = None,
                *, seed: int = PREVIEW_SEED) -> tuple[str | None, str | None]:
    """(rendered pretty JSON, None) or (None, "LINE:COL: message").

    The preview uses a fixed seed so it does not jump; a send passes a fresh one."""
    doc = parse_with_positions(text)
    if doc.error is not None:
        return None, f"{doc.error.line}:{doc.error.column}: {doc.error.message}"
    value, base = doc.value, ""
    if isinstance(value, dict) and value.get("format") == FORMAT_TEMPLATE:
        value, base = value.get("event"), "/event"
    try:
        rendered = preview_render(value, engine, vars=variables, seed=seed)
    except TemplateError as exc:
        problem = SourceMap("", doc).problem(base + exc.pointer, exc.message,
                                             string_offset=exc.offset, line=exc.line)
        return None, f"{problem.problem.line}:{problem.problem.column}: {exc.message}"
    return pretty(rendered), None


class RenderedPreview(QWidget):
    """`set_source(text)` from the editor's textChanged; shows the result after a pause."""

    problem = Signal(str)  # "" when the text renders

    def __init__(self, workspace: Workspace | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = workspace.engine if workspace is not None else TemplateEngine()
        self.variables: dict[str, Any] = {}
        self.title = QLabel("Rendered")
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error)
        self._text = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)

    def set_variables(self, variables: dict[str, Any]) -> None:
        """Values for `vars.*` (e.g. the selected scenario's vars)."""
        self.variables = dict(variables)
        self._timer.start()

    def set_source(self, text: str) -> None:
        self._text = text
        self._timer.start()

    def refresh(self) -> None:
        rendered, error = render_text(self._text, self.engine, self.variables)
        if rendered is not None:
            self.view.setPlainText(rendered)
        self.error.setText(error or "")
        self.error.setVisible(error is not None)
        self.problem.emit(error or "")

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

from console.core.template import TemplateEngine
from console.core.template_scope import render_text
from console.services.workspace import Workspace

DEBOUNCE_MS = 200




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

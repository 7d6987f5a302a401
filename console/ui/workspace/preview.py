"""The rendered event beside the editor: what the placeholders will turn into.

Shows the editor's event (or the event of a template document) rendered with a fixed
seed, so the preview does not jump while the user types; a problem is shown as
LINE:COL: message of the editor text, the same words a send would use. Rendering is
debounced and happens off the keystroke path.

Its Vars field gives `{{ vars.NAME }}` a value outside a scenario (a template written
for one, opened in the editor): NAME=VALUE pairs, as the Scenarios tab's Vars field and
`run --var` take them. Send, Add to batch and Open render with the same values.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from console.core.errors import UserError
from console.core.scenario import parse_var_pairs
from console.core.template import TemplateEngine
from console.core.template_scope import placeholder_errors, render_text
from console.services.workspace import Workspace
from console.ui import rich
from console.ui.colours import style

DEBOUNCE_MS = 200
_VAR_NAMES = re.compile(r"\bvars\.([A-Za-z_][A-Za-z0-9_]*)")


class RenderedPreview(QWidget):
    """`set_source(text)` from the editor's textChanged; shows the result after a pause."""

    problem = Signal(str)  # "" when the text renders

    def __init__(self, workspace: Workspace | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = workspace.engine if workspace is not None else TemplateEngine()
        self.variables: dict[str, Any] = {}
        self.title = QLabel("Rendered")
        self.vars_edit = QLineEdit()
        self.vars_edit.setAccessibleName("Preview vars")
        self.vars_edit.setToolTip(
            "Values for {{ vars.NAME }}: NAME=VALUE pairs separated by spaces (quote a value "
            "with spaces: note='two words'), as the Scenarios tab's Vars field takes them. "
            "Send, Add to batch and Open use them too")
        self.view = QPlainTextEdit()
        self.view.setAccessibleName("Rendered event")
        self.view.setReadOnly(True)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        rich.wrapping(self.error)
        self.error.setStyleSheet(style("failed"))
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        vars_row = QHBoxLayout()
        vars_row.addWidget(QLabel("Vars"))
        vars_row.addWidget(self.vars_edit, 1)
        layout.addLayout(vars_row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error)
        self._text = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        self.vars_edit.textChanged.connect(lambda _text: self._timer.start())

    def set_variables(self, variables: dict[str, Any]) -> None:
        """Values for `vars.*` (e.g. the selected scenario's vars); the Vars field's pairs
        override them."""
        self.variables = dict(variables)
        self._timer.start()

    def template_vars(self) -> dict[str, Any]:
        """What `vars` holds when the editor's text is rendered (preview, Send, Add):
        raises UserError ("Vars: …") when the field cannot be read."""
        try:
            pairs = shlex.split(self.vars_edit.text())
        except ValueError as exc:  # an unclosed quote
            raise UserError(f"Vars: {exc}") from None
        return {**self.variables, **parse_var_pairs(pairs, "Vars:")}

    def set_source(self, text: str) -> None:
        self._text = text
        names = list(dict.fromkeys(_VAR_NAMES.findall(text)))
        self.vars_edit.setPlaceholderText(  # the names the text uses, as an example
            " ".join(f"{name}=…" for name in names) if names else "NAME=VALUE")
        self._timer.start()

    def refresh(self) -> None:
        rendered: str | None = None
        error: str | None
        try:
            variables = self.template_vars()
        except UserError as exc:
            error = str(exc)
        else:
            rendered, error = render_text(self._text, self.engine, variables)
        if rendered is not None and (refused := placeholder_errors(self._text, rendered)):
            first = refused[0]
            error = f"{first.line}:{first.column}: renders to what Send refuses: {first.message}"
        if rendered is not None:
            self.view.setPlainText(rendered)
        self.error.setText(error or "")
        self.error.setVisible(error is not None)
        self.problem.emit(error or "")

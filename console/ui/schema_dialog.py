"""Edit the JSON Schema of one event name in the same editor the events use, then save it.

Opened from the Schemas menu with a starting schema: the workspace's current one, one
inferred from the editor's payload or from the events sent under that name, or one imported
from a file. Saving goes through services.schema_store (atomic, refuses a schema that would
not load, replaces the file that already describes the event).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.core.errors import InputError
from console.core.problems import Problem
from console.core.schemas import load_schema_text
from console.core.serialize import pretty
from console.services.schema_store import save_schema, schema_on_disk
from console.ui import rich
from console.ui.editor import JsonEditor, ProblemsView


class SchemaDialog(QDialog):
    saved = Signal(str)  # the file written

    def __init__(self, workspace: Path, event_name: str, schema: dict[str, Any], *,
                 origin: str, version: str | None = None,
                 parent: QWidget | None = None) -> None:
        """`version`: the event version (`v`) the schema is for; None: every version
        without a schema of its own."""
        super().__init__(parent)
        self.workspace = workspace
        self.event_name = event_name
        self.version = version
        shown = event_name + (f" (v {version})" if version is not None else "")
        self.setWindowTitle(f"Schema of {shown}")
        self.note = QLabel(f"<b>{rich.text(shown)}</b> — {rich.text(origin)}. Saved into "
                           f"<code>{rich.text(str(workspace / 'schemas'))}</code>.")
        rich.wrapping(self.note)
        # what the file held when the dialog opened: another program (a pull, another
        # editor) may change it meanwhile, and Save would silently undo that change
        self._on_disk = schema_on_disk(workspace, event_name, version)
        self.editor = JsonEditor()
        self.editor.set_validator(self._check)
        self.editor.setPlainText(pretty(schema))
        self.problems = ProblemsView()
        self.problems.attach(self.editor)
        self.status = QLabel()
        rich.wrapping(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = QPushButton("Save schema")
        self.save_button.setDefault(True)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.editor, 3)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(760, 620)

    def _check(self, text: str) -> list[Problem]:
        _entry, problems = load_schema_text(f"{self.event_name}.json", text,
                                            event_name=self.event_name, version=self.version)
        return [p.problem for p in problems]


    def save(self) -> Path | None:
        text = self.editor.toPlainText()
        problems = self._check(text)  # what save_schema would refuse, at the editor's
        if problems:  # lines (the file is written re-indented: its lines differ)
            first = problems[0]
            self.status.setText(rich.error(
                f"Not saved: line {first.line}:{first.column}: {first.message}"))
            return None
        now = schema_on_disk(self.workspace, self.event_name, self.version)
        if now != self._on_disk and now is not None:
            self._on_disk = now  # a second Save replaces what is there now
            self.status.setText(rich.error(
                f"Not saved: {now[0].name} changed on disk since this dialog opened (another "
                "program or window wrote it). Save again to replace it with this text, or "
                "Cancel to keep it."))
            return None
        try:
            schema = json.loads(text)
            if not isinstance(schema, dict):
                raise InputError("a JSON Schema is a JSON object")
            path = save_schema(self.workspace, self.event_name, schema, version=self.version)
        except (ValueError, InputError, OSError) as exc:  # OSError: full disk, read-only
            self.status.setText(rich.error(f"Not saved: {exc}"))
            return None
        self.saved.emit(str(path))
        self.accept()
        return path


def event_of(text: str) -> dict[str, Any] | None:
    """The editor's event when it is one JSON object with a name, else None."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("name"), str) else None

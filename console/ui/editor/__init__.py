"""The schema-aware JSON editor: a text widget, its gutter, highlighter and Problems list.

The package keeps each concern in its own small module (highlighting, bracket scanning,
typing aids, problem marks, completion popup) so that the widget file only wires them
together. Everything here is Qt; the rules (validation, completion, positions) live in
`console.core` and reach the editor through the callables the main window passes in.
"""

from console.ui.editor.json_editor import JsonEditor
from console.ui.editor.problems_view import ProblemsModel, ProblemsView
from console.ui.editor.provider import CompletionProvider, CoreCompletionProvider
from console.ui.editor.theme import DARK, LIGHT, EditorTheme, system_theme

__all__ = [
    "DARK",
    "LIGHT",
    "CompletionProvider",
    "CoreCompletionProvider",
    "EditorTheme",
    "JsonEditor",
    "ProblemsModel",
    "ProblemsView",
    "system_theme",
]

"""The composer's actions and toolbar: names, shortcuts and where each one lives.

List shortcuts (Delete, Ctrl+Z, ...) are scoped to the list, so the same keys keep
working in the editor next to it for the editor's own purposes; Add (Ctrl+Shift+A) works
anywhere in the window, the editor included, since it adds the editor's event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar, QToolButton

if TYPE_CHECKING:
    from console.ui.batch.composer import BatchComposer


def make_actions(composer: BatchComposer) -> dict[str, QAction]:
    """Actions by name: add, duplicate, remove, up, down, import_file, import_clipboard,
    preview, undo, redo."""
    actions: dict[str, QAction] = {}
    # the text menus and screen readers show, and the toolbar's short one
    for name, text, short, keys, slot in (
        ("add", "Add Event to Batch", "Add", "Ctrl+Shift+A", composer.add_current),
        ("duplicate", "Duplicate Selected Events", "Duplicate", "Ctrl+D",
         composer.duplicate_selected),
        ("remove", "Remove Selected Events", "Remove", "Delete", composer.remove_selected),
        ("up", "Move Selected Events Up", "↑", "Alt+Up", lambda: composer.move_selected(-1)),
        ("down", "Move Selected Events Down", "↓", "Alt+Down",
         lambda: composer.move_selected(1)),
        ("import_file", "Import Events from File…", "From file…", "", composer.choose_file),
        ("import_clipboard", "Import Events from Clipboard", "From clipboard", "Ctrl+Shift+V",
         composer.import_clipboard),
        ("preview", "Preview Requests…", "Preview…", "", composer.open_preview),
    ):
        action = QAction(text, composer)
        action.setIconText(short)
        action.setToolTip(f"{text} ({keys})" if keys else text)
        if keys:
            action.setShortcut(QKeySequence(keys))
            # Add takes the editor's event: its key works from the editor too (the whole
            # window); the others act on the list's selection, from the list
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut if name == "add"
                                      else Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _=False, s=slot: s())
        actions[name] = action
    stack = composer.undo_stack
    undo, redo = QAction("Undo Batch Change", composer), QAction("Redo Batch Change", composer)
    undo.setIconText("↶")
    redo.setIconText("↷")
    undo.triggered.connect(stack.undo)
    redo.triggered.connect(stack.redo)
    undo.setEnabled(False)
    redo.setEnabled(False)
    stack.canUndoChanged.connect(undo.setEnabled)
    stack.canRedoChanged.connect(redo.setEnabled)
    undo.setToolTip("Undo")
    redo.setToolTip("Redo")
    stack.undoTextChanged.connect(lambda t: undo.setToolTip(f"Undo {t}".strip()))
    stack.redoTextChanged.connect(lambda t: redo.setToolTip(f"Redo {t}".strip()))
    for name, action, key in (("undo", undo, QKeySequence.StandardKey.Undo),
                              ("redo", redo, QKeySequence.StandardKey.Redo)):
        action.setShortcut(key)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the list's own
        composer.view.addAction(action)
        actions[name] = action
    for name in ("add", "duplicate", "remove", "up", "down", "import_clipboard"):
        composer.view.addAction(actions[name])
    return actions


def make_toolbar(composer: BatchComposer, actions: dict[str, QAction]) -> QToolBar:
    toolbar = QToolBar("Batch", composer)
    for name in ("add", "duplicate", "remove", "up", "down"):
        toolbar.addAction(actions[name])
    menu = QMenu(composer)
    menu.addAction(actions["import_file"])
    menu.addAction(actions["import_clipboard"])
    importer = QToolButton(composer)
    importer.setText("Import")
    importer.setToolTip("Import events: a JSON array, one event or JSON Lines "
                        "(or drop a .json/.jsonl file on the list)")
    importer.setMenu(menu)
    importer.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    toolbar.addWidget(importer)
    toolbar.addAction(actions["undo"])
    toolbar.addAction(actions["redo"])
    for action in toolbar.actions():  # "↑" is no name for a screen reader
        button = toolbar.widgetForAction(action)
        if button is not None:
            button.setAccessibleName(action.text())
    importer.setAccessibleName("Import Events")
    return toolbar

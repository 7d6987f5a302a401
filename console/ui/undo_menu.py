"""Edit > Undo and Redo: they act where the keyboard focus is, as Ctrl+Z does.

The editor, the batch list and the templates list each keep their own undo history, and
Ctrl+Z undoes in the one that has the focus. The menu had the templates' Undo alone,
labelled Ctrl+Z: chosen while typing in the editor, it brought a deleted template back and
left the typing. These items register no key of their own (the key stays with each
widget, where it would otherwise be ambiguous); they show it, and what they will undo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QWidget,
)


@dataclass
class _Target:
    undo: Callable[[], None]
    redo: Callable[[], None]
    can_undo: bool
    can_redo: bool
    undo_text: str  # what it undoes ("Delete template 'x'"), or ""
    redo_text: str


def add_undo_items(menu: QMenu, editor: QPlainTextEdit,
                   stacks: Sequence[tuple[QWidget, QUndoStack]]) -> tuple[QAction, QAction]:
    """Add Undo and Redo to `menu`: in a text field (a spin box's, an editable combo box's)
    they undo its typing; `stacks` are the widgets with an undo stack of their own (the
    focus in one of them, or in a child of it, picks its stack); in `editor`, or with no
    focus, they act on `editor`; elsewhere (a button, a table) they are off, as Ctrl+Z
    does nothing there. Each item acts where the focus was when the menu opened."""
    undo_item = menu.addAction("Undo")
    redo_item = menu.addAction("Redo")
    chosen: list[_Target] = []

    def target() -> _Target:
        focus = QApplication.focusWidget()
        field = (focus.findChild(QLineEdit) if isinstance(focus, QAbstractSpinBox)
                 else focus.lineEdit() if isinstance(focus, QComboBox) else focus)
        if isinstance(field, QLineEdit) and not field.isReadOnly():  # a field's own typing
            return _Target(field.undo, field.redo, field.isUndoAvailable(),
                           field.isRedoAvailable(), "", "")
        for owner, stack in stacks:
            if focus is not None and (focus is owner or owner.isAncestorOf(focus)):
                return _Target(stack.undo, stack.redo, stack.canUndo(), stack.canRedo(),
                               stack.undoText(), stack.redoText())
        if focus is not None and focus is not editor:  # a button, a table: nothing there
            return _Target(lambda: None, lambda: None, False, False, "", "")
        document = editor.document()
        return _Target(editor.undo, editor.redo, document.isUndoAvailable(),
                       document.isRedoAvailable(), "", "")

    def refresh() -> None:
        chosen[:] = [target()]
        now = chosen[0]
        for item, verb, what, able, key in (
                (undo_item, "Undo", now.undo_text, now.can_undo, QKeySequence.StandardKey.Undo),
                (redo_item, "Redo", now.redo_text, now.can_redo, QKeySequence.StandardKey.Redo)):
            keys = QKeySequence.keyBindings(key)
            shown = keys[0].toString(QKeySequence.SequenceFormat.NativeText) if keys else ""
            # after a tab, a menu shows the text as the item's key, without binding it
            item.setText(f"{verb} {what}".strip() + (f"\t{shown}" if shown else ""))
            item.setEnabled(able)

    def run(undo: bool) -> None:
        now = chosen.pop() if chosen else target()
        (now.undo if undo else now.redo)()

    menu.aboutToShow.connect(refresh)
    undo_item.triggered.connect(lambda: run(True))
    redo_item.triggered.connect(lambda: run(False))
    return undo_item, redo_item

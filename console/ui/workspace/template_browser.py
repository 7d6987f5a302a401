"""The template browser: find a template by name, tag or event name; open, duplicate,
rename, delete (all undoable), and "Save as template" from the editor, a captured inbox
event or a history row.

Every change is a set of whole-file writes and removals (`Workspace.apply`) kept with the
bytes from before, so undo and redo put back exactly what was on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QKeySequence,
    QPalette,
    QStandardItem,
    QStandardItemModel,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from console.core.envelope import envelope_of
from console.core.errors import UserError
from console.core.scenario import EventTemplate, ordered_event
from console.core.serialize import pretty
from console.services.workspace import Workspace, WorkspaceChange, slug
from console.ui import rich
from console.ui.colours import style
from console.ui.workspace.watcher import WorkspaceWatcher

COLUMNS = ("Template", "Event name", "Tags")
NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class FilesCommand(QUndoCommand):
    """Replace some workspace files (bytes or None: absent); undo restores the old bytes."""

    def __init__(self, text: str, watcher: WorkspaceWatcher, before: Mapping[Path, bytes | None],
                 after: Mapping[Path, bytes | None], *, stack: QUndoStack | None = None,
                 failed: Callable[[str], None] | None = None) -> None:
        super().__init__(text)
        self.watcher = watcher
        self.before = dict(before)
        self.after = dict(after)
        self.stack = stack
        self.failed = failed
        self._unchanged = True  # pushed after its files were written (TemplateBrowser._push)

    def _apply(self, files: Mapping[Path, bytes | None], back: Callable[[], None],
               expected: Mapping[Path, bytes | None]) -> None:
        """Write `files`; when that fails (a folder made read-only since), say so and step
        the stack `back` (the files are as they were, so that step writes nothing): the
        stack had moved on, and the next undo undid the step before instead."""
        if self._unchanged:  # the files are as this step leaves them already
            self._unchanged = False
        else:
            try:
                self.watcher.workspace.apply(files, expected=expected)
            except UserError as exc:
                if self.failed is not None:
                    self.failed(f"{self.text()}: {exc}")
                if self.stack is not None:
                    self._unchanged = True
                    QTimer.singleShot(0, back)
        self.watcher.notify(WorkspaceChange(templates=True))

    def redo(self) -> None:
        self._apply(self.after, lambda: self.stack.undo() if self.stack else None,
                    self.before)

    def undo(self) -> None:
        self._apply(self.before, lambda: self.stack.redo() if self.stack else None,
                    self.after)


class TemplateBrowser(QWidget):
    template_opened = Signal(str, str)  # template name, the event as pretty JSON text
    message = Signal(str)  # a user error to show (e.g. a name already taken)

    def __init__(self, workspace: Workspace, watcher: WorkspaceWatcher | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.watcher = watcher or WorkspaceWatcher(workspace, self)
        self.undo_stack = QUndoStack(self)
        self.search = QLineEdit()
        self.search.setAccessibleName("Search templates")
        self.search.setPlaceholderText("Search by name, tag or event name")
        self.search.setClearButtonEnabled(True)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.search.textChanged.connect(lambda _text: self._show_empty())
        self.view = QTreeView()
        self.view.setAccessibleName("Templates")
        self.view.setTabKeyNavigation(False)  # Tab leaves it; arrows move in it
        self.view.setModel(self.proxy)
        self.view.setRootIsDecorated(False)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.doubleClicked.connect(lambda _index: self.open_selected())
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.empty = QLabel()  # says how to make one, or that the search hides them all
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        rich.wrapping(self.empty)
        faint = self.empty.palette()
        roles = QPalette.ColorRole
        faint.setColor(roles.WindowText, faint.color(roles.PlaceholderText))
        self.empty.setPalette(faint)
        self.problems = QLabel()
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        rich.wrapping(self.problems)
        self.problems.setStyleSheet(style("failed"))
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.open_action = self._action("Open", "Open the template in the editor (Enter)",
                                        self.open_selected, QKeySequence("Return"))
        self.duplicate_action = self._action("Duplicate", "Copy the template under a new name",
                                             self._duplicate_selected)
        self.rename_action = self._action("Rename…", "Rename the template (F2)",
                                          self._rename_selected, QKeySequence("F2"))
        self.delete_action = self._action("Delete", "Delete the template file (undoable)",
                                          self._delete_selected, QKeySequence.StandardKey.Delete)
        self.undo_action = self._action("Undo", "Undo", self.undo_stack.undo,
                                        QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("Redo", "Redo", self.undo_stack.redo,
                                        QKeySequence.StandardKey.Redo)
        self.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_stack.undoTextChanged.connect(
            lambda text: self.undo_action.setToolTip(f"Undo {text}" if text else "Undo"))
        self.undo_stack.redoTextChanged.connect(
            lambda text: self.redo_action.setToolTip(f"Redo {text}" if text else "Redo"))
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        buttons = QHBoxLayout()
        for action in (self.open_action, self.duplicate_action, self.rename_action,
                       self.delete_action, self.undo_action, self.redo_action):
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        layout.addWidget(self.problems)
        self.watcher.changed.connect(self._changed)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.refresh()

    def _action(self, text: str, tip: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    @property
    def workspace(self) -> Workspace:
        return self.watcher.workspace

    # -- the list --------------------------------------------------------------------------
    def _changed(self, change: WorkspaceChange) -> None:
        if change.templates:
            self.refresh()

    def refresh(self) -> None:
        selected = self.selected_name()
        self.model.removeRows(0, self.model.rowCount())
        for name, template in sorted(self.workspace.templates.items()):
            row = [QStandardItem(name), QStandardItem(template.event_name),
                   QStandardItem(", ".join(template.tags))]
            row[0].setData(name, NAME_ROLE)
            tip = rich.tip(template.description or name) or ""
            for item in row:
                item.setToolTip(tip)
            self.model.appendRow(row)
        problems = [str(p) for p in self.workspace.problems_in("templates")]
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
        for column in range(len(COLUMNS) - 1):
            self.view.resizeColumnToContents(column)
        if selected:
            self.select(selected)
        self._update_actions()
        self._show_empty()

    def _show_empty(self) -> None:
        if self.model.rowCount() == 0:
            folder = self.workspace.dir("templates")
            keys = QKeySequence(QKeySequence.StandardKey.Save).toString(
                QKeySequence.SequenceFormat.NativeText)
            lead = ("No template loaded: the files listed below have problems."
                    if self.problems.text() else "No templates in this workspace yet.")
            self.empty.setText(
                f"{lead} Edit ▸ Save as Template ({keys}) saves the editor's event here, as a "
                f"file in {folder}; the Inbox and History tabs save captured and sent events "
                f"the same way.")
        elif self.proxy.rowCount() == 0:
            self.empty.setText(f"No template matches \"{self.search.text()}\" in its name, "
                               "event name or tags.")
        self.empty.setVisible(self.proxy.rowCount() == 0)

    def names(self) -> list[str]:
        """Visible template names, in view order (after the search filter)."""
        return [self.proxy.index(r, 0).data(NAME_ROLE) for r in range(self.proxy.rowCount())]

    def selected_name(self) -> str | None:
        indexes = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        return indexes[0].data(NAME_ROLE) if indexes else None

    def select(self, name: str) -> bool:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(NAME_ROLE) == name:
                self.view.setCurrentIndex(index)
                return True
        return False

    def _update_actions(self) -> None:
        has = self.selected_name() is not None
        for action in (self.open_action, self.duplicate_action, self.rename_action,
                       self.delete_action):
            action.setEnabled(has)

    # -- actions ---------------------------------------------------------------------------
    def open_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            self.open(name)

    def open(self, name: str) -> None:
        template = self.workspace.template(name)
        self.template_opened.emit(name, pretty(template.event))

    def _run(self, action: Any, *args: Any) -> Any:
        try:
            return action(*args)
        except UserError as exc:
            self.message.emit(str(exc))
            return None

    def _duplicate_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            self._run(self.duplicate, name)

    def _rename_selected(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        new, ok = QInputDialog.getText(self, "Rename template", "New name:", text=name)
        if ok and new.strip() and new.strip() != name:
            self._run(self.rename, name, new.strip())

    def _delete_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            self._run(self.delete, name)

    def _push(self, text: str, after: dict[Path, bytes | None]) -> None:
        """Write the files, then make it undoable; a write that fails (a read-only folder)
        is a UserError and leaves no step to undo (a failed save had said "Saved template"
        and added one)."""
        before = self.workspace.snapshot(after)
        try:
            self.workspace.apply(after)  # puts back what it changed when it fails
        except UserError as exc:
            self.watcher.notify(WorkspaceChange(templates=True))
            raise UserError(f"{text}: {exc}") from None
        self.undo_stack.push(FilesCommand(text, self.watcher, before, after,
                                          stack=self.undo_stack, failed=self.message.emit))

    def save_from_event(self, event: Mapping[str, Any], name: str | None = None, *,
                        description: str = "", tags: Sequence[str] = ()) -> str:
        """"Save as template": a new template (undoable) from an event; returns its name.
        Without a name, the event name is used (made unique). The event is kept as the
        server reads it: `"Data"` is its data (it was dropped), and keys the server
        ignores are left out (`ignored_keys` names them)."""
        if not isinstance(event, Mapping):
            raise UserError("only an event with a \"name\" can be saved as a template")
        event = dict(envelope_of(event))
        if not isinstance(event.get("name"), str):
            raise UserError("only an event with a \"name\" can be saved as a template")
        base = (name or str(event["name"])).strip()
        if not base:
            raise UserError("a template needs a name")
        final = base if name else self.workspace.unique_name("templates", base)
        if final in self.workspace.templates:
            raise UserError(f"a template named {final!r} already exists")
        template = EventTemplate(final, ordered_event(event), description, list(tags))
        path, data = self.workspace.template_file(template)
        self._push(f"Save template {final!r}", {path: data})
        self.select(final)
        return final

    def duplicate(self, name: str) -> str:
        template = self.workspace.template(name)
        copy_name = self.workspace.unique_name("templates", f"{name} copy")
        copy = EventTemplate(copy_name, template.event, template.description, template.tags)
        path, data = self.workspace.template_file(copy)
        self._push(f"Duplicate {name!r}", {path: data})
        self.select(copy_name)
        return copy_name

    def rename(self, old: str, new: str) -> None:
        template = self.workspace.template(old)
        if new in self.workspace.templates:
            raise UserError(f"a template named {new!r} already exists")
        old_path = self.workspace.path_of("templates", old)
        renamed = EventTemplate(new, template.event, template.description, template.tags)
        new_path, data = self.workspace.template_file(renamed)
        if old_path is not None and old_path.name == f"{slug(new)}.json":
            new_path = old_path  # "Order" -> "order": same file name, keep the file
        after: dict[Path, bytes | None] = {new_path: data}
        if old_path is not None and old_path != new_path:
            after[old_path] = None
        self._push(f"Rename {old!r} to {new!r}", after)
        self.select(new)

    def delete(self, name: str) -> None:
        path = self.workspace.path_of("templates", name)
        if path is None:
            raise UserError(f"no template named {name!r}")
        self._push(f"Delete {name!r}", {path: None})

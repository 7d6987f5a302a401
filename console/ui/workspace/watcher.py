"""Notices files changed outside the app (git pull, an editor) and re-reads the workspace.

QFileSystemWatcher reports folder changes (a file added, removed, or replaced by an
atomic rename) and in-place writes to watched files; bursts (a checkout touching fifty
files) are coalesced by a short timer, and the workspace itself decides what changed.
"""

from __future__ import annotations

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from console.services.workspace import KINDS, Workspace, WorkspaceChange

DEBOUNCE_MS = 150


class WorkspaceWatcher(QObject):
    changed = Signal(object)  # WorkspaceChange

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._watcher = QFileSystemWatcher(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.reload)
        self._watcher.directoryChanged.connect(lambda _path: self._timer.start())
        self._watcher.fileChanged.connect(lambda _path: self._timer.start())
        self._watch()

    def set_workspace(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._watch()
        self.changed.emit(WorkspaceChange(True, True, True))

    def _watch(self) -> None:
        for paths in (self._watcher.directories(), self._watcher.files()):
            if paths:
                self._watcher.removePaths(paths)
        # the workspace folder too: a templates/ scenarios/ or schemas/ folder removed and
        # made again (a branch switch) was no longer watched, and its files never showed
        # and the folder holding it: the workspace folder itself removed and made again
        folders = [folder for folder in (self.workspace.folder.parent, self.workspace.folder,
                                         *(self.workspace.dir(kind) for kind in KINDS))
                   if folder.is_dir()]
        files = [p for folder in folders for p in folder.glob("*.json") if p.is_file()]
        paths = [str(p) for p in folders + files]
        if paths:
            self._watcher.addPaths(paths)

    def notify(self, change: WorkspaceChange) -> None:
        """The app changed files itself (and re-read them): tell every listener."""
        self._watch()
        self.changed.emit(change)

    def reload(self) -> WorkspaceChange:
        """Re-read what changed; tell listeners when anything did."""
        change = self.workspace.reload_if_changed()
        self._watch()
        if change:
            self.changed.emit(change)
        return change

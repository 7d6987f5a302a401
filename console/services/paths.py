"""Where the console keeps its files (config, data, state/logs, cache).

Follows the XDG base directories on Linux (what QStandardPaths picks there too), the
usual folders on macOS and Windows. Kept free of Qt so the CLI starts fast.
`EVENT_CONSOLE_HOME` puts everything under one folder (tests, portable installs).
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from console.core.errors import UserError

APP_DIR = "event-console"


@dataclass(frozen=True, slots=True)
class AppPaths:
    config: Path
    data: Path
    state: Path
    cache: Path

    @property
    def environments_file(self) -> Path:
        return self.config / "environments.json"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def log_file(self) -> Path:
        return self.state / "event-console.log"

    @property
    def history_db(self) -> Path:
        return self.data / "history.sqlite3"

    @property
    def default_workspace(self) -> Path:
        return self.data / "workspace"

    def ensure(self) -> AppPaths:
        """Create the folders, readable by this user only: the history holds every payload
        sent or captured, and the log and settings say where they went. Folders made
        by an older console with the usual 0755 are narrowed too."""
        for folder in (self.config, self.data, self.state, self.cache):
            private_folder(folder)
        return self


PRIVATE = 0o700


def private_folder(folder: Path) -> Path:
    """`folder`, made if missing, readable by this user only. One that cannot be made (a
    HOME that is missing, read-only or a file) is a UserError saying which and what to do:
    every command that keeps state, and the window, ended in a traceback."""
    try:
        folder.mkdir(mode=PRIVATE, parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot make the folder {folder}: {exc.strerror or exc}; set EVENT_CONSOLE_HOME "
            "to a folder this user can write") from None
    _narrow(folder)
    return folder


def _narrow(folder: Path) -> None:
    if sys.platform == "win32":  # per-user profile folders; POSIX modes do not apply
        return
    try:
        info = folder.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            folder.chmod(PRIVATE)
    except OSError:  # not ours to change (a read-only mount): use it as it is
        pass


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / fallback
    return base / APP_DIR


def app_paths() -> AppPaths:
    """The folders for this user and platform (not created until `ensure`)."""
    home = os.environ.get("EVENT_CONSOLE_HOME")
    if home:
        root = Path(home)
        return AppPaths(root / "config", root / "data", root / "state", root / "cache")
    if sys.platform == "win32":
        roaming = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / APP_DIR
        local = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / APP_DIR
        return AppPaths(roaming, local, local / "logs", local / "cache")
    if sys.platform == "darwin":
        support = Path.home() / "Library" / "Application Support" / APP_DIR
        return AppPaths(
            support, support, Path.home() / "Library" / "Logs" / APP_DIR,
            Path.home() / "Library" / "Caches" / APP_DIR,
        )
    return AppPaths(
        _xdg("XDG_CONFIG_HOME", ".config"),
        _xdg("XDG_DATA_HOME", ".local/share"),
        _xdg("XDG_STATE_HOME", ".local/state"),
        _xdg("XDG_CACHE_HOME", ".cache"),
    )

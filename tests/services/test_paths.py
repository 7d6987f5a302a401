"""The app's folders: where they are, and that only their user can read them."""

from __future__ import annotations

import stat
from pathlib import Path

from console.services.paths import app_paths


def test_the_folders_are_private_and_old_open_ones_are_narrowed(app_home: Path) -> None:
    paths = app_paths()
    paths.data.mkdir(parents=True, mode=0o755)  # as an older console made it
    paths.data.chmod(0o755)
    paths.ensure()
    for folder in (paths.config, paths.data, paths.state, paths.cache):
        assert folder.parent == app_home and folder.is_dir()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    # the history file inside cannot be reached by another user, whatever its own mode
    paths.history_db.write_bytes(b"")
    assert stat.S_IMODE(paths.data.stat().st_mode) & 0o077 == 0

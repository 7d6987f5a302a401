"""The archive as a user gets it: unpack, run install.sh into a temp home, run the installed
command through its ~/.local/bin symlink, validate the installed desktop entry and the
installed tree (appstreamcli validate-tree: metainfo and desktop file agree), uninstall.

Kept apart from check.py because it tests install.sh (shell) rather than the frozen app.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from layout import APP, APP_ID


def install_and_uninstall(archive: Path, scratch: Path, version: str) -> tuple[bool, str, dict]:
    scratch.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(scratch, filter="tar")
    roots = [p for p in scratch.iterdir() if p.is_dir()]
    if len(roots) != 1:
        return False, f"archive should hold one top folder, holds {roots}", {}
    root, home = roots[0], scratch / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFIX", "XDG_DATA_HOME") and not k.startswith(("INNGEST_", "EVENT_"))}
    env.update(HOME=str(home), EVENT_CONSOLE_HOME=str(scratch / "app-home"))
    data: dict[str, Any] = {}

    installed = _sh([str(root / "install.sh")], env)
    data["install"] = installed.stdout.strip()
    if installed.returncode != 0:
        return False, f"install.sh failed: {installed.stderr.strip()}", data
    local = home / ".local"
    expected = [
        local / "bin" / APP,
        local / "lib" / APP / APP,
        local / "share" / "applications" / f"{APP_ID}.desktop",
        local / "share" / "metainfo" / f"{APP_ID}.metainfo.xml",
        local / "share" / "icons" / "hicolor" / "scalable" / "apps" / f"{APP}.svg",
        *(local / "share" / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{APP}.png"
          for n in (16, 32, 48, 64, 128, 256, 512)),
    ]
    missing = [str(p.relative_to(home)) for p in expected if not p.exists()]
    if missing:
        return False, f"not installed: {', '.join(missing)}", data
    version_run = _sh([str(local / "bin" / APP), "--version"], env)
    if version_run.stdout.strip() != f"{APP} {version}":
        said = (version_run.stdout + version_run.stderr).strip().splitlines()[-2:]
        return False, f"installed {APP} --version said {' | '.join(said)!r}", data
    desktop = local / "share" / "applications" / f"{APP_ID}.desktop"
    exec_line = next(line for line in desktop.read_text("utf-8").splitlines()
                     if line.startswith("Exec="))
    if exec_line != f'Exec="{local / "lib" / APP / APP}"':
        return False, f"installed desktop entry runs {exec_line!r}", data
    if shutil.which("desktop-file-validate"):
        validated = _sh(["desktop-file-validate", str(desktop)], env)
        if validated.returncode != 0:
            return False, f"installed desktop entry: {validated.stdout.strip()}", data
    if shutil.which("appstreamcli"):
        # The installed tree as a whole: the metainfo's launchable names the desktop file
        # that is really there.
        tree = _sh(["appstreamcli", "validate-tree", "--no-net", str(local)], env)
        data["validate-tree"] = tree.stdout.strip()
        if tree.returncode != 0:
            said = " | ".join(line.strip() for line in tree.stdout.splitlines() if line.strip())
            return False, f"appstreamcli validate-tree: {said}", data

    removed = _sh([str(root / "install.sh"), "--uninstall"], env)
    left = [str(p.relative_to(home)) for p in expected if p.exists() or p.is_symlink()]
    if removed.returncode != 0 or left:
        return False, f"--uninstall left {left}: {removed.stderr.strip()}", data
    return True, f"installed into a temp ~/.local, ran {APP} --version, uninstalled", data


def _sh(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, text=True, capture_output=True, timeout=120,
                          check=False)

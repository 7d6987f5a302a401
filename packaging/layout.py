"""Names and places shared by the build, the check and the start-up measurement.

Kept in one module so the archive layout, the check's expectations and install.sh cannot
drift apart (install.sh repeats a few of these names; the check runs it to prove they match).
"""

from __future__ import annotations

import json
import platform
import re
import sys
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from pathlib import Path

APP = "event-console"
APP_ID = "dev.eventconsole.EventConsole"
PACKAGING = Path(__file__).resolve().parent
REPO = PACKAGING.parent
SPEC = PACKAGING / f"{APP}.spec"
DESKTOP_SOURCE = PACKAGING / f"{APP}.desktop"
METAINFO_SOURCE = PACKAGING / f"{APP_ID}.metainfo.xml"
INSTALL_SH = PACKAGING / "install.sh"
REPORT_NAME = "build-report.json"


class PackagingError(Exception):
    """A step cannot go on; the message says what to do."""


def package_version() -> str:
    """The version the bundle will carry (installed metadata), checked against the source
    (`console.__version__`, which pyproject.toml reads)."""
    installed = dist_version(APP)
    source = (REPO / "console" / "__init__.py").read_text("utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', source, re.MULTILINE)
    declared = found[1] if found else "(no __version__ in console/__init__.py)"
    if installed != declared:
        raise PackagingError(
            f"installed metadata says {installed} but console/__init__.py says {declared}: "
            "reinstall the package (pip install -e .) so the bundle carries the right version"
        )
    return str(installed)


def platform_tag() -> str:
    machine = platform.machine().lower() or "unknown"
    return f"{sys.platform}-{machine}"


@dataclass(frozen=True)
class Layout:
    """Where one build puts its outputs."""

    dist: Path
    work: Path
    onefile: bool = False

    @property
    def app_dir(self) -> Path:
        return self.dist / APP

    @property
    def onefile_exe(self) -> Path:
        return self.dist / "onefile" / (f"{APP}.exe" if sys.platform == "win32" else APP)

    @property
    def icons(self) -> Path:
        return self.work / "icons"

    @property
    def report(self) -> Path:
        return self.dist / ("onefile" if self.onefile else "") / REPORT_NAME

    def cli_exe(self) -> Path:
        """The executable that talks on stdout (Windows: the console-subsystem twin)."""
        if self.onefile:
            return self.onefile_exe
        if sys.platform == "win32":
            return self.app_dir / f"{APP}-cli.exe"
        if sys.platform == "darwin":
            return self.dist / "Event Console.app" / "Contents" / "MacOS" / APP
        return self.app_dir / APP

    def archive(self, version: str) -> Path:
        return self.dist / f"{APP}-{version}-{platform_tag()}.tar.gz"

    def read_report(self) -> dict[str, object]:
        try:
            return dict(json.loads(self.report.read_text("utf-8")))
        except (OSError, ValueError):
            return {}

    def write_report(self, figures: dict[str, object]) -> None:
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")


def tree_size(path: Path) -> int:
    """Bytes of all files under path (symlinks not followed), or the file's size."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mib(size: float) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"

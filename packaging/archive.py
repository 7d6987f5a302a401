"""The Linux archive: the app folder plus what a desktop needs, and install.sh to put it there.

Layout inside `event-console-<version>-linux-x86_64.tar.gz` (one top folder, as people expect):
    install.sh                    installs for the current user into ~/.local (--uninstall)
    event-console/                the PyInstaller one-folder app
    share/applications/dev.eventconsole.EventConsole.desktop
    share/icons/hicolor/<n>x<n>/apps/event-console.png, scalable/apps/event-console.svg
    share/metainfo/dev.eventconsole.EventConsole.metainfo.xml
Owner and group are normalised to root/0 so unpacking as any user gives files that user owns.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from layout import APP, APP_ID, DESKTOP_SOURCE, INSTALL_SH, METAINFO_SOURCE, Layout, platform_tag


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _executable(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info = _normalised(info)
    info.mode = 0o755
    return info


def archive_root(version: str) -> str:
    return f"{APP}-{version}-{platform_tag()}"


def write_archive(layout: Layout, version: str, hicolor: Path) -> Path:
    """Write the archive next to the app folder (atomically: a half-written one never shows)."""
    target = layout.archive(version)
    partial = target.with_name(target.name + ".partial")
    root = archive_root(version)
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(INSTALL_SH, arcname=f"{root}/install.sh", filter=_executable)
        tar.add(layout.app_dir, arcname=f"{root}/{APP}", filter=_normalised)
        tar.add(DESKTOP_SOURCE, arcname=f"{root}/share/applications/{APP_ID}.desktop",
                filter=_normalised)
        tar.add(METAINFO_SOURCE, arcname=f"{root}/share/metainfo/{APP_ID}.metainfo.xml",
                filter=_normalised)
        tar.add(hicolor, arcname=f"{root}/share/icons/hicolor", filter=_normalised)
    partial.replace(target)
    return target

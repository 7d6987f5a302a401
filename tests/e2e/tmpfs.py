"""A folder on a small tmpfs of its own: a disk that fills up, or turns read-only, for real.

tests/run runs as root, who may mount; a folder made read-only by its mode does not stop
root, a read-only mount does. Every mount is unmounted at the end of its `with` block.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import require

SIZE = "4m"


@contextlib.contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    """`folder` (made if missing) on a tmpfs of SIZE, for the `with` block."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs",
                           str(folder)], capture_output=True, text=True, check=False)
    require(done.returncode == 0, f"mounting a tmpfs (run as root, as tests/run does): "
            f"{done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path) -> None:
    """Take every free byte of the disk `folder` is on (a file named `filler`)."""
    chunk = b"\0" * 4096
    with open(folder / "filler", "ab", buffering=0) as filler:
        try:
            while True:
                filler.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    assert os.statvfs(folder).f_bavail == 0


def read_only(folder: Path) -> None:
    """Remount the tmpfs at `folder` read-only (it is unmounted as ever)."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

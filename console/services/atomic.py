"""Atomic file writes: a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "wb", **options: Any) -> Iterator[IO[Any]]:
    """A file (opened with `mode` and `options`) that appears at `path` whole or not at
    all: written to a temp file in the same folder, fsynced, then renamed over `path`; an
    error on the way removes the temp file and leaves `path` as it was.

    A path that is there but is not a regular file (a pipe, /dev/stdout, a terminal) is
    written into as it is: renaming over it would replace the pipe or device node."""
    if path.exists() and not path.is_file() and not path.is_dir():
        with open(path, mode, **options) as handle:
            yield handle
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600: a template saved again, or a JUnit file for CI,
        # became readable by this user alone. A file keeps its mode; a new one gets what
        # the umask gives (the folder decides who may reach it: the app's own are 0700)
        with contextlib.suppress(OSError):
            os.chmod(fd, _kept_mode(path))
        with os.fdopen(fd, mode, **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _kept_mode(path: Path) -> int:
    """The permission bits `path` has, or a new file's under the process umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The umask, read without setting it (os.umask sets it for every thread at once)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_file(path) as handle:
        handle.write(data)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def free_path(path: Path) -> Path:
    """`path`, else `<stem>-2<suffix>`, `-3`… : the first that no file (or link) holds."""
    candidate, n = path, 2
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate

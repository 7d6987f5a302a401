"""File paths handed to Qt.

Qt 6 encodes every path as UTF-8, whatever the locale; Python decodes the file system's
bytes with the locale's encoding. Under a non-UTF-8 locale (ISO-8859-1, or C without
Python's UTF-8 mode) a non-ASCII folder name read by Python is not the name Qt would
encode back: the window's state went to a second, mis-named folder beside the real home.
"""

from __future__ import annotations

import os
from pathlib import Path


def qt_path(path: Path | str) -> str:
    """`path` as Qt must be given it to reach the same file: its bytes read as UTF-8 (as
    they are; only bytes that are not UTF-8 leave it as Python read it)."""
    raw = os.fsencode(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return os.fsdecode(raw)

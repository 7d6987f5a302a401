"""Where the shipped resources are: source checkout, installed package, or frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The folder holding icons, schemas and examples."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    # the installed package's own folder first: an installed console's parents[2] is
    # site-packages, where another package's resources/ folder may sit
    installed = Path(__file__).resolve().parents[1] / "resources"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "resources"  # a source checkout


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)

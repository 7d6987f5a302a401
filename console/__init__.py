"""Event Console: fire events at Inngest by hand, replay saved scenarios."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("event-console")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]

"""Event Console: fire events at Inngest by hand, replay saved scenarios."""

# The one place the version is written (pyproject.toml reads it from here). A constant,
# not importlib.metadata: that import alone cost every start ~45 ms.
__version__ = "0.1.0"

__all__ = ["__version__"]

"""Icons, built-in schemas, examples and file-format schemas (data, not code)."""

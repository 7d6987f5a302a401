"""I/O without widgets: HTTP client, inbox server, keyring, files, history."""

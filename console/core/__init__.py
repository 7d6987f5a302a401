"""Pure rules of the console: no Qt, no sockets, no files."""

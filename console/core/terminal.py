"""Text from outside (event names, ids, server errors) printed for a person to read.

Anyone who can reach the inbox chooses the names and ids that `event-console history`
later prints. Control characters among them would reach the terminal as they are: ESC
sequences can clear the screen, recolour it, retitle the window or, on some terminals,
write the clipboard. So human-readable output shows each one as a visible escape instead
(`\\x1b`). JSON output escapes them too: JSON itself the C0 ones, and
`commands.common.json_line` the C1 ones, which JSON leaves raw.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

_CONTROL = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}
# the marks, embeddings, overrides and isolates that change the order a terminal shows the
# rest of the line in: an event name with U+202E in it showed the line's end reversed
_CONTROL.update({code: f"\\u{code:04x}" for code in
                 [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]})


def visible(text: str) -> str:
    """`text` with every C0/C1 control character (newline and tab too) shown as `\\xNN`,
    and every bidirectional control as `\\uNNNN`."""
    return text.translate(_CONTROL)


def one_line(text: str) -> str:
    """`text` as one line: runs of whitespace (line breaks, tabs) become one space, other
    control characters are shown as `\\xNN` (a server's error, shown in a status bar), and
    half a UTF-16 pair as `\\udNNN`."""
    return utf8_safe(visible(" ".join(text.split())))


def utf8_safe(text: str) -> str:
    """`text` with half a UTF-16 pair (JSON's "\\ud800") written as `\\ud800`: it cannot be
    encoded, so the history could not store it (UnicodeEncodeError ended the send)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def say(message: str) -> None:
    """One line for the person at the terminal, on stderr: `event-console: <message>`.
    One write, so a line said by another thread (the history writer's) never interleaves."""
    sys.stderr.write(f"event-console: {message}\n")


class QuietStream:
    """stderr for a command: once a write to it fails (the terminal closed: EIO; a `| tee`
    that Ctrl+C ended: EPIPE), what follows is dropped, and the stream's descriptor points
    at /dev/null so the flush at exit does not fail either. A message no one can read had
    ended the command mid-way: `run` sent the rest of a scenario after a Ctrl+C whose
    "stopping" line could not be written."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.failed = False

    def write(self, text: str) -> int:
        if not self.failed:
            try:
                self._stream.write(text)
            except (OSError, ValueError):
                self._failed()
        return len(text)

    def flush(self) -> None:
        if not self.failed:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._failed()

    def _failed(self) -> None:
        self.failed = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            _to_devnull(self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def discard_stdout() -> None:
    """Point stdout at /dev/null (its reader went away: `... | head -1`), so what is still
    buffered, and the flush at exit, do not fail on the pipe again."""
    _to_devnull(sys.stdout.fileno())


def _to_devnull(fd: int) -> None:
    """Point the descriptor `fd` at /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def typed_text(arg: str) -> str:
    """A command-line argument that is text (a name, a filter, a --var value) as the user
    typed it. Under a locale that is not UTF-8 (C without Python's UTF-8 mode) Python reads
    `café` as `caf\\udcc3\\udca9`: such a name was saved into environments.json as it
    was, and a --name filter made SQLite raise. Bytes that are UTF-8, as a terminal sends
    them, are read so. (Not for paths: the file system wants them as Python read them.)"""
    if not any("\udc80" <= ch <= "\udcff" for ch in arg):
        return arg
    try:
        return os.fsencode(arg).decode("utf-8")
    except UnicodeDecodeError:
        return arg

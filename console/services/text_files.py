"""Reading a file someone else put in a folder (a git pull, a teammate): refuse what is not
a regular UTF-8 text file of sane size, plainly, instead of blocking on a FIFO, filling
memory or failing with a traceback."""

from __future__ import annotations

import codecs
import os
import stat
import unicodedata
from pathlib import Path

from console.core.errors import InputError, UserError
from console.core.positions import text_lines
from console.core.problems import Problem

MAX_INPUT_BYTES = 256 * 1024 * 1024  # a file of events to send or import


def read_text_file(path: Path, *, max_bytes: int, kind: str, not_binary: str,
                   within: Path | None = None) -> str:
    """The text of `path`; an InputError saying what is wrong otherwise.

    `kind` names the file in size messages ("a schema file"), `not_binary` ends the message
    for a file with NUL bytes ("not JSON text"); with `within`, a file that leads through
    a link to somewhere outside that folder is not read (see outside_link).
    """
    outside = outside_link(path, within) if within is not None else None
    if outside:
        raise InputError(outside)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file")
        if info.st_size > max_bytes:
            raise InputError(f"file is {info.st_size:,} bytes, over the {max_bytes:,} "
                             f"bytes {kind} may have")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputError(f"file is over the {max_bytes:,} bytes {kind} may have")
    problem = utf16_problem(data)
    if problem:
        raise InputError(problem)
    if b"\x00" in data:
        raise InputError(f"binary file (contains NUL bytes), {not_binary}")
    return decode_utf8(data)


class NotUtf8(InputError):
    """Bytes that are not UTF-8, with where the first bad byte is (`line`, `column`, as
    an editor that shows the text would count them; `byte`: its 0-based offset)."""

    def __init__(self, data: bytes, byte: int) -> None:
        """`byte`: the offset in `data` of the first byte that is not UTF-8."""
        before = data[:byte].decode("utf-8").removeprefix("\ufeff")  # valid up to there
        lines = text_lines(before)
        self.byte, self.line, self.column = byte, len(lines), len(lines[-1]) + 1
        self.bare = f"not UTF-8 text (byte {byte})"  # for a FILE:LINE:COL line
        super().__init__(f"not UTF-8 text at line {self.line}, column {self.column}"
                         f" (byte {byte})")


def read_problem(exc: UserError) -> Problem:
    """Why a file was not read, as a problem of that file: placed at its first byte that is
    not UTF-8 (the workspace's and the schemas' lists had put that at 1:1), else at 1:1."""
    if isinstance(exc, NotUtf8):
        return Problem(exc.bare, line=exc.line, column=exc.column)
    return Problem(str(exc))


def decode_utf8(data: bytes) -> str:
    """`data` as text (a leading byte order mark dropped), or `NotUtf8` saying where the
    first byte that is not UTF-8 is: a byte number alone sent the user counting."""
    try:
        # not "utf-8-sig": its error offsets count from after the mark (a file with one was
        # placed up to 3 bytes early, or the offset cut a character and raised again)
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise NotUtf8(data, exc.start) from None


def outside_link(path: Path, root: Path, *, done: str = "read") -> str | None:
    """Why `path` is not read (or written: `done`) as part of `root`, or None: a link (the
    file, or a folder on the way) to somewhere outside `root`. A workspace comes from
    someone else's repository: a link in it to ~/.ssh/… or a token file had its first word
    quoted in the parse error that CI then printed, and a `templates` link to another
    folder had Save as Template write there."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    if real == top or real.startswith(top.rstrip(os.sep) + os.sep):
        return None
    return f"leads through a link to {real}, outside {top}: not {done}"


def checkout_root(path: Path, workspace: Path | None = None) -> Path | None:
    """The folder a file named on a command line may not lead out of through a link: the
    workspace when the path names a file in it, else the current folder (a repository's
    checkout, in CI) when a relative path names a file in it, else None (a path to
    elsewhere, absolute or by `..`, is the user's own choice).

    A `--data` file or a scenario file committed as a link to ~/.aws/credentials had its
    lines sent as events and written to the --report file CI keeps."""
    named = Path(os.path.normpath(os.path.abspath(path)))  # as written: links not followed
    if workspace is not None and named.is_relative_to(os.path.abspath(workspace)):
        return workspace
    if not path.is_absolute() and named.is_relative_to(Path.cwd()):
        return Path.cwd()
    return None


def real_path(path: Path) -> Path:
    """Where `path` leads, or `path` itself for a link loop (Path.resolve raises)."""
    return Path(os.path.realpath(path))


_TEXT_SAMPLE = 2048  # characters of a UTF-16 file looked at


def utf16_problem(data: bytes) -> str | None:
    """What to say of text in UTF-16, or None. Windows PowerShell 5 writes UTF-16 with `>`
    and `Out-File` (JSON, or CSV from ConvertTo-Csv): "binary file" or "not UTF-8" would
    mislead. With a byte order mark, or without one when the first character has a zero
    byte beside it. Most bytes decode as UTF-16, so the text must also start with a
    printable ASCII character (`{`, `[`, a CSV header, `#TYPE`) and hold no control
    characters but tabs and line breaks, and no unassigned or private-use ones."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _utf16_text(data[len(bom):], codec, empty=True)
    if len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
        return _utf16_text(data, "utf-16-be" if data[0] == 0 else "utf-16-le", empty=False)
    return None


def _utf16_text(data: bytes, codec: str, *, empty: bool) -> str | None:
    try:
        text = data.decode(codec).lstrip()
    except UnicodeDecodeError:
        return None
    if not text:
        return UTF16_MESSAGE if empty else None
    if not ("!" <= text[0] <= "~" and not any(
            unicodedata.category(ch) in _NOT_TEXT and ch not in "\t\r\n"
            for ch in text[:_TEXT_SAMPLE])):
        return None
    return UTF16_MESSAGE


# control characters, unassigned and private-use code points: what text does not hold
# (spaces such as U+00A0 and U+3000, joiners and U+2028 it does: str.isprintable refused
# them, and UTF-16 JSON with a price in French was called binary)
_NOT_TEXT = frozenset({"Cc", "Cn", "Co"})


UTF16_MESSAGE = ("UTF-16 text, not UTF-8: save the file as UTF-8 (in Windows PowerShell, "
                 "`| Out-File -Encoding utf8` instead of `>`)")

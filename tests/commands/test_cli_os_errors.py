"""An OSError no command turned into a message (a full disk, a read-only folder) ends in one
line and exit 2, not a traceback; anything else is still a bug, with its traceback."""

from __future__ import annotations

import errno

import pytest

from console import cli
from console.commands import history


def failing(exc: BaseException):
    def command(args: object) -> int:
        raise exc

    return command


def test_an_os_error_is_one_line_naming_what_the_system_said_and_where(monkeypatch, capsys):
    monkeypatch.setattr(history, "run_history", failing(
        OSError(errno.ENOSPC, "No space left on device", "/data/out\x1b[2J.json")))
    assert cli.main(["history"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "", "event-console: stopped: No space left on device (/data/out\\x1b[2J.json)\n")


def test_a_bug_is_not_hidden(monkeypatch):
    monkeypatch.setattr(history, "run_history", failing(KeyError("row")))
    with pytest.raises(KeyError):
        cli.main(["history"])

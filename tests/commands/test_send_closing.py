"""`send` closes its history on a thread while it prints the lines; what closing raised
still reaches the command, after the lines are out."""

from __future__ import annotations

import threading

import pytest

from console.commands.send import _Closing
from console.services.history_schema import HistoryError


def test_what_closing_raised_is_raised_by_wait() -> None:
    ran_on: list[str] = []

    def close() -> None:
        ran_on.append(threading.current_thread().name)
        raise HistoryError("cannot write the history: disk full")

    closing = _Closing(close)
    with pytest.raises(HistoryError, match="disk full"):
        closing.wait()
    assert ran_on == ["history-close"]


def test_wait_returns_once_closing_is_done() -> None:
    done = threading.Event()
    closing = _Closing(done.set)
    closing.wait()
    assert done.is_set()


def test_ctrl_c_while_a_command_loads_exits_130_without_a_traceback(monkeypatch, capsys):
    """Ctrl+C in the first tenth of a second (httpx and rich still importing) printed a
    35-line traceback: the imports ran outside the handler."""
    import importlib

    from console import cli

    def interrupted(name: str, package: str | None = None):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib, "import_module", interrupted)
    assert cli.main(["send", "-"]) == 130
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")

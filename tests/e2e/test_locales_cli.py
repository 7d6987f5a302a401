"""The CLI under locales and terminals other than a UTF-8 one, and with stdout closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.inbox_thread import running_inbox

C_LOCALE = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


def test_text_arguments_are_read_as_typed_under_a_c_locale(cli, app_home):
    """Python read `café` as `caf\\udcc3\\udca9`: `history --name` raised in SQLite, and
    `env add` saved a name no other shell could pick or remove."""
    listed = cli("history", "--name", "café/José", env=C_LOCALE)
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    added = cli("env", "add", "Zoë", "--event-origin", "http://127.0.0.1:9", env=C_LOCALE)
    assert added.returncode == 0, added.stderr
    saved = json.loads((app_home / "config" / "environments.json").read_text())
    assert "Zoë" in [e["name"] for e in saved["environments"]]
    removed = cli("env", "remove", "Zoë")  # from a UTF-8 shell
    assert removed.returncode == 0, removed.stderr


def test_a_path_that_is_not_ascii_still_opens_under_a_c_locale(cli, tmp_path):
    path = tmp_path / "données é.json"
    path.write_text('{"name": "a/b", "data": {}}')
    done = cli("validate", str(path), env=C_LOCALE)
    assert done.returncode == 0, done.stderr


def test_help_prints_on_an_ascii_stdout(cli):
    """`inbox --help` ended in a UnicodeEncodeError (its text has a "…")."""
    done = cli("inbox", "--help", env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    assert "\\u2026" in done.stdout


def test_a_closed_stdout_is_no_traceback_and_the_send_still_happens(app_home, tmp_path):
    """`>&-`: Python's sys.stdout is None, and every command ended in an AttributeError
    on its first line (a run after its first step, no --junit written)."""
    path = tmp_path / "e.json"
    path.write_text('{"name": "closed/out", "data": {}}')
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ["EVENT_CONSOLE_HOME"] = str(app_home)
    with running_inbox() as inbox:
        done = subprocess.run(
            ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "console", "send",
             "--url", inbox.url, "--no-verify", str(path)],
            capture_output=True, text=True, env=environ, timeout=60, check=False)
        assert [e.name for e in inbox.events()] == ["closed/out"]
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def _as_a_c_locale_reads(text: str) -> str:
    """`text` as Python reads it from argv under LC_ALL=C without its UTF-8 mode."""
    return text.encode("utf-8").decode("ascii", "surrogateescape")


@pytest.mark.parametrize(("args", "option", "wanted"), [
    (["inbox", "--trigger", "café/*"], "trigger", ["café/*"]),
    (["history", "--name", "café/José"], "name", "café/José"),
    (["history", "--search", "Zürich"], "search", "Zürich"),
    (["send", "--env", "Prüf 🎉", "-"], "env", "Prüf 🎉"),
    (["send", "--url", "http://bücher.example", "-"], "url", "http://bücher.example"),
    (["run", "s.json", "--var", "who=Zoë"], "var", ["who=Zoë"]),
    (["env", "add", "Zoë", "--branch", "é", "--event-origin", "http://ü.example"],
     "branch", "é"),
    (["validate", "--env", "Zoë", "e.json"], "env", "Zoë"),
])
def test_every_text_option_is_read_as_typed(args, option, wanted):
    """Each text option (not paths) takes what the terminal sent as UTF-8."""
    from console.cli import build_parser

    parsed = build_parser(args[0]).parse_args([_as_a_c_locale_reads(a) for a in args])
    assert getattr(parsed, option) == wanted


def test_version_on_a_full_stdout_is_one_line_not_a_traceback(cli):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "console", "--version"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (
        1, "event-console: stopped: No space left on device\n")

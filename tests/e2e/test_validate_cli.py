"""`event-console validate` as a real subprocess: output lines, exit codes, options."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from console.services.environments import Environment, EnvironmentStore
from console.services.paths import app_paths

pytestmark = pytest.mark.e2e


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def files(app_home: Path) -> Path:
    folder = app_home / "events"
    folder.mkdir()
    (folder / "good.json").write_text('{"name": "app/user.created", "data": {"email": "a@b"}}')
    (folder / "bad.json").write_text('[\n  {"name": "inngest/x", "data": []},\n'
                                     '  {"name": "ok", "ts": 1700000000}\n]\n')
    (folder / "events.jsonl").write_text('{"name": "a"}\n{"name": "b",}\n')
    (folder / "user.json").write_text('{"name": "app/user.created", "data": {"email": 5}}')
    (folder / "latin1.json").write_bytes('{"name": "é"}'.encode("latin-1"))
    schemas = folder / "schemas"
    schemas.mkdir()
    (schemas / "app__user.created.json").write_text(json.dumps(
        {"type": "object", "properties": {"email": {"type": "string"}}}))
    (schemas / "broken.json").write_text('{"type": "object",\n  "required": "email"}')
    return folder


def test_clean_file_exits_zero_silently(files: Path) -> None:
    result = run("validate", str(files / "good.json"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_problems_print_file_line_col_and_exit_one(files: Path) -> None:
    bad, jsonl = str(files / "bad.json"), str(files / "events.jsonl")
    result = run("validate", bad, jsonl, str(files / "good.json"))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}:2:12: error: Event name is reserved for internal use: names starting with "
        '"inngest/" belong to Inngest',
        f"{bad}:2:33: error: Event data must be a JSON object, not an array",
        f"{bad}:3:24: error: Timestamp is before Jan 1, 1980; it looks like seconds: Inngest "
        "expects milliseconds (1700000000000)",
        f"{jsonl}:2:13: error: Trailing comma: remove the ',' before '}}'",
    ]
    assert result.stderr == "event-console: 4 problems found\n"


def test_schemas_folder_checks_data_and_reports_broken_schema_files(files: Path) -> None:
    schemas = files / "schemas"
    result = run("validate", "--schemas", str(schemas), str(files / "user.json"))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{schemas / 'broken.json'}:2:15: error: Invalid schema: 'email' is not of type 'array'",
        f"{files / 'user.json'}:1:48: warning: data.email: expected string, got integer 5",
    ]
    missing = run("validate", "--schemas", str(files / "nope"), str(files / "good.json"))
    assert missing.returncode == 2
    assert missing.stderr == f"event-console: --schemas {files / 'nope'}: no such folder\n"
    a_file = run("validate", "--schemas", str(files / "good.json"), str(files / "good.json"))
    assert (a_file.returncode, a_file.stderr) == (
        2, f"event-console: --schemas {files / 'good.json'}: a file, not a folder\n")


def test_unreadable_input_exits_two_after_checking_the_rest(files: Path) -> None:
    result = run("validate", str(files / "missing.json"), str(files / "latin1.json"),
                 str(files / "bad.json"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"event-console: {files / 'missing.json'}: cannot read: No such file or directory",
        f"event-console: {files / 'latin1.json'}: not UTF-8 text at line 1, column 11 (byte 10)",
        "event-console: 3 problems found",
    ]
    assert len(result.stdout.splitlines()) == 3  # bad.json was still checked


def test_stdin_and_jsonl_flag(files: Path) -> None:
    result = run("validate", "--jsonl", "-", stdin='{"name": ""}\n{"name": "x"}\n')
    assert (result.returncode, result.stdout) == (1, "<stdin>:1:10: error: Event name is empty\n")


def test_an_upper_case_jsonl_suffix_is_json_lines_too(files: Path) -> None:
    for name in ("L.JSONL", "E.NDJSON"):
        path = files / name
        path.write_text('{"name": "a"}\n{"name": ""}\n')
        result = run("validate", str(path))
        assert (result.returncode, result.stdout) == (
            1, f"{path}:2:10: error: Event name is empty\n"), result.stderr


def test_event_limit_from_option_and_from_environment(files: Path) -> None:
    good = str(files / "good.json")
    result = run("validate", "--event-limit", "40", good)
    assert result.returncode == 1
    assert result.stdout == (f"{good}:1:1: error: Event is over the max size: 50 bytes > 40 "
                             "(per-event limit)\n")
    store = EnvironmentStore.load(app_paths())
    store.put(Environment("tiny", event_limit=45))
    store.save()
    result = run("validate", "--env", "tiny", good)
    assert result.stdout == (f"{good}:1:1: error: Event is over the max size: 50 bytes > 45 "
                             "(per-event limit of tiny)\n")
    unknown = run("validate", "--env", "nope", good)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("event-console: no environment named 'nope'")
    bad_limit = run("validate", "--event-limit", "-3", good)
    assert bad_limit.returncode == 2
    assert "argument --event-limit: must be a positive number of bytes" in bad_limit.stderr


def test_an_event_no_request_can_carry_is_an_error_as_send_says(files: Path) -> None:
    """A 700 KB event is within the Dev Server's 3 MiB per event but over its 512 KiB per
    request: `validate` passed it (exit 0) and `send` refused it."""
    big = files / "700k.json"
    big.write_text(json.dumps({"name": "big", "data": {"p": "x" * 700_000}}))
    refused = ("Event is 700,030 bytes; in a request of its own it makes 700,032 bytes, over "
               "the request limit of 524,288 bytes")
    done = run("validate", str(big))
    assert (done.returncode, done.stdout) == (1, f"{big}:1:1: error: {refused}\n")
    sent = run("send", "--dry-run", "--url", "http://127.0.0.1:9", str(big))
    assert sent.returncode == 2 and refused in sent.stderr, sent.stderr
    store = EnvironmentStore.load(app_paths())
    store.put(Environment("roomy", event_limit=1_000_000, request_limit=1_000_000))
    store.save()
    assert run("validate", "--env", "roomy", str(big)).returncode == 0
    assert run("validate", "--request-limit", "800000", str(big)).returncode == 0


def test_a_hostile_schema_pattern_gets_a_message_not_a_hang(files: Path) -> None:
    # ^(a|a)*$ backtracks for hours with Python's re on 40 a's and a "!"; "(" does not compile
    schemas = files / "hostile"
    schemas.mkdir()
    (schemas / "app__user.created.json").write_text(json.dumps({
        "type": "object", "properties": {"email": {"type": "string", "pattern": "^(a|a)*$"}}}))
    (schemas / "app__other.json").write_text('{"properties": {"x": {"pattern": "("}}}')
    event = files / "stuck.json"
    event.write_text(json.dumps({"name": "app/user.created", "data": {"email": "a" * 40 + "!"}}))
    result = run("validate", "--schemas", str(schemas), str(event))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{schemas / 'app__other.json'}:1:34: error: Invalid schema: \"(\" is not a regular "
        "expression (missing ) at position 1)",
        f"{event}:1:48: warning: data.email: could not be checked: the schema's pattern "
        "^(a|a)*$ took too long and was stopped (simplify the pattern)",
    ]


def test_reading_from_a_terminal_says_how_to_end_the_input(app_home: Path) -> None:
    """`event-console validate -` (or `send`) at a terminal waits for typed events: it says
    so, and how to end them, instead of seeming to hang."""
    main, terminal = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "console", "validate", "-"],
                                stdin=terminal, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        os.write(main, b'{"name": "app/typed", "data": []}\n\x04')  # Ctrl+D ends it
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(main)
        os.close(terminal)
    assert err.splitlines()[0] == (
        "event-console: reading events from the terminal; end with Ctrl+D")
    assert out == "<stdin>:1:31: error: Event data must be a JSON object, not an array\n"
    assert proc.returncode == 1


def test_an_integer_too_big_for_the_server_is_found_before_sending(files: Path) -> None:
    """It passed `validate` and `send` checked nothing; the server answered 400 "cannot
    unmarshal number … into Go value of type float64"."""
    (files / "huge.json").write_text('{"name": "app/n",\n "data": {"n": 1' + "0" * 309 + "}}")
    done = run("validate", str(files / "huge.json"))
    assert done.returncode == 1
    assert done.stdout == (f"{files / 'huge.json'}:2:16: error: A number beyond what JSON can "
                           "carry (over ±1.8e308, or NaN or Infinity): Inngest refuses it\n")

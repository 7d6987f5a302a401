"""Standard output on a full disk (`send ... > full/out.jsonl`): said once on stderr, the
send or run goes on to its end (its history, --report and --junit record it all), and the
exit code is not 0. A traceback had lost the line of an event already accepted, and a run
died after its first step."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.tmpfs import fill, small_disk
from tests.support.inbox_thread import running_inbox

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
KEY = {"INNGEST_EVENT_KEY": "ci-key-0123456789"}
FULL = ("event-console: cannot write to standard output: No space left on device; nothing "
        "more is printed there, and the command goes on to its end")


def run_to(stdout: Path, app_home: Path, *args: str, input: str = "",
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m console ARGS > stdout` (the cli fixture captures stdout in a pipe)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), **(env or {}))
    with open(stdout, "w") as out:
        return subprocess.run([sys.executable, "-m", "console", *args], input=input,
                              stdout=out, stderr=subprocess.PIPE, text=True, env=environ,
                              cwd=ROOT, timeout=60, check=False)


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_send_to_a_full_disk_sends_and_records_everything_and_says_so_once(
        cli, app_home, tmp_path):
    events = "".join(json.dumps({"name": "full/disk", "id": f"fd-{i}", "data": {"i": i}}) + "\n"
                     for i in range(3))
    with running_inbox() as inbox, small_disk(tmp_path / "full") as full:
        fill(full)
        done = run_to(full / "out.jsonl", app_home, "send", "--url", inbox.url, "--jsonl",
                      "--no-verify", "--request-limit", "80", "-", input=events)
        captured = inbox.events()
        assert (full / "out.jsonl").read_text() == ""
    assert (done.returncode, done.stderr) == (1, FULL + "\n")  # once, for 3 lines lost
    assert [e.event["id"] for e in captured] == ["fd-0", "fd-1", "fd-2"]  # 3 requests
    recorded = lines(cli("history", "--json").stdout)
    assert sorted((r["dedup_id"], r["outcome"]) for r in recorded) == [
        ("fd-0", "accepted"), ("fd-1", "accepted"), ("fd-2", "accepted")]


def test_a_run_to_a_full_stdout_sends_every_step_and_writes_its_files(app_home, tmp_path):
    workspace = tmp_path / "qa"
    shutil.copytree(EXAMPLES, workspace)
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    with running_inbox() as inbox:
        done = run_to(Path("/dev/full"), app_home, "run", "checkout", "--workspace",
                      str(workspace), "--url", inbox.url, "--seed", "5", "--verify-window",
                      "0.6", "--junit", str(junit), "--report", str(report), env=KEY)
        captured = inbox.events()
    assert done.returncode == 1, done.stderr  # every expectation held: only stdout failed
    assert "Traceback" not in done.stderr
    err = done.stderr.splitlines()
    assert err.count(FULL) == 1
    assert err[-1] == ("event-console: checkout: 4 passed (seed 5); events: 3 accepted · "
                       "1 deduplicated · 2 ran")
    assert len(captured) == 3  # the steps after the first line were sent too
    saved = json.loads(report.read_text())
    assert saved["passed"] and len(saved["results"]) == 4
    assert 'tests="3"' in junit.read_text()


@pytest.mark.parametrize("args", [(), ("--json",)], ids=["table", "json"])
def test_history_to_a_full_stdout_says_so_in_one_line(cli, app_home, args):
    with running_inbox() as inbox:
        sent = cli("send", "--url", inbox.url, "--no-verify", "-", input='{"name": "a/b"}')
    assert sent.returncode == 0, sent.stderr
    done = run_to(Path("/dev/full"), app_home, "history", *args)
    assert (done.returncode, done.stderr) == (1, FULL + "\n")


def test_env_list_to_a_full_stdout_says_so_in_one_line(app_home):
    """Its lines wait in print()'s buffer until exit, where a failure said "Exception
    ignored" and exit code 120."""
    done = run_to(Path("/dev/full"), app_home, "env", "list",
                  env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    assert done.returncode == 1
    assert done.stderr.splitlines().count(FULL) == 1 and "Exception" not in done.stderr

"""A send killed mid-request is never missing from the history: it shows as "unknown".

The real program: `python -m console send` against a loopback server that never answers,
SIGKILL once the request has arrived, then `python -m console history` in a new process.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.services.paths import app_paths
from tests.e2e.conftest import ROOT
from tests.support.fault_server import FaultServer, Reply
from tests.support.history_fill import fill_history
from tests.support.inbox_thread import running_inbox
from tests.support.interrupt import interrupted_run

KEY = "test-event-key-0001"


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                                   (signal.SIGHUP, 129)],
                         ids=["ctrl-c", "sigterm", "sighup"])
def test_ctrl_c_mid_send_prints_what_came_of_the_requests_already_answered(
        cli, app_home: Path, tmp_path: Path, signum, exit_code):
    """SIGINT after the first of three requests was answered: the command printed nothing
    (its JSON lines came only after the last request) and exited 130. SIGTERM (a CI job's
    timeout) and SIGHUP (its terminal closed) ended it at once, with nothing printed."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), INNGEST_EVENT_KEY=KEY)
    event_file = tmp_path / "events.json"
    event_file.write_text(json.dumps([{"name": "shop/c", "id": f"m-{i}", "data": {}}
                                      for i in range(3)]))
    code, out, err = interrupted_run(lambda origin: [
        "send", "--url", origin, "--no-verify", "--request-limit", "60", str(event_file)],
        environ, signum)
    assert code == exit_code, err
    [first] = lines(out)
    assert (first["request"], first["status"], first["events"]) == (1, 200, 1)
    assert err.strip().endswith("event-console: interrupted: 1 of 3 requests answered; nothing "
                                "more was sent, and a request in flight is \"outcome "
                                "unknown\" in the history")
    rows = {r["dedup_id"]: r for r in lines(cli("history", "--json").stdout)}
    assert rows["m-0"]["outcome"] == "accepted" and rows["m-1"]["outcome"] == "unknown"
    assert "m-2" not in rows  # never sent


def test_kill_9_mid_send_leaves_an_unknown_row(cli, app_home: Path, tmp_path: Path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), INNGEST_EVENT_KEY=KEY)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(
        {"name": "shop/order.placed", "id": "order-77", "data": {"orderId": 77}}))
    with FaultServer() as server:
        server.script(Reply.hang())
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "send", "--url", server.origin, str(event_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ, cwd=ROOT,
        )
        try:
            while not server.requests and proc.poll() is None:
                time.sleep(0.01)  # the request is on the wire once the server has it
            assert server.requests, proc.communicate()[1]
        finally:
            proc.kill()  # SIGKILL: no cleanup, no finally blocks
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == -9, err

    shown = cli("history", "--json")
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == ("event-console: 1 request from an earlier session ended without an "
                            "answer; their outcome is unknown (see history)\n")
    [row] = lines(shown.stdout)
    assert (row["name"], row["dedup_id"], row["outcome"], row["state"]) == (
        "shop/order.placed", "order-77", "unknown", "unknown")
    assert row["outcome_text"] == "outcome unknown: the console stopped before the server answered"
    assert row["internal_id"]  # derived from the seed: what it is, if the request arrived
    stored = b"".join(p.read_bytes() for p in (app_home / "data").glob("history.sqlite3*"))
    assert KEY.encode() not in stored
    table = cli("history")
    assert table.returncode == 0 and table.stderr == ""  # recovered once, not again
    header, body = table.stdout.splitlines()
    assert header.split() == ["TIME", "ENV", "NAME", "DEDUP", "ID", "STATUS", "OUTCOME"]
    assert "shop/order.placed" in body and body.endswith(
        "outcome unknown: the console stopped before the server answered")


def test_kill_9_mid_batch_answered_unknown_and_never_sent_requests(cli, app_home: Path,
                                                                   tmp_path: Path):
    """Three requests: the first answered, the second in flight when the send is killed,
    the third written ahead but never sent. The history keeps the first as accepted,
    shows the second as unknown and has nothing of the third."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), INNGEST_EVENT_KEY=KEY)
    event_file = tmp_path / "events.json"
    event_file.write_text(json.dumps([
        {"name": f"shop/step.{i // 2}", "id": f"batch-{i}", "data": {"pad": "x" * 300}}
        for i in range(6)]))
    with FaultServer() as server:
        server.script(Reply.json(200, {"ids": ["01HZZZZZZZZZZZZZZZZZZZZZZ1",
                                               "01HZZZZZZZZZZZZZZZZZZZZZZ2"], "status": 200}),
                      Reply.hang())
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "send", "--request-limit", "800",
             "--url", server.origin, str(event_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ, cwd=ROOT,
        )
        try:
            while len(server.requests) < 2 and proc.poll() is None:
                time.sleep(0.01)
            assert len(server.requests) == 2, proc.communicate()[1]
            answered_and_ahead(app_home / "data" / "history.sqlite3")
        finally:
            proc.kill()
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == -9, err
        assert [len(r.json()) for r in server.requests] == [2, 2]

    shown = cli("history", "--json")
    assert shown.returncode == 0, shown.stderr
    assert "1 request from an earlier session ended without an answer" in shown.stderr
    rows = sorted((r["dedup_id"], r["outcome"], r["state"]) for r in lines(shown.stdout))
    assert rows == [("batch-0", "accepted", "done"), ("batch-1", "accepted", "done"),
                    ("batch-2", "unknown", "unknown"), ("batch-3", "unknown", "unknown")]


def answered_and_ahead(path: Path, timeout: float = 10.0) -> None:
    """Wait until the history holds the first answer and the third request's rows written
    ahead ('queued'): the writer does both while the second request is in flight. Read
    through a connection of this process."""
    deadline = time.monotonic() + timeout
    conn = sqlite3.connect(path, timeout=5)

    def count(state: str) -> int:
        return int(conn.execute("SELECT count(*) FROM requests WHERE state = ?",
                                (state,)).fetchone()[0])

    try:
        while count("done") < 1 or count("queued") < 1:
            assert time.monotonic() < deadline, "the history never got that far"
            time.sleep(0.01)
    finally:
        conn.close()


def test_send_prints_predicted_and_confirmed_outcomes_and_history_keeps_them(cli):
    event = json.dumps({"name": "app/signup", "id": "user-1", "data": {}})
    fast = {"EVENT_CONSOLE_VERIFY_SECONDS": "1", "INNGEST_EVENT_KEY": KEY}
    with running_inbox() as inbox:
        first = cli("send", "--url", inbox.url, "-", input=event, env=fast)
        second = cli("send", "--url", inbox.url, "-", input=event, env=fast)
    assert first.returncode == 0, first.stderr
    [one] = lines(first.stdout)
    assert one["dedup"][0]["verdict"] == "new"
    assert one["runs"][0]["detail"] == "ran: 1 run"
    assert one["summary"] == "1 accepted · 1 ran"
    [two] = lines(second.stdout)
    assert two["dedup"][0]["verdict"] == "duplicate"
    assert "event #1: duplicate of " + one["ids"][0] in second.stderr
    assert two["runs"][0]["detail"].startswith(
        f"deduplicated: no runs (first seen as {one['ids'][0]} at ")
    assert two["summary"] == "1 accepted · 1 deduplicated"

    shown = cli("history", "--json", "--name", "app/signup", "--since", "1h")
    rows = lines(shown.stdout)
    assert [r["outcome"] for r in rows] == ["deduplicated", "ran"]
    bad = cli("history", "--since", "yesterday")
    assert bad.returncode == 2
    assert bad.stderr == ("event-console: --since: 'yesterday' is not a duration "
                          "(use e.g. 30m, 2h, 7d)\n")
    empty = cli("history", "--since", "")  # was ignored: everything was listed
    assert empty.returncode == 2 and "'' is not a duration" in empty.stderr
    # past SQLite's integers: all of it, not an OverflowError traceback
    huge = cli("history", "--json", "--since", "99999999999999999999w",
               "--limit", "99999999999999999999")
    assert huge.returncode == 0, huge.stderr
    assert [r["outcome"] for r in lines(huge.stdout)] == ["deduplicated", "ran"]



def test_duplicates_in_later_requests_are_warned_of_before_they_leave(cli):
    """The history is asked about each request's ids just before that request's rows are
    written (while the one before is in flight): a repeat in the fourth request and seven
    in the last are still predicted, said on stderr and kept in the history."""
    fast = {"INNGEST_EVENT_KEY": KEY}
    pad = "p" * 200
    repeated = (7, *range(20, 27))
    with running_inbox() as inbox:
        early = [{"name": "app/a", "id": f"r-{i}", "data": {"pad": pad}} for i in repeated]
        first = cli("send", "--url", inbox.url, "--no-verify", "-", input=json.dumps(early),
                    env=fast)
        assert first.returncode == 0, first.stderr
        batch = [{"name": "app/b", "id": f"r-{i}", "data": {"pad": pad}} for i in range(27)]
        second = cli("send", "--url", inbox.url, "--no-verify", "--request-limit", "600",
                     "-", input=json.dumps(batch), env=fast)
    assert second.returncode == 0, second.stderr
    out = lines(second.stdout)
    assert len(out) > 8  # two events per request
    verdicts = [d["verdict"] for line in out for d in line["dedup"]]
    assert [i for i, v in enumerate(verdicts) if v != "new"] == list(repeated)
    assert set(verdicts) == {"new", "duplicate"}
    warned = [line for line in second.stderr.splitlines() if "duplicate of" in line]
    assert [w.split(":")[1] for w in warned] == [
        " event #8", " event #21", " event #22", " event #23", " event #24"]
    assert "(as app/a: ids are shared across event names)" in warned[0]
    assert second.stderr.splitlines()[-1] == (
        "event-console: … and 3 more events whose id repeats one sent in the last 24 h: "
        "Inngest will start no runs for them")
    shown = lines(cli("history", "--json", "--name", "app/b").stdout)
    assert sorted(r["dedup_id"] for r in shown if r["predicted"] == "duplicate") == sorted(
        f"r-{i}" for i in repeated)

def test_history_shows_control_characters_instead_of_sending_them_to_the_terminal(cli):
    """Whoever sends the events chooses their names and ids; the table must not let ESC
    sequences through to the terminal of the person reading it."""
    name, dedup = "evil\x1b[2J\x1b]0;pwned\x07", "id\x1b[31m"
    event = json.dumps({"name": name, "id": dedup, "data": {}})
    with running_inbox() as inbox:
        sent = cli("send", "--url", inbox.url, "--no-verify", "-", input=event)
    assert sent.returncode == 0, sent.stderr
    table = cli("history")
    assert table.returncode == 0
    assert not any(ch in table.stdout for ch in "\x1b\x07")
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07" in table.stdout
    assert "id\\x1b[31m" in table.stdout
    [row] = lines(cli("history", "--json").stdout)
    assert (row["name"], row["dedup_id"]) == (name, dedup)  # JSON keeps them exact


def test_history_settings_from_the_command_line(cli):
    shown = cli("history", "--set-payload-cap", "2", "--set-retention", "30")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == ("history: payloads up to 2 KiB are kept; "
                            "events are kept 30 days\n")
    bad = cli("history", "--set-payload-cap", "0")
    assert bad.returncode == 2
    assert bad.stderr == ("event-console: the payload size kept must be between 1 KiB "
                          "and 16 MiB\n")
    event = json.dumps({"name": "app/big", "data": {"text": "z" * 5000}})
    with running_inbox() as inbox:
        sent = cli("send", "--url", inbox.url, "--no-verify", "-", input=event,
                   env={"INNGEST_EVENT_KEY": KEY})
    assert sent.returncode == 0, sent.stderr
    [row] = lines(cli("history", "--json", "--name", "app/big").stdout)
    assert row["size"] == len(json.dumps(json.loads(event), separators=(",", ":")))
    assert row["truncated"] is True


def test_a_reader_that_stops_early_ends_the_listing_quietly(app_home: Path):
    """`event-console history --json | head -1`: the rest of the listing has nowhere to
    go; the command stops with SIGPIPE's exit status and no traceback."""
    fill_history(app_paths().ensure().history_db, 5_000)
    environ = {**os.environ, "EVENT_CONSOLE_HOME": str(app_home)}
    proc = subprocess.Popen([sys.executable, "-m", "console", "history", "--json",
                             "--limit", "5000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=environ, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    first = json.loads(proc.stdout.readline())
    proc.stdout.close()  # as `head -1` does
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert first["id"] == 5_000 and errors == ""

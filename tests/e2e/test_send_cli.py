"""`event-console send` as a real subprocess against a loopback inbox."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from tests.support.fault_server import FaultServer, Reply
from tests.support.inbox_thread import running_inbox


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_send_one_event_from_a_file(cli, tmp_path):
    event = tmp_path / "event.json"
    event.write_text('{"name": "shop/order.placed", "data": {"orderId": "o1"}}')
    with running_inbox() as inbox:
        done = cli("send", "--url", inbox.url, "--no-verify", str(event))
        captured = inbox.events()
    assert done.returncode == 0, done.stderr
    [record] = lines(done.stdout)
    assert record["status"] == 200 and record["events"] == 1 and record["error"] is None
    assert record["ids"] == [captured[0].internal_id]
    assert record["bytes"] == len(b'[{"name":"shop/order.placed","data":{"orderId":"o1"}}]')
    assert record["attempts"] == 1 and record["latency_ms"] >= 0
    assert captured[0].name == "shop/order.placed"
    assert captured[0].event["data"] == {"orderId": "o1"}


def test_send_an_array_from_stdin_to_a_saved_environment(cli):
    events = [{"name": f"e/{i}", "data": {"i": i}} for i in range(3)]
    with running_inbox() as inbox:
        added = cli("env", "add", "Local", "--event-origin", inbox.url)
        assert added.returncode == 0, added.stderr
        done = cli("send", "--env", "Local", "--no-verify", "-", input=json.dumps(events),
                   env={"INNGEST_EVENT_KEY": "local-key-1234"})
        captured = inbox.events()
    assert done.returncode == 0, done.stderr
    [record] = lines(done.stdout)
    assert record["ids"] == [e.internal_id for e in captured]
    assert [e.name for e in captured] == ["e/0", "e/1", "e/2"]


def test_rejected_input_is_refused_before_sending_with_positions(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[\n  {"name": "ok", "data": {}},\n  {"name": "inngest/x", "data": []},\n'
                   '  {"name": "", "ts": 1.5}\n]\n')
    with running_inbox() as inbox:
        done = cli("send", "--url", inbox.url, str(bad))
        assert inbox.events() == []
    assert done.returncode == 2
    assert done.stdout == ""
    errors = done.stderr.splitlines()
    assert any(e.startswith(f"{bad}:3:12: ") and "reserved" in e for e in errors), errors
    assert any(e.startswith(f"{bad}:3:") and "data" in e for e in errors), errors
    assert any(e.startswith(f"{bad}:4:") for e in errors), errors


def test_invalid_json_reports_line_and_column(cli, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{\n  "name": "x",\n  "data": {"a": 1,}\n}\n')
    done = cli("send", "--url", "http://127.0.0.1:9", str(bad))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{bad}:3:"), done.stderr


def test_unreadable_input_and_usage_errors_exit_2(cli, tmp_path):
    missing = cli("send", "--url", "http://127.0.0.1:9", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert "Traceback" not in missing.stderr
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    not_text = cli("send", "--url", "http://127.0.0.1:9", str(binary))
    assert not_text.returncode == 2 and "binary file (contains NUL bytes)" in not_text.stderr
    wide = tmp_path / "wide.json"  # what Windows PowerShell's `>` writes
    wide.write_text('{"name": "app/x"}', encoding="utf-16")
    utf16 = cli("send", "--url", "http://127.0.0.1:9", str(wide))
    assert (utf16.returncode, utf16.stderr) == (2, (
        f"event-console: {wide}: UTF-16 text, not UTF-8: save the file as UTF-8 (in Windows "
        "PowerShell, `| Out-File -Encoding utf8` instead of `>`)\n"))
    # the same piped in (it said "not UTF-8 text at line 1, column 1 (byte 0)")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    with wide.open("rb") as stdin:
        piped = subprocess.run(
            [sys.executable, "-m", "console", "send", "--url", "http://127.0.0.1:9", "-"],
            stdin=stdin, capture_output=True, text=True, check=False, timeout=60,
            env={**environ, "EVENT_CONSOLE_HOME": str(tmp_path / "home")})
    assert (piped.returncode, piped.stderr) == (2, (
        "event-console: <stdin>: UTF-16 text, not UTF-8: save the file as UTF-8 (in Windows "
        "PowerShell, `| Out-File -Encoding utf8` instead of `>`)\n"))
    marked = tmp_path / "marked.json"  # PowerShell's `-Encoding utf8` starts with a BOM
    marked.write_text('{"name": "app/x"}', encoding="utf-8-sig")
    planned = cli("send", "--url", "http://127.0.0.1:9", "--dry-run", str(marked))
    assert planned.returncode == 0 and json.loads(planned.stdout)["events"] == 1
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(b'{\r\n "name": "\xe2\x82\xac caf\xe9"}')  # after CRLF and a 3-byte €
    not_utf8 = cli("send", "--url", "http://127.0.0.1:9", str(latin1))
    assert not_utf8.returncode == 2 and (
        "not UTF-8 text at line 2, column 16 (byte 20)" in not_utf8.stderr)
    folder = cli("send", "--url", "http://127.0.0.1:9", str(tmp_path))
    assert folder.returncode == 2 and "not a regular file" in folder.stderr
    unknown = cli("send", "--env", "Nope", str(binary))
    assert unknown.returncode == 2 and "no environment named 'Nope'" in unknown.stderr
    # the byte limits read as validate reads them (it said "invalid int value: 'abc'")
    for limit, said in (("abc", "not a number of bytes: 'abc'"),
                        ("0", "must be a positive number of bytes")):
        bad = cli("send", "--dry-run", "--event-limit", limit, str(marked))
        assert bad.returncode == 2 and bad.stderr.endswith(
            f"argument --event-limit: {said}\n"), bad.stderr
    assert cli("send", "--dry-run", "--request-limit", "524_288", str(marked)).returncode == 0


def test_dry_run_prints_the_plan_and_sends_nothing(cli, tmp_path):
    events = [{"name": "big", "data": {"blob": "x" * 200_000}} for _ in range(4)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(events))
    with running_inbox() as inbox:
        done = cli("send", "--url", inbox.url, "--dry-run", str(path))
        assert inbox.events() == []
    assert done.returncode == 0, done.stderr
    plan = lines(done.stdout)
    assert [(p["request"], p["events"], p["first"], p["last"]) for p in plan] == [
        (1, 2, 0, 1), (2, 2, 2, 3)]
    assert all(p["bytes"] <= 524_288 for p in plan)
    # Inngest Cloud's origin keeps its 256 KiB per event (the Dev Server's 3 MiB planned
    # these as sendable)
    big = tmp_path / "300k.json"
    big.write_text(json.dumps({"name": "big", "data": {"blob": "x" * 300_000}}))
    cloud = cli("send", "--url", "https://inn.gs", "--dry-run", str(big))
    assert cloud.returncode == 2 and cloud.stdout == ""
    assert (f"{big}:1:1: Event is over the max size: 300,033 bytes > 262,144 (per-event "
            "limit)") in cloud.stderr, cloud.stderr


def test_server_rejection_exits_1_with_the_server_message(cli, tmp_path):
    path = tmp_path / "e.json"
    path.write_text('{"name": "a", "data": {}}')
    with running_inbox(event_key="the-right-key-9999") as inbox:
        done = cli("send", "--url", inbox.url, str(path),
                   env={"INNGEST_EVENT_KEY": "a-wrong-key-1111"})
    assert done.returncode == 1
    [record] = lines(done.stdout)
    assert record["status"] == 401 and record["error"] == "Event key not found"
    assert record["runs"] == [{"outcome": "not accepted", "runs": 0,
                               "detail": "not accepted: Event key not found"}]
    assert "a-wrong-key-1111" not in done.stdout + done.stderr


def test_retries_reuse_the_seed_and_report_attempts(cli, tmp_path):
    path = tmp_path / "e.json"
    path.write_text('{"name": "a", "data": {}}')
    with FaultServer() as server:
        server.script(Reply.json(502, {"error": "bad gateway"}), Reply.reset())
        done = cli("send", "--url", server.origin, "--no-verify", str(path))
        seeds = {r.header("x-inngest-event-id-seed") for r in server.requests}
    assert done.returncode == 0, done.stderr
    [record] = lines(done.stdout)
    assert record["attempts"] == 3 and record["status"] == 200
    assert len(seeds) == 1


def test_a_200_whose_body_broke_off_is_unknown_not_refused(cli, tmp_path):
    """The server took the event (200) but its answer broke off: "not accepted" invited a
    resend that runs functions twice, and the ledger then called the same id "new"."""
    path = tmp_path / "e.json"
    path.write_text('{"name": "t/x", "id": "order-77", "data": {}}')
    with FaultServer() as server:
        server.script(Reply.truncated(200, b'{"ids":["01', 200))
        first = cli("send", "--url", server.origin, "--no-verify", str(path))
        again = cli("send", "--url", server.origin, "--no-verify", str(path))
    assert first.returncode == 1
    [record] = lines(first.stdout)
    assert record["status"] == 200 and record["summary"] == "1 unknown"
    assert again.returncode == 0, again.stderr
    [second] = lines(again.stdout)
    assert second["dedup"][0]["verdict"] == "maybe duplicate"  # it may have been taken
    [row] = [r for r in lines(cli("history", "--json").stdout) if r["status"] == 200
             and r["outcome"] == "unknown"]
    assert row["outcome_detail"].startswith("outcome unknown: server answered 200 with a "
                                            "truncated body")
    assert row["outcome_detail"].endswith("; the server may have taken them")


def test_a_200_naming_fewer_ids_than_events_leaves_the_rest_unknown(cli, tmp_path):
    """A 200 took the request; the events it gave no id may have been taken as well, so a
    resend of their ids is not called "new" (it said "not accepted", inviting one)."""
    path = tmp_path / "e.json"
    path.write_text(json.dumps([{"name": "t/x", "id": f"order-{n}", "data": {}}
                                for n in range(3)]))
    with FaultServer() as server:
        server.script(Reply.json(200, {"ids": ["01HZZZZZZZZZZZZZZZZZZZZZZZ"], "status": 200}))
        first = cli("send", "--url", server.origin, "--no-verify", str(path))
        again = cli("send", "--url", server.origin, "--no-verify", str(path))
    assert first.returncode == 1
    [record] = lines(first.stdout)
    assert record["summary"] == "1 accepted · 2 unknown"
    assert record["error"].startswith("server answered 200 with 1 id for 3 events")
    [second] = lines(again.stdout)
    assert [d["verdict"] for d in second["dedup"]] == [
        "duplicate", "maybe duplicate", "maybe duplicate"]


def test_jsonl_input(cli, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"name": "a", "data": {}}\n\n{"name": "b", "data": {"x": 1}}\n')
    with running_inbox() as inbox:
        done = cli("send", "--url", inbox.url, "--no-verify", str(path))
        captured = inbox.events()
    assert done.returncode == 0, done.stderr
    assert [e.name for e in captured] == ["a", "b"]


def test_an_upper_case_jsonl_suffix_is_json_lines_too(cli, tmp_path):
    path = tmp_path / "L.JSONL"
    path.write_text('{"name": "a", "data": {}}\n{"name": "b", "data": {}}\n')
    done = cli("send", "--dry-run", str(path))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["events"] for line in done.stdout.splitlines()] == [2]


def test_json_lines_on_stdin_without_the_flag_says_to_pass_it(cli):
    text = '{"name": "a", "data": {}}\n{"name": "b", "data": {}}\n'
    refused = cli("send", "--dry-run", "-", input=text)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines() == [
        "<stdin>:2:1: Unexpected text after the end of the JSON document: several events go "
        "in one array [ … ], or one per line as JSON Lines",
        "event-console: one event per line is JSON Lines: pass --jsonl (files named .jsonl or "
        ".ndjson are read as JSON Lines)",
        "event-console: nothing sent: 1 problem(s) in <stdin>"]
    planned = cli("send", "--dry-run", "--jsonl", "-", input=text)
    assert planned.returncode == 0, planned.stderr
    assert [json.loads(line)["events"] for line in planned.stdout.splitlines()] == [2]
    # two on one line: --jsonl would refuse them too, so it is not offered
    same_line = cli("send", "--dry-run", "-", input='{"name": "a"} {"name": "b"}\n')
    assert same_line.stderr.splitlines() == [
        "<stdin>:1:15: Unexpected text after the end of the JSON document: several events go "
        "in one array [ … ]",
        "event-console: nothing sent: 1 problem(s) in <stdin>"]


def test_version(cli):
    from console import __version__

    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"event-console {__version__}"


def test_stats_say_where_the_time_went(cli, tmp_path):
    events = tmp_path / "many.json"
    events.write_text(json.dumps([{"name": "app/tick", "data": {"n": i, "pad": "p" * 300}}
                                  for i in range(3000)]))
    with running_inbox() as inbox:
        done = cli("send", "--url", inbox.url, "--no-verify", "--stats",
                   "--request-limit", "200000", str(events),
                   env={"INNGEST_EVENT_KEY": "local-key-1234"})
        received = len(inbox.events())
    assert done.returncode == 0, done.stderr
    requests = lines(done.stdout)
    assert received == 3000 and len(requests) > 1
    [stats] = [line for line in done.stderr.splitlines() if line.startswith("event-console: ")]
    assert stats.startswith(f"event-console: 3,000 events in {len(requests)} requests (")
    phases = re.findall(r"(read|checked|resolved|history opened|sent|printed|history closed"
                        r"|total) (\d+\.\d\d) s", stats)
    assert [p for p, _ in phases] == ["read", "checked", "resolved", "history opened", "sent",
                                      "printed", "history closed", "total"]
    seconds = {p: float(s) for p, s in phases}
    assert seconds["total"] >= seconds["sent"] > 0
    rate = float(re.search(r"sent [\d.]+ s \(([\d,]+) events/s\)", stats)[1].replace(",", ""))
    sent = seconds["sent"]  # shown to 0.01 s, so the rate lies within that rounding
    assert 3000 / (sent + 0.005) - 1 <= rate <= 3000 / max(sent - 0.005, 1e-6) + 1
    assert "local-key-1234" not in done.stderr


def test_a_history_locked_mid_send_stops_the_send_with_a_message(cli, app_home, tmp_path):
    """Another program held the history's write lock (a database browser mid-change): send
    ended in a traceback and never printed the request that had been answered."""
    from tests.support.history_lock import LockAtFirstRequest

    db = app_home / "data" / "history.sqlite3"
    assert cli("history").returncode == 0  # the file exists before the send
    lock = LockAtFirstRequest(db)

    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"name": "lock/x", "data": {"i": i}} for i in range(6_000)]))
    with FaultServer(default=lock) as server:
        try:
            done = cli("send", "--url", server.origin, "--no-verify", str(events))
        finally:
            lock.release()
        posts = [r for r in server.requests if r.method == "POST"]
    assert done.returncode == 1, done.stderr  # a send that stopped, not an input error
    assert "Traceback" not in done.stderr
    assert len(posts) == 1  # nothing more went out unrecorded
    [line] = lines(done.stdout)
    assert (line["request"], line["status"], line["events"]) == (1, 200, 5_000)
    assert done.stderr == (
        f"event-console: the history at {db} stayed locked by another program for 5 s (a "
        "database browser in the middle of a change?): close it and try again. 1 of 2 "
        "requests were answered (above); nothing more was sent, and what the history could "
        "not record shows as \"outcome unknown\" there\n")


def test_ctrl_c_is_heard_while_a_locked_history_is_waited_for(cli, app_home, tmp_path):
    """Another program held the history's write lock as a send opened it: the send waited
    its 5 s for the lock before it heard Ctrl+C, and then ended with exit 2 ("locked")."""
    from tests.support.history_lock import interrupted_while_locked

    db = app_home / "data" / "history.sqlite3"
    assert cli("history").returncode == 0  # the file exists before the send
    event = tmp_path / "one.json"
    event.write_text('{"name": "lock/x", "data": {}}')
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), INNGEST_EVENT_KEY="local-key-1234")
    seen = interrupted_while_locked(db, lambda origin: [
        "send", "--url", origin, "--no-verify", str(event)], environ)
    assert seen.code == 130, seen.err
    assert seen.heard_in < 3.0  # not after the rest of the 5 s wait
    assert (seen.posts, seen.out) == (0, "")
    assert seen.err.endswith("event-console: interrupted while the history was opened: "
                             "nothing was sent\n"), seen.err


def test_a_history_that_cannot_be_opened_is_one_line_not_a_traceback(cli, app_home, tmp_path):
    db = app_home / "data" / "history.sqlite3"
    db.mkdir(parents=True)  # a folder where the file should be
    for args in (["send", "--url", "http://127.0.0.1:9", "--no-verify", "-"], ["history"]):
        done = cli(*args, input='{"name": "a/b"}')
        assert (done.returncode, done.stdout) == (2, ""), done.stderr
        assert done.stderr == (f"event-console: cannot open the history at {db}: unable to "
                               "open database file (a folder is in its place: move it away; "
                               "send and run go without it with --no-history)\n")


def test_an_app_home_that_cannot_be_made_is_one_line_not_a_traceback(cli, tmp_path):
    """A HOME that is missing, read-only or a file: every command that keeps state, and the
    window (started from a menu, it just never appeared), ended in a traceback."""
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    env = {"EVENT_CONSOLE_HOME": str(home)}
    said = (f"event-console: cannot make the folder {home / 'config'}: Not a directory; set "
            "EVENT_CONSOLE_HOME to a folder this user can write\n")
    for args in (("send", "--url", "http://127.0.0.1:9", "-"), ("env", "add", "X"),
                 ("--smoke-test",)):
        done = cli(*args, input='{"name": "a/b"}', env=env)
        assert (done.returncode, done.stderr) == (2, said), args
    dry = cli("send", "--url", "http://127.0.0.1:9", "--dry-run", "-", input='{"name": "a/b"}',
              env=env)  # what needs no folder still works
    assert dry.returncode == 0 and dry.stderr == "", dry.stderr


def test_the_from_environment_target_keeps_each_servers_ids_apart(cli, tmp_path):
    """INNGEST_DEV pointing at one server, then at another: the history kept both sends
    under "From environment", so the second server's fresh id was predicted a duplicate
    (and confirmed as having run)."""
    event = tmp_path / "event.json"
    event.write_text('{"name": "cross/x", "id": "cross-1"}')
    with running_inbox() as first, running_inbox() as second:
        sends = [cli("send", str(event), env={"INNGEST_DEV": inbox.url})
                 for inbox in (first, second, first)]
    for done in sends:
        assert done.returncode == 0, done.stderr
    verdicts = [lines(done.stdout)[0]["dedup"][0]["verdict"] for done in sends]
    outcomes = [lines(done.stdout)[0]["runs"][0]["outcome"] for done in sends]
    assert verdicts == ["new", "new", "duplicate"]
    assert outcomes == ["ran", "ran", "deduplicated"]
    history = cli("history", "--json")
    kept = [json.loads(row)["env"] for row in history.stdout.splitlines()]
    assert kept == [f"From environment ({first.url})", f"From environment ({second.url})",
                    f"From environment ({first.url})"]


def test_an_id_written_in_another_case_is_the_same_dedup_id(cli, tmp_path):
    """The server reads "ID" as "id" (Go matches field names in any case): a repeat of it
    was predicted new and confirmed "no runs" after the whole wait."""
    upper, lower = tmp_path / "upper.json", tmp_path / "lower.json"
    upper.write_text('{"name": "case/x", "ID": "case-1"}')
    lower.write_text('{"name": "case/x", "id": "first", "Id": "case-1"}')  # the last counts
    with running_inbox() as inbox:
        sends = [cli("send", "--url", inbox.url, str(file)) for file in (upper, lower)]
    for done in sends:
        assert done.returncode == 0, done.stderr
    verdicts = [lines(done.stdout)[0]["dedup"][0]["verdict"] for done in sends]
    outcomes = [lines(done.stdout)[0]["runs"][0]["outcome"] for done in sends]
    assert verdicts == ["new", "duplicate"]
    assert outcomes == ["ran", "deduplicated"]
    history = [json.loads(row) for row in cli("history", "--json").stdout.splitlines()]
    assert [row["dedup_id"] for row in history] == ["case-1", "case-1"]


def test_after_a_partial_400_only_the_named_event_carries_the_servers_error(cli, tmp_path):
    """The events after the one the server refused were given its error ("Event is over the
    max size …") as if each of them were too big."""
    events = [{"name": "part/x", "data": {"i": i, "pad": "p" * (600 if i == 2 else 10)}}
              for i in range(5)]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events))
    with running_inbox(event_limit=500) as inbox:
        done = cli("send", "--url", inbox.url, str(path))
    assert done.returncode == 1, done.stderr
    [line] = lines(done.stdout)
    assert line["status"] == 400 and len(line["ids"]) == 2
    details = [r["detail"] for r in line["runs"]]
    assert details[2].startswith("not accepted: Event is over the max size: Max 500 bytes")
    assert details[3:] == 2 * ["not accepted: not taken: the server stopped at an earlier "
                               "event of this request"]
    history = [json.loads(row) for row in cli("history", "--json").stdout.splitlines()]
    kept = {row["index"]: row["outcome_detail"] for row in history}
    assert kept[2].startswith("not accepted: Event is over the max size")
    assert kept[3] == kept[4] == ("not accepted: not taken: the server stopped at an "
                                  "earlier event of this request")


def test_json_lines_carry_the_event_that_was_sent(cli, tmp_path):
    """`history --json` left out the stored event: a script could not see what was sent."""
    event = {"name": "shop/order.placed", "id": "o-1", "data": {"orderId": "o1", "n": 2}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    with running_inbox() as inbox:
        assert cli("send", "--url", inbox.url, "--no-verify", str(path)).returncode == 0
    shown = cli("history", "--json")
    assert shown.returncode == 0, shown.stderr
    [row] = [json.loads(line) for line in shown.stdout.splitlines()]
    assert row["event"] == event and row["dedup_id"] == "o-1"


def test_timeout_and_attempts_bound_a_send_to_a_server_that_never_answers(cli, tmp_path):
    """By default a server that never answers holds a request for 5 attempts of 30 s."""
    import time

    path = tmp_path / "e.json"
    path.write_text('{"name": "t/x", "data": {}}')
    with FaultServer() as server:
        server.script(Reply.hang(), Reply.hang())
        start = time.perf_counter()
        done = cli("send", "--url", server.origin, "--no-verify", "--timeout", "0.5",
                   "--attempts", "2", str(path))
        took = time.perf_counter() - start
        tried = len(server.requests)
    assert done.returncode == 1
    [record] = lines(done.stdout)
    assert record["error"] == (f"no answer from {server.origin}/e/NO_EVENT_KEY_SET within 0.5 s "
                               "(gave up after 2 attempts)")
    assert record["attempts"] == 2 and tried == 2
    assert took < 20  # not the 150 s of the defaults


def test_timeout_and_attempts_out_of_range_are_usage_errors(cli, tmp_path):
    path = tmp_path / "e.json"
    path.write_text('{"name": "t/x", "data": {}}')
    for flag, value, said in (("--timeout", "0", "give seconds above 0 and at most 3,600"),
                              ("--timeout", "nan", "give seconds above 0"),
                              ("--timeout", "soon", "not a number of seconds: 'soon'"),
                              ("--attempts", "0", "give 1 to 20"),
                              ("--attempts", "2.5", "not a whole number: '2.5'")):
        done = cli("send", "--url", "http://127.0.0.1:9", flag, value, str(path))
        assert done.returncode == 2, (flag, value)
        assert f"argument {flag}: " in done.stderr and said in done.stderr, done.stderr


def test_a_reader_gone_before_the_first_line_still_gets_everything_sent(cli, app_home,
                                                                       tmp_path):
    """`send --stats ... | head -1`: every request goes out, the lines stop, --stats still
    says where the time went, and the exit is 141 (the pipe's error ended the command
    before its stats line)."""
    import os
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"name": f"p/{i}", "data": {}} for i in range(3)]))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), INNGEST_EVENT_KEY="local-key-1234")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line
    with running_inbox() as inbox:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "console", "send", "--url", inbox.url, "--no-verify",
                 "--stats", "--request-limit", "60", str(events)],
                stdout=write_end, stderr=subprocess.PIPE, text=True, env=environ, cwd=ROOT,
                timeout=60, check=False)
        finally:
            os.close(write_end)
        received = len(inbox.events())
    assert done.returncode == 141, done.stderr
    assert received == 3
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("event-console: 3 events in 2 requests (")
    history = lines(cli("history", "--json").stdout)
    assert [h["outcome"] for h in history] == ["accepted"] * 3


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["ctrl-c", "sigterm"])
def test_interrupted_while_looking_up_runs_says_so_and_keeps_the_runs_key(
        app_home, tmp_path, signum, exit_code):
    """SIGTERM once the send had finished, while only its runs were being looked up,
    printed "1 of 1 requests answered; ... a request in flight is "outcome unknown"" (none
    was) and a line without `runs`."""
    import os
    import subprocess
    import sys
    import time

    from tests.e2e.conftest import ROOT

    event = tmp_path / "one.json"
    event.write_text('{"name": "shop/x", "id": "look-1", "data": {}}')
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), INNGEST_EVENT_KEY="local-key-1234",
                   EVENT_CONSOLE_VERIFY_SECONDS="99999")
    with FaultServer() as server:
        server.script(Reply.json(200, {"ids": ["01HZZZZZZZZZZZZZZZZZZZZZZZ"], "status": 200}),
                      Reply.hang())  # the runs lookup never answers
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "send", "--url", server.origin, str(event)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ, cwd=ROOT)
        try:
            while len(server.requests) < 2 and proc.poll() is None:
                time.sleep(0.01)
            assert [r.method for r in server.requests] == ["POST", "GET"], proc.communicate()
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    assert proc.returncode == exit_code, err
    [record] = lines(out)
    assert record["status"] == 200 and record["summary"] == "1 accepted"
    assert record["runs"] == [{"outcome": "accepted", "runs": 0, "detail": "accepted"}]
    assert err.strip().endswith(
        "event-console: interrupted while looking up runs: 1 of 1 requests answered, none in "
        "flight; the accepted events show as \"accepted\" (their runs were not looked up to "
        "the end)")
    assert "outcome unknown" not in err


def test_a_history_that_fills_the_disk_mid_send_stops_it_and_prints_what_was_answered(
        cli, app_home, tmp_path):
    """The disk filled under the history after two requests: exit 2 (an input error), no
    line for the requests the server had accepted, and nothing said of them."""
    import os
    import resource
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    assert cli("history").returncode == 0  # the file exists before the send
    limit = 1024 * 1024  # no file of the command may grow past 1 MiB: a full disk, to it

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"name": "full/x", "data": {"i": i, "pad": "p" * 900}}
                                  for i in range(6_000)]))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home))
    with FaultServer() as server:
        done = subprocess.run(
            [sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGXFSZ, "
             "signal.SIG_IGN); from console.cli import main; sys.exit(main())",
             "send", "--url", server.origin, "--no-verify", str(events)],
            capture_output=True, text=True, env=environ, cwd=ROOT, timeout=120,
            preexec_fn=small_files, check=False)
        posts = [r for r in server.requests if r.method == "POST"]
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    answered = lines(done.stdout)
    assert 1 <= len(answered) <= len(posts)  # each line was accepted
    assert all(line["status"] == 200 for line in answered)
    assert done.stderr.startswith(f"event-console: the history at {app_home}/data/history")
    total = re.search(rf"{len(answered)} of (\d+) requests were answered \(above\); "
                      "nothing more was sent", done.stderr)
    assert total is not None and int(total[1]) > len(posts), done.stderr


def test_send_and_run_go_on_past_a_proxy_setting_they_cannot_use(cli, tmp_path):
    """A socks4:// proxy in ALL_PROXY ended `send` and `run` with a traceback: now it is said
    and ignored, and the send goes out."""
    path = tmp_path / "e.json"
    path.write_text('{"name": "app/x", "data": {}}')
    with FaultServer() as server:
        done = cli("send", "--url", server.origin, "--no-verify", "--no-history", str(path),
                   env={"ALL_PROXY": "socks4://127.0.0.1:1080"})
        assert done.returncode == 0, done.stderr
        assert len(server.requests) == 1
    assert done.stderr.startswith("event-console: the proxy and certificate settings of the "
                                  "environment"), done.stderr
    assert "a proxy URL must start with http://, https://, socks5:// or socks5h://" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["ctrl-c", "sigterm"])
def test_a_stop_signal_ends_a_send_whose_lines_nobody_reads(app_home, tmp_path, signum,
                                                            exit_code):
    """Every request answered, its lines going to a pipe nobody reads (`| less` left
    open, a stuck CI step): Ctrl+C and SIGTERM were ignored until SIGKILL, as Python
    retries an interrupted write and the loop that heard the signal could not run."""
    import time

    events = tmp_path / "ev.json"
    events.write_text(json.dumps([{"name": f"s/{i}", "data": {"n": "x" * 500}}
                                  for i in range(5000)]))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), INNGEST_EVENT_KEY="stall-key-0123")
    with FaultServer() as server:
        reader, writer = os.pipe()  # never read
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", "send", "--url", server.origin, "--no-verify",
             "--request-limit", "20000", str(events)], stdout=writer, stderr=subprocess.PIPE,
            env=environ, text=True)
        os.close(writer)
        try:
            deadline = time.monotonic() + 60
            while (sum(len(r.json()) for r in list(server.requests)) < 5000
                   and time.monotonic() < deadline and proc.poll() is None):
                time.sleep(0.05)
            time.sleep(0.5)  # answered, and writing its lines into the full pipe
            assert proc.poll() is None, proc.communicate()[1]
            proc.send_signal(signum)
            _out, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
            os.close(reader)
    assert proc.returncode == exit_code, err
    assert "Traceback" not in err, err


def test_a_selected_environment_that_is_not_loaded_is_no_one_s_stand_in(cli, app_home):
    """Its branch held a line break, so it was not loaded, and a plain `send` went to the
    first environment instead, without the branch (exit 0)."""
    from console.services.paths import app_paths

    origin = "http://127.0.0.1:9"
    paths = app_paths().ensure()
    paths.environments_file.write_text(json.dumps({"selected": "Staging", "environments": [
        {"name": "Production", "kind": "custom", "event_origin": origin},
        {"name": "Staging", "kind": "custom", "event_origin": origin,
         "branch": "feature-x\n"}]}))
    sent = cli("send", "-", input='{"name": "staging/only"}')
    assert sent.returncode == 2, sent.stderr
    assert "'Staging': the branch 'feature-x\\n' holds a control character" in sent.stderr
    assert ("the selected environment 'Staging' is not used (see above): mend it in "
            f"{paths.environments_file}, or name another with --env") in sent.stderr
    listed = cli("env", "list")  # and none is marked as the one a send uses
    assert [line[:1] for line in listed.stdout.splitlines()] == [" "], listed.stdout

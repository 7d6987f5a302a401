"""`event-console history` options that take a value from a fixed set or range: a value
outside it is a usage error (exit 2) that says what is valid, never an empty listing or a
setting quietly changed to something else; and a history file damaged after it opened."""

from __future__ import annotations

import pytest

OUTCOMES = ("pending", "unknown", "accepted", "not accepted", "ran", "deduplicated",
            "no runs", "unverified", "received")


def test_an_unknown_outcome_is_a_usage_error_listing_the_valid_ones(cli):
    proc = cli("history", "--outcome", "bogus")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "no events in the history match" not in proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("event-console history: error: argument --outcome: invalid "
                           "choice: 'bogus'")
    assert all(repr(outcome) in last for outcome in OUTCOMES)


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_documented_outcome_is_accepted(cli, outcome):
    proc = cli("history", "--outcome", outcome)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "event-console: no events in the history match\n"


@pytest.mark.parametrize("days", ["99999999999", "3651", "-1"])
def test_a_retention_out_of_range_is_refused_and_nothing_changes(cli, days):
    proc = cli("history", "--set-retention", days)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"event-console: --set-retention {days}: keep history from 1 to "
                           "3650 days, or 0 to keep everything\n")
    shown = cli("history", "--set-payload-cap", "64")
    assert shown.stdout.endswith("events are kept 90 days\n")  # the default, untouched


@pytest.mark.parametrize(("days", "kept"), [("0", "forever"), ("1", "1 day"),
                                            ("3650", "3650 days")])
def test_a_retention_in_range_is_kept(cli, days, kept):
    proc = cli("history", "--set-retention", days)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(f"events are kept {kept}\n")


def test_a_history_damaged_past_its_header_is_moved_aside_in_one_line(cli, app_home):
    """The open check reads only the schema: with the data pages damaged, `history` and
    `send` ended in a Python traceback (exit 1), and the file stayed where it was."""
    import json

    from console.services.history import HistoryStore
    from console.services.paths import app_paths

    db = app_paths().ensure().history_db
    with HistoryStore(db) as store:
        for k in range(40):
            store.record_pending(env="Inbox", events=[json.dumps(
                {"name": "x/y", "id": f"id-{k}-{i}", "data": {"pad": "z" * 500}}).encode()
                for i in range(50)])
    data = bytearray(db.read_bytes())
    page = 16384
    data[2 * page:] = b"\xa5" * (len(data) - 2 * page)  # every page after the schema's
    db.write_bytes(bytes(data))
    done = cli("history")
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("event-console: the history file was damaged (") and (
        "has been moved aside to " in line), line
    assert not db.exists() and list(db.parent.glob("history.sqlite3.corrupt-*"))
    again = cli("history")
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr


@pytest.mark.parametrize("option, value", [("--search", "$" * 60_000),
                                           ("--search", "\N{PARTY POPPER}" * 13_000),
                                           ("--name", "*" * 60_000)])
def test_a_search_or_name_too_long_for_sqlite_is_one_line(cli, option, value):
    """SQLite refuses a LIKE or GLOB pattern over 50,000 bytes: a traceback, exit 1."""
    done = cli("history", option, value)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("event-console: the ") and line.endswith(
        "is over 10,000 bytes: search for a shorter part of it"), line


@pytest.mark.parametrize("option", ["--env", "--name", "--search"])
def test_an_empty_filter_is_refused_not_read_as_no_filter(cli, option):
    """`history --env "$ENV" --outcome deduplicated --json` in CI with ENV unset counted the
    events of every environment (send, run and validate refuse `--env ""` already)."""
    proc = cli("history", option, "", "--json")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"event-console: {option}: empty (is the variable it comes from "
                           "set?)\n")


def test_env_finds_the_sends_of_the_name_and_the_url_as_send_took_them(cli):
    """`send --env local` sends to the saved "Local", and `send --url http://host:port/`
    keeps its sends under `http://host:port`: `history --env` with the same text found
    none of them."""
    import json

    from tests.support.inbox_thread import running_inbox

    with running_inbox() as inbox:
        assert cli("env", "add", "Local", "--kind", "dev", "--event-origin",
                   inbox.url).returncode == 0
        for args, name in ((("--env", "local"), "e/named"),
                           (("--url", inbox.url + "/"), "e/by-url")):
            sent = cli("send", *args, "--no-verify", "-",
                       input=json.dumps({"name": name, "data": {}}))
            assert sent.returncode == 0, sent.stderr
    for env, stored, name in (("local", "Local", "e/named"), ("LOCAL", "Local", "e/named"),
                              (inbox.url + "/", inbox.url, "e/by-url"),
                              (inbox.url.replace("http://", "HTTP://"), inbox.url,
                               "e/by-url")):
        done = cli("history", "--env", env, "--json")
        assert done.returncode == 0, done.stderr
        assert [(r["env"], r["name"]) for r in map(json.loads, done.stdout.splitlines())] == [
            (stored, name)], env
    gone = cli("history", "--env", "Removed since")  # a name no longer saved: as given
    assert (gone.returncode, gone.stderr) == (0, "event-console: no events in the history "
                                                 "match\n")


def test_a_search_of_10000_bytes_of_words_lists_the_event(cli):
    """A search of 330 words or more: "the history cannot be used" (exit 2)."""
    import json

    from console.services.history import HistoryStore
    from console.services.paths import app_paths

    words = [f"w{i}" for i in range(4000)]
    while len(" ".join(words)) > 10_000:
        words.pop()
    text = " ".join(words)
    with HistoryStore(app_paths().ensure().history_db) as store:
        for name, note in (("app/all", text), ("app/most", " ".join(words[1:]))):
            store.record_pending(env="Inbox", events=[json.dumps(
                {"name": name, "data": {"note": note}}).encode()])
    done = cli("history", "--search", text, "--json")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["name"] for line in done.stdout.splitlines()] == ["app/all"]

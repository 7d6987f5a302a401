"""`event-console history` on a full disk and while another program holds the write lock:
it lists what is there (marking the requests of dead processes "unknown" is a write, and
waits for a later command). A history that cannot be opened at all says what to do."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.tmpfs import fill, small_disk

ROOT = Path(__file__).resolve().parents[2]
NOT_MARKED = ("event-console: requests from an earlier session that ended without an answer "
              "are listed as pending: the history cannot be written now ({}); a later "
              "command marks them unknown\n")


def left_pending(db: Path) -> None:
    """A request written as pending by a process that is gone (killed mid-send)."""
    script = ("import sys\nfrom console.services.history import HistoryStore\n"
              "with HistoryStore(sys.argv[1]) as store:\n"
              "    store.record_pending(env='Dev', events=[b'{\"name\": \"a/b\", \"id\": "
              "\"cut-1\"}'])\n")
    subprocess.run([sys.executable, "-c", script, str(db)], cwd=ROOT, check=True)


@contextmanager
def held_open(db: Path, *statements: str) -> Iterator[None]:
    """Another program with the history open (a window, a database browser)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM events").fetchone()
        for statement in statements:
            conn.execute(statement)
        yield
    finally:
        conn.close()


def listed(done: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    return [(r["dedup_id"], r["outcome"]) for r in map(json.loads, done.stdout.splitlines())]


def test_history_lists_on_a_full_disk_and_marks_later(cli, app_home):
    data = app_home / "data"
    db = data / "history.sqlite3"
    with small_disk(data):
        left_pending(db)
        with held_open(db):  # its -shm file is there: the open needs no room
            fill(data)
            done = cli("history", "--json")
            assert (done.returncode, done.stderr) == (
                0, NOT_MARKED.format("database or disk is full"))
            assert listed(done) == [("cut-1", "pending")]
            (data / "filler").unlink()
        later = cli("history", "--json")
    assert later.returncode == 0 and "1 request from an earlier session" in later.stderr
    assert listed(later) == [("cut-1", "unknown")]


def test_history_lists_while_another_program_holds_the_write_lock(cli, app_home):
    db = app_home / "data" / "history.sqlite3"
    db.parent.mkdir(parents=True)
    left_pending(db)
    with held_open(db, "BEGIN EXCLUSIVE"):
        start = time.monotonic()
        done = cli("history", "--json")
        took = time.monotonic() - start
    assert (done.returncode, done.stderr) == (
        0, NOT_MARKED.format("another program holds its write lock"))
    assert listed(done) == [("cut-1", "pending")]
    assert took < 4  # no 5 s wait for the lock


def test_a_history_that_cannot_be_opened_on_a_full_disk_says_what_to_do(cli, app_home):
    data = app_home / "data"
    db = data / "history.sqlite3"
    with small_disk(data):
        left_pending(db)
        fill(data)  # and no -shm file: SQLite cannot make one
        for args in (["history"], ["send", "--url", "http://127.0.0.1:9", "--no-verify", "-"]):
            done = cli(*args, input='{"name": "a/b"}')
            assert (done.returncode, done.stdout) == (2, ""), done.stderr
            assert done.stderr == (
                f"event-console: cannot open the history at {db}: disk I/O error (check "
                f"that {data} is writable and has free space; send and run go without it "
                "with --no-history)\n")


def test_history_search_finds_on_a_full_disk(cli, app_home):
    """The search index is brought up to date before a search: on a full disk that write
    failed and `history --search` with it. The payloads not indexed are read word by word."""
    data = app_home / "data"
    db = data / "history.sqlite3"
    with small_disk(data):
        script = ("import sys\nfrom console.services.history import HistoryStore\n"
                  "with HistoryStore(sys.argv[1]) as store:\n"
                  "    store.record_pending(env='Dev', events=[b'{\"name\": \"a/b\", "
                  "\"data\": {\"city\": \"Z\\\\u00fcrich\"}}'])\n")
        subprocess.run([sys.executable, "-c", script, str(db)], cwd=ROOT, check=True)
        with held_open(db):
            fill(data)
            done = cli("history", "--json", "--search", "Zürich")
            assert done.returncode == 0, done.stderr
            assert [r["name"] for r in map(json.loads, done.stdout.splitlines())] == ["a/b"]

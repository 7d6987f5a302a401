"""The first `send` after an update says it is updating the history (which can take
seconds), once, and still finds the ids the history held. The real program, a history file
written as the version before (schema 3) wrote it, the built-in inbox."""

from __future__ import annotations

import json
import sqlite3
import time

from console.core.ids import IdSeed
from console.core.serialize import event_bytes
from console.services.client import SendResult
from console.services.history import HistoryStore
from console.services.history_schema import UPGRADE_NOTICE
from console.services.paths import app_paths
from tests.support.inbox_thread import running_inbox

KEY = "test-event-key-0001"


def test_the_first_send_after_an_update_says_so_and_finds_the_old_ids(cli) -> None:
    db = app_paths().ensure().history_db
    event = {"name": "app/signup", "id": "user-7", "data": {}}
    with running_inbox() as inbox:
        with HistoryStore(db) as store:  # sent an hour ago by the version before
            body = event_bytes(event)
            request = store.record_pending(env=inbox.url, events=[body],
                                           time_ms=int(time.time() * 1000) - 3_600_000)
            store.record_done(request, SendResult(
                200, ["01OLDSEND"], 1, 1, None, 1, 3.0, len(body), IdSeed.fresh().header))
        conn = sqlite3.connect(db)
        conn.executescript(
            "DROP INDEX events_dedup_day; CREATE INDEX events_dedup ON events(dedup_id,"
            " time_ms) WHERE dedup_id IS NOT NULL; PRAGMA user_version = 3;")
        conn.close()
        env = {"INNGEST_EVENT_KEY": KEY}
        first = cli("send", "--url", inbox.url, "--no-verify", "-", input=json.dumps(event),
                    env=env)
        again = cli("send", "--url", inbox.url, "--no-verify", "-", input=json.dumps(event),
                    env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count(f"event-console: {UPGRADE_NOTICE}\n") == 1
    assert "event #1: duplicate of 01OLDSEND sent at " in first.stderr
    assert again.returncode == 0, again.stderr
    assert UPGRADE_NOTICE not in again.stderr
    listed = cli("history")
    assert listed.returncode == 0 and UPGRADE_NOTICE not in listed.stderr
    assert listed.stdout.count("app/signup") == 3

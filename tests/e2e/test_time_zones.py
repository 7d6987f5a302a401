"""The CLI in time zones people (and CI machines) have."""

from __future__ import annotations

import json

from tests.support.inbox_thread import running_inbox


def test_a_duplicate_sent_under_a_zone_python_refuses_is_said_not_hung(cli, tmp_path):
    """glibc takes TZ=XYZ24 (a whole day's offset); Python's astimezone refuses it. The
    second send of an id raised in the history writer's thread and waited forever."""
    path = tmp_path / "e.json"
    path.write_text('{"name": "tz/v", "id": "tz-1", "data": {}}')
    with running_inbox() as inbox:
        first = cli("send", "--url", inbox.url, "--no-verify", str(path))
        again = cli("send", "--url", inbox.url, "--no-verify", str(path),
                    env={"TZ": "XYZ24"}, timeout=30)
        listed = cli("history", "--json", "--limit", "2", env={"TZ": "XYZ24"})
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    [verdict] = json.loads(again.stdout.splitlines()[0])["dedup"]
    assert verdict["verdict"] == "duplicate"
    assert verdict["message"].endswith(" UTC: Inngest will accept it and start no runs")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(text) for text in listed.stdout.splitlines()]
    assert [row["time"][-6:] for row in rows] == ["+00:00", "+00:00"]


def test_the_first_seen_time_says_its_offset_when_read_in_another_zone(cli, tmp_path):
    """Sent in Kolkata, read in UTC: "first seen at 17:11:53" under a row of 11:41:54,
    with nothing to say the two were in different zones."""
    path = tmp_path / "e.json"
    path.write_text('{"name": "tz/k", "id": "tz-2", "data": {}}')
    with running_inbox() as inbox:
        for _ in range(2):
            sent = cli("send", "--url", inbox.url, "--no-verify", str(path),
                       env={"TZ": "Asia/Kolkata"})
            assert sent.returncode == 0, sent.stderr
    listed = cli("history", "--json", "--name", "tz/k", env={"TZ": "UTC"})
    rows = [json.loads(text) for text in listed.stdout.splitlines()]
    details = [row.get("predicted_detail") or "" for row in rows]
    assert any(d.startswith("duplicate of ") and " +05:30: " in d for d in details), details

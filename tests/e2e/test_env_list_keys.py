"""`env list` over keys another tool stored in the keyring."""

from __future__ import annotations

import contextlib
import json

from tests.support.keyrings import store_bytes


def test_env_list_goes_on_past_keys_no_send_could_use(cli, keyring_backend):
    """A key that is not text stopped the listing at its environment (exit 2), and a key
    with a line break was shown as set, its masked tail breaking the row in two."""
    import keyring

    for name in ("A", "B", "C"):
        added = cli("env", "add", name, "--event-origin", f"https://{name.lower()}.example")
        assert added.returncode == 0, added.stderr
    keyring.set_password("event-console", "B/event", "evtkey-bbbb5678\n")
    keyring.set_password("event-console", "C/event", "evtkey-cccc9012")
    store_bytes("event-console", "A/event", b"\xff\xfe-not-text")
    try:
        done = cli("env", "list", "--json")
    finally:
        for name in ("A", "B", "C"):
            with contextlib.suppress(Exception):  # the test's own clean-up
                keyring.delete_password("event-console", f"{name}/event")
    assert done.returncode == 0, done.stderr
    keys = {row["name"]: row["event_key"] for row in map(json.loads, done.stdout.splitlines())}
    assert (keys["A"], keys["B"], keys["C"]) == (
        "set, but not usable (not text)", "set, but not usable", "****9012")


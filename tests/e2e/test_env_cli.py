"""`event-console env ...` as a subprocess, with the real Secret Service."""

from __future__ import annotations

import json


def test_env_add_list_set_key_remove(cli, keyring_backend, app_home):
    key = "evt-test-key-abcd1234"
    assert cli("env", "add", "Staging", "--kind", "cloud", "--branch", "staging").returncode == 0
    set_key = cli("env", "set-key", "Staging", input=key + "\n")
    assert set_key.returncode == 0, set_key.stderr
    assert key not in set_key.stdout and "****1234" in set_key.stdout
    listed = cli("env", "list", "--json")
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["Staging"]["event_key"] == "****1234"
    assert rows["Staging"]["branch"] == "staging"
    assert rows["Staging"]["event_limit"] == 262_144
    assert rows["Dev Server"]["event_key"] == "not needed (any key works)"
    assert rows["Staging"]["signing_key"] == "not set"
    assert key not in listed.stdout
    config = (app_home / "config" / "environments.json").read_text()
    assert key not in config and "staging" in config
    removed = cli("env", "remove", "Staging")
    assert removed.returncode == 0
    import keyring

    assert keyring.get_password("event-console", "Staging/event") is None


def test_without_a_keyring_send_and_set_key_say_why_and_what_to_do(cli):
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    assert cli("env", "add", "Staging", "--kind", "cloud").returncode == 0
    set_key = cli("env", "set-key", "Staging", input="evt-key-abcd1234\n", env=no_keyring)
    send = cli("send", "--env", "Staging", "--no-verify", "-", input='{"name": "a/b"}',
               env=no_keyring)
    listed = cli("env", "list", env=no_keyring)
    assert listed.returncode == 0 and "key: keyring unavailable" in listed.stdout
    for done in (set_key, send):
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr == (
            "event-console: No usable keyring: no keyring backend is installed or none is "
            "running. Install and unlock a Secret Service (GNOME Keyring or KeePassXC on "
            "Linux; the system keychain on macOS and Windows), or set INNGEST_EVENT_KEY for "
            "this shell. In the window, Environments… can also keep the key in memory for "
            "this session only.\n")
    assert "evt-key-abcd1234" not in set_key.stderr


def test_a_locked_keyring_says_so(app_home):
    """A real gnome-keyring in a D-Bus session of its own, started but never unlocked, and
    no display for its unlock prompt: set-key and send fail with a plain message."""
    import os
    import shutil
    import subprocess
    import sys

    tools = [shutil.which(t) for t in ("dbus-run-session", "gnome-keyring-daemon")]
    assert all(tools), "dbus-run-session and gnome-keyring-daemon are needed (tests/run)"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("INNGEST_", "DBUS_", "DISPLAY", "WAYLAND_"))}
    env.update(EVENT_CONSOLE_HOME=str(app_home), KEY="evt-key-abcd1234")
    cli = f"{sys.executable} -m console"
    script = (f"gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1\n"
              f"{cli} env add Staging --kind cloud >/dev/null\n"
              f'echo "$KEY" | {cli} env set-key Staging; echo "rc=$?"\n'
              f"echo '{{\"name\": \"a/b\"}}' | {cli} send --env Staging --no-verify -;"
              ' echo "rc=$?"\n')
    done = subprocess.run(["dbus-run-session", "--", "bash", "-c", script], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.splitlines() == ["rc=2", "rc=2"], done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("event-console:")]
    assert len(said) == 2, done.stderr
    for line in said:
        assert line.startswith("event-console: No usable keyring: the keyring is locked and "
                               "could not be unlocked (no unlock prompt was answered). Install")
    assert "evt-key-abcd1234" not in done.stdout + done.stderr


def test_set_key_never_from_argv_and_needs_input(cli):
    done = cli("env", "set-key", "Dev Server", "sekrit")
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr
    empty = cli("env", "set-key", "Dev Server", input="\n")
    assert empty.returncode == 2 and "no key given" in empty.stderr


def test_from_environment_target_is_listed_first(cli):
    done = cli("env", "list", "--json", env={"INNGEST_DEV": "http://127.0.0.1:7777"})
    first = json.loads(done.stdout.splitlines()[0])
    assert first["name"] == "From environment" and first["default"] is True
    assert first["event_origin"] == "http://127.0.0.1:7777"

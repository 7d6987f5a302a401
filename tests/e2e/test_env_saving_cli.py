"""`env add` and `env remove` where the file cannot be written, or the keys not deleted;
`env add` over an environment of the same name: what the user is told, in one line each."""

from __future__ import annotations

import json

from tests.e2e.tmpfs import fill, read_only, small_disk

LOCKED = {"PYTHON_KEYRING_BACKEND": "tests.support.keyrings.LockedKeyring"}


def test_a_full_or_read_only_config_folder_is_said_and_nothing_changes(cli, app_home,
                                                                      keyring_backend):
    file = app_home / "config" / "environments.json"
    with small_disk(app_home / "config"):
        assert cli("env", "add", "Staging", "--kind", "cloud").returncode == 0
        assert cli("env", "set-key", "Staging", input="evt-staging-1234\n").returncode == 0
        before = file.read_text()
        fill(app_home / "config")
        for args in (("add", "Prod", "--kind", "cloud"), ("remove", "Staging")):
            done = cli("env", *args)
            assert (done.returncode, done.stdout, done.stderr) == (
                2, "", f"event-console: not saved: No space left on device ({file})\n")
        (app_home / "config" / "filler").unlink()
        (app_home / "config" / "environments.json.lock").unlink()  # made again: refused
        read_only(app_home / "config")
        for args in (("add", "Prod", "--kind", "cloud"), ("remove", "Staging")):
            done = cli("env", *args)
            assert (done.returncode, done.stdout, done.stderr) == (
                2, "", f"event-console: not saved: Read-only file system ({file})\n")
        assert file.read_text() == before
    import keyring

    assert keyring.get_password("event-console", "Staging/event") == "evt-staging-1234"


def test_removing_with_a_locked_keyring_says_the_keys_stay_and_how_to_delete_them(
        cli, keyring_backend):
    assert cli("env", "add", "My Cloud", "--kind", "cloud").returncode == 0
    assert cli("env", "set-key", "My Cloud", input="evt-cloud-5678\n").returncode == 0
    done = cli("env", "remove", "My Cloud", env=LOCKED)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "event-console: removed 'My Cloud', but its keys are still in the keyring (a new "
        "environment named 'My Cloud' would use them): the keyring is locked and could not "
        "be unlocked (no unlock prompt was answered). To delete them, unlock the keyring, "
        "then run `event-console env add 'My Cloud'` and `event-console env remove "
        "'My Cloud'`\n")
    names = [json.loads(r)["name"] for r in cli("env", "list", "--json").stdout.splitlines()]
    assert "My Cloud" not in names
    import keyring

    assert keyring.get_password("event-console", "My Cloud/event") == "evt-cloud-5678"
    # the way out it names works once the keyring is unlocked
    assert cli("env", "add", "My Cloud", "--kind", "cloud").returncode == 0
    assert cli("env", "remove", "My Cloud").returncode == 0
    assert keyring.get_password("event-console", "My Cloud/event") is None


def test_replacing_an_environment_elsewhere_says_where_its_keys_go_now(cli):
    first = cli("env", "add", "Prod", "--event-origin", "http://10.0.0.5:8288")
    assert (first.returncode, first.stderr) == (0, "")
    moved = cli("env", "add", "Prod", "--kind", "cloud")
    assert (moved.returncode, moved.stdout) == (0, "saved 'Prod' (cloud, https://inn.gs)\n")
    assert moved.stderr == (
        "event-console: replaced 'Prod' (was custom, http://10.0.0.5:8288; now cloud, "
        "https://inn.gs); any keys saved for 'Prod' are kept and now go to the new origin: "
        "change them with `event-console env set-key Prod` (--signing for the signing key), "
        "or remove 'Prod' and its keys with `event-console env remove Prod`\n")
    typo = cli("env", "add", "Prod", "--kind", "cloud", "--event-origin", "https://inn.gs.evil")
    assert typo.returncode == 0
    assert typo.stderr.startswith("event-console: replaced 'Prod' (was cloud, https://inn.gs; "
                                  "now cloud, https://inn.gs.evil); ")
    again = cli("env", "add", "Prod", "--kind", "cloud", "--event-origin", "https://inn.gs.evil",
                "--branch", "main")  # the same kind and origin: nothing more to say
    assert (again.returncode, again.stderr) == (0, "")

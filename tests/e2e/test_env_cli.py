"""`event-console env ...` as a subprocess, with the real Secret Service."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from tests.support.fault_server import FaultServer


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
    # `env add` as the first command made the folder 0755 (umask), not this user's only
    assert stat.S_IMODE((app_home / "config").stat().st_mode) == 0o700
    two = cli("env", "set-key", "Staging", input="evt-one-1234\nevt-two-5678\n")
    assert (two.returncode, two.stderr) == (2, "event-console: stdin holds 2 lines: give the "
                                               "key alone, on one line\n")
    assert "evt-" not in two.stdout + two.stderr
    assert json.loads(next(r for r in cli("env", "list", "--json").stdout.splitlines()
                       if '"Staging"' in r))["event_key"] == "****1234"  # kept as it was
    removed = cli("env", "remove", " staging ")  # named as --env names it
    assert (removed.returncode, removed.stdout) == (0, "removed 'Staging'\n"), removed.stderr
    import keyring

    assert keyring.get_password("event-console", "Staging/event") is None


def test_a_keyring_backend_variable_that_names_nothing_is_said_so(cli):
    """It read "No usable keyring: ModuleNotFoundError: No module named 'nonexistent'",
    not naming the variable that chose it."""
    wrong = {"PYTHON_KEYRING_BACKEND": "nonexistent.Backend"}
    set_key = cli("env", "set-key", "Dev Server", input="evt-key-abcd1234\n", env=wrong)
    assert set_key.returncode == 2
    assert set_key.stderr.startswith(
        "event-console: No usable keyring: PYTHON_KEYRING_BACKEND=nonexistent.Backend is not "
        "a keyring backend that can be loaded (No module named 'nonexistent'): unset it, or "
        "name one. Install"), set_key.stderr
    assert "ModuleNotFoundError" not in set_key.stderr


def test_without_a_keyring_send_and_set_key_say_why_and_what_to_do(cli):
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    assert cli("env", "add", "Staging", "--kind", "cloud").returncode == 0
    set_key = cli("env", "set-key", "Staging", input="evt-key-abcd1234\n", env=no_keyring)
    send = cli("send", "--env", "Staging", "--no-verify", "-", input='{"name": "a/b"}',
               env=no_keyring)
    listed = cli("env", "list", env=no_keyring)
    assert listed.returncode == 0 and "key: keyring unavailable" in listed.stdout
    assert listed.stderr.startswith("event-console: No usable keyring: no keyring backend")
    assert "Install and unlock a Secret Service" in listed.stderr  # and how to fix it
    assert cli("env", "add", "Scratch", "--kind", "cloud", env=no_keyring).returncode == 0
    removed = cli("env", "remove", "Scratch", env=no_keyring)
    # no keyring holds no key: nothing to warn about
    assert (removed.returncode, removed.stdout, removed.stderr) == (0, "removed 'Scratch'\n", "")
    for done in (set_key, send):
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr == (
            "event-console: No usable keyring: no keyring backend is installed or none is "
            "running. Install and unlock a Secret Service (GNOME Keyring or KeePassXC on "
            "Linux; the system keychain on macOS and Windows), or set INNGEST_EVENT_KEY "
            "(INNGEST_SIGNING_KEY for a signing key) for this shell. In the window, "
            "Environments… can also keep the key in memory for this session only.\n")
    assert "evt-key-abcd1234" not in set_key.stderr
    null = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}  # keeps nothing
    set_key = cli("env", "set-key", "Staging", input="evt-key-abcd1234\n", env=null)
    assert set_key.returncode == 2 and set_key.stdout == ""  # it said "stored"
    assert set_key.stderr.startswith("event-console: No usable keyring: the keyring backend "
                                     "is keyring's null backend")


def test_a_keyring_that_cannot_prompt_says_why(app_home):
    """A real gnome-keyring in D-Bus sessions of its own and no display for its prompts.
    First a new login (no keyring yet): creating one needs a prompt. Then a keyring made
    and unlocked with a password, and a later session where it starts locked: unlocking
    needs a prompt. set-key and send fail with a plain message each time."""
    import os
    import shutil
    import subprocess
    import sys

    tools = [shutil.which(t) for t in ("dbus-run-session", "gnome-keyring-daemon")]
    assert all(tools), "dbus-run-session and gnome-keyring-daemon are needed (tests/run)"
    # nothing of the suite's own session: its bus, its (unlocked) keyring daemon, a display
    env = {k: v for k, v in os.environ.items() if not k.startswith(
        ("INNGEST_", "DBUS_", "GNOME_KEYRING_", "SSH_AUTH_SOCK", "DISPLAY", "WAYLAND_",
         "XDG_DATA_HOME"))}  # its keyring files go under HOME
    runtime = app_home / "runtime"  # the daemon's sockets and keyring files: its own
    runtime.mkdir(mode=0o700)
    env.update(EVENT_CONSOLE_HOME=str(app_home), KEY="evt-key-abcd1234",
               HOME=str(app_home), XDG_RUNTIME_DIR=str(runtime))
    cli = f"{sys.executable} -m console"
    set_key = f'echo "$KEY" | {cli} env set-key Staging; echo "rc=$?"\n'
    send = (f"echo '{{\"name\": \"a/b\"}}' | {cli} send --env Staging --no-verify -;"
            ' echo "rc=$?"\n')

    def session(start: str, script: str) -> tuple[list[str], list[str]]:
        done = subprocess.run(
            ["dbus-run-session", "--", "bash", "-c", f"{start} >/dev/null 2>&1\n{script}"],
            env=env, capture_output=True, text=True, timeout=60, check=False)
        assert "evt-key-abcd1234" not in done.stdout + done.stderr
        said = [line for line in done.stderr.splitlines() if line.startswith("event-console:")]
        return [line for line in done.stdout.splitlines() if line.startswith("rc=")], said

    locked_start = "gnome-keyring-daemon --start --components=secrets"
    assert subprocess.run([sys.executable, "-m", "console", "env", "add", "Staging", "--kind",
                           "cloud"], env=env, capture_output=True, check=False).returncode == 0
    hint = (". Install and unlock a Secret Service (GNOME Keyring or KeePassXC on Linux; the "
            "system keychain on macOS and Windows), or set INNGEST_EVENT_KEY "
            "(INNGEST_SIGNING_KEY for a signing key) for this shell.")

    rcs, said = session(locked_start, set_key)
    assert rcs == ["rc=2"]
    assert said == ["event-console: No usable keyring: the keyring has no collection to keep "
                    "keys in yet, and creating one needs a prompt that was dismissed or could "
                    "not be shown" + hint + " In the window, Environments… can also keep the "
                    "key in memory for this session only."]

    rcs, said = session("echo -n pw | gnome-keyring-daemon --unlock --components=secrets",
                        set_key)
    assert rcs == ["rc=0"] and said == []

    rcs, said = session(locked_start, set_key + send)
    assert rcs == ["rc=2", "rc=2"]
    assert said == 2 * ["event-console: No usable keyring: the keyring is locked and could "
                        "not be unlocked (no unlock prompt was answered)" + hint + " In the "
                        "window, Environments… can also keep the key in memory for this "
                        "session only."]


def test_origins_names_and_branches_that_cannot_work_are_refused_when_saved(cli):
    """They were saved, and every send then failed: port 99999 with an OverflowError
    traceback, CR/LF in a branch with "Illegal header value"; a newline in a name split
    the rows of `env list`."""
    for args, message in [
        (["Far", "--event-origin", "http://127.0.0.1:99999"],
         "event origin: 'http://127.0.0.1:99999' has a port that is not a number from 1 "
         "to 65535"),
        (["Ftp", "--event-origin", "ftp://x"], "event origin: 'ftp://x' is not an http:// or "
         "https:// origin"),
        (["Br", "--branch", "x\r\ny: z"], "the branch 'x\\r\\ny: z' holds a control "
         "character (a line break, a tab, a character that reorders text…)"),
        (["a\nb"], "the name 'a\\nb' holds a control character (a line break, a tab, a "
         "character that reorders text…)"),
        # U+202E shows what follows it backwards in `env list` and the window
        (["evil\u202etxt.exe"], "the name 'evil\\u202etxt.exe' holds a control character (a "
         "line break, a tab, a character that reorders text…)"),
        # an x-inngest-env header holds ASCII only: every send ended in a traceback
        (["Br", "--branch", "brünch"], "the branch 'brünch' holds a character that is not "
         "ASCII: it is sent in the x-inngest-env header, which holds ASCII only"),
        (["Br", "--branch", "  "], "the branch is blank: leave it out for the environment's "
         "own events"),
        # urlsplit raised ValueError: a traceback here, and the window could not open
        (["V6", "--event-origin", "http://[::1"], "event origin: 'http://[::1' is not a URL "
         "(a [ around an IPv6 address is not closed)"),
        (["Nohost", "--event-origin", "http://"], "event origin: 'http://' has no host"),
    ]:
        added = cli("env", "add", *args)
        assert (added.returncode, added.stderr) == (2, f"event-console: {message}\n")
    assert [json.loads(r)["name"] for r in cli("env", "list", "--json").stdout.splitlines()
            ] == ["Dev Server", "Inbox"]
    sent = cli("send", "--url", "http://127.0.0.1:99999", input='{"name": "a/b"}')
    assert sent.returncode == 2 and "Traceback" not in sent.stderr
    assert sent.stderr == ("event-console: --url: 'http://127.0.0.1:99999' has a port that "
                           "is not a number from 1 to 65535\n")
    v6 = cli("send", "--url", "http://[::1", "--dry-run", input='{"name": "a/b"}')
    assert (v6.returncode, v6.stderr) == (2, "event-console: --url: 'http://[::1' is not a "
                                             "URL (a [ around an IPv6 address is not closed)\n")
    listed = cli("env", "list", env={"INNGEST_BASE_URL": "http://[::1"})
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert "From environment" in listed.stdout


@pytest.mark.parametrize("kind", ["dev", "inbox", "custom"])
def test_paid_is_refused_for_anything_but_inngest_cloud(cli, kind):
    """`--paid` (the Cloud paid plan's 3 MiB events) was saved on a Dev Server without a
    word, though it changes nothing there."""
    added = cli("env", "add", "Dv", "--kind", kind, "--paid")
    assert (added.returncode, added.stdout) == (2, "")
    assert added.stderr == (
        "event-console: --paid is for --kind cloud (the Inngest Cloud paid plan allows 3 MiB "
        f"events); a {kind} environment allows 3 MiB events already: set another limit with "
        "--event-limit\n")
    assert "Dv" not in [json.loads(r)["name"]
                        for r in cli("env", "list", "--json").stdout.splitlines()]
    paid = cli("env", "add", "Paid", "--kind", "cloud", "--paid")
    assert paid.returncode == 0, paid.stderr
    [row] = [json.loads(r) for r in cli("env", "list", "--json").stdout.splitlines()
             if json.loads(r)["name"] == "Paid"]
    assert row["event_limit"] == 3 * 1024 * 1024


def test_an_origin_that_holds_a_key_or_password_is_refused_and_never_echoed(cli, app_home):
    """Inngest shows a key's event URL (https://inn.gs/e/<key>); given as --url it was
    kept as the environment's name, so the key landed in the history, `history --json`
    and the window's History tab."""
    key = "supersecretkey123"
    masked = "****y123"
    cases = [
        (f"http://127.0.0.1:8288/e/{key}", f"'http://127.0.0.1:8288/e/{masked}' holds an "
         "event key (…/e/<key>): give the origin alone (such as https://inn.gs) and the key "
         "through INNGEST_EVENT_KEY or the keyring (event-console env set-key)"),
        (f"https://inn.gs/e/{key}/", f"'https://inn.gs/e/{masked}' holds an event key"),
        # the same path percent-encoded or in capitals: saved, listed and requested whole
        (f"http://127.0.0.1:9/%65/{key}", f"'http://127.0.0.1:9/%65/{masked}' holds an "
         "event key"),
        (f"http://127.0.0.1:9/E/{key}", f"'http://127.0.0.1:9/E/{masked}' holds an event key"),
        (f"http://127.0.0.1:9/e%2F{key}", f"'http://127.0.0.1:9/e%2F{masked}' holds an "
         "event key"),
        (f"https://user:{key}@inn.gs", "'https://****@inn.gs' holds a user name or password"),
        (f"http://127.0.0.1:99999/e/{key}", f"'http://127.0.0.1:99999/e/{masked}' has a "
         "port that is not a number from 1 to 65535"),
        # a query went on the wire before /e/<key> and was kept as the environment's name
        (f"http://127.0.0.1:8288?key={key}", "'http://127.0.0.1:8288?…' has a query or a "
         "fragment (?…, #…): give the origin alone, such as https://inn.gs or "
         "http://127.0.0.1:8288"),
    ]
    for origin, message in cases:
        sent = cli("send", "--url", origin, input='{"name": "a/b"}')
        added = cli("env", "add", "Cloud copy", "--event-origin", origin)
        for done, prefix in ((sent, "--url"), (added, "event origin")):
            assert done.returncode == 2
            assert done.stderr.startswith(f"event-console: {prefix}: {message}")
            assert key not in done.stderr + done.stdout
    history = cli("history", "--json")
    assert history.returncode == 0 and key not in history.stdout + history.stderr
    from_env = {"INNGEST_EVENT_API_BASE_URL": f"https://inn.gs/e/{key}"}  # the user's own
    for listing in (cli("env", "list", env=from_env), cli("env", "list", "--json", env=from_env)):
        assert listing.returncode == 0
        assert f"https://inn.gs/e/{masked}" in listing.stdout
        assert key not in listing.stdout + listing.stderr
    sent = cli("send", input='{"name": "a/b"}', env=from_env)
    assert (sent.returncode, sent.stderr) == (2, (
        f"event-console: environment 'From environment': event origin: "
        f"'https://inn.gs/e/{masked}' holds an event key (…/e/<key>): give the origin alone "
        "(such as https://inn.gs) and the key through INNGEST_EVENT_KEY or the keyring "
        "(event-console env set-key)\n"))
    # a key in INNGEST_BASE_URL or INNGEST_API_BASE_URL: `env test` requested it and
    # printed it, and the runs lookup would have requested <origin>/v1/events/…
    with FaultServer() as server:
        for variable in ("INNGEST_BASE_URL", "INNGEST_API_BASE_URL"):
            env = {"INNGEST_DEV": server.origin, variable: f"{server.origin}/e/{key}"}
            tested = cli("env", "test", "From environment", env=env)
            assert tested.returncode == 2 and tested.stdout == ""
            assert tested.stderr.startswith("event-console: From environment: not checked: ")
            assert f"/e/{masked}' holds an event key" in tested.stderr
            sent = cli("send", input='{"name": "a/b"}', env=env)
            assert sent.returncode == 2 and f"/e/{masked}' holds an event key" in sent.stderr
            assert key not in tested.stderr + sent.stderr + sent.stdout
        assert server.requests == []
    for path in app_home.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_an_empty_target_or_an_origin_with_more_than_an_origin_is_refused(cli, tmp_path):
    """`--env "$TARGET"` with the variable unset sent to the selected environment; an
    origin with /e/ or a fragment built a wrong request path (/e/e/<key>, /)."""
    scenario = tmp_path / "one.json"
    scenario.write_text(json.dumps({"format": "event-console/scenario@1", "name": "one",
                                    "steps": [{"send": {"name": "a/b"}}]}))
    for args, message in [
        (["--url", ""], "--url: empty (is the variable it comes from set?)"),
        (["--env", ""], "--env: empty (is the variable it comes from set?)"),
        (["--env", "  "], "--env: empty (is the variable it comes from set?)"),
        (["--url", "http://127.0.0.1:8288/e/"], "--url: 'http://127.0.0.1:8288/e' ends in "
         "/e: give the origin alone (such as https://inn.gs); the console adds /e/<key> "
         "itself"),
        (["--url", "http://127.0.0.1:8288/#top"], "--url: 'http://127.0.0.1:8288/#…' has a "
         "query or a fragment (?…, #…): give the origin alone, such as https://inn.gs or "
         "http://127.0.0.1:8288"),
    ]:
        for command in ("send", "run"):
            if command == "send":
                done = cli("send", *args, "--dry-run", input='{"name": "a/b"}')
            else:
                done = cli("run", str(scenario), *args, "--dry-run")
            assert (done.returncode, done.stderr) == (2, f"event-console: {message}\n"), (
                command, args)
            assert done.stdout == ""
        if args[0] == "--env":  # validate's per-event limit comes from --env
            checked = cli("validate", *args, "-", input='{"name": "a/b"}')
            assert (checked.returncode, checked.stderr) == (2, f"event-console: {message}\n")
    upper = cli("send", "--url", "HTTP://127.0.0.1:8288", "--dry-run", input='{"name": "a/b"}')
    assert upper.returncode == 0, upper.stderr  # URL schemes are case-insensitive
    assert json.loads(upper.stdout.splitlines()[0])["events"] == 1


def test_a_locked_keyring_is_asked_once_by_env_list(cli, tmp_path):
    """Each environment's two keys were asked for: 8 unlock prompts for four of them."""
    for name in ("Prod", "Staging"):
        assert cli("env", "add", name, "--kind", "cloud").returncode == 0
    asks = tmp_path / "asks.txt"
    listed = cli("env", "list", "--json", env={
        "PYTHON_KEYRING_BACKEND": "tests.support.keyrings.CountingLockedKeyring",
        "KEYRING_ASKS": str(asks)})
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["Prod"]["event_key"] == rows["Staging"]["signing_key"] == "keyring unavailable"
    assert rows["Dev Server"]["event_key"] == "not needed (any key works)"
    assert len(asks.read_text().splitlines()) == 1


def test_a_name_with_spaces_around_it_is_said_and_found_as_it_is_kept(cli):
    added = cli("env", "add", " Pad ", "--event-origin", "http://127.0.0.1:19103")
    assert (added.returncode, added.stdout) == (
        0, "saved 'Pad' (custom, http://127.0.0.1:19103)\n")
    assert cli("env", "test", " Pad ").stdout.startswith(
        "Pad: not reachable (http://127.0.0.1:19103/health): ")  # and why


def test_a_server_that_answers_health_with_an_error_is_reachable_but_said_so(cli):
    """A server answering 404 read "not reachable (...): answered 404": it had answered."""
    from tests.support.fault_server import FaultServer, Reply

    with FaultServer(default=lambda request: Reply.text(404, "not found")) as server:
        assert cli("env", "add", "Wrong", "--event-origin", server.origin).returncode == 0
        tested = cli("env", "test", "Wrong")
    assert tested.returncode == 1
    assert tested.stdout == (f"Wrong: reachable, but {server.origin}/health answered 404, "
                             "not 200 (is this the origin of an Inngest event API?)\n")


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
    # the keys it would use, as for a saved one (it said "from INNGEST_* variables" with
    # no key variable set)
    assert (first["event_key"], first["signing_key"]) == (
        "not needed (any key works)", "not set (INNGEST_SIGNING_KEY)")
    keyed = cli("env", "list", "--json", env={"INNGEST_BASE_URL": "https://self.example",
                                             "INNGEST_EVENT_KEY": "evt-key-0000wxyz"})
    first = json.loads(keyed.stdout.splitlines()[0])
    assert first["event_key"] == "****wxyz (from INNGEST_EVENT_KEY)"


def test_output_that_cannot_encode_a_name_escapes_it_instead_of_a_traceback(cli, tmp_path):
    """A CI pipe in cp1252 (Windows) or ASCII (LANG=C): `env list`, `env add`, `validate`
    and `history` ended in UnicodeEncodeError on a name with "ü" or "名" in it (`send`
    escaped already)."""
    ascii_out = {"PYTHONIOENCODING": "ascii"}
    added = cli("env", "add", "Préprod 名", "--event-origin", "http://127.0.0.1:9",
                env=ascii_out)
    assert (added.returncode, added.stderr) == (0, ""), added.stderr
    assert "saved 'Pr\\xe9prod \\u540d'" in added.stdout
    listed = cli("env", "list", env=ascii_out)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert "Pr\\xe9prod \\u540d" in listed.stdout
    listed_json = cli("env", "list", "--json", env=ascii_out)
    names = [json.loads(line)["name"] for line in listed_json.stdout.splitlines()]
    assert "Préprod 名" in names  # JSON lines stay JSON: \u escapes
    folder = tmp_path / "dir ü"
    folder.mkdir()
    bad = folder / "bad 名.json"
    bad.write_text('{"name": "ü/x", "data": 5}', encoding="utf-8")
    checked = cli("validate", str(bad), env=ascii_out)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    assert checked.stdout.startswith(f"{tmp_path}/dir \\xfc/bad \\u540d.json:1:25: error: ")
    failed = cli("send", "--url", "http://127.0.0.1:9", "--attempts", "1", "--no-verify",
                 input='{"name": "ü/x", "data": {}}', env=ascii_out)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
    shown = cli("history", "--name", "ü/*", env=ascii_out)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert "\\xfc/x" in shown.stdout


def test_environments_added_at_once_by_many_commands_are_all_kept(cli, app_home):
    """Eight `env add` at once each said "saved", and `env list` then showed four."""
    from tests.e2e.conftest import ROOT

    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ["EVENT_CONSOLE_HOME"] = str(app_home)
    adds = [subprocess.Popen(
        [sys.executable, "-m", "console", "env", "add", f"Par{n}", "--event-origin",
         f"http://10.0.0.{n + 1}:8288"], cwd=ROOT, env=environ,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(8)]
    assert [add.wait(60) for add in adds] == [0] * 8
    listed = cli("env", "list", "--json")
    names = {json.loads(line)["name"] for line in listed.stdout.splitlines()}
    assert {f"Par{n}" for n in range(8)} <= names

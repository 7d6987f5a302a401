"""Boot and shutdown of the real app, and bugs caught at the top."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.app import no_display, setup_logging
from console.services.paths import app_paths
from console.ui.bug_dialog import BugReporter
from tests.conftest import require


def test_a_bug_is_logged_with_traceback_and_shown_with_copy_details(qtbot, app_home, qapp):
    paths = app_paths()
    setup_logging(paths)
    reporter = BugReporter(paths.log_file)

    def broken_slot():
        raise ZeroDivisionError("boom in a slot")

    try:
        broken_slot()
    except ZeroDivisionError:
        reporter.excepthook(*sys.exc_info())
    for handler in logging.getLogger().handlers:
        handler.flush()
    [dialog] = reporter.shown
    assert dialog.isVisible()
    assert "ZeroDivisionError: boom in a slot" in dialog.details
    assert "broken_slot" in dialog.details
    dialog.copy_button.click()
    assert "boom in a slot" in qapp.clipboard().text()
    logged = paths.log_file.read_text()
    assert "Traceback (most recent call last)" in logged and "broken_slot" in logged
    dialog.close()
    _drop_file_handlers(paths.log_file)


def test_a_bug_that_repeats_is_one_dialog_that_counts(qtbot, app_home, qapp):
    """An error in a loop (accept() out of descriptors) opened a dialog per occurrence."""
    paths = app_paths()
    reporter = BugReporter(paths.log_file)
    for _ in range(500):
        reporter.loop_exception(None, {"message": "socket.accept() out of system resource",
                                       "exception": OSError(24, "Too many open files")})
    reporter.loop_exception(None, {"message": "other", "exception": KeyError("<b>k</b>")})
    first, other = reporter.shown
    assert first.summary == "OSError: [Errno 24] Too many open files"
    assert first.repeat_label.text() == ("It happened 499 more times since (not logged "
                                         "again while this is open).")
    assert other.summary == "KeyError: '<b>k</b>'" and other.repeats == 0
    for row in range(50):  # raised at one place, with a message that differs each time
        try:
            raise LookupError(f"no row {row}")
        except LookupError as exc:
            reporter.report(exc)
    varying = reporter.shown[-1]
    assert len(reporter.shown) == 3 and varying.repeats == 49
    assert varying.summary == "LookupError: no row 0"
    varying.close()
    first.close()  # closed: the next one opens a dialog again
    reporter.loop_exception(None, {"message": "again", "exception": OSError(24, "Too many "
                                                                              "open files")})
    assert len(reporter.shown) == 2 and reporter.shown[-1].repeats == 0
    for dialog in list(reporter.shown):
        dialog.close()


def _drop_file_handlers(log_file):
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "baseFilename", None) == str(log_file):
            root.removeHandler(handler)
            handler.close()


def _run_app(app_home, *args, env=None, timeout=60):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update({"EVENT_CONSOLE_HOME": str(app_home), "QT_QPA_PLATFORM": "offscreen"})
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "console", *args], capture_output=True,
                          text=True, env=environ, timeout=timeout, check=False)


def test_the_app_paints_and_shuts_down_cleanly(app_home):
    done = _run_app(app_home, env={"EVENT_CONSOLE_EXIT_AFTER_PAINT": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("first-paint ")
    for bad in ("Event loop is closed", "Task was destroyed", "Traceback", "never awaited"):
        assert bad not in done.stderr, done.stderr
    state = app_home / "config" / "window.ini"
    assert state.exists() and "geometry" in state.read_text()


def test_smoke_test_reports_window_keyring_and_resources(app_home):
    done = _run_app(app_home, "--smoke-test")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["window"] is True and report["resources_ok"] is True
    assert report["schema_formats_ok"] is True and "date-time" in report["schema_formats"]
    assert "keyring.backends.SecretService.Keyring" in report["keyring_backends"]
    assert report["keyring_native_found"] is True


def test_the_started_app_shows_its_inbox_and_the_notices_of_its_start(app_home):
    """What `event-console` itself shows once it has started: the Inbox tab's address (it
    said "Inbox not running" while the inbox listened) and the start's notices (a damaged
    history moved aside was never mentioned)."""
    history = app_home / "data" / "history.sqlite3"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_bytes(b"this is not a database" * 200)
    done = _run_app(app_home, "--smoke-test")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["inbox"].startswith("Listening on http://127.0.0.1:"), report["inbox"]
    assert "INNGEST_DEV=http://127.0.0.1:" in report["inbox"]
    assert "history file was damaged and has been moved aside" in report["status"]
    assert list(history.parent.glob("history.sqlite3.corrupt-*"))


def test_a_history_that_cannot_open_is_off_in_words_for_the_window(app_home):
    """The window goes on without a history it cannot open, and says what to mend; the
    CLI's advice to go on with --no-history (no such option in the window) is not said."""
    history = app_home / "data" / "history.sqlite3"
    history.mkdir(parents=True)
    done = _run_app(app_home, "--smoke-test")
    assert done.returncode == 0, done.stdout + done.stderr
    status = json.loads(done.stdout.strip().splitlines()[-1])["status"]
    assert (f"History is off for this session: cannot open the history at {history}: "
            in status), status
    assert "(a folder is in its place: move it away)" in status, status
    assert "--no-history" not in status


def test_the_app_starts_with_a_proxy_setting_it_cannot_use_and_says_so(app_home):
    """A socks4:// proxy in ALL_PROXY (an ssh -D tunnel) or `[::1]` in NO_PROXY had the window
    never open: a traceback from the HTTP client's construction."""
    done = _run_app(app_home, "--smoke-test", env={"ALL_PROXY": "socks4://127.0.0.1:1080",
                                                   "NO_PROXY": "localhost,[::1]"})
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["window"] is True
    assert ("The proxy and certificate settings of the environment (HTTP_PROXY, HTTPS_PROXY,"
            in report["status"]), report["status"]


def _started_app(app_home, **env: str) -> tuple[subprocess.Popen[str], Path]:
    """`event-console` (the window) in a subprocess, once its log says it is starting
    (its signal handling is in place by then); and its log file."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    environ.update(EVENT_CONSOLE_HOME=str(app_home), **env)
    proc = subprocess.Popen([sys.executable, "-m", "console"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=environ)
    log_file = app_home / "state" / "event-console.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None and (
            not log_file.exists() or "starting" not in log_file.read_text()):
        time.sleep(0.05)
    if proc.poll() is not None or time.monotonic() >= deadline:
        proc.kill()
        pytest.fail(f"the app did not start: {proc.communicate()}")
    return proc, log_file


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                              (signal.SIGHUP, 129)],
                         ids=["sigterm", "ctrl-c", "sighup"])
def test_sigterm_and_ctrl_c_close_the_window_in_order(app_home, signum, code):
    """SIGTERM (a logout, kill) and SIGHUP (the terminal it was started from closed) ended
    the app at once: no settings saved, the history and the inbox never closed; Ctrl+C
    raised KeyboardInterrupt wherever Python ran next."""
    proc, log_file = _started_app(app_home, QT_QPA_PLATFORM="offscreen")
    try:
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    for bad in ("Traceback", "Event loop is closed", "Task was destroyed", "never awaited"):
        assert bad not in err, err
    assert "geometry" in (app_home / "config" / "window.ini").read_text()
    assert (app_home / "config" / "environments.json").exists()
    assert f"signal {int(signum)}: closing" in log_file.read_text()


def test_a_display_that_goes_away_saves_the_settings_and_says_so(app_home, tmp_path):
    """An X server that dies (a logout): Qt ends its own loop, and the app logged an
    "uncaught RuntimeError" bug and quit with nothing saved."""
    xvfb = shutil.which("Xvfb")
    require(xvfb is not None, "Xvfb (apt: xvfb)")
    read, write = os.pipe()
    server = subprocess.Popen([str(xvfb), "-displayfd", str(write), "-screen", "0",
                               "1280x800x24", "-nolisten", "tcp"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        display = pipe.readline().strip()
    proc = None
    try:
        proc, log_file = _started_app(app_home, QT_QPA_PLATFORM="xcb", DISPLAY=f":{display}")
        time.sleep(1)  # the window is up and painted
        server.terminate()
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc is not None:
            proc.kill()
        server.kill()
        server.wait()
    assert proc.returncode == 1, err
    assert err.splitlines()[-1] == "event-console: the display went away; settings saved"
    assert "Traceback" not in err and "uncaught" not in log_file.read_text()
    assert "geometry" in (app_home / "config" / "window.ini").read_text()
    assert (app_home / "config" / "environments.json").exists()


def test_with_no_display_the_window_says_so_and_the_commands_still_work(app_home):
    """Over ssh (no DISPLAY, no WAYLAND_DISPLAY) Qt aborted: core dumped, exit 134, with a
    list of its plugins."""
    bare = {k: v for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
            and not k.startswith("INNGEST_")}
    bare["EVENT_CONSOLE_HOME"] = str(app_home)
    done = subprocess.run([sys.executable, "-m", "console"], capture_output=True, text=True,
                          env=bare, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("event-console: no display to open the window on")
    assert "event-console send" in done.stderr and "Traceback" not in done.stderr
    assert no_display({}, platform="darwin") is None
    assert no_display({"QT_QPA_PLATFORM": "offscreen"}) is None
    # a display named but not there (a stale DISPLAY in tmux): said, not a core dump
    assert no_display({"DISPLAY": ":4242"}) == (
        "no display to open the window on (no display server at DISPLAY=:4242). The "
        "commands work without one: event-console send, run, inbox… (event-console "
        "--help); QT_QPA_PLATFORM=offscreen opens the window unseen")
    socket = app_home / "wayland-7"
    gone = {"WAYLAND_DISPLAY": "wayland-7", "XDG_RUNTIME_DIR": str(app_home)}
    assert "no display server at wayland-7" in (no_display(gone) or "")
    socket.touch()
    assert no_display(gone) is None
    # ssh's forwarded display (TCP port 6000 + N): there while the session lasts
    import socket as sockets

    listener = sockets.socket()
    for number in range(150, 999):
        try:
            listener.bind(("127.0.0.1", 6000 + number))
            break
        except OSError:
            continue
    assert "no display server at DISPLAY=localhost:" in (
        no_display({"DISPLAY": f"localhost:{number}.0"}) or "")
    listener.listen()
    try:
        assert no_display({"DISPLAY": f"localhost:{number}.0"}) is None
    finally:
        listener.close()
    listed = subprocess.run([sys.executable, "-m", "console", "env", "list"],
                            capture_output=True, text=True, env=bare, timeout=60, check=False)
    assert listed.returncode == 0 and "Dev Server" in listed.stdout


def test_the_app_starts_when_its_log_and_workspace_cannot_be_written(app_home):
    """A state folder and a data folder left by `sudo event-console` (or a read-only
    disk): the log file's open, then the default workspace's, ended the start with a
    traceback (exit 1), and the window never opened. Here a folder stands where the log
    file goes, and a file where the workspace folder goes."""
    from console.services.paths import app_paths

    paths = app_paths().ensure()
    paths.log_file.mkdir(parents=True)
    paths.default_workspace.parent.mkdir(parents=True, exist_ok=True)
    paths.default_workspace.write_text("not a folder")
    done = _run_app(app_home, "--smoke-test")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["window"] is True
    status = report["status"]
    assert f"The log {paths.log_file} cannot be written (Is a directory)" in status, status
    assert f"The workspace {paths.default_workspace} cannot be opened (" in status, status
    assert "a temporary one is used for this session" in status
    assert "Traceback" not in done.stderr
    assert paths.default_workspace.read_text() == "not a folder"  # left as it was


def test_the_window_state_goes_home_under_a_locale_that_is_not_utf_8(tmp_path):
    """Qt encodes paths as UTF-8 whatever the locale; Python had read EVENT_CONSOLE_HOME
    in the locale's encoding (here ASCII, with escapes), so window.ini went to a second,
    mis-named folder beside the real home."""
    home = tmp_path / "hömé"
    home.mkdir()
    done = _run_app(home, "--smoke-test", env={"LC_ALL": "C", "PYTHONUTF8": "0",
                                                "PYTHONCOERCECLOCALE": "0"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert (home / "config" / "window.ini").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hömé"]

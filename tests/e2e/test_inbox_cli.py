"""`event-console inbox` as a real process: listens, prints a line per event, stops cleanly."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from console.core.ids import IdSeed

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "console", "inbox"]


class Inbox:
    """The subprocess, with its stdout read line by line on a thread (no blocking reads)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*COMMAND, *args], cwd=REPO, env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def line(self, timeout: float = 30) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no line from the inbox in time") from None
        if line is None:
            _, err = self.proc.communicate(timeout=30)
            raise AssertionError(f"the inbox exited ({self.proc.returncode}): {err}")
        return json.loads(line)

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        self.proc.send_signal(sig)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=30)


@pytest.fixture
def started(app_home):
    running: list[Inbox] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Inbox:
        inbox = Inbox(*args, env=env)
        running.append(inbox)
        return inbox

    yield start
    for inbox in running:
        inbox.kill()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], cwd=REPO, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=60)


def test_it_prints_where_it_listens_then_one_line_per_event_and_stops_on_sigint(started):
    inbox = started("--port", "0")
    url = inbox.line()["listening"]
    assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
    seed = IdSeed.fresh()
    body = b'[{"name":"app/user.created","id":"u-1","data":{"a":1}},{"name":"app/ping"}]'
    response = httpx.post(f"{url}/e/NO_EVENT_KEY_SET", content=body,
                          headers={"x-inngest-event-id-seed": seed.header})
    assert response.json() == {"ids": [seed.event_id(0), seed.event_id(1)], "status": 200}
    first, second = inbox.line(), inbox.line()
    assert first == {"internal_id": seed.event_id(0), "name": "app/user.created", "id": "u-1",
                     "size": len(b'{"name":"app/user.created","id":"u-1","data":{"a":1}}'),
                     "received_at": first["received_at"]}
    assert first["received_at"].endswith("Z")
    assert (second["name"], second["id"], second["size"]) == ("app/ping", None, 19)
    runs = httpx.get(f"{url}/v1/events/{seed.event_id(0)}/runs").json()["data"]
    assert [r["function_id"] for r in runs] == ["inbox-*"]
    code, err = inbox.stop(signal.SIGINT)
    assert (code, err) == (0, "")


def test_keep_bounds_what_it_remembers_not_what_it_prints(started):
    inbox = started("--port", "0", "--keep", "3")
    url = inbox.line()["listening"]
    body = json.dumps([{"name": "load", "data": {"i": i}} for i in range(8)])
    ids = httpx.post(f"{url}/e/NO_EVENT_KEY_SET", content=body).json()["ids"]
    printed = [inbox.line()["internal_id"] for _ in ids]
    assert printed == ids  # every event is printed...
    assert httpx.get(f"{url}/v1/events/{ids[0]}").status_code == 404  # ...the oldest forgotten
    assert httpx.get(f"{url}/v1/events/{ids[-1]}").status_code == 200
    assert inbox.stop(signal.SIGINT) == (0, "")
    refused = run("--port", "0", "--keep", "0")
    assert (refused.returncode, refused.stderr) == (
        2, "event-console: --keep must be a positive number\n")


def test_sigterm_also_stops_it_cleanly(started):
    inbox = started("--port", "0")
    url = inbox.line()["listening"]
    assert httpx.get(f"{url}/health").json() == {"status": 200, "message": "OK"}
    assert inbox.stop(signal.SIGTERM) == (0, "")


def test_a_key_from_the_environment_is_required_when_asked_for(started):
    inbox = started("--port", "0", "--event-key-env", "INBOX_TEST_KEY",
                    env={"INBOX_TEST_KEY": "sekrit-key-1234"})
    url = inbox.line()["listening"]
    wrong = httpx.post(f"{url}/e/other", content=b'{"name":"a"}')
    assert (wrong.status_code, wrong.json()["error"]) == (401, "Event key not found")
    right = httpx.post(f"{url}/e/sekrit-key-1234", content=b'{"name":"a"}')
    assert right.status_code == 200
    assert inbox.line()["name"] == "a"
    code, err = inbox.stop()
    assert code == 0 and "sekrit" not in err


def test_a_missing_key_variable_is_a_usage_error(app_home):
    result = run("--port", "0", "--event-key-env", "INBOX_TEST_UNSET")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("event-console: --event-key-env INBOX_TEST_UNSET: that variable is "
                             "not set or is empty\n")


@pytest.mark.parametrize("delay", ["inf", "nan", "-1", "86401"])
def test_a_run_delay_that_is_not_a_number_of_seconds_is_refused(app_home, delay):
    """`--run-delay inf` was taken, and every POST then answered 500 (the event stored all
    the same, once per retry); `nan` silently meant 0."""
    result = run("--port", "0", "--run-delay", delay)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "event-console: --run-delay must be 0 to 86,400 seconds\n"


def test_a_remote_address_is_refused_without_allow_remote(app_home):
    result = run("--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert result.stderr == (
        "event-console: the inbox listens on loopback only (127.0.0.1, ::1, localhost), not "
        "'0.0.0.0': it accepts events from anyone who can reach it. Allow a remote address "
        "explicitly (--allow-remote) if you mean it.\n")


def test_a_taken_port_is_reported_plainly(app_home):
    """It quoted asyncio's Python tuple: "error while attempting to bind on address
    ('127.0.0.1', 8288): address already in use", and said nothing of what to do."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--port", str(port))
    assert result.returncode == 2
    assert result.stderr == (
        f"event-console: the inbox cannot listen on http://127.0.0.1:{port}: port {port} is "
        "in use (a Dev Server, or another inbox?): pick another with --port N, or --port 0 "
        "for any free one\n")


def test_a_reader_that_stops_reading_does_not_freeze_it(app_home):
    """Printing on the event loop blocked it once the pipe was full (`| less` waiting for
    a key): requests went unanswered, and SIGINT and SIGTERM could not stop it."""
    import time

    proc = subprocess.Popen([*COMMAND, "--port", "0"], cwd=REPO, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["listening"]  # and then no more reading
        body = json.dumps([{"name": "flood/event.with.a.longish.name", "data": {}}] * 1000)
        start = time.perf_counter()
        for _ in range(5):  # 5,000 lines of ~150 bytes: several times a pipe's buffer
            answer = httpx.post(f"{url}/e/k", content=body, timeout=10)
            assert answer.status_code == 200
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        assert time.perf_counter() - start < 10
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)  # the lines still queued get 2 s, then it exits
        assert proc.returncode == 0
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        assert "event line(s) not printed: standard output was not being read" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_reader_that_closes_its_end_ends_it_quietly(app_home):
    """`event-console inbox | head -1`: the next event's line finds the pipe closed."""
    proc = subprocess.Popen([*COMMAND, "--port", "0"], cwd=REPO, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        url = json.loads(proc.stdout.readline())["listening"]
        proc.stdout.close()
        assert httpx.post(f"{url}/e/k", content=b'{"name": "a", "data": {}}').status_code == 200
        proc.wait(timeout=15)
        assert (proc.returncode, proc.stderr.read()) == (0, b"")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_non_blocking_pipe_that_fills_up_delays_lines_and_loses_none(app_home):
    """A pipe shared with a program that set it non-blocking: once full, a write fails with
    EAGAIN, and the first one ended the printing for good."""
    import fcntl
    import time

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETFL, fcntl.fcntl(write_end, fcntl.F_GETFL) | os.O_NONBLOCK)
    proc = subprocess.Popen([*COMMAND, "--port", "0"], cwd=REPO, env=dict(os.environ),
                            stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as out:
            url = json.loads(out.readline())["listening"]
            body = json.dumps([{"name": "pipe/event", "data": {"i": 1}}] * 1000)
            for _ in range(2):  # 2,000 lines: more than the pipe holds while nobody reads
                assert httpx.post(f"{url}/e/k", content=body, timeout=10).status_code == 200
            time.sleep(1)
            lines = [out.readline() for _ in range(2000)]  # reading again: every line comes
            assert all(json.loads(line)["name"] == "pipe/event" for line in lines)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=15)
        assert proc.returncode == 0 and proc.stderr is not None
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_stdout_that_cannot_be_written_is_said_plainly(app_home):
    with open("/dev/full", "wb") as full:
        done = subprocess.run([*COMMAND, "--port", "0"], cwd=REPO, env=dict(os.environ),
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=30)
    assert (done.returncode, done.stderr) == (
        2, "event-console: cannot write to standard output: No space left on device\n")

"""Another program holding the history's write lock (a database browser mid-change)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.fault_server import FaultServer, RecordedRequest, Reply, accept_all

ROOT = Path(__file__).resolve().parents[2]


class LockAtFirstRequest:
    """A FaultServer responder: at the first request it has another connection take the
    history's write lock for 8 s (past the console's 5 s wait) and answers 0.3 s later, so
    the wait starts while the lock is held; every request is accepted. `release()` (in a
    `finally`) ends the lock at once."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.released = threading.Event()
        self._requests = 0

    def __call__(self, request: RecordedRequest) -> Reply:
        self._requests += 1
        if self._requests == 1:
            threading.Thread(target=self._hold, daemon=True).start()
            time.sleep(0.3)
        return accept_all(request)

    def release(self) -> None:
        self.released.set()

    def _hold(self) -> None:
        conn = sqlite3.connect(self.db, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        self.released.wait(8)
        conn.execute("ROLLBACK")
        conn.close()


def wait_until_opened(pid: int, db: Path, timeout: float = 30.0) -> None:
    """Until process `pid` has `db` open (it waits for the lock from then on): a fixed
    sleep was too short on a loaded machine. Linux (/proc), as CI is."""
    fds = Path(f"/proc/{pid}/fd")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if any(_target(fd) == str(db) for fd in fds.iterdir()):
                time.sleep(0.2)  # past the open, into the wait
                return
        except OSError:  # the process ended, or a descriptor closed meanwhile
            pass
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never opened {db}")


def _target(fd: Path) -> str:
    try:
        return str(fd.readlink())
    except OSError:
        return ""


@dataclass
class LockedRun:
    """What `interrupted_while_locked` saw."""

    code: int
    out: str
    err: str
    heard_in: float  # seconds from the signal to the exit
    posts: int  # events requests the server got


def interrupted_while_locked(db: Path, args: Callable[[str], list[str]],
                             environ: dict[str, str]) -> LockedRun:
    """`python -m console *args(origin)` while another connection holds `db`'s write lock
    (a database browser mid-change), Ctrl+C once the command has the history open."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with FaultServer() as server:
            proc = subprocess.Popen(
                [sys.executable, "-m", "console", *args(server.origin)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ,
                cwd=ROOT)
            try:
                wait_until_opened(proc.pid, db)
                assert proc.poll() is None, proc.communicate()
                proc.send_signal(signal.SIGINT)
                signalled = time.monotonic()
                out, err = proc.communicate(timeout=30)
                heard_in = time.monotonic() - signalled
            finally:
                proc.kill()
            posts = sum(r.method == "POST" for r in server.requests)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    return LockedRun(proc.returncode, out, err, heard_in, posts)

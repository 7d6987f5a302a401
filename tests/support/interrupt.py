"""Ctrl+C in the middle of a real CLI run: one request answered, the next one hanging."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.fault_server import FaultServer, Reply

ROOT = Path(__file__).resolve().parents[2]
ONE_ID = {"ids": ["01HZZZZZZZZZZZZZZZZZZZZZZZ"], "status": 200}


def interrupted_run(args: Callable[[str], list[str]], environ: dict[str, str],
                    signum: signal.Signals = signal.SIGINT,
                    again: signal.Signals | None = None) -> tuple[int, str, str]:
    """`python -m console *args(origin)` against a server that answers the first request
    and never the second; `signum` (SIGINT: Ctrl+C) once the second has arrived, and
    `again` once the first was heard ("stopping" on stderr).
    (exit code, stdout, stderr)"""
    with FaultServer() as server:
        server.script(Reply.json(200, ONE_ID), Reply.hang())
        proc = subprocess.Popen(
            [sys.executable, "-m", "console", *args(server.origin)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=environ, cwd=ROOT, text=True)
        try:
            while len(server.requests) < 2 and proc.poll() is None:
                time.sleep(0.01)  # the second request is on the wire
            assert len(server.requests) == 2, proc.communicate()[1]
            proc.send_signal(signum)
            if again is not None:
                assert proc.stderr is not None
                heard = proc.stderr.readline()  # "event-console: stopping (...)"
                assert "stopping" in heard, heard
                proc.send_signal(again)
                out, err = proc.communicate(timeout=30)
                err = heard + err
            else:
                out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
    return proc.returncode, out, err

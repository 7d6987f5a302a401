"""Sending many ~1 KiB events to the inbox running in another process.

Ways to send the same events, each to a fresh `python -m console inbox --port 0` process
(so one run's backlog never slows the next), concurrency 1 for all:
- `event-console send FILE` as a subprocess, history ON (as users run it; `--no-verify`,
  so no run polling): wall time from spawn to exit, so it includes interpreter start-up,
  reading and validating the file, planning, recording and sending;
- the same with `--no-history` (for reference: what recording costs);
- baseline (a): raw httpx (`httpx.Client.post`) posting the same pre-built request bodies
  (the console's plan), timed around the posts only;
- baseline (b): the official `inngest` Python SDK, `await client.send(chunk)` on the same
  chunks (Event objects built before the clock starts), pointed at the inbox in dev mode.
Each CLI run also reports its own phases (`--stats`): the "sent" phase (first request to
last answer) is printed against the same baselines, beside what the rest of the run took.
The machine is shared (2 cores, other test runs): the ways run interleaved, round after
round, and each figure is the median over the rounds; the CLI's CPU time (user + sys of
the child) is printed too, as it does not depend on what else runs. Figures are events/s
and ratios, printed, never asserted. Quick mode (the test suite): 2,000 events, one round;
BENCH_FULL=1: 50,000 events, 3 rounds (BENCH_ROUNDS=N to change).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.core.batch import Batch

pytestmark = pytest.mark.benchmark

FULL = os.environ.get("BENCH_FULL") == "1"
EVENTS = 50_000 if FULL else 2_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3" if FULL else "1"))
KEY = "bench-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]
REQUEST_LIMIT = 524_288
EVENT_LIMIT = 3 * 1024 * 1024


def environ(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    env["EVENT_CONSOLE_HOME"] = str(home)
    return env


class InboxProcess:
    """`python -m console inbox --port 0` in its own process; its event lines go to a file."""

    def __init__(self, home: Path, out: Path) -> None:
        self.out = out
        self._file = out.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console", "inbox", "--port", "0"],
            stdout=self._file, stderr=subprocess.PIPE, env=environ(home), cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while True:
            first = out.read_bytes().split(b"\n", 1)[0]
            if first.endswith(b"}"):
                self.url: str = json.loads(first)["listening"]
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"inbox did not start: {self.proc.stderr.read()!r}")
            time.sleep(0.02)

    def received(self, expected: int, timeout: float = 60) -> int:
        """Event lines printed so far (waits until `expected` or the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.out.read_bytes().count(b"\n") - 1
            if count >= expected or time.monotonic() > deadline:
                return count
            time.sleep(0.02)

    def stop(self) -> None:
        if self._file.closed:
            return
        self.proc.terminate()
        self.proc.wait(20)
        self._file.close()
        assert self.proc.stderr is not None
        self.proc.stderr.close()


@pytest.fixture
def inbox_factory(app_home: Path, tmp_path: Path) -> Iterator[Any]:
    started: list[InboxProcess] = []

    def start(label: str) -> InboxProcess:
        inbox = InboxProcess(app_home, tmp_path / f"inbox-{label}.jsonl")
        started.append(inbox)
        return inbox

    yield start
    for inbox in started:
        inbox.stop()


def make_events(n: int) -> list[dict[str, Any]]:
    return [
        {"name": f"bench/order.{('created', 'paid', 'shipped')[i % 3]}",
         "data": {"i": i, "customer": f"c-{i % 977}", "note": "x" * 940},
         "id": f"bench-{i}"}
        for i in range(n)
    ]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cli(app_home: Path, url: str, file: Path, requests: int, *extra: str,
            phases: dict[str, float] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `event-console send` subprocess; `phases` gets
    the seconds of each phase it reports with --stats."""
    env = environ(app_home) | {"INNGEST_EVENT_KEY": KEY}
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "console", "send", "--url", url, "--no-verify", "--stats",
         *extra, str(file)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600, check=False,
    )
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == requests and all(r["status"] == 200 for r in records)
    if phases is not None:
        phases.update((name, float(secs)) for name, secs in re.findall(
            r"(read|checked|resolved|history opened|sent|history closed|total) (\d+\.\d+) s",
            done.stderr))
    return elapsed, children_cpu() - cpu


def run_httpx(url: str, bodies: list[bytes]) -> float:
    with httpx.Client(timeout=60) as client:
        start = time.perf_counter()
        for body in bodies:
            response = client.post(f"{url}/e/{KEY}", content=body,
                                   headers={"content-type": "application/json"})
            assert response.status_code == 200
        return time.perf_counter() - start


def run_sdk(url: str, chunks: list[list[dict[str, Any]]]) -> float:
    import inngest

    client = inngest.Inngest(app_id="bench", is_production=False, event_api_base_url=url,
                             event_key=KEY)
    prepared = [[inngest.Event(**event) for event in chunk] for chunk in chunks]

    async def send_all() -> float:
        start = time.perf_counter()
        for chunk in prepared:
            ids = await client.send(chunk)
            assert len(ids) == len(chunk)
        return time.perf_counter() - start

    return asyncio.run(send_all())


def startup_seconds(app_home: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "console", "--version"], env=environ(app_home),
                   cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def test_bench_send(app_home: Path, tmp_path: Path, inbox_factory: Any,
                    capsys: pytest.CaptureFixture[str]) -> None:
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    sending: dict[str, list[float]] = {}  # the CLI's own "sent" phase (--stats)
    before: dict[str, list[float]] = {}  # the rest: start-up, reading, checking, history
    for round_no in range(ROUNDS):
        # fresh dedup ids each round (same length, so the same plan): a history that
        # already holds them would rightly print "duplicate" warnings; a user's usual send
        # is of new events
        events = [{**e, "id": f"b{round_no:04d}-{i}"} for i, e in enumerate(make_events(EVENTS))]
        file = tmp_path / f"events-{round_no}.json"
        file.write_text(json.dumps(events), encoding="utf-8")
        batch = Batch(events)
        plan = batch.plan(REQUEST_LIMIT, EVENT_LIMIT)
        bodies = batch.bodies(plan)
        chunks = [events[r.start : r.stop] for r in plan.requests]
        requests = len(plan.requests)

        def cli(url: str, *extra: str, file: Path = file, requests: int = requests,
                key: str) -> float:
            phases: dict[str, float] = {}
            wall, cpu = run_cli(app_home, url, file, requests, *extra, phases=phases)
            cpus.setdefault(key, []).append(cpu)
            sending.setdefault(key, []).append(phases["sent"])
            before.setdefault(key, []).append(wall - phases["sent"])
            return wall

        for label, run in (
            ("httpx", lambda url, bodies=bodies: run_httpx(url, bodies)),
            ("sdk", lambda url, chunks=chunks: run_sdk(url, chunks)),
            ("cli", lambda url, cli=cli: cli(url, key="cli")),
            ("cli-nohist", lambda url, cli=cli: cli(url, "--no-history", key="cli-nohist")),
        ):
            inbox = inbox_factory(f"{label}-{round_no}")
            walls.setdefault(label, []).append(run(inbox.url))
            assert inbox.received(EVENTS) == EVENTS, f"{label}: the inbox did not get every event"
            inbox.stop()
    startup = startup_seconds(app_home)

    wall = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    rate = {k: EVENTS / v for k, v in wall.items()}
    with capsys.disabled():
        mode = "full" if FULL else "quick"
        mib = sum(len(b) for b in bodies) / 2**20
        print(f"\n[bench send, {mode}] {EVENTS:,} events ({mib:.1f} MiB) in {requests} requests,"
              f" concurrency 1, inbox in another process; median of {ROUNDS} interleaved"
              " round(s)")
        print(f"  event-console send, history on (wall):  {wall['cli']:7.2f} s  "
              f"{rate['cli']:9,.0f} events/s   CPU {cpu['cli']:.2f} s   "
              f"(interpreter start-up alone: {startup:.2f} s)")
        print(f"  event-console send --no-history (wall): {wall['cli-nohist']:7.2f} s  "
              f"{rate['cli-nohist']:9,.0f} events/s   CPU {cpu['cli-nohist']:.2f} s")
        print(f"  (a) raw httpx, pre-built bodies:        {wall['httpx']:7.2f} s  "
              f"{rate['httpx']:9,.0f} events/s")
        print(f"  (b) inngest SDK send() per chunk:       {wall['sdk']:7.2f} s  "
              f"{rate['sdk']:9,.0f} events/s")
        print(f"  ratios: cli/httpx = {rate['cli'] / rate['httpx']:.2f}   "
              f"cli/sdk = {rate['cli'] / rate['sdk']:.2f}   "
              f"(goal: >= 0.8 of httpx, >= 1.0 of the SDK); without history: "
              f"{rate['cli-nohist'] / rate['httpx']:.2f} / {rate['cli-nohist'] / rate['sdk']:.2f}")
        send_rate = {k: EVENTS / statistics.median(v) for k, v in sending.items()}
        for key, label in (("cli", "history on"), ("cli-nohist", "--no-history")):
            print(f"  of which sending ({label}; first request to last answer, from --stats):"
                  f" {statistics.median(sending[key]):.2f} s = {send_rate[key]:,.0f} events/s"
                  f" = {send_rate[key] / rate['httpx']:.2f} of httpx,"
                  f" {send_rate[key] / rate['sdk']:.2f} of the SDK; everything else"
                  f" (start-up, reading, checking, history open/close)"
                  f" {statistics.median(before[key]):.2f} s")
        if ROUNDS > 1:
            for label, values in walls.items():
                print(f"    {label:10s} rounds: " + "  ".join(f"{v:.2f}" for v in values))

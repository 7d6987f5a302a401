"""Planning a big batch: 100,000 events of about 1 KiB into requests of 512 KiB.

Figures (median of several runs), printed, never asserted:
- `plan_requests` on the sizes (prefix sums + bisection), the function the GUI meters,
  the preview, the CLI and the sender use;
- baseline: the textbook greedy loop in plain Python (one comparison per event), the
  obvious implementation, as the ratio's reference;
- for scale, serializing the events once (`event_bytes`), which the batch caches, and one
  edit in a `Batch` (re-serialize one event + re-plan), what a keystroke costs the meters.

Quick mode (the test suite) plans 20,000 events, 5 runs; BENCH_FULL=1 plans 100,000
events, 15 runs. Goal from the issue: under 1 s for 100,000 events.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from console.core.batch import Batch
from console.core.plan import plan_requests
from console.core.serialize import event_bytes

pytestmark = pytest.mark.benchmark

FULL = os.environ.get("BENCH_FULL") == "1"
EVENTS = 100_000 if FULL else 20_000
RUNS = 15 if FULL else 5
REQUEST_LIMIT = 524_288
EVENT_LIMIT = 3 * 1024 * 1024


def events(n: int) -> list[dict[str, Any]]:
    rng = random.Random(4)
    return [
        {
            "name": f"bench/order.created.{i % 17}",
            "data": {"i": i, "note": "x" * rng.randint(880, 1060)},
            "id": f"bench-{i}",
        }
        for i in range(n)
    ]


def naive_greedy(sizes: Sequence[int], request_limit: int, max_events: int = 5000) -> int:
    """The baseline: close a request when the next event would not fit."""
    requests = 0
    body = 0
    count = 0
    for size in sizes:
        if count and (body + size + 1 > request_limit or count == max_events):
            requests += 1
            body, count = 0, 0
        body = size + 2 if not count else body + size + 1
        count += 1
    return requests + (1 if count else 0)


def median_seconds(fn: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_bench_plan(capsys: pytest.CaptureFixture[str]) -> None:
    evs = events(EVENTS)
    serialize = median_seconds(lambda: [event_bytes(e) for e in evs], runs=max(3, RUNS // 3))
    sizes = [len(event_bytes(e)) for e in evs]
    plan = plan_requests(sizes, request_limit=REQUEST_LIMIT, event_limit=EVENT_LIMIT)
    assert len(plan.requests) == naive_greedy(sizes, REQUEST_LIMIT)

    ours = median_seconds(
        lambda: plan_requests(sizes, request_limit=REQUEST_LIMIT, event_limit=EVENT_LIMIT)
    )
    baseline = median_seconds(lambda: naive_greedy(sizes, REQUEST_LIMIT))

    batch = Batch(evs)
    batch.plan(REQUEST_LIMIT, EVENT_LIMIT)
    edited = dict(evs[EVENTS // 2])
    counter = iter(range(10**9))

    def one_edit() -> None:
        edited["data"] = {"i": next(counter), "note": "y" * 1000}
        batch.replace(EVENTS // 2, edited)
        batch.meters(REQUEST_LIMIT, EVENT_LIMIT, selected=EVENTS // 2)

    edit = median_seconds(one_edit)

    with capsys.disabled():
        mode = "full" if FULL else "quick"
        mib = sum(sizes) / 2**20
        print(f"\n[bench plan, {mode}] {EVENTS:,} events, {mib:.1f} MiB, "
              f"{len(plan.requests)} requests of <= {REQUEST_LIMIT:,} bytes")
        print(f"  plan_requests (prefix sums + bisect): median {ours * 1000:8.2f} ms")
        print(f"  baseline: plain greedy loop:          median {baseline * 1000:8.2f} ms  "
              f"(ours/baseline = {ours / baseline:.2f})")
        print(f"  for scale: event_bytes of every event: median {serialize * 1000:8.2f} ms")
        print(f"  one edit in a Batch (re-serialize 1 event + meters/re-plan): "
              f"median {edit * 1000:.2f} ms")

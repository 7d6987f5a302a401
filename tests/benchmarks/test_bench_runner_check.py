"""The window while Run checks a data-driven scenario: the longest time without a loop turn.

Run renders every step of every row before anything is sent (a problem in row 4,000 must
not surface after 3,999 rows went out). In the window that check runs in the run's task,
giving the loop a turn every 5 ms; the baseline is the same check done in one go (as
the click's slot did it), whose whole length was the window's stall. Measured: the
longest gap between turns of a 1 ms ticker on the loop during the check, against the
baseline's length, in the same run.

Quick mode (the test suite): 5,000 rows; BENCH_FULL=1: 50,000. Printed only.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from pathlib import Path

import pytest

from console.services.workspace import Workspace
from console.ui.workspace import WorkspaceWatcher
from tests.ui.test_runner import panel_with_rows

pytestmark = pytest.mark.benchmark

ROWS = 50_000 if os.environ.get("BENCH_FULL") == "1" else 5_000


def test_bench_runner_check(qtbot, app_home: Path, tmp_path: Path, run_async, capsys) -> None:
    workspace = Workspace.open(tmp_path / "ws")
    rows = tmp_path / "rows.csv"
    rows.write_text("n,qty\n" + "".join(f"{i},{i % 7}\n" for i in range(ROWS)))
    panel = panel_with_rows(qtbot, workspace, WorkspaceWatcher(workspace), rows, [
        {"send": {"name": "qa/row", "id": "row-{{ row.n }}",
                  "data": {"n": "{{ row.n }}", "qty": "{{ row.qty }}"}}, "as": "step1"},
        {"send": {"name": "qa/after", "data": {"first": "{{ steps.step1.ids[0] }}"}}}])

    async def check_in_the_task() -> tuple[float, float]:
        ticks: list[float] = []
        loop = asyncio.get_running_loop()
        stop = False

        def tick() -> None:
            ticks.append(time.perf_counter())
            if not stop:
                loop.call_later(0.001, tick)

        task = panel.start(dry_run=True)
        assert task is not None, panel.status.text()
        runner = panel.runner
        assert runner is not None
        started = time.perf_counter()
        tick()
        while panel.status.text().startswith("Checking"):
            await asyncio.sleep(0.001)
        ended = time.perf_counter()
        stop = True
        runner.stop()  # the check is what is measured; the dry run itself is not
        await task
        during = [t for t in ticks if t <= ended] + [ended]
        return ended - started, max(b - a for a, b in itertools.pairwise(during))

    checked, longest = run_async(check_in_the_task(), timeout=600)
    baseline_runner = panel._build(workspace.scenario("rows"), dry_run=True)
    started = time.perf_counter()
    problems = baseline_runner.precheck()
    in_one_go = time.perf_counter() - started
    assert problems == []
    with capsys.disabled():
        print(f"\n  Run's check of {ROWS:,} rows (2 send steps each):")
        print(f"    in the run's task: {checked:.2f} s; longest time without a loop turn "
              f"{longest * 1000:.1f} ms")
        print(f"    baseline, in one go (the click's slot did this): {in_one_go:.2f} s "
              f"without a turn: {in_one_go / longest:,.0f}x the longest stall now")

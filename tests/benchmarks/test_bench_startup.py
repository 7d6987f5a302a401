"""Start-up: from launching the program to its first painted window (issues 2 and 7).

Each program is started the way a user starts it, one after the other on the same machine:
- baseline "bare PySide6 window": a QMainWindow script (Python + Qt before any of our code;
  packaging/startup.py's BASELINE, so `build.py --startup` and this test time the same thing);
- `event-console`, the installed entry point (issue 2's figure);
- `python -m console` (the source install, as packaging/startup.py times it);
- the frozen app, only when a build is already in dist/ (this test never builds).
The app prints `first-paint <ms>` and quits when EVENT_CONSOLE_EXIT_AFTER_PAINT=1; the figure
is the wall time the parent sees from spawn to that line (interpreter start-up and imports
count), with the app's own count beside it. One discarded warm-up each, then the programs
take turns; medians and ratios against the bare window are printed, nothing is asserted
about time. Quick mode (the test suite): 1 timed run each; BENCH_FULL=1: 5 (issue 2's
"median of 5, warm").
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

from layout import Layout  # noqa: E402 - packaging/ is a folder of scripts, not a package
from startup import BASELINE, time_to_paint  # noqa: E402

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(600)]

FULL = os.environ.get("BENCH_FULL") == "1"
RUNS = 5 if FULL else 1


def programs(scratch: Path) -> dict[str, list[str]]:
    bare = scratch / "bare_window.py"
    bare.write_text(BASELINE, "utf-8")
    found = {"bare PySide6 window (baseline)": [sys.executable, str(bare)]}
    entry = Path(sys.executable).with_name("event-console")
    if entry.exists():
        found["event-console (entry point)"] = [str(entry)]
    found["python -m console (source)"] = [sys.executable, "-m", "console"]
    frozen = Layout(ROOT / "dist", ROOT / "build").cli_exe()
    if frozen.exists():
        found[f"frozen ({frozen.relative_to(ROOT)})"] = [str(frozen)]
    return found


def test_bench_startup(capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="event-console-startup-") as tmp:
        scratch = Path(tmp)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("INNGEST_", "EVENT_CONSOLE_"))}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env.update(EVENT_CONSOLE_HOME=str(scratch / "home"), EVENT_CONSOLE_EXIT_AFTER_PAINT="1")
        variants = programs(scratch)
        for command in variants.values():
            time_to_paint(command, env)  # warm-up: disk cache, app home created
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(RUNS):  # round-robin: a burst of load hits every program alike
            for name, command in variants.items():
                samples[name].append(time_to_paint(command, env))

    medians = {name: (statistics.median(w for w, _ in got), statistics.median(o for _, o in got))
               for name, got in samples.items()}
    assert all(wall > 0 and own > 0 for wall, own in medians.values())
    base = medians["bare PySide6 window (baseline)"][0]
    with capsys.disabled():
        print(f"\n[bench startup, {'full' if FULL else 'quick'}] time to first painted window, "
              f"median of {RUNS} warm run(s), QT_QPA_PLATFORM={env['QT_QPA_PLATFORM']}")
        print(f"  {'program':<44} {'wall ms':>8} {'in-app ms':>10} {'vs bare':>8}")
        for name, (wall, own) in medians.items():
            print(f"  {name:<44} {wall:8.0f} {own:10.0f} {wall / base:7.2f}x")
        if not any(name.startswith("frozen") for name in medians):
            print("  frozen app: not built (python packaging/build.py), not timed")

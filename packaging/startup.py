"""`build.py --startup`: how long until the first window is painted, against a bare PySide6 window.

Three programs, each started as a user would start it, on the same machine, one after the
other: a bare QMainWindow script (the baseline: what Python + Qt cost before any of our code),
the source install (`python -m console`) and the frozen app. The app prints
`first-paint <ms>` and quits when EVENT_CONSOLE_EXIT_AFTER_PAINT=1 (console/app.py). The
figure is the wall time the parent sees from spawning the process to reading that line, so
interpreter start-up, imports and the bundle's unpacking all count. One warm-up run each (disk
cache, app home created) is discarded; then the variants take turns N times (so load on the
machine hits all alike) and each one's median is reported.
QT_QPA_PLATFORM defaults to offscreen (no display here); set it to time another platform.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from layout import REPO, Layout, PackagingError

BASELINE = """
import sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class Window(QMainWindow):
    painted = False

    def paintEvent(self, event):
        super().paintEvent(event)
        if not self.painted:
            self.painted = True
            QTimer.singleShot(0, self.report)

    def report(self):
        print(f"first-paint {(time.perf_counter() - t0) * 1000:.1f}", flush=True)
        app.quit()

app = QApplication(sys.argv[:1])
window = Window()
window.resize(1100, 760)
window.show()
app.exec()
"""


def time_to_paint(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall ms seen by the parent, ms the program itself reported) for one start."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=REPO)
    assert process.stdout is not None
    reported = None
    for line in process.stdout:
        if line.startswith("first-paint "):
            wall = (time.perf_counter() - started) * 1000
            reported = float(line.split()[1])
            break
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    if reported is None:
        raise PackagingError(f"{command[0]} never printed first-paint: {err.strip()[-500:]}")
    return wall, reported


def measure_startup(layout: Layout, *, runs: int = 5) -> dict[str, dict[str, float]]:
    """Print the table; return {program: {wall_ms, in_app_ms, vs_bare}}."""
    with tempfile.TemporaryDirectory(prefix="event-console-startup-") as scratch:
        baseline = Path(scratch) / "bare_window.py"
        baseline.write_text(BASELINE, "utf-8")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("INNGEST_", "EVENT_CONSOLE_"))}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env.update(EVENT_CONSOLE_HOME=str(Path(scratch) / "home"),
                   EVENT_CONSOLE_EXIT_AFTER_PAINT="1")
        variants = {
            "bare PySide6 window": [sys.executable, str(baseline)],
            "source (python -m console)": [sys.executable, "-m", "console"],
        }
        frozen = layout.onefile_exe if layout.onefile else layout.cli_exe()
        if frozen.exists():
            variants[f"frozen ({frozen.relative_to(layout.dist)})"] = [str(frozen)]
        else:
            print(f"startup: no frozen app at {frozen}; build it to time it")
        for command in variants.values():
            time_to_paint(command, env)  # warm-up
        # Round-robin, so a burst of load on the machine hits every variant alike.
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(runs):
            for name, command in variants.items():
                samples[name].append(time_to_paint(command, env))
        results = {
            name: (statistics.median(s[0] for s in got), statistics.median(s[1] for s in got))
            for name, got in samples.items()
        }
    base = results["bare PySide6 window"][0]
    print(f"startup: time to first painted window, median of {runs} warm runs, "
          f"QT_QPA_PLATFORM={env['QT_QPA_PLATFORM']}")
    print(f"  {'program':<36} {'wall ms':>8} {'in-app ms':>10} {'vs bare':>8}")
    for name, (wall, own) in results.items():
        print(f"  {name:<36} {wall:8.0f} {own:10.0f} {wall / base:7.2f}x")
    return {name: {"wall_ms": round(wall, 1), "in_app_ms": round(own, 1),
                   "vs_bare": round(wall / base, 2)} for name, (wall, own) in results.items()}

"""GUI responsiveness while the batch composer imports a big file (issue 4).

A 5 ms heartbeat QTimer on the Qt loop (see test_bench_gui_send) while the composer imports
N ~1 KiB events from a JSON file (50,000 events, ~49 MiB, with BENCH_FULL=1; 5,000 in the
quick mode the test suite runs), two ways, in the same run on fresh composers:
- baseline "on the GUI thread": the file checked and added in one call on the loop's
  thread (what `import_file` does below BACKGROUND_IMPORT_CHARS, and did for every size);
- `import_file` as the window calls it: the file is read and checked on a worker thread,
  and only the insertion of the checked rows (with the bytes the check made) runs on the
  loop.
Printed: the longest heartbeat gap and the time to the rows being in the batch. The
remaining gap is `json.loads` (C, holds the GIL for the whole text) and inserting the rows.
Nothing about time is asserted; both must import every event.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from console.core.batch import read_events
from console.ui.batch import BatchComposer
from tests.benchmarks.test_bench_gui_send import Heartbeat
from tests.benchmarks.test_bench_send import FULL, make_events

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(900 if FULL else 120)]

EVENTS = 50_000 if FULL else 5_000
ROUNDS = 3 if FULL else 1


def test_bench_gui_import(qtbot: Any, run_async: Any, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(make_events(EVENTS)), encoding="utf-8")
    mib = path.stat().st_size / 2**20
    results: dict[str, list[tuple[float, float]]] = {"gui": [], "background": []}

    def composer() -> BatchComposer:
        widget = BatchComposer()
        qtbot.addWidget(widget)
        widget.resize(520, 600)
        widget.show()
        return widget

    async def on_the_gui_thread(widget: BatchComposer) -> None:
        await asyncio.sleep(0.05)
        text = path.read_text(encoding="utf-8")
        assert widget._take_import(read_events(text, schemas=widget.schemas), path.name,
                                   "Import", None)
        await asyncio.sleep(0.05)

    async def in_the_background(widget: BatchComposer) -> None:
        await asyncio.sleep(0.05)
        assert widget.import_file(path)
        assert widget.importing is not None and await widget.importing
        await asyncio.sleep(0.05)

    for _ in range(ROUNDS):
        for label, way in (("gui", on_the_gui_thread), ("background", in_the_background)):
            widget = composer()
            beat = Heartbeat()
            beat.start()
            start = time.perf_counter()
            run_async(way(widget), timeout=300)
            elapsed = time.perf_counter() - start - 0.1
            gaps = beat.stop()
            assert len(widget.batch) == EVENTS
            results[label].append((max(gaps, default=0.0), elapsed))
            widget.close()

    with capsys.disabled():
        mode = "full" if FULL else "quick"
        print(f"\n[bench gui import, {mode}] {EVENTS:,} events ({mib:.1f} MiB) into the batch "
              f"composer; 5 ms heartbeat; median of {ROUNDS} round(s)")
        for label, name in (("gui", "read and checked on the GUI thread (baseline)"),
                            ("background", "import_file (worker thread)")):
            gap = statistics.median(g for g, _ in results[label])
            took = statistics.median(t for _, t in results[label])
            print(f"  {name:42s} longest heartbeat gap {gap:8.1f} ms; imported in {took:.2f} s")
        ratio = (statistics.median(g for g, _ in results["gui"])
                 / max(statistics.median(g for g, _ in results["background"]), 0.001))
        print(f"  the longest freeze is {ratio:.1f}x shorter off the GUI thread")

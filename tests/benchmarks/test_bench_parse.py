"""Parse + validate + map errors of a 1 MB event, against json.loads + jsonschema.

- ours: `validate_text` on the editor text: parse with positions, envelope rules, the
  event's schema (jsonschema underneath), every problem mapped to its line:column;
- baseline: `json.loads` of the same text plus `jsonschema` validation of its data with
  the same schema (errors collected, positions unknown).
The event is pretty-printed (what users edit), its schema inferred by genson; the
"errors" variant breaks 50 values deep in the array so 50 problems must be located.
Also printed: parsing alone (`parse_with_positions` vs `json.loads`) and, in full mode,
a 10 MB document of many small values (valid: one deep pointer; broken near its end:
time to the located syntax error).
Quick mode (the test suite): one run of a 200 KB event with 10 errors and a 1 MB document
of small values. BENCH_FULL=1: medians of 11 runs of the 1 MB event (50 errors, and clean)
and the 10 MB document. Times are medians of process CPU time (stable on a busy machine),
the two sides run in alternation. Figures are printed; nothing timed is asserted.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from console.core.positions import parse_with_positions
from console.core.schemas import SchemaLibrary, infer_schema
from console.core.validation import validate_text

pytestmark = pytest.mark.benchmark

FULL = os.environ.get("BENCH_FULL") == "1"
RUNS = 11 if FULL else 1
LIMIT = 3 * 1024 * 1024
EVENT_BYTES = 1_000_000 if FULL else 200_000
BROKEN = 50 if FULL else 10
SMALL_ROWS = 160_000 if FULL else 16_000  # ~10 MB / ~1 MB


def make_event(target_bytes: int) -> dict[str, Any]:
    """An order whose pretty-printed text is about `target_bytes`."""

    def item(i: int) -> dict[str, Any]:
        return {"sku": f"SKU-{i:06d}", "title": f"Widget número {i} ✓", "qty": i % 9 + 1,
                "price": round(i * 0.37 % 100, 2), "tags": ["a", "b"], "gift": i % 3 == 0,
                "meta": {"w": 1.5, "note": None}}

    one = len(json.dumps({"items": [item(0)]}, indent=2, ensure_ascii=False).encode())
    count = max(1, target_bytes // one)
    return {"name": "shop/order.created", "id": "order-1",
            "data": {"order_id": 1, "customer": {"email": "a@b.c"},
                     "items": [item(i) for i in range(count)]}}


def timed(work: Callable[[], Any], runs: int = RUNS) -> tuple[float, Any]:
    """(median CPU milliseconds of this process, result of the last run).

    CPU time, not wall time: on a shared, busy machine it is what stays comparable.
    """
    times, result = [], None
    for _ in range(runs):
        gc.collect()  # garbage of the previous run is not billed to this one
        start = time.process_time()
        result = work()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000, result


def interleaved(ours: Callable[[], Any], baseline: Callable[[], Any]
                ) -> tuple[float, Any, float, Any]:
    """Both timed in alternation, so a slow spell of the machine hits both alike."""
    ours_times, base_times = [], []
    found = expected = None
    for _ in range(RUNS):
        ms, found = timed(ours, 1)
        ours_times.append(ms)
        ms, expected = timed(baseline, 1)
        base_times.append(ms)
    return statistics.median(ours_times), found, statistics.median(base_times), expected


def break_values(event: dict[str, Any]) -> dict[str, Any]:
    items = event["data"]["items"]
    step = max(1, len(items) // BROKEN)
    for n in range(BROKEN):
        items[n * step]["qty"] = "many"  # integer expected
    return event


def compare(label: str, event: dict[str, Any], schema: dict[str, Any]) -> None:
    text = json.dumps(event, indent=2, ensure_ascii=False)
    library = SchemaLibrary.from_files([("order.json", json.dumps(schema))])
    validator = Draft202012Validator(schema)

    def ours() -> int:
        return len(validate_text(text, event_limit=LIMIT, schemas=library).problems)

    def baseline() -> int:
        return len(list(validator.iter_errors(json.loads(text)["data"])))

    ours_ms, found, base_ms, expected = interleaved(ours, baseline)
    assert found == expected  # the same errors are found (ours also locates them)
    print(f"\n[parse-bench] {label}: {len(text.encode()) / 1e6:.2f} MB, {found} problems: "
          f"validate_text {ours_ms:.0f} ms vs json.loads + jsonschema {base_ms:.0f} ms "
          f"-> ratio {ours_ms / base_ms:.2f}x")


def test_parse_validate_and_map_errors_of_an_event() -> None:
    event = make_event(EVENT_BYTES)
    schema = infer_schema([event["data"]], event_name="shop/order.created")
    compare(f"event, {BROKEN} schema errors", break_values(make_event(EVENT_BYTES)), schema)
    if FULL:
        compare("event, clean", event, schema)
    text = json.dumps(event, indent=2, ensure_ascii=False)
    deep = f"/data/items/{len(event['data']['items']) - 1}/price"
    parse_ms, _, loads_ms, _ = interleaved(lambda: parse_with_positions(text).span(deep),
                                           lambda: json.loads(text))
    print(f"[parse-bench] parse_with_positions + the last item's span {parse_ms:.0f} ms vs "
          f"json.loads {loads_ms:.0f} ms -> ratio {parse_ms / loads_ms:.2f}x")


def test_many_small_values() -> None:
    text = json.dumps({"name": "bulk/import", "data": {"rows": [
        {"i": i, "s": f"row {i}", "f": [1.5, None, True]} for i in range(SMALL_ROWS)]}})
    last = f"/data/rows/{SMALL_ROWS - 1}/s"
    broken = text[:-3] + "}" + text[-2:]
    valid_ms, span = timed(lambda: parse_with_positions(text).span(last), 1)
    broken_ms, doc = timed(lambda: parse_with_positions(broken), 1)
    loads_ms, _ = timed(lambda: json.loads(text), 1)
    assert span is not None and doc.error is not None
    print(f"\n[parse-bench] {len(text.encode()) / 1e6:.1f} MB of small values: parse + last "
          f"pointer {valid_ms:.0f} ms, broken near the end -> located error {broken_ms:.0f} ms; "
          f"json.loads {loads_ms:.0f} ms")

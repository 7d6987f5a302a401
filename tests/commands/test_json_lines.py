"""The JSON lines `send` and `run` print are exactly `json.dumps` of each record, however
its lists share objects (the encoder only saves work on shared ones)."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from console.commands.common import json_line

C1 = re.compile("[\x80-\x9f]")

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                    st.floats(allow_nan=False))
SMALL = st.dictionaries(st.text(max_size=5), SCALARS, max_size=3)


@given(pool=st.lists(SMALL, min_size=1, max_size=3),
       picks=st.lists(st.integers(0, 2), max_size=40),
       other=st.dictionaries(st.text(max_size=6), SCALARS | st.lists(SCALARS, max_size=12)))
def test_a_line_is_json_dumps_of_its_record(pool: list[dict[str, Any]], picks: list[int],
                                           other: dict[str, Any]) -> None:
    shared = [pool[i % len(pool)] for i in picks]  # the same dict objects, many times
    record = {**other, "dedup": shared, "copies": [dict(d) for d in shared]}
    line = json_line(record)
    assert line == C1.sub(lambda m: f"\\u{ord(m.group()):04x}",
                          json.dumps(record, ensure_ascii=False))
    assert "\n" not in line and json.loads(line) == json.loads(json.dumps(record))
    assert not C1.search(line)


def test_a_send_line_of_shared_entries_reads_back_as_sent() -> None:
    fresh = {"verdict": "new", "message": "new dedup id: functions run; \u00e9\u2028"}
    none = {"verdict": "no dedup id", "message": "no dedup id"}
    record = {"request": 1, "ids": ["01A"] * 500, "dedup": [fresh, none] * 250,
              "summary": "500 accepted"}
    assert json_line(record) == json.dumps(record, ensure_ascii=False)


def test_c1_controls_are_escaped_where_a_terminal_would_act_on_them() -> None:
    """U+009B is a one-byte CSI: a step's reason quoting a template's text cleared a CI
    log's screen. ESC was escaped by JSON already (\\u001b); these were written raw."""
    record = {"reason": "x \x1b[2J \x9b2J \x85 é ☃", "n": [{"k": "\x9b"}] * 20}
    line = json_line(record)
    assert "\x9b" not in line and "\x85" not in line
    assert "\\u009b2J" in line and "é ☃" in line  # printable text stays as it is
    assert json.loads(line) == record

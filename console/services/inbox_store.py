"""What the inbox received, and the function runs it pretends those events started.

Inngest accepts a repeated `id` with a 200 and silently starts no runs for it; the only
way to see the deduplication is to ask for the event's runs. The inbox simulates one
function per trigger glob so the console's "confirmed outcome" logic has something
faithful to poll: a matching event starts one run, unless an event with the same `id`
(any name) arrived in the previous 24 hours. Runs can be made to appear late.
"""

from __future__ import annotations

import fnmatch
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from console.core.ids import ulid

DEDUP_WINDOW_MS = 24 * 60 * 60 * 1000


@dataclass(slots=True)
class CapturedEvent:
    """One accepted event: its internal id, when it came, its envelope and its bytes."""

    internal_id: str
    received_at_ms: int
    name: str
    event: dict[str, Any]
    size: int
    raw: bytes

    @property
    def dedup_id(self) -> str | None:
        value = self.event.get("id")
        return value if isinstance(value, str) and value else None

    def to_json(self) -> dict[str, Any]:
        """The event as `GET /v1/events/{internal_id}` shows it."""
        out: dict[str, Any] = {
            "internal_id": self.internal_id,
            "name": self.name,
            "data": self.event.get("data", {}),
            "id": self.dedup_id or "",
            "ts": self.event.get("ts"),
            "received_at": iso_millis(self.received_at_ms),
        }
        if "v" in self.event:
            out["v"] = self.event["v"]
        if "user" in self.event:
            out["user"] = self.event["user"]
        return out


def iso_millis(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, as Inngest's REST API writes times."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class SimulatedRun:
    event_id: str
    function_id: str
    started_ms: int
    visible_at: float  # monotonic time from which the run is listed
    entropy: bytes  # the run id is spelled out only when someone asks (ULIDs cost)

    @property
    def run_id(self) -> str:
        return ulid(self.started_ms, self.entropy)

    def to_json(self) -> dict[str, Any]:
        when = iso_millis(self.started_ms)
        return {
            "run_id": self.run_id,
            "event_id": self.event_id,
            "function_id": self.function_id,
            "status": "Completed",
            "run_started_at": when,
            "ended_at": when,
            "output": None,
        }


KEEP_EVENTS = 50_000  # captured events kept in memory (~3 KiB each for a 1 KiB event)
KEEP_BYTES = 256 * 2**20  # and at most this many bytes of them (~2.2x that in memory)


def overflow(events: Sequence[CapturedEvent], kept_bytes: int, keep: int,
             keep_bytes: int = KEEP_BYTES) -> tuple[int, int]:
    """How many of the oldest kept events to let go, and their bytes: none up to `keep`
    events and `keep_bytes` bytes (`kept_bytes` is what they hold now), else enough to get
    back to nine tenths of both (one cut per tenth added). The newest always stays."""
    count = len(events)
    if count <= keep and kept_bytes <= keep_bytes:
        return 0, 0
    drop = count - keep + keep // 10 if count > keep else 0
    freed = sum(event.size for event in events[:drop])
    target = keep_bytes - keep_bytes // 10
    while drop < count - 1 and kept_bytes - freed > target:
        freed += events[drop].size
        drop += 1
    return drop, freed


class EventLog:
    """Captured events in arrival order, findable by internal id (the first one wins).

    Only the newest `keep` (and `keep_bytes` of them) stay in memory, so a long load test
    cannot exhaust it: past that, the oldest tenth is forgotten in one go (lookups then
    say "not found", as for an id never seen; the console's history keeps them all)."""

    def __init__(self, keep: int = KEEP_EVENTS, keep_bytes: int = KEEP_BYTES) -> None:
        self.keep = max(1, keep)
        self.keep_bytes = max(1, keep_bytes)
        self.bytes = 0  # the sizes of the kept events
        self.events: list[CapturedEvent] = []
        self._first: dict[str, int] = {}  # internal id -> position since the start
        self._base = 0  # the position of events[0]

    def add(self, event: CapturedEvent) -> list[CapturedEvent]:
        """Keep `event`; returns the events forgotten to make room (usually none)."""
        self._first.setdefault(event.internal_id, self._base + len(self.events))
        self.events.append(event)
        self.bytes += event.size
        count, freed = overflow(self.events, self.bytes, self.keep, self.keep_bytes)
        if not count:
            return []
        self.bytes -= freed
        dropped = self.events[:count]
        del self.events[:count]  # in place: InboxServer.events is this list
        self._base += count
        for old in dropped:
            if self._first.get(old.internal_id, self._base) < self._base:
                del self._first[old.internal_id]
        return dropped

    def get(self, internal_id: str) -> CapturedEvent | None:
        position = self._first.get(internal_id)
        return None if position is None else self.events[position - self._base]

    def newest_first(self, cursor: str | None = None) -> Iterator[CapturedEvent]:
        """Newest to oldest; with a cursor, only events older than that one."""
        start = len(self.events) - 1
        if cursor is not None:
            position = self._first.get(cursor)
            start = -1 if position is None else position - self._base - 1
        for index in range(start, -1, -1):
            yield self.events[index]


class RunSimulator:
    """One simulated function per trigger glob, with Inngest's 24 h `id` idempotency."""

    def __init__(self, triggers: Sequence[str], *, run_delay: float = 0.0,
                 window_ms: int = DEDUP_WINDOW_MS) -> None:
        self._triggers = [(glob, re.compile(fnmatch.translate(glob))) for glob in triggers]
        self._delay = max(0.0, run_delay)
        self._window_ms = window_ms
        self._first_seen: dict[str, tuple[str, int]] = {}  # dedup id -> (internal id, ms)
        self._runs: dict[str, list[SimulatedRun]] = {}

    def record(self, event: CapturedEvent, now: float) -> list[SimulatedRun]:
        """Start the runs `event` triggers (none when its `id` was seen in the window)."""
        dedup_id = event.dedup_id
        if dedup_id is not None:
            first = self._first_seen.get(dedup_id)
            if first is not None and event.received_at_ms - first[1] < self._window_ms:
                return []
            self._first_seen[dedup_id] = (event.internal_id, event.received_at_ms)
        started = event.received_at_ms + int(self._delay * 1000)
        runs = [
            SimulatedRun(event.internal_id, f"inbox-{glob}", started, now + self._delay,
                         random.getrandbits(80).to_bytes(10, "big"))  # unique, not secret
            for glob, pattern in self._triggers
            if pattern.match(event.name)
        ]
        if runs:
            self._runs.setdefault(event.internal_id, []).extend(runs)
        return runs

    def forget(self, events: Sequence[CapturedEvent], now_ms: int) -> None:
        """The runs of events the log forgot, and `id` windows that have closed."""
        for event in events:
            self._runs.pop(event.internal_id, None)
        self._first_seen = {dedup: seen for dedup, seen in self._first_seen.items()
                            if now_ms - seen[1] < self._window_ms}

    def runs_for(self, internal_id: str, now: float) -> list[SimulatedRun]:
        """The runs an event started that have "appeared" by monotonic time `now`."""
        return [run for run in self._runs.get(internal_id, ()) if run.visible_at <= now]

    def first_seen(self, dedup_id: str) -> tuple[str, int] | None:
        """(internal id, received ms) of the event that holds this `id`'s window."""
        return self._first_seen.get(dedup_id)

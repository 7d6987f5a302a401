"""An ordered batch of events that keeps each event's wire bytes, so edits stay cheap.

Every event is serialized once (`serialize.event_bytes`) when it enters the batch or is
replaced; request bodies are then joined from those cached parts. One edit re-serializes
only that event and adjusts a running total, so the meters can follow typing. The meters
and the preview read the same bytes the client sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from console.core.envelope import check_event
from console.core.plan import MAX_EVENTS_PER_REQUEST, BatchPlan, plan_requests
from console.core.positions import text_lines
from console.core.problems import Severity
from console.core.serialize import array_body, event_bytes
from console.core.validation import Report, validate_text

NO_SIZE_LIMIT = 1 << 62  # sizes are judged by the plan (the row is marked), not at import
JSONL_SUFFIXES = (".jsonl", ".ndjson")  # files read as JSON Lines by their name


def is_jsonl_name(name: str) -> bool:
    """Whether a file is read as JSON Lines by its name: `.jsonl` or `.ndjson` in any case
    (`EVENTS.JSONL` from a Windows tool too). Every place the suffix decides asks this."""
    return name.lower().endswith(JSONL_SUFFIXES)


class Level(Enum):
    """How close a value is to its limit: the meter's colour."""

    GREEN = "green"  # below 80 %
    AMBER = "amber"  # 80 % up to and including 100 %
    RED = "red"  # over the limit


@dataclass(frozen=True, slots=True)
class Meter:
    value: int
    limit: int

    @property
    def fraction(self) -> float:
        return self.value / self.limit if self.limit > 0 else float("inf")

    @property
    def level(self) -> Level:
        f = self.fraction
        if f < 0.8:
            return Level.GREEN
        return Level.AMBER if f <= 1.0 else Level.RED


@dataclass(frozen=True, slots=True)
class Meters:
    """What the size meters show.

    `event` measures the selected event (or, with nothing selected, the largest one) against
    the per-event limit. `request` measures the whole batch as ONE request body against the
    request limit: over it means the batch is split, and `requests` says into how many.
    `count` is the number of events against the 5,000 per-request cap.
    """

    event: Meter | None
    event_index: int | None
    request: Meter
    requests: int
    count: Meter
    blocked: int
    editor: bool = False  # the batch is empty: these measure the editor's text, what Send sends


class Batch:
    """Events in send order, each with its cached compact JSON bytes."""

    def __init__(self, events: Iterable[Any] = ()) -> None:
        self._events: list[Any] = []
        self._parts: list[bytes] = []
        self._sizes: list[int] = []
        self._issues: list[tuple[str, ...] | None] = []  # envelope errors, checked lazily
        self._total = 0
        self._version = 0
        self._plan_key: tuple[int, int, int, int] | None = None
        self._plan: BatchPlan | None = None
        self._invalid: dict[int, str] = {}
        self._invalid_version = -1
        self.insert(0, list(events))

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: int) -> Any:
        return self._events[index]

    @property
    def version(self) -> int:
        """Bumped by every change; caches key on it."""
        return self._version

    @property
    def events(self) -> list[Any]:
        return list(self._events)

    def part(self, index: int) -> bytes:
        return self._parts[index]

    @property
    def parts(self) -> list[bytes]:
        return list(self._parts)

    def sizes(self) -> list[int]:
        return list(self._sizes)

    def size(self, index: int) -> int:
        return self._sizes[index]

    @property
    def total_bytes(self) -> int:
        """Sum of the events' sizes (no brackets or commas)."""
        return self._total

    @property
    def body_size(self) -> int:
        """Size of the whole batch as one array body (0 for an empty batch)."""
        n = len(self._sizes)
        return self._total + n + 1 if n else 0

    # -- changing ------------------------------------------------------------------------
    def insert(self, index: int, events: Sequence[Any], *,
               parts: Sequence[bytes] | None = None, checked: bool = False) -> None:
        """Insert events before `index` (serializing each once).

        `parts`: their bytes when the caller already has them from `event_bytes` (an
        import's validation made them); `checked`: they have passed the envelope rules
        (`read_events` without errors), so none is looked at again for `invalid()`."""
        if not events:
            return
        if parts is None or len(parts) != len(events):
            parts = [event_bytes(e) for e in events]
        sizes = [len(p) for p in parts]
        self._events[index:index] = list(events)
        self._parts[index:index] = parts
        self._sizes[index:index] = sizes
        self._issues[index:index] = [() if checked else None] * len(parts)
        self._total += sum(sizes)
        self._touch()

    def append(self, event: Any) -> int:
        self.insert(len(self._events), [event])
        return len(self._events) - 1

    def remove(self, indices: Iterable[int]) -> list[tuple[int, Any]]:
        """Remove these rows; returns (index, event) pairs in ascending order, for undo."""
        rows = sorted(set(indices))
        removed = [(i, self._events[i]) for i in rows]
        if len(rows) > 16:  # many rows: one pass instead of many list shifts
            gone = set(rows)
            keep = [i for i in range(len(self._events)) if i not in gone]
            self._total -= sum(self._sizes[i] for i in rows)
            self._events = [self._events[i] for i in keep]
            self._parts = [self._parts[i] for i in keep]
            self._sizes = [self._sizes[i] for i in keep]
            self._issues = [self._issues[i] for i in keep]
        else:
            for i in reversed(rows):
                del self._events[i]
                del self._parts[i]
                del self._issues[i]
                self._total -= self._sizes.pop(i)
        if rows:
            self._touch()
        return removed

    def take(self, start: int, count: int) -> list[Any]:
        """Remove and return a consecutive run of events."""
        taken = self._events[start : start + count]
        self.remove(range(start, start + len(taken)))
        return taken

    def replace(self, index: int, event: Any) -> bool:
        """Put a new version of one event; False (and nothing done) when its bytes are equal."""
        part = event_bytes(event)
        if part == self._parts[index]:
            self._events[index] = event
            return False
        self._total += len(part) - self._sizes[index]
        self._events[index] = event
        self._parts[index] = part
        self._sizes[index] = len(part)
        self._issues[index] = None
        current = self._invalid_version == self._version
        self._touch()
        if current:  # keep the rejected-events summary without another pass over the batch
            self._invalid.pop(index, None)
            if found := self.issues(index):
                self._invalid[index] = found[0]
            self._invalid = dict(sorted(self._invalid.items())) if found else self._invalid
            self._invalid_version = self._version
        return True

    def move(self, rows: Sequence[int], dest: int) -> list[int]:
        """Move `rows` (kept in their relative order) to sit before the row now at `dest`.

        Returns the new positions of the moved rows. `dest` is an index into the batch
        before the move (0..len), the way a drop position is given.
        """
        picked = sorted(set(rows))
        if not picked:
            return []
        before = sum(1 for r in picked if r < dest)
        target = dest - before
        chosen = set(picked)
        keep = [i for i in range(len(self._events)) if i not in chosen]
        order = keep[:target] + picked + keep[target:]
        self.reorder(order)
        return list(range(target, target + len(picked)))

    def reorder(self, order: Sequence[int]) -> None:
        """Arrange the events as `order` (a permutation of the current indices)."""
        if sorted(order) != list(range(len(self._events))):
            raise ValueError("reorder needs a permutation of the batch's indices")
        if list(order) == list(range(len(self._events))):
            return
        self._events = [self._events[i] for i in order]
        self._parts = [self._parts[i] for i in order]
        self._sizes = [self._sizes[i] for i in order]
        self._issues = [self._issues[i] for i in order]
        self._touch()

    def issues(self, index: int) -> tuple[str, ...]:
        """What Inngest would reject in this event (envelope rules; sizes are the plan's)."""
        found = self._issues[index]
        if found is None:
            found = tuple(
                message
                for _, message, severity in check_event(
                    self._events[index], event_limit=NO_SIZE_LIMIT, size=self._sizes[index],
                    part=self._parts[index],  # an integer too big for the server is in it
                )
                if severity is Severity.ERROR
            )
            self._issues[index] = found
        return found

    def invalid(self) -> dict[int, str]:
        """Every event Inngest would reject, with the first reason (cached per version)."""
        if self._invalid_version != self._version:
            self._invalid = {
                i: found[0] for i in range(len(self._events)) if (found := self.issues(i))
            }
            self._invalid_version = self._version
        return self._invalid

    def _touch(self) -> None:
        self._version += 1

    # -- planning ------------------------------------------------------------------------
    def plan(
        self, request_limit: int, event_limit: int, max_events: int = MAX_EVENTS_PER_REQUEST
    ) -> BatchPlan:
        """The request plan for these limits; cached until the batch changes."""
        key = (self._version, request_limit, event_limit, max_events)
        if self._plan is None or self._plan_key != key:
            self._plan = plan_requests(
                self._sizes,
                request_limit=request_limit,
                event_limit=event_limit,
                max_events=max_events,
            )
            self._plan_key = key
        return self._plan

    def bodies(self, plan: BatchPlan) -> list[bytes]:
        """The exact request bodies of a plan made from this batch."""
        return [self.body(rng) for rng in plan.requests]

    def body(self, rng: range) -> bytes:
        return array_body(self._parts[rng.start : rng.stop])

    def meters(
        self,
        request_limit: int,
        event_limit: int,
        selected: int | None = None,
        max_events: int = MAX_EVENTS_PER_REQUEST,
    ) -> Meters:
        """Meter values; `selected` picks the event shown on the per-event meter."""
        return meters_of(self._sizes, request_limit, event_limit, selected, max_events,
                         plan=self.plan(request_limit, event_limit, max_events))


def meters_of(sizes: Sequence[int], request_limit: int, event_limit: int,
              selected: int | None = None, max_events: int = MAX_EVENTS_PER_REQUEST, *,
              plan: BatchPlan | None = None, editor: bool = False) -> Meters:
    """The meters of events of these compact sizes (a batch's, or the editor's text's);
    `plan`: theirs, when the caller has it cached."""
    n = len(sizes)
    if selected is not None and not 0 <= selected < n:
        selected = None
    if selected is None and n:
        selected = sizes.index(max(sizes))
    event = Meter(sizes[selected], event_limit) if selected is not None else None
    if plan is None:
        plan = plan_requests(sizes, request_limit=request_limit, event_limit=event_limit,
                             max_events=max_events)
    return Meters(
        event=event,
        event_index=selected,
        request=Meter(sum(sizes) + n + 1 if n else 0, request_limit),
        requests=len(plan.requests),
        count=Meter(n, max_events),
        blocked=len(plan.blocked),
        editor=editor,
    )


# -- what a send came to -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RequestReport:
    """One finished request, as much as the tally needs of the client's SendResult."""

    status: int | None
    accepted: int
    error: str | None
    uncertain: bool = False  # the server may have taken the events it gave no id (client)


@dataclass
class Tally:
    """Which events of a send were accepted, rejected, not accepted, or never sent.

    After a 400 the server has accepted the events before the bad one (their ids came
    back) and stopped there: the event at position `accepted` is the one it named, the
    rest of that request was not taken. A request cancelled while in flight may or may not
    have reached the server; its events are listed apart so the user can decide, and so
    are those of a request whose answer broke off (`uncertain`).
    """

    accepted: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    not_accepted: list[int] = field(default_factory=list)
    in_flight: list[int] = field(default_factory=list)
    not_sent: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)

    @property
    def rest(self) -> list[int]:
        """Every event that was not accepted, in batch order: what "Resend the rest" sends."""
        return sorted([i for i, _ in self.rejected] + self.not_accepted + self.in_flight
                      + self.not_sent + self.uncertain)

    @property
    def complete(self) -> bool:
        return not self.rest


def tally(
    requests: Sequence[range],
    reports: dict[int, RequestReport],
    in_flight: Iterable[int] = (),
) -> Tally:
    """Classify every planned event; `reports` and `in_flight` are keyed by request index."""
    flying = set(in_flight)
    out = Tally()
    for number, rng in enumerate(requests):
        report = reports.get(number)
        if report is None:
            (out.in_flight if number in flying else out.not_sent).extend(rng)
            continue
        taken = max(0, min(report.accepted, len(rng)))
        out.accepted.extend(rng[:taken])
        left = rng[taken:]
        if not left:
            continue
        if report.uncertain:
            out.uncertain.extend(left)
        elif report.status == 400:
            out.rejected.append((left[0], report.error or "rejected by the server"))
            out.not_accepted.extend(left[1:])
        else:
            out.not_accepted.extend(left)
    return out


# -- reading many events ---------------------------------------------------------------------
def read_events(text: str, *, jsonl: bool | None = None, schemas: Any = None) -> Report:
    """Events for a batch from a file or the clipboard: one event, an array, or JSON Lines.

    `jsonl=None` decides by the text: several top-level objects are JSON Lines. Sizes are
    not checked here: an oversized event is imported and marked by the plan, with reason.
    A leading byte order mark (copied from a file that has one) is not part of the text.
    """
    text = text.removeprefix("\ufeff")
    if jsonl is not None:
        return validate_text(text, event_limit=NO_SIZE_LIMIT, schemas=schemas, jsonl=jsonl)
    document = validate_text(text, event_limit=NO_SIZE_LIMIT, schemas=schemas)
    if not document.blocking or not _first_line_is_an_object(text):
        return document
    return validate_text(text, event_limit=NO_SIZE_LIMIT, schemas=schemas, jsonl=True)


def _first_line_is_an_object(text: str) -> bool:
    for line in text_lines(text):
        if line.strip():
            try:
                return isinstance(json.loads(line), dict)
            except (ValueError, RecursionError):  # the document's check names the depth
                return False
    return False

"""What Inngest will do with each event's `id`, said before sending, and what it did after.

Inngest accepts an event whose `id` repeats one seen in the last 24 hours with a plain 200
and a fresh internal id, and silently starts no function runs for it. Nothing in the send
response says so, so the console predicts it from its own record of earlier sends (the
history) and later confirms it by looking up the event's runs.

The window: Inngest deduplicates "for 24 hours from the first event". We read that as the
half-open interval [T, T + 24 h): an event sent at exactly T + 24 h opens a new window and
runs again. Windows chain: the first event after a window has closed starts the next one,
and events deduplicated inside a window never extend it. Ids are global across event
names, per Inngest environment (a console environment here). An event without an `id` (or
with an empty one) is never deduplicated: repeating or retrying it runs functions again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from console.core.clock import shown_time
from console.core.envelope import KNOWN_SET, as_read, envelope_of

DEDUP_WINDOW_MS = 24 * 60 * 60 * 1000

NO_ID_MESSAGE = "no dedup id: a repeat or retry runs functions again"


@lru_cache(maxsize=4096)  # a batch's duplicates mostly share a few send times
def format_time(ms: int) -> str:
    """Local wall-clock time of a Unix millisecond timestamp, as messages show it, with its
    offset: the message is kept in the history and read later, maybe in another zone (a
    "first seen at" 5½ hours after the row's own time, read in UTC)."""
    return shown_time(ms)


def id_key_of(event: Any) -> str:
    """The key the server reads `event`'s id from ("ID" when that is the one it reads;
    "id" when it has none), for writing a new id where it counts."""
    if isinstance(event, Mapping) and not KNOWN_SET.issuperset(event):
        return as_read(dict(event))[1].get("id", "id")
    return "id"


def dedup_id_of(event: Any) -> str | None:
    """The event's dedup id, or None when it has none (missing, empty or not a string)."""
    if type(event) is dict or isinstance(event, Mapping):  # the ABC check costs 8x more
        # the server reads "ID" or "Id" as the id too (Go matches field names in any case)
        value = envelope_of(event).get("id")
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True, slots=True)
class PriorSend:
    """An event this console sent earlier. `internal_id` None: its outcome is unknown."""

    dedup_id: str
    env: str
    time_ms: int
    internal_id: str | None
    name: str | None = None


class Verdict(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"  # of an event this console sent earlier
    DUPLICATE_IN_BATCH = "duplicate in batch"
    MAYBE_DUPLICATE = "maybe duplicate"  # of an earlier send whose outcome is unknown
    NO_ID = "no dedup id"


@dataclass(frozen=True, slots=True)
class Prediction:
    """What Inngest will do with one event of a batch, and why."""

    index: int
    dedup_id: str | None
    verdict: Verdict
    message: str
    first_internal_id: str | None = None
    first_time_ms: int | None = None
    first_index: int | None = None  # the earlier event of the same batch
    first_name: str | None = None

    @property
    def duplicate(self) -> bool:
        """Inngest will (or may) start no runs for this event."""
        return self.verdict in (
            Verdict.DUPLICATE, Verdict.DUPLICATE_IN_BATCH, Verdict.MAYBE_DUPLICATE
        )


class DedupLedger:
    """Classifies a batch against the console's earlier sends to one environment."""

    def __init__(self, prior: Iterable[PriorSend | tuple[Any, ...]], *, env: str,
                 window_ms: int = DEDUP_WINDOW_MS) -> None:
        self.env = env
        self.window_ms = window_ms
        self._by_id: dict[str, list[PriorSend]] = {}
        for item in prior:
            send = item if isinstance(item, PriorSend) else PriorSend(*item)
            if send.env == env and send.dedup_id:
                self._by_id.setdefault(send.dedup_id, []).append(send)
        for sends in self._by_id.values():
            sends.sort(key=lambda s: s.time_ms)

    def window_start(self, dedup_id: str, now_ms: int) -> PriorSend | None:
        """The earlier send whose 24 h window contains `now_ms`, if any."""
        opened: PriorSend | None = None
        for send in self._by_id.get(dedup_id, ()):
            if send.time_ms > now_ms:
                break
            if opened is None or send.time_ms >= opened.time_ms + self.window_ms:
                opened = send
        if opened is not None and now_ms < opened.time_ms + self.window_ms:
            return opened
        return None

    def classify(self, events: Sequence[Any], now_ms: int) -> list[Prediction]:
        """One prediction per event (parsed JSON objects), in order."""
        return self.classify_ids([dedup_id_of(e) for e in events], now_ms,
                                 names=[name_of(e) for e in events])

    def classify_ids(self, ids: Sequence[str | None], now_ms: int,
                     names: Sequence[str | None] | None = None, *,
                     positions: Sequence[int] | None = None) -> list[Prediction]:
        """`positions`: each id's index in its batch, when `ids` are some of its events
        (the predictions carry them; by default the index in `ids`)."""
        seen: dict[str, tuple[int, str | None]] = {}  # the first of each id: index, name
        out: list[Prediction] = []
        for k, dedup_id in enumerate(ids):
            index = positions[k] if positions is not None else k
            name = names[k] if names is not None else None
            if not dedup_id:
                out.append(Prediction(index, None, Verdict.NO_ID, NO_ID_MESSAGE))
                continue
            prior = self.window_start(dedup_id, now_ms)
            if prior is not None and (prior.internal_id is not None or dedup_id not in seen):
                out.append(_against_prior(index, dedup_id, prior, name))
            elif dedup_id in seen:
                first, first_name = seen[dedup_id]
                out.append(Prediction(
                    index, dedup_id, Verdict.DUPLICATE_IN_BATCH,
                    f"duplicate of event #{first + 1} in this batch: Inngest will accept it "
                    "and start no runs",
                    first_index=first, first_name=first_name,
                ))
            else:
                out.append(Prediction(
                    index, dedup_id, Verdict.NEW,
                    "new dedup id: functions run; repeats of this id within 24 h will not",
                ))
            seen.setdefault(dedup_id, (index, name))
        return out


def name_of(event: Any) -> str | None:
    """The event's name, or None when it has none that is a string."""
    name = envelope_of(event).get("name") if isinstance(event, Mapping) else None
    return name if isinstance(name, str) else None


def _against_prior(index: int, dedup_id: str, prior: PriorSend,
                   name: str | None) -> Prediction:
    at = format_time(prior.time_ms)
    other = ""
    if prior.name and name and prior.name != name:
        other = f" (as {prior.name}: ids are shared across event names)"
    if prior.internal_id is None:
        return Prediction(
            index, dedup_id, Verdict.MAYBE_DUPLICATE,
            f"maybe a duplicate: an event with this id was sent at {at}{other} but its "
            "outcome is unknown; if it arrived, Inngest will accept this one and start no runs",
            first_time_ms=prior.time_ms, first_name=prior.name,
        )
    return Prediction(
        index, dedup_id, Verdict.DUPLICATE,
        f"duplicate of {prior.internal_id} sent at {at}{other}: Inngest will accept it "
        "and start no runs",
        first_internal_id=prior.internal_id, first_time_ms=prior.time_ms,
        first_name=prior.name,
    )


@dataclass(frozen=True, slots=True)
class SentEvent:
    """An accepted event of a send, as outcome polling needs it (`row_id`: its history row)."""

    index: int
    internal_id: str
    time_ms: int
    dedup_id: str | None = None
    name: str | None = None
    prediction: Prediction | None = None
    row_id: int | None = None


def duplicates_headline(duplicates: Sequence[Prediction], total: int) -> str:
    """The first line of the "Duplicate ids" question: whether the ids repeat earlier sends
    (in the last 24 hours), earlier events of the same batch, or some of each."""
    in_batch = sum(p.verdict is Verdict.DUPLICATE_IN_BATCH for p in duplicates)
    earlier = len(duplicates) - in_batch
    head = f"{len(duplicates)} of {total} event(s) repeat"
    if not in_batch:
        return f"{head} an id sent in the last 24 hours."
    if not earlier:
        return f"{head} the id of an earlier event in this batch."
    return (f"{head} an id: {earlier} of an event sent in the last 24 hours, {in_batch} of "
            "an earlier event in this batch.")


def duplicate_indexes(predictions: Sequence[Prediction]) -> list[int]:
    """Indexes of events that will start no runs ("drop the duplicates")."""
    return [p.index for p in predictions if p.duplicate]


# -- confirmed outcomes ---------------------------------------------------------------------
class OutcomeKind(StrEnum):
    PENDING = "pending"  # recorded, request not answered yet
    UNKNOWN = "unknown"  # the console stopped (or was cancelled) before the answer came
    ACCEPTED = "accepted"  # accepted; runs not looked up (yet)
    NOT_ACCEPTED = "not accepted"
    RAN = "ran"
    DEDUPLICATED = "deduplicated"
    NO_RUNS = "no runs"
    UNVERIFIED = "unverified"
    RECEIVED = "received"  # captured by the built-in inbox


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one event, as far as the console can tell."""

    kind: OutcomeKind
    runs: int = 0
    first_internal_id: str | None = None
    first_time_ms: int | None = None
    reason: str | None = None

    @property
    def text(self) -> str:
        kind = self.kind
        if kind is OutcomeKind.RAN:
            return f"ran: {self.runs} run{'' if self.runs == 1 else 's'}"
        if kind is OutcomeKind.DEDUPLICATED:
            if self.first_internal_id and self.first_time_ms is not None:
                return (f"deduplicated: no runs (first seen as {self.first_internal_id} "
                        f"at {format_time(self.first_time_ms)})")
            if self.first_time_ms is not None:
                return f"deduplicated: no runs (first seen at {format_time(self.first_time_ms)})"
            return "deduplicated: no runs"
        if kind is OutcomeKind.UNKNOWN:
            return "outcome unknown" + (f": {self.reason}" if self.reason else "")
        if self.reason:
            separator = " " if kind is OutcomeKind.NO_RUNS else ": "
            body = f"({self.reason})" if kind is OutcomeKind.NO_RUNS else self.reason
            return f"{kind.value}{separator}{body}"
        return str(kind.value)


def refused(error: str | None, status: int | None) -> Outcome:
    """The outcome of a request's events the server did not accept; the reason is the
    client's error, else the server's status, else "no answer"."""
    reason = error or (f"server answered {status}" if status else "no answer")
    return Outcome(OutcomeKind.NOT_ACCEPTED, reason=reason)


def run_entry(outcome: Outcome) -> dict[str, Any]:
    """One event's entry in `runs` (send's lines, run's step results): the same keys with a
    history as without one (`run --no-history`), so a CI script reads one shape."""
    return {"outcome": outcome.kind.value, "runs": outcome.runs, "detail": outcome.text}


STOPPED_EARLIER = "not taken: the server stopped at an earlier event of this request"


def not_taken(result: Any, *, after_first: bool = False) -> Outcome:
    """The outcome of the events of a send `result` (a client SendResult) that got no id:
    "unknown" when the server may have acted on them anyway (`result.uncertain`: a 200
    whose body broke off, no answer after the request went out), else not accepted.

    A 400 names one event (the first it did not take, after the ones it accepted): the
    events after it (`after_first`) were not taken because of it, not for its reason."""
    if result.uncertain:
        reason = result.error or "the answer did not come"
        return Outcome(OutcomeKind.UNKNOWN, reason=f"{reason}; the server may have taken them")
    if after_first and result.status == 400 and result.error:
        return Outcome(OutcomeKind.NOT_ACCEPTED, reason=STOPPED_EARLIER)
    return refused(result.error, result.status)


def not_taken_each(result: Any, count: int) -> list[Outcome]:
    """`not_taken` for each of `count` events that got no id, in order."""
    if count <= 0:
        return []
    first = not_taken(result)
    return [first, *[not_taken(result, after_first=True)] * (count - 1)]


def request_record(result: Any, events: range, dedup: list[dict[str, Any]],
                   verified: Mapping[int, Outcome] | None) -> dict[str, Any]:
    """`dedup`, `summary` and (when runs were looked up) `runs` for the events of one
    request (`result`, a client SendResult): the accepted ones as `verified` found them,
    the others as `not_taken_each` says. `send` and `run` print it, with or without a
    history."""
    accepted = min(len(result.ids), len(events))
    ok = Outcome(OutcomeKind.ACCEPTED)
    kinds = [verified.get(index, ok) if verified is not None else ok
             for index in events[:accepted]]
    kinds += not_taken_each(result, len(events) - accepted)
    record: dict[str, Any] = {"dedup": dedup, "summary": summary_line(kinds)}
    if verified is not None:
        record["runs"] = [run_entry(o) for o in kinds]
    return record


_SUMMARY_ORDER = (
    (OutcomeKind.NOT_ACCEPTED, "not accepted"),
    (OutcomeKind.UNKNOWN, "unknown"),
    (OutcomeKind.DEDUPLICATED, "deduplicated"),
    (OutcomeKind.RAN, "ran"),
    (OutcomeKind.NO_RUNS, "no runs"),
    (OutcomeKind.UNVERIFIED, "unverified"),
)
_NOT_ACCEPTED_KINDS = (OutcomeKind.NOT_ACCEPTED, OutcomeKind.UNKNOWN, OutcomeKind.PENDING)


def summary_line(outcomes: Iterable[Outcome | OutcomeKind], *, accepted: bool = True) -> str:
    """One line for a send: "3 accepted · 1 deduplicated · 2 ran" (zero counts left out).

    `accepted=False` leaves the accepted count out, for a place that shows it already."""
    counts = Counter(o.kind if isinstance(o, Outcome) else o for o in outcomes)
    count = sum(n for kind, n in counts.items() if kind not in _NOT_ACCEPTED_KINDS)
    parts = [f"{n} {label}" for kind, label in _SUMMARY_ORDER if (n := counts[kind])]
    if accepted and (count or not parts):  # "0 accepted" only when there is nothing else
        parts.insert(0, f"{count} accepted")
    return " · ".join(parts)

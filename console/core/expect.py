"""Did a step do what the scenario said it would? Pure pass/fail with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from console.core.scenario import Expect

NOT_ACCEPTED = "not accepted"  # OutcomeKind.NOT_ACCEPTED's value


@dataclass(frozen=True)
class Observed:
    """What one send of a step came to, as far as expectations look at it."""

    status: int | None
    events: int
    accepted: int
    error: str | None = None
    # one outcome per event, when they are known: every event of the step, in order, the
    # ones not accepted too ("not accepted", which a dedup expectation passes over), so
    # "event N" is the step's Nth event (it counted accepted events only)
    dedup: list[str] | None = None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


def is_2xx(status: int | None) -> bool:
    """A status that says the request was taken (the Event API's 200; a proxy's 201, 202)."""
    return status is not None and 200 <= status < 300


def check_expect(expect: Expect | None, seen: Observed) -> Verdict:
    """Pass/fail with the reason. No `status`/`accepted` expected means: every event accepted."""
    failures: list[str] = []
    notes: list[str] = []
    expect = expect or Expect()
    if expect.status is None and expect.accepted is None:
        if not is_2xx(seen.status) or seen.accepted != seen.events:
            failures.append(_send_failure(seen))
        else:
            notes.append(f"{seen.accepted}/{seen.events} accepted")
    if expect.status is not None:
        if seen.status != expect.status:
            got = "no response" if seen.status is None else str(seen.status)
            detail = f" ({seen.error})" if seen.error else ""
            failures.append(f"expected status {expect.status}, got {got}{detail}")
        else:
            notes.append(f"status {seen.status}")
    if expect.accepted is not None:
        if seen.accepted != expect.accepted:
            failures.append(f"expected {expect.accepted} accepted, got {seen.accepted}"
                            f" of {seen.events}")
        else:
            notes.append(f"{seen.accepted} accepted")
    if expect.dedup is not None:
        if seen.dedup is None:
            failures.append(f"expected dedup {expect.dedup!r}, but no outcome is available")
        else:
            judged = [(i, o) for i, o in enumerate(seen.dedup) if o != NOT_ACCEPTED]
            wrong = [f"event {i + 1}: {o}" for i, o in judged if o != expect.dedup]
            if wrong or not judged:
                failures.append(f"expected dedup {expect.dedup!r}, got "
                                f"{'; '.join(wrong) or 'no events'}")
            else:
                notes.append(f"dedup {expect.dedup}")
    if failures:
        return Verdict(False, "; ".join(failures))
    return Verdict(True, ", ".join(notes))


def _send_failure(seen: Observed) -> str:
    if seen.status is None:
        return f"send failed: {seen.error or 'no response'}"
    detail = f": {seen.error}" if seen.error else ""
    return f"status {seen.status}, {seen.accepted}/{seen.events} accepted{detail}"

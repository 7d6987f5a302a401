"""Split a batch into the fewest requests Inngest will take, keeping the order.

A request body is a JSON array of already-serialized events (`serialize.array_body`), so
its size is `2 + sum(sizes) + (n - 1)` = `1 + sum(size + 1)`: with prefix sums of
`size + 1` every candidate request is sized in O(1) and its end found by bisection.

Why greedy is optimal. A request over events `[a, b)` is *feasible* when its body fits the
request limit and it holds at most `max_events` events. Feasibility is monotone: every
sub-range of a feasible range is feasible (fewer bytes, fewer events). Greedy closes each
request at the furthest feasible end. Let greedy's request ends be g1 < g2 < ... and
those of any valid partition be o1 < o2 < ... . Claim: g_k >= o_k for every k. For k = 1,
[0, o1) is feasible and greedy takes the longest feasible prefix, so g1 >= o1. If
g_{k-1} >= o_{k-1} and g_{k-1} < o_k, then [g_{k-1}, o_k) is a sub-range of the feasible
[o_{k-1}, o_k), hence feasible, so greedy reaches at least o_k; if g_{k-1} >= o_k the claim
is immediate. So after as many requests as the other partition uses, greedy has covered at
least as many events: it never needs more requests. Blocked events split the batch into
independent segments, and the same argument holds in each one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import add

MAX_EVENTS_PER_REQUEST = 5000
REQUEST_LIMIT = 524_288  # bytes of one send call's body, Inngest's default


@dataclass(frozen=True, slots=True)
class BlockedEvent:
    """An event no request can carry; sending is blocked until it is fixed or removed."""

    index: int
    size: int
    reason: str


@dataclass(frozen=True)
class BatchPlan:
    """Consecutive index ranges, one per request, in send order."""

    requests: list[range]
    blocked: list[BlockedEvent]
    request_limit: int
    event_limit: int
    max_events: int
    _prefix: list[int] = field(repr=False, default_factory=lambda: [0])

    @property
    def ok(self) -> bool:
        """True when every event has a request (an empty batch is trivially ok)."""
        return not self.blocked

    @property
    def events(self) -> int:
        return len(self._prefix) - 1

    def request_bytes(self, i: int) -> int:
        """Exact body size of request `i` (0-based), the array of its events."""
        rng = self.requests[i]
        return 1 + self._prefix[rng.stop] - self._prefix[rng.start]

    @property
    def total_bytes(self) -> int:
        """Bytes of all planned request bodies together."""
        return sum(self.request_bytes(i) for i in range(len(self.requests)))

    def request_of(self, index: int) -> int | None:
        """The 0-based request carrying event `index`, or None when it is blocked."""
        starts = [r.start for r in self.requests]
        pos = bisect_right(starts, index) - 1
        if pos >= 0 and index in self.requests[pos]:
            return pos
        return None


def _fmt(n: int) -> str:
    return f"{n:,}"


def block_reason(size: int, *, request_limit: int, event_limit: int) -> str | None:
    """Why an event of this size can travel in no request, or None when it can."""
    if size > event_limit:
        return (
            f"Event is {_fmt(size)} bytes, over the per-event limit of {_fmt(event_limit)} bytes"
        )
    if size + 2 > request_limit:
        return (
            f"Event is {_fmt(size)} bytes; in a request of its own it makes {_fmt(size + 2)} "
            f"bytes, over the request limit of {_fmt(request_limit)} bytes"
        )
    return None


def plan_requests(
    sizes: Sequence[int],
    *,
    request_limit: int,
    event_limit: int,
    max_events: int = MAX_EVENTS_PER_REQUEST,
) -> BatchPlan:
    """The fewest consecutive requests, in order, each within every limit."""
    if max_events < 1:
        raise ValueError("max_events must be at least 1")
    n = len(sizes)
    # prefix[k] = sum(sizes[:k]) + k, built at C speed (no per-event Python frame)
    prefix = list(map(add, accumulate(sizes, initial=0), range(n + 1)))
    cap = min(event_limit, request_limit - 2)
    blocked: list[BlockedEvent] = []
    if n and max(sizes) > cap:
        for i, size in enumerate(sizes):
            reason = block_reason(size, request_limit=request_limit, event_limit=event_limit)
            if reason is not None:
                blocked.append(BlockedEvent(i, size, reason))
    requests: list[range] = []
    # Segments between blocked events are planned independently.
    seg_start = 0
    for stop in [b.index for b in blocked] + [n]:
        a = seg_start
        while a < stop:
            # Largest b with 1 + prefix[b] - prefix[a] <= request_limit, within the segment.
            hi = min(stop, a + max_events)
            b = bisect_right(prefix, request_limit - 1 + prefix[a], a + 1, hi + 1) - 1
            requests.append(range(a, b))
            a = b
        seg_start = stop + 1
    return BatchPlan(requests, blocked, request_limit, event_limit, max_events, prefix)

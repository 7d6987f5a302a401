"""Request planning: order, limits, minimal count, blocked events with their reasons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.plan import block_reason, plan_requests
from console.core.serialize import array_body, array_size


def _feasible(sizes: list[int], a: int, b: int, request_limit: int, max_events: int) -> bool:
    return 0 < b - a <= max_events and array_size(sizes[a:b]) <= request_limit


def _brute_force_count(
    sizes: list[int], request_limit: int, event_limit: int, max_events: int
) -> int:
    """Minimal number of requests by DP over every cut (blocked events excluded)."""
    cap = min(event_limit, request_limit - 2)
    total = 0
    segment: list[int] = []
    for size in [*sizes, None]:
        if size is not None and size <= cap:
            segment.append(size)
            continue
        n = len(segment)
        best = [0] + [10**9] * n
        for j in range(1, n + 1):
            for i in range(j):
                if _feasible(segment, i, j, request_limit, max_events):
                    best[j] = min(best[j], best[i] + 1)
        total += best[n]
        segment = []
    return total


limits = st.tuples(
    st.integers(min_value=3, max_value=60),  # request limit
    st.integers(min_value=1, max_value=60),  # event limit
    st.integers(min_value=1, max_value=6),  # max events
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), max_size=14), limits)
def test_plan_properties(sizes: list[int], lims: tuple[int, int, int]) -> None:
    request_limit, event_limit, max_events = lims
    plan = plan_requests(
        sizes, request_limit=request_limit, event_limit=event_limit, max_events=max_events
    )
    blocked = {b.index for b in plan.blocked}
    # every event exactly once: in a request, or blocked; order kept
    covered = [i for rng in plan.requests for i in rng]
    assert covered == sorted(covered)
    assert sorted(covered + sorted(blocked)) == list(range(len(sizes)))
    assert not blocked & set(covered)
    # every request within every limit, and its size is the real body size
    for number, rng in enumerate(plan.requests):
        assert 1 <= len(rng) <= max_events
        body = array_body([b"x" * sizes[i] for i in rng])
        assert len(body) == plan.request_bytes(number) <= request_limit
        assert all(sizes[i] <= event_limit for i in rng)
    # a blocked event really fits nowhere
    for b in plan.blocked:
        assert b.size == sizes[b.index]
        assert b.size > event_limit or b.size + 2 > request_limit
    # minimal
    assert len(plan.requests) == _brute_force_count(sizes, request_limit, event_limit, max_events)
    assert plan.ok == (not blocked)


def test_fills_requests_up_to_the_byte() -> None:
    # 3 events of 10 bytes: [a,b,c] = 2 + 30 + 2 = 34 bytes
    plan = plan_requests([10, 10, 10], request_limit=34, event_limit=100)
    assert plan.requests == [range(3)]
    assert plan.request_bytes(0) == 34
    plan = plan_requests([10, 10, 10], request_limit=33, event_limit=100)
    assert plan.requests == [range(2), range(2, 3)]
    assert [plan.request_bytes(i) for i in range(2)] == [23, 12]
    assert plan.total_bytes == 35


def test_event_count_cap_splits_at_5000() -> None:
    plan = plan_requests([5] * 12001, request_limit=10**9, event_limit=100)
    assert [len(r) for r in plan.requests] == [5000, 5000, 2001]


def test_empty_batch_plans_nothing() -> None:
    plan = plan_requests([], request_limit=100, event_limit=100)
    assert plan.requests == [] and plan.blocked == [] and plan.ok
    assert plan.total_bytes == 0


def test_over_event_limit_is_blocked_with_reason() -> None:
    plan = plan_requests([100, 300_000, 100], request_limit=524_288, event_limit=262_144)
    assert not plan.ok
    (blocked,) = plan.blocked
    assert blocked.index == 1
    assert blocked.reason == (
        "Event is 300,000 bytes, over the per-event limit of 262,144 bytes"
    )
    # the rest is still planned around it, order kept
    assert plan.requests == [range(1), range(2, 3)]
    assert plan.request_of(2) == 1 and plan.request_of(1) is None


def test_alone_over_request_limit_is_blocked_with_reason() -> None:
    # one event of exactly request_limit - 1 bytes makes a 1-element array one byte too big
    plan = plan_requests([524_287], request_limit=524_288, event_limit=3 * 1024 * 1024)
    assert plan.blocked[0].reason == (
        "Event is 524,287 bytes; in a request of its own it makes 524,289 bytes, "
        "over the request limit of 524,288 bytes"
    )
    assert plan_requests([524_286], request_limit=524_288, event_limit=10**7).ok


def test_block_reason_none_when_it_fits() -> None:
    assert block_reason(10, request_limit=12, event_limit=10) is None


def test_bad_max_events_is_refused() -> None:
    with pytest.raises(ValueError, match="max_events must be at least 1"):
        plan_requests([1], request_limit=10, event_limit=10, max_events=0)


def test_large_plan_is_greedy_and_within_limits() -> None:
    sizes = [1000 + (i * 37) % 200 for i in range(100_000)]
    plan = plan_requests(sizes, request_limit=524_288, event_limit=3 * 1024 * 1024)
    assert plan.ok and plan.events == 100_000
    assert sum(len(r) for r in plan.requests) == 100_000
    assert all(plan.request_bytes(i) <= 524_288 for i in range(len(plan.requests)))
    # each request but the last is full: the next event would not have fitted
    for i, rng in enumerate(plan.requests[:-1]):
        assert plan.request_bytes(i) + sizes[rng.stop] + 1 > 524_288

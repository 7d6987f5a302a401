"""Confirmed outcomes against the real inbox and a loopback server that reports runs late."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from console.core.dedup import (
    DedupLedger,
    Outcome,
    OutcomeKind,
    Prediction,
    SentEvent,
    Verdict,
    format_time,
)
from console.core.plan import plan_requests
from console.core.serialize import event_bytes
from console.services.client import EventApiClient, Target
from console.services.environments import Environment
from console.services.history import HistoryStore, now_ms
from console.services.history_query import HistoryFilter
from console.services.history_recorder import HistoryRecorder
from console.services.history_session import SendSession
from console.services.outcomes import (
    STEP_EVENTS,
    OutcomeBatch,
    PollPolicy,
    RestAccess,
    confirm_outcomes,
)
from console.services.paths import app_paths
from console.services.sender import send_events
from console.services.targets import ResolvedTarget
from tests.support.fault_server import FaultServer, RecordedRequest, Reply
from tests.support.inbox_thread import running_inbox

FAST = PollPolicy(total=1.0, first_delay=0.05, factor=1.5, max_delay=0.25, settle=0.1)
RUNS_PATH = re.compile(r"^/v1/events/([0-9A-Z]+)/runs$")


@pytest.fixture
def store(app_home: Path):
    with HistoryStore(app_paths().ensure().history_db) as opened:
        yield opened


async def send_and_confirm(store: HistoryStore, origin: str, events: list[dict],
                           policy: PollPolicy = FAST) -> dict[int, Outcome]:
    """What `send` does: ledger from history, record while sending, then poll runs."""
    parts = [event_bytes(e) for e in events]
    ledger = DedupLedger(store.prior_sends("Inbox", [e["id"] for e in events if "id" in e]),
                         env="Inbox")
    predictions = ledger.classify(events, now_ms())
    recorder = HistoryRecorder(store, "Inbox", parts, predictions=predictions)
    plan = plan_requests([len(p) for p in parts], request_limit=512 * 1024, event_limit=1 << 20)
    client = EventApiClient()
    try:
        await send_events(client, Target(origin, "k"), parts, plan, observer=recorder)
        return await confirm_outcomes(client, RestAccess(origin), recorder.sent(),
                                      policy=policy, on_outcome=recorder.record_outcome)
    finally:
        await client.aclose()


def test_inbox_runs_and_a_deduplicated_repeat(store: HistoryStore):
    with running_inbox() as inbox:
        first = asyncio.run(send_and_confirm(store, inbox.url, [{"name": "a", "id": "x"}]))
        assert first[0].text == "ran: 1 run"
        original = store.query(HistoryFilter(dedup_id="x"))[0]
        again = asyncio.run(send_and_confirm(
            store, inbox.url, [{"name": "b", "id": "x"}, {"name": "c"}]))
    assert again[0].text == (f"deduplicated: no runs (first seen as {original.internal_id} "
                             f"at {format_time(original.time_ms)})")
    assert again[1].text == "ran: 1 run"
    rows = {r.name: r for r in store.query()}
    assert rows["b"].outcome == "deduplicated" and rows["b"].predicted == "duplicate"
    assert rows["c"].outcome_detail == "ran: 1 run" and rows["c"].predicted == "no dedup id"
    assert rows["a"].runs == 1 and '"run_id"' in (store.get(rows["a"].id).runs_json or "")


def test_duplicates_in_one_batch_and_events_that_trigger_nothing(store: HistoryStore):
    with running_inbox(triggers=("shop/*",)) as inbox:
        got = asyncio.run(send_and_confirm(store, inbox.url, [
            {"name": "shop/paid", "id": "y"}, {"name": "shop/paid", "id": "y"},
            {"name": "other/thing"},
        ], PollPolicy(total=0.6, first_delay=0.05, max_delay=0.2, settle=0.05)))
    first = store.query(HistoryFilter(name="shop/paid"))[-1]
    assert got[0].text == "ran: 1 run"
    assert got[1].text == (f"deduplicated: no runs (first seen as {first.internal_id} at "
                           f"{format_time(first.time_ms)})")
    assert got[2].text == "no runs (none within 0.6 s)"


def test_runs_that_appear_late_are_caught(store: HistoryStore):
    with running_inbox(run_delay=0.4) as inbox:
        got = asyncio.run(send_and_confirm(store, inbox.url, [{"name": "slow/job"}]))
    assert got[0].text == "ran: 1 run"


class LateRuns:
    """A REST runs endpoint that lists nothing for a while, then one run, then two."""

    def __init__(self, empty_polls: int) -> None:
        self.empty_polls = empty_polls
        self.polls: Counter[str] = Counter()

    def __call__(self, request: RecordedRequest) -> Reply:
        match = RUNS_PATH.match(request.path)
        if request.method != "GET" or match is None:
            return Reply.json(404, {"error": "Not found"})
        event_id = match.group(1)
        self.polls[event_id] += 1
        n = self.polls[event_id] - self.empty_polls
        if n <= 0:  # not stored yet, then stored with no runs yet
            return Reply.json(404 if n < 0 else 200, {"data": [], "metadata": {}})
        runs = [{"run_id": f"run-{i}", "event_id": event_id, "status": "Running"}
                for i in range(min(n, 2))]
        return Reply.json(200, {"data": runs, "metadata": {}})


def sent(*ids: str) -> list[SentEvent]:
    return [SentEvent(i, internal, now_ms()) for i, internal in enumerate(ids)]


async def confirm(origin: str, events: list[SentEvent], policy: PollPolicy = FAST,
                  access: RestAccess | None = None, getter: Any = None) -> dict[int, Outcome]:
    client = EventApiClient()
    try:
        return await confirm_outcomes(getter or client, access or RestAccess(origin), events,
                                      policy=policy)
    finally:
        await client.aclose()


def test_late_runs_from_a_loopback_server_and_the_settle_look():
    late = LateRuns(empty_polls=3)
    with FaultServer(default=late) as server:
        got = asyncio.run(confirm(server.origin, sent("01AAAAAAAAAAAAAAAAAAAAAAAA")))
    assert got[0].text == "ran: 2 runs"  # the second function's run came after the first
    assert late.polls["01AAAAAAAAAAAAAAAAAAAAAAAA"] >= 5


def test_bounded_concurrency():
    class Counting:
        def __init__(self, client: EventApiClient) -> None:
            self.client, self.now, self.most = client, 0, 0

        async def get_json(self, url: str, **kw: Any) -> tuple[int, Any]:
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                return await self.client.get_json(url, **kw)
            finally:
                self.now -= 1

    async def go(origin: str) -> tuple[dict[int, Outcome], int]:
        client = EventApiClient()
        counting = Counting(client)
        try:
            events = sent(*[f"01B{i:023d}" for i in range(12)])
            policy = PollPolicy(total=2.0, first_delay=0.01, concurrency=3)
            return await confirm_outcomes(counting, RestAccess(origin), events,
                                          policy=policy), counting.most
        finally:
            await client.aclose()

    def slow(request: RecordedRequest) -> Reply:
        return Reply.json(200, {"data": [{"run_id": "r"}]}, delay=0.05)

    with FaultServer(default=slow) as server:
        got, most = asyncio.run(go(server.origin))
    assert {o.text for o in got.values()} == {"ran: 1 run"}
    assert most == 3



RAN = Reply.json(200, {"data": [{"run_id": "r", "status": "Completed"}]})


def limited(retry_after: str | None = None, *, delay: float = 0.0, status: int = 429) -> Reply:
    headers = [("retry-after", retry_after)] if retry_after is not None else []
    return Reply.json(status, {"error": "rate limited"}, headers=headers, delay=delay)


class RateLimited:
    """A REST API answering lookup n (from 1) with `replies[n]`, and the runs of the event
    otherwise; it notes when each lookup came, and when each answer left."""

    def __init__(self, replies: dict[int, Reply]) -> None:
        self.replies = replies
        self.came: list[float] = []
        self.answered: list[tuple[float, int]] = []
        self.lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        now = time.monotonic()
        with self.lock:
            self.came.append(now)
            reply = self.replies.get(len(self.came), RAN)
            self.answered.append((now + reply.delay, reply.status))
        return reply

    def limited_at(self) -> list[float]:
        return [when for when, status in self.answered if status in (429, 503)]


def test_a_rate_limited_runs_lookup_waits_as_long_as_retry_after_asks():
    """Inngest Cloud's REST API answers 429 with Retry-After when the account's lookups
    come too fast. Every lookup of the batch waits that long (the limit is the account's),
    then the runs are confirmed; before, each event was looked up again on its own backoff
    (0.05 s here), into the same limit, and the console said nothing of it."""
    api = RateLimited({1: limited("1")})
    policy = PollPolicy(total=5.0, first_delay=0.01, factor=1.5, max_delay=0.25,
                        settle=0.05, concurrency=1)
    events = sent(*[f"01D{i:023d}" for i in range(6)])
    with FaultServer(default=api) as server:
        got = asyncio.run(confirm(server.origin, events, policy))
    assert {o.text for o in got.values()} == {"ran: 1 run"}
    [held_from] = api.limited_at()
    after = [when - held_from for when in api.came[1:]]
    assert after and min(after) >= 0.95  # nothing asked for during the second asked for


def test_a_longer_hold_asked_for_meanwhile_holds_the_lookups_already_waiting():
    """Four lookups at once: the first answers 503 (no Retry-After: a short hold), the
    second 429 asking for 1 s a little later. The lookups waiting out the short hold went
    out in the middle of the long one."""
    api = RateLimited({1: limited(status=503), 2: limited("1", delay=0.2)})
    # the 503's hold is the event's next backoff, 0.48 s: the others wait it out, and are
    # still waiting when the 429 comes back
    policy = PollPolicy(total=5.0, first_delay=0.3, factor=1.6, max_delay=2.0,
                        settle=0.05, concurrency=4)
    events = sent(*[f"01F{i:023d}" for i in range(8)])
    with FaultServer(default=api) as server:
        got = asyncio.run(confirm(server.origin, events, policy))
    assert {o.text for o in got.values()} == {"ran: 1 run"}
    long_hold = api.limited_at()[1]
    inside = [round(when - long_hold, 2) for when in api.came
              if long_hold < when < long_hold + 0.95]
    assert inside == []


@pytest.mark.parametrize(("retry_after", "said"), [("60", "60 s"), ("1e9", "a day or more")])
def test_a_retry_after_past_the_budget_ends_the_lookup_and_says_why(retry_after, said):
    api = RateLimited({1: limited(retry_after)})
    policy = PollPolicy(total=2.0, first_delay=0.01, concurrency=2)
    events = sent(*[f"01E{i:023d}" for i in range(5)])
    start = time.monotonic()
    with FaultServer(default=api) as server:
        got = asyncio.run(confirm(server.origin, events, policy))
    assert time.monotonic() - start < 1.5  # not held to the end of the budget
    [held_from] = api.limited_at()
    # none asked for once the 429 was in (a lookup beside it may still start meanwhile)
    assert [when - held_from for when in api.came if when > held_from + 0.3] == []
    unverified = [o for o in got.values() if o.kind.value == "unverified"]
    assert len(unverified) >= 4  # a lookup in flight beside the first may have seen runs
    assert all(f"answered 429 (too many requests; it asked to wait {said})" in o.text
               for o in unverified)


def test_an_empty_answer_before_a_hold_past_the_budget_is_no_verdict():
    """The event's first lookup found no runs yet (they usually show up after it), the next
    a 429 asking for a minute: it said "no runs (none within 10 s)" after 0.3 s, and a
    scenario's `dedup: "ran"` failed on it."""
    api = RateLimited({1: Reply.json(200, {"data": []}), 2: limited("60")})
    events = sent("01G" + "0" * 23)
    with FaultServer(default=api) as server:
        [outcome] = asyncio.run(confirm(server.origin, events, FAST)).values()
    assert outcome.kind.value == "unverified"
    assert "answered 429 (too many requests; it asked to wait 60 s)" in outcome.text


def test_events_the_budget_never_reached_say_so_after_a_brief_rate_limit():
    """A 429 early on, asking for 0.1 s; the API answers again, but the budget ends before
    every event is looked up: those were "not checked within" it, as before the hold was
    made (they all said "answered 429")."""
    slow = {n: dataclasses.replace(RAN, delay=0.05) for n in range(2, 400)}
    api = RateLimited({1: limited("0.1"), **slow})
    policy = PollPolicy(total=0.8, first_delay=0.01, concurrency=2)
    events = sent(*[f"01H{i:023d}" for i in range(200)])
    with FaultServer(default=api) as server:
        got = asyncio.run(confirm(server.origin, events, policy))
    texts = Counter(o.text for o in got.values())
    assert texts["ran: 1 run"] >= 5
    unchecked = "unverified: not checked within 0.8 s (200 events to check)"
    assert texts[unchecked] >= 100, texts
    # only the event whose own lookup was answered 429 may say so
    assert sum(n for text, n in texts.items() if "429" in text) <= 1, texts


def test_events_left_at_the_deadline_are_settled_without_hogging_the_loop():
    """A big batch: most events are still unchecked when the budget runs out. They are
    told "not checked" over several loop steps, the loop running other tasks in between
    (all of them in one step froze the window for 190 ms at 20,000 events)."""
    heard: list[int] = []
    seen_by_ticks: list[int] = []

    async def go(origin: str) -> dict[int, Outcome]:
        client = EventApiClient()
        stop = asyncio.Event()

        async def heartbeat() -> None:
            while not stop.is_set():
                seen_by_ticks.append(len(heard))
                await asyncio.sleep(0)

        beat = asyncio.create_task(heartbeat())
        try:
            events = sent(*[f"01C{i:023d}" for i in range(2_000)])
            policy = PollPolicy(total=0.3, first_delay=0.01, concurrency=2)
            return await confirm_outcomes(
                client, RestAccess(origin), events, policy=policy,
                on_outcome=lambda event, outcome, runs: heard.append(event.index))
        finally:
            stop.set()
            await beat
            await client.aclose()

    def slow(request: RecordedRequest) -> Reply:
        return Reply.json(200, {"data": []}, delay=0.1)

    with FaultServer(default=slow) as server:
        got = asyncio.run(go(server.origin))
    assert len(got) == 2_000 and len(heard) == 2_000
    unverified = [o for o in got.values() if o.kind.value == "unverified"]
    assert len(unverified) > 1_900
    assert "not checked within 0.3 s (2,000 events to check)" in unverified[0].text
    steps = [b - a for a, b in itertools.pairwise(seen_by_ticks)]
    assert max(steps) <= 2 * STEP_EVENTS  # per worker between two ticks: not all at once

def test_unverified_without_rest_access():
    cloud = RestAccess.for_environment(name="Inngest Cloud", kind="cloud",
                                       rest_origin="https://api.inngest.com")
    got = asyncio.run(confirm("unused", sent("01C", "01D"), access=cloud))
    assert [o.text for o in got.values()] == [
        "unverified: no signing key for Inngest Cloud: add one to confirm runs"] * 2
    none = RestAccess.for_environment(name="Custom", kind="custom", rest_origin="")
    assert none.reason == "no REST API origin is set for Custom"
    dev = RestAccess.for_environment(name="Dev", kind="dev", rest_origin="http://x:8288/")
    assert (dev.origin, dev.bearer) == ("http://x:8288", None)


def test_unverified_when_the_api_refuses_the_key_or_does_not_answer():
    key = "signkey-prod-abcdef0123456789"
    with FaultServer(default=lambda r: Reply.json(401, {"error": f"bad key {key}"})) as server:
        access = RestAccess.for_environment(name="Self", kind="custom",
                                            rest_origin=server.origin, signing_key=key)
        got = asyncio.run(confirm(server.origin, sent("01E"), access=access))
        auth = server.requests[0].header("authorization")
    assert auth == f"Bearer {key}"
    assert got[0].text == (
        f"unverified: the REST API at {server.origin} refused the signing key (401)")
    assert key not in repr(access)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"
    got = asyncio.run(confirm(origin, sent("01F"), PollPolicy(total=0.3, first_delay=0.05)))
    assert got[0].text == f"unverified: the REST API at {origin} did not answer"


def test_polling_is_cancellable():
    async def go(origin: str) -> None:
        task = asyncio.create_task(confirm(origin, sent("01G", "01H"), PollPolicy(total=30)))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    with FaultServer(default=lambda r: Reply.json(200, {"data": []})) as server:
        asyncio.run(go(server.origin))


def test_send_session_as_the_cli_uses_it(app_home: Path):
    events = [{"name": "a", "id": "s-1"}, {"name": "a", "id": "s-1"}, {"name": "b"}]
    parts = [event_bytes(e) for e in events]
    plan = plan_requests([len(p) for p in parts], request_limit=512 * 1024, event_limit=1 << 20)
    notes: list[str] = []

    async def go(origin: str) -> list[dict[str, Any]]:
        env = Environment(name="Inbox", kind="inbox", event_origin=origin, rest_origin=origin)
        resolved = ResolvedTarget(env, Target(origin, "NO_EVENT_KEY_SET"), None, "placeholder")
        session = SendSession.open(resolved, events, parts, notify=notes.append, policy=FAST)
        client = EventApiClient()
        try:
            outcomes = await send_events(client, resolved.target, parts, plan,
                                         observer=session.observer)
            verified = await session.confirm(client, outcomes)
        finally:
            await client.aclose()
            session.close()
        return [session.describe(o, verified) for o in outcomes]

    with running_inbox() as inbox:
        [line] = asyncio.run(go(inbox.url))
    assert notes == ["event #2: duplicate of event #1 in this batch: Inngest will accept it and "
                     "start no runs"]
    assert [d["verdict"] for d in line["dedup"]] == ["new", "duplicate in batch", "no dedup id"]
    assert [r["outcome"] for r in line["runs"]] == ["ran", "deduplicated", "ran"]
    assert line["summary"] == "3 accepted · 1 deduplicated · 2 ran"


def test_outcomes_reach_the_history_in_batches_and_all_of_them():
    writes: list[list[int]] = []
    batch = OutcomeBatch(lambda rows: writes.append([r[0] for r in rows]) or len(writes), size=3)
    ran = Outcome(OutcomeKind.RAN, runs=1)
    for i in range(7):
        batch.add(SentEvent(i, f"01D{i:023d}", 0, None, "a/b", None, 100 + i), ran, None)
    batch.add(SentEvent(7, "01E", 0, None, "a/b", None, None), ran, None)  # not in history
    assert writes == [[100, 101, 102], [103, 104, 105]]
    assert batch.flush() == 3 and writes[-1] == [106]
    assert batch.flush() == 3 and len(writes) == 3  # nothing left: nothing written again


def test_nothing_is_fetched_after_the_budget_even_with_a_backlog():
    """Second looks (after runs first show up) queue behind first looks of a big batch;
    at the deadline they are not fetched any more: what was seen is counted. (They used to
    go on: 20,000 events took 19 s of a 10 s budget.)"""
    starts: list[float] = []

    class Timed:
        def __init__(self, client: EventApiClient) -> None:
            self.client = client

        async def get_json(self, url: str, **kw: Any) -> tuple[int, Any]:
            starts.append(asyncio.get_running_loop().time())
            return await self.client.get_json(url, **kw)

    async def go(origin: str) -> tuple[dict[int, Outcome], float]:
        client = EventApiClient()
        try:
            policy = PollPolicy(total=0.4, first_delay=0.01, settle=0.05, concurrency=1)
            began = asyncio.get_running_loop().time()
            got = await confirm_outcomes(Timed(client), RestAccess(origin),
                                         sent(*[f"01F{i:023d}" for i in range(200)]),
                                         policy=policy)
            return got, began + policy.total
        finally:
            await client.aclose()

    def ran(request: RecordedRequest) -> Reply:
        return Reply.json(200, {"data": [{"run_id": "r"}]}, delay=0.01)

    with FaultServer(default=ran) as server:
        got, deadline = asyncio.run(go(server.origin))
    assert len(got) == 200
    kinds = Counter(o.kind.value for o in got.values())
    assert kinds["ran"] >= 5 and kinds["ran"] + kinds["unverified"] == 200
    late = [t for t in starts if t > deadline + 0.1]  # 0.1 s: the poller starts after `began`
    assert late == [], f"{len(late)} of {len(starts)} looks after the budget"


def test_a_rest_api_that_never_answers_is_given_up_on_at_the_budget():
    """A lookup waited the client's 30 s whatever the budget: `send` took 31 s with
    EVENT_CONSOLE_VERIFY_SECONDS=3, `run` 30 s more per step."""
    with FaultServer(default=lambda r: Reply.hang()) as server:
        began = time.perf_counter()
        got = asyncio.run(confirm(server.origin, sent("01J", "01K"),
                                  PollPolicy(total=1.0, first_delay=0.05)))
        took = time.perf_counter() - began
    assert took < 3, took
    assert [o.text for o in got.values()] == [
        "unverified: not checked within 1 s (2 events to check)"] * 2


def test_a_404_to_every_lookup_confirms_nothing_but_one_until_the_event_is_stored_does_not():
    """A wrong REST origin, or an event that API cannot see, answers 404 to the end: that
    had read as "no runs", and for a repeated id as a confirmed "deduplicated"."""
    first = Prediction(1, "order-1", Verdict.DUPLICATE, "sent before", first_internal_id="01A")
    events = [SentEvent(0, "01M", now_ms()), SentEvent(1, "01N", now_ms(), prediction=first)]
    with FaultServer(default=lambda r: Reply.json(404, {"error": "Not found"})) as server:
        got = asyncio.run(confirm(server.origin, events, PollPolicy(total=0.4, first_delay=0.05)))
        asked = len(server.requests)
    assert [o.text for o in got.values()] == [
        f"unverified: the REST API at {server.origin} answered 404 (no such event) to every "
        "lookup"] * 2
    assert asked > 2  # looked again after each 404, within the budget
    polls: Counter[str] = Counter()

    def stored_late(request: RecordedRequest) -> Reply:  # 404 twice, then no runs
        polls[request.path] += 1
        return Reply.json(404 if polls[request.path] <= 2 else 200, {"data": []})

    with FaultServer(default=stored_late) as server:
        got = asyncio.run(confirm(server.origin, events, FAST))
    assert got[0].text == "no runs (none within 1 s)"
    assert got[1].kind is OutcomeKind.DEDUPLICATED


def test_runs_that_are_not_json_are_named_as_such():
    with FaultServer(default=lambda r: Reply.text(200, "<html>runs</html>")) as server:
        got = asyncio.run(confirm(server.origin, sent("01L"),
                                  PollPolicy(total=0.3, first_delay=0.05)))
    assert got[0].text == (f"unverified: the REST API at {server.origin} answered 200 with a "
                           "body that is not a list of runs")


@pytest.mark.parametrize("raw, total", [
    ("3", 3.0), ("", 10.0), ("soon", 10.0), ("nan", 10.0), ("-4", 0.0),
    ("inf", 3600.0), ("1e400", 3600.0),
])
def test_the_verify_budget_from_the_environment_is_never_endless(monkeypatch, raw, total):
    """NaN kept every runs lookup going for ever (its deadline was never reached)."""
    from console.services.history_session import poll_policy_from_env

    monkeypatch.setenv("EVENT_CONSOLE_VERIFY_SECONDS", raw)
    assert poll_policy_from_env().total == total

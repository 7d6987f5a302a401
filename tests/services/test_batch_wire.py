"""Meter, preview and wire agree to the byte; a bad event mid-batch is a partial acceptance."""

from __future__ import annotations

import asyncio
from typing import Any

from console.core.batch import Batch, RequestReport, tally
from console.core.ids import IdSeed
from console.core.serialize import array_body
from console.services.client import EventApiClient, SendResult, Target
from console.services.inbox import CapturedEvent, InboxServer
from console.services.sender import RequestOutcome, send_events

KEY = "wire-test-key-0123456789"


def make_events(n: int, pad: int = 900) -> list[dict[str, Any]]:
    # non-ASCII on purpose: sizes are UTF-8 bytes, not characters
    return [
        {"name": f"wire/e{i}", "data": {"i": i, "text": "é日" * 3 + "x" * pad}, "id": f"w-{i}"}
        for i in range(n)
    ]


class Bodies:
    """An observer that keeps each request body as it went out."""

    def __init__(self) -> None:
        self.bodies: dict[int, bytes] = {}
        self.done: dict[int, SendResult] = {}

    def on_pending(self, request_no: int, rng: range, body: bytes, seed: IdSeed) -> None:
        self.bodies[request_no - 1] = body

    def on_done(self, request_no: int, rng: range, result: SendResult) -> None:
        self.done[request_no - 1] = result


async def _send(
    batch: Batch, request_limit: int, concurrency: int = 1
) -> tuple[list[RequestOutcome], Bodies, list[CapturedEvent]]:
    server = InboxServer()
    await server.start()
    client = EventApiClient()
    observer = Bodies()
    try:
        plan = batch.plan(request_limit, 3 * 1024 * 1024)
        outcomes = await send_events(
            client, Target(server.url, KEY), batch.parts, plan,
            concurrency=concurrency, observer=observer,
        )
        return outcomes, observer, list(server.events)
    finally:
        await client.aclose()
        await server.stop()


def test_meter_preview_and_wire_agree_to_the_byte() -> None:
    batch = Batch(make_events(120))
    limit = 40_000
    plan = batch.plan(limit, 3 * 1024 * 1024)
    meters = batch.meters(limit, 3 * 1024 * 1024, selected=7)
    preview = batch.bodies(plan)  # what PreviewDialog shows
    assert len(plan.requests) == meters.requests > 1
    # the request meter is the whole batch as one body
    assert meters.request.value == len(array_body(batch.parts))
    assert meters.event is not None and meters.event.value == len(batch.part(7))

    outcomes, observer, received = asyncio.run(_send(batch, limit, concurrency=3))

    assert all(o.result.ok for o in outcomes)
    for i, body in enumerate(preview):
        assert observer.bodies[i] == body  # byte for byte
        assert len(body) == plan.request_bytes(i) == observer.done[i].request_bytes <= limit
    # what the server read: each event's raw bytes are the cached part, in order per request
    by_name = {e.name: e for e in received}
    assert len(received) == 120
    for i in range(120):
        captured = by_name[f"wire/e{i}"]
        assert captured.raw == batch.part(i)
        assert captured.size == batch.size(i) == len(batch.part(i))
    for i, rng in enumerate(plan.requests):
        raws = [by_name[f"wire/e{j}"].raw for j in rng]
        assert array_body(raws) == preview[i]


def test_partial_acceptance_with_a_bad_event_in_the_middle() -> None:
    events = make_events(30, pad=100)
    events[17]["name"] = ""  # Inngest: "event name is empty"
    batch = Batch(events)
    limit = 1500  # several requests; the bad one sits inside one of them
    plan = batch.plan(limit, 3 * 1024 * 1024)
    bad_request = plan.request_of(17)
    assert bad_request is not None and plan.requests[bad_request].start < 17

    outcomes, _observer, received = asyncio.run(_send(batch, limit))

    bad = outcomes[bad_request].result
    assert bad.status == 400
    assert bad.error == "event name is empty"
    rng = plan.requests[bad_request]
    assert bad.accepted == len(bad.ids) == 17 - rng.start  # those before it were taken

    reports = {i: RequestReport(o.result.status, o.result.accepted, o.result.error)
               for i, o in enumerate(outcomes)}
    result = tally(plan.requests, reports)
    assert result.rejected == [(17, "event name is empty")]
    assert result.not_accepted == list(range(18, rng.stop))
    # every event the tally calls accepted is in the inbox, and nothing else is
    assert sorted(int(e.name.removeprefix("wire/e")) for e in received) == result.accepted
    assert result.rest == list(range(17, rng.stop))
    # the internal ids returned are the ids the inbox stored for exactly those events
    stored = {e.internal_id: e.name for e in received}
    assert [stored[i] for i in bad.ids] == [f"wire/e{j}" for j in range(rng.start, 17)]


def test_progress_counts_an_answer_even_when_cancelled_while_it_is_recorded() -> None:
    """The window's history write of an answer is awaited; Cancel landing in that await
    left the progress bar one request behind the log (2,532 shown, 3,038 accepted)."""
    seen: list[tuple[int, int]] = []
    recording = asyncio.Event()

    class SlowRecorder(Bodies):
        def on_done(self, request_no: int, rng: range, result: SendResult) -> Any:
            super().on_done(request_no, rng, result)
            recording.set()
            return asyncio.get_running_loop().create_future()  # a write that never ends

    async def go() -> None:
        server = InboxServer()
        await server.start()
        client = EventApiClient()
        batch = Batch(make_events(30))
        plan = batch.plan(10_000, 3 * 1024 * 1024)
        try:
            task = asyncio.create_task(send_events(
                client, Target(server.url, KEY), batch.parts, plan, observer=SlowRecorder(),
                progress=lambda events, size: seen.append((events, size))))
            await recording.wait()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert len(server.events) == len(plan.requests[0])
            assert seen == [(len(plan.requests[0]), plan.request_bytes(0))]
        finally:
            await client.aclose()
            await server.stop()

    asyncio.run(go())

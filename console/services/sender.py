"""Send planned requests in order, N in flight, reporting before and after each one.

The observer hears `on_pending` before a request leaves (so history can record it first)
and `on_done` after. Cancelling the task stops everything: requests not yet started are
never sent; the in-flight ones are aborted.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from console.core.ids import IdSeed
from console.core.plan import BatchPlan
from console.core.serialize import array_body
from console.services.client import EventApiClient, SendResult, Target


class SendObserver(Protocol):
    """May return an awaitable: the sender waits for it (history commits the pending row
    before the request leaves, on its own thread, without blocking the loop)."""

    def on_pending(
        self, request_no: int, rng: range, body: bytes, seed: IdSeed
    ) -> Awaitable[None] | None: ...

    def on_done(
        self, request_no: int, rng: range, result: SendResult
    ) -> Awaitable[None] | None: ...


@dataclass(frozen=True)
class RequestOutcome:
    request_no: int
    events: range
    result: SendResult


class Observers:
    """Several sender observers as one, called in order."""

    def __init__(self, *observers: Any) -> None:
        self.observers = [o for o in observers if o is not None]

    def on_pending(self, request_no: int, rng: range, body: bytes,
                   seed: IdSeed) -> Awaitable[Any] | None:
        return _all([o.on_pending(request_no, rng, body, seed) for o in self.observers])

    def on_done(self, request_no: int, rng: range,
                result: SendResult) -> Awaitable[Any] | None:
        return _all([o.on_done(request_no, rng, result) for o in self.observers])


def _all(results: list[Any]) -> Awaitable[Any] | None:
    """One awaitable for the observers that returned one (the sender awaits it)."""
    waits = [r for r in results if inspect.isawaitable(r)]
    if len(waits) < 2:
        return waits[0] if waits else None
    return asyncio.gather(*waits)


Progress = Callable[[int, int], None]  # (events done, bytes done)


async def _maybe(result: Awaitable[None] | None) -> None:
    if result is not None and inspect.isawaitable(result):
        await result


async def send_events(
    client: EventApiClient,
    target: Target,
    parts: Sequence[bytes],
    plan: BatchPlan,
    *,
    concurrency: int = 1,
    observer: SendObserver | None = None,
    progress: Progress | None = None,
) -> list[RequestOutcome]:
    """Send every planned request; outcomes come back in plan order."""
    if not plan.ok:
        raise ValueError("the plan has blocked events; nothing may be sent")
    gate = asyncio.Semaphore(max(1, concurrency))
    done_events = 0
    done_bytes = 0

    async def one(request_no: int, rng: range) -> RequestOutcome:
        nonlocal done_events, done_bytes
        async with gate:
            body = array_body(parts[rng.start : rng.stop])
            seed = IdSeed.fresh()
            if observer is not None:
                await _maybe(observer.on_pending(request_no, rng, body, seed))
            result = await client.send(target, body, len(rng), seed=seed)
            done_events += len(rng)
            done_bytes += len(body)
            if progress is not None:  # before the observer's await: a cancel landing there
                progress(done_events, done_bytes)  # must not leave this answer uncounted
            if observer is not None:
                await _maybe(observer.on_done(request_no, rng, result))
            return RequestOutcome(request_no, rng, result)

    if concurrency <= 1:
        outcomes = []
        for request_no, rng in enumerate(plan.requests, start=1):
            outcomes.append(await one(request_no, rng))
        return outcomes
    tasks = [
        asyncio.ensure_future(one(n, rng)) for n, rng in enumerate(plan.requests, start=1)
    ]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

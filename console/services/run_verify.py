"""How the runner learns what Inngest did with a step's events.

Two ways: a history session (the dedup ledger predicts, the history records every request
before it leaves, runs are confirmed and written back: `history_session.SendSession`), or,
without a history, `RunsVerifier`, which only looks runs up. Both say per event "ran",
"deduplicated", "no runs" or "unverified", which is what `expect.dedup` compares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol

from console.services.client import EventApiClient
from console.services.sender import RequestOutcome, SendObserver


class OutcomeVerifier(Protocol):
    """Confirms what Inngest did with each accepted event ("ran", "deduplicated", ...)."""

    async def outcomes(self, events: Sequence[Any], ids: Sequence[str],
                       seen: AbstractSet[str]) -> list[str]: ...


class StepSession(Protocol):
    """History around one step's send (services.history_session.SendSession fits): records
    each request before it leaves, predicts dedup, confirms runs on demand."""

    observer: SendObserver

    async def confirm(self, client: Any, outcomes: Sequence[RequestOutcome]
                      ) -> Mapping[int, Any]: ...

    def describe(self, outcome: RequestOutcome, verified: Mapping[int, Any] | None
                 ) -> dict[str, Any]: ...

    def close(self) -> None: ...


SessionFactory = Callable[[Sequence[Any], Sequence[bytes], str], StepSession]


class RunsVerifier:
    """Looks up each event's runs (`GET /v1/events/{id}/runs`) until some appear or the
    window closes. No runs for an event whose `id` this run sent before: "deduplicated"."""

    def __init__(self, client: EventApiClient, rest_origin: str, *, bearer: str | None = None,
                 window: float = 3.0, interval: float = 0.2) -> None:
        self.client = client
        self.rest_origin = rest_origin.rstrip("/")
        self.bearer = bearer
        self.window = window
        self.interval = interval

    async def outcomes(self, events: Sequence[Any], ids: Sequence[str],
                       seen: AbstractSet[str]) -> list[str]:
        jobs = []
        prior = set(seen)
        for event, internal_id in zip(events, ids, strict=False):
            jobs.append(self._one(event, internal_id, frozenset(prior)))
            if isinstance(event, dict) and isinstance(event.get("id"), str):
                prior.add(event["id"])
        return list(await asyncio.gather(*jobs))

    async def _one(self, event: Any, internal_id: str, seen: AbstractSet[str]) -> str:
        url = f"{self.rest_origin}/v1/events/{internal_id}/runs"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window
        while True:
            status, body = await self.client.get_json(url, bearer=self.bearer)
            if status in (401, 403):
                return "unverified"
            runs = body.get("data") if status == 200 and isinstance(body, dict) else None
            if isinstance(runs, list) and runs:
                return "ran"
            if loop.time() >= deadline:
                break
            await asyncio.sleep(self.interval)
        if status != 200:
            return "unverified"
        dedup_id = event.get("id") if isinstance(event, dict) else None
        return "deduplicated" if dedup_id and dedup_id in seen else "no runs"

"""The inbox's REST v1 lookups: list events, show one, list the runs it started.

Shaped like Inngest's REST API (`{"data": ..., "metadata": ...}`) so the console's
confirmed-outcome polling talks to the inbox exactly as it talks to Inngest Cloud. No
auth is needed, as with the Dev Server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from console.core.ids import ulid_millis
from console.services.inbox_http import HttpResponse, go_json
from console.services.inbox_store import EventLog, RunSimulator, iso_millis

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def rest_error(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, go_json({"error": message, "status": status}))


class RestApi:
    def __init__(self, log: EventLog, runs: RunSimulator, clock_ms: Callable[[], int],
                 loop_time: Callable[[], float]) -> None:
        self._log = log
        self._runs = runs
        self._clock_ms = clock_ms
        self._loop_time = loop_time

    def handle(self, path: str, query: str) -> HttpResponse:
        """`path` starts with /v1/events; GET only (the caller checked the method)."""
        parts = [p for p in path[len("/v1/events"):].split("/") if p]
        if not parts:
            return self._list(query)
        event_id = parts[0]
        if len(parts) > 2 or (len(parts) == 2 and parts[1] != "runs"):
            return rest_error(404, "Not found")
        if ulid_millis(event_id) is None:
            return rest_error(400, f"Invalid event ID: {event_id}")
        event = self._log.get(event_id.upper())
        if event is None:
            return rest_error(404, f"Event not found: {event_id}")
        if len(parts) == 1:
            return HttpResponse(200, go_json({"data": event.to_json(), "metadata": self._meta()}))
        runs = self._runs.runs_for(event.internal_id, self._loop_time())
        return HttpResponse(200, go_json({"data": [r.to_json() for r in runs], "metadata": {}}))

    def _meta(self) -> dict[str, object]:
        return {"fetched_at": iso_millis(self._clock_ms()), "cached_until": None}

    def _list(self, query: str) -> HttpResponse:
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        try:
            limit = int(params.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            return rest_error(400, "Invalid limit query parameter")
        limit = min(max(limit, 1), MAX_LIMIT)
        cursor = params.get("cursor") or None
        if cursor is not None and ulid_millis(cursor) is None:
            return rest_error(400, "Invalid cursor query parameter")
        bounds: dict[str, int] = {}
        for key in ("received_after", "received_before"):
            if params.get(key):
                millis = _parse_time(params[key])
                if millis is None:
                    return rest_error(400, f"Invalid {key} query parameter")
                bounds[key] = millis
        name = params.get("name") or None
        after = bounds.get("received_after")
        before = bounds.get("received_before")
        page = []
        for event in self._log.newest_first(cursor.upper() if cursor else None):
            if before is not None and event.received_at_ms > before:
                continue
            if after is not None and event.received_at_ms < after:
                continue
            if name is not None and event.name != name:
                continue
            page.append(event.to_json())
            if len(page) == limit:
                break
        return HttpResponse(200, go_json({"data": page, "metadata": self._meta()}))


def _parse_time(value: str) -> int | None:
    """RFC 3339 (with `Z` or an offset) to epoch milliseconds."""
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)

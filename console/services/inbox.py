"""The built-in inbox: an Inngest Event API inside the app, on the app's asyncio loop.

It answers `POST /e/{key}` as the Dev Server does (same statuses, messages, seed-derived
ids, partial acceptance; see ../shared/inngest-event-api.md), so the console can be
tried and tested with no Inngest around, and so an app under test pointed at it
(`INNGEST_DEV=http://127.0.0.1:<port>`) shows what it sends. It simulates function runs
for `GET /v1/events/{id}/runs` so deduplication can be confirmed. It listens on
loopback only unless told otherwise: it takes events from anyone who can reach it.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import unquote

from console.core.errors import InputError
from console.core.ids import IdSeed, random_ulid
from console.services.environments import is_loopback_host
from console.services.inbox_decode import decode_body
from console.services.inbox_http import (
    ConnectionLimits,
    HttpRequest,
    HttpResponse,
    HttpServer,
    go_json,
)
from console.services.inbox_rest import RestApi
from console.services.inbox_store import (
    KEEP_BYTES,
    KEEP_EVENTS,
    CapturedEvent,
    EventLog,
    RunSimulator,
    SimulatedRun,
)

__all__ = ["DEFAULT_EVENT_LIMIT", "KEEP_BYTES", "KEEP_EVENTS", "MAX_BODY", "CapturedEvent",
           "InboxServer", "SimulatedRun"]

log = logging.getLogger(__name__)

DEFAULT_EVENT_LIMIT = 3 * 1024 * 1024
MAX_BODY = 64 * 1024 * 1024
THREAD_THRESHOLD = 256 * 1024  # bodies bigger than this are decoded off the loop
ACCEPT_SLICE = 200  # events stored between yields to the loop (~5 ms of work)
_SEED_HEADER = "x-inngest-event-id-seed"
_TEXT = "text/plain; charset=utf-8"  # what Go sniffs for the event endpoint's JSON
_MAX_MILLIS = (1 << 48) - 1
_BANNER = b"Event Console inbox: POST events to /e/{key}; GET /health, /v1/events\n"


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless the caller explicitly allowed it."""
    if allow_remote or host == "localhost":
        return
    if not is_loopback_host(host):
        raise InputError(
            f"the inbox listens on loopback only (127.0.0.1, ::1, localhost), not {host!r}: "
            "it accepts events from anyone who can reach it. Allow a remote address "
            "explicitly (--allow-remote) if you mean it."
        )


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def listen_problem(exc: OSError, port: int, *, window: bool = False) -> str:
    """Why the inbox cannot listen on `port`, and what to do, in words: asyncio's own text
    quotes a Python tuple ("error while attempting to bind on address ('127.0.0.1',
    8288): address already in use")."""
    # the window tries a free port by itself when the saved one fails
    other = "" if window else ": pick another with --port N, or --port 0 for any free one"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use (a Dev Server, or another inbox?){other}"
    if exc.errno == errno.EACCES:
        return f"port {port} needs privileges this user lacks{other}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "that address is not one of this machine's"
    text = exc.strerror or str(exc)
    return text.rsplit("): ", 1)[-1] if "error while attempting to bind" in text else text


class InboxServer:
    """An Event API + REST lookups server; `start()` then `stop()` on the same loop."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_remote: bool = False,
        event_limit: int = DEFAULT_EVENT_LIMIT,
        event_key: str | None = None,
        triggers: Sequence[str] = ("*",),
        on_event: Callable[[CapturedEvent], None] | None = None,
        run_delay: float = 0.0,
        max_body: int = MAX_BODY,
        clock: Callable[[], int] | None = None,
        keep_events: int = KEEP_EVENTS,
        keep_bytes: int = KEEP_BYTES,
        limits: ConnectionLimits | None = None,
    ) -> None:
        check_host(host, allow_remote)
        if not 0 <= port <= 65535:
            raise InputError(f"port {port} is out of range (0-65535)")
        self.host = host
        self.port = port
        self.event_limit = event_limit
        self._event_key = event_key.encode("utf-8") if event_key is not None else None
        self._on_event = on_event
        self._clock = clock or _now_ms
        self._log = EventLog(keep_events, keep_bytes)
        self.events: list[CapturedEvent] = self._log.events
        self._runs = RunSimulator(list(triggers), run_delay=run_delay)
        self._rest = RestApi(self._log, self._runs, self._clock, time.monotonic)
        self._http = HttpServer(self._handle, max_body=max_body, too_large=self._too_large,
                                limits=limits or ConnectionLimits())
        self._running = False

    @property
    def url(self) -> str:
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        """Listen; OSError (e.g. the port is taken) propagates for the caller to word."""
        # "localhost" would bind 127.0.0.1 and ::1 on two different ports when port is 0
        bind = "127.0.0.1" if self.host == "localhost" else self.host.strip("[]")
        self.port = await self._http.start(bind, self.port)
        self._running = True

    async def stop(self) -> None:
        self._running = False
        await self._http.stop()

    async def __aenter__(self) -> InboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def event(self, internal_id: str) -> CapturedEvent | None:
        return self._log.get(internal_id)

    def runs(self, internal_id: str) -> list[dict[str, Any]]:
        """The simulated runs of an event that are visible now (as the REST API lists them)."""
        return [r.to_json() for r in self._runs.runs_for(internal_id, time.monotonic())]

    def first_seen(self, dedup_id: str) -> tuple[str, int] | None:
        """(internal id, received ms) of the event whose `id` window is open."""
        return self._runs.first_seen(dedup_id)

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        response = self._route(request)
        if isinstance(response, HttpResponse):
            result = response
        else:
            result = await response
        origin = request.headers.get("origin")
        if origin:
            result = result.with_headers((("access-control-allow-origin", origin),
                                          ("vary", "Origin")))
        return result

    def _route(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        method, path = request.method, request.path
        if method == "OPTIONS" and "access-control-request-method" in request.headers:
            return _preflight(request)
        key = _event_key(path)
        if key is not None:
            if method != "POST":
                return _not_allowed("POST")
            return self._receive(request, key)
        if path == "/health":
            if method != "GET":
                return _not_allowed("GET")
            return HttpResponse(200, go_json({"status": 200, "message": "OK"}))
        if path == "/v1/events" or path.startswith("/v1/events/"):
            if method != "GET":
                return _not_allowed("GET")
            return self._rest.handle(path, request.query)
        if path == "/" and method == "GET":
            return HttpResponse(200, _BANNER, _TEXT)
        return HttpResponse(404, b"404 page not found\n", _TEXT)

    def _key_problem(self, key: str) -> HttpResponse | None:
        if not key:
            return _unauthorized("Event key is required")
        if self._event_key is not None and not hmac.compare_digest(
            key.encode("utf-8"), self._event_key
        ):
            return _unauthorized("Event key not found")
        return None

    async def _receive(self, request: HttpRequest, key: str) -> HttpResponse:
        refused = self._key_problem(key)
        if refused is not None:
            return refused
        now_ms = self._clock()
        seed = _seed(request.headers.get(_SEED_HEADER, ""))
        if len(request.body) > THREAD_THRESHOLD:  # keep the loop (and the window) responsive
            events, error = await asyncio.to_thread(self._prepare, request.body, now_ms, seed)
        else:
            events, error = self._prepare(request.body, now_ms, seed)
        for count, event in enumerate(events, 1):
            self._accept(event)
            if count % ACCEPT_SLICE == 0:
                await asyncio.sleep(0)
        ids = [event.internal_id for event in events]
        if error is not None:
            return HttpResponse(400, go_json({"ids": ids, "status": 400, "error": error}), _TEXT)
        return HttpResponse(200, go_json({"ids": ids, "status": 200}), _TEXT)

    def _prepare(self, body: bytes, now_ms: int,
                 seed: IdSeed | None) -> tuple[list[CapturedEvent], str | None]:
        """Decode and name the events (pure: safe off the loop); the first problem, if any."""
        decoded = decode_body(body, event_limit=self.event_limit, now_ms=now_ms)
        events = [
            CapturedEvent(seed.event_id(index) if seed is not None else random_ulid(now_ms),
                          now_ms, item.name, item.event, item.size, item.raw)
            for index, item in enumerate(decoded.events)
        ]
        return events, decoded.error

    def _accept(self, event: CapturedEvent) -> None:
        if self._log.get(event.internal_id) is not None:
            # a retried request (its seed repeats an earlier one's): the same internal id,
            # taken once, as the seed is there for. It was captured again, with its runs
            # started again ("ran: 3 runs" for one event sent with two retries)
            return
        forgotten = self._log.add(event)
        if forgotten:
            self._runs.forget(forgotten, event.received_at_ms)
        self._runs.record(event, time.monotonic())
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                log.exception("inbox on_event callback failed")

    def _too_large(self, path: str, limit: int) -> HttpResponse:
        """A body over the inbox's own cap (the Dev Server has none; this one keeps memory
        bounded): a send without a valid key is refused for that first, as it would be."""
        key = _event_key(path)
        if key is not None:
            refused = self._key_problem(key)
            if refused is not None:
                return refused
        message = f"Request body is over the max size: Max {limit} bytes"
        return HttpResponse(413, go_json({"ids": [], "status": 413, "error": message}), _TEXT)


def _event_key(path: str) -> str | None:
    """The key of an event path (`/e/{key}`), percent-decoded as Go's router decodes it (the
    console's client encodes it); None for any other path."""
    if path.startswith("/e/") and "/" not in path[3:]:
        return unquote(path[3:])
    return None


def _seed(header: str) -> IdSeed | None:
    """The request's id seed as Go's SeededIDFromString reads it; None means random ids."""
    head = header.partition(",")[0]
    if not header or not head.isascii():
        return None
    try:
        seed = IdSeed.parse(header)
    except ValueError:
        return None
    if seed is None or not 0 < seed.millis <= _MAX_MILLIS:
        return None
    return seed


def _unauthorized(message: str) -> HttpResponse:
    return HttpResponse(401, go_json({"status": 401, "message": "", "error": message}))


def _not_allowed(allow: str) -> HttpResponse:
    return HttpResponse(405, b"", None, (("allow", allow),))


def _preflight(request: HttpRequest) -> HttpResponse:
    """CORS as the Dev Server's go-chi/cors setup answers it: any origin, any header."""
    wanted = request.headers.get("access-control-request-method", "").upper()
    headers: list[tuple[str, str]] = [
        ("access-control-allow-methods", wanted),
        ("access-control-max-age", "3600"),
        ("vary", "Access-Control-Request-Method, Access-Control-Request-Headers"),
    ]
    asked = request.headers.get("access-control-request-headers")
    if asked:
        headers.append(("access-control-allow-headers", asked))
    return HttpResponse(204, b"", None, tuple(headers))

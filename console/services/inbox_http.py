"""HTTP/1.1 for the inbox: asyncio streams carry the bytes, h11 does all the parsing.

One task per connection runs h11's state machine: keep-alive, pipelined requests,
`Expect: 100-continue`, chunked bodies. A body over `max_body` is refused with 413
before it is stored (the rest is read and dropped for a moment so the client sees the
answer rather than a reset), and one in over `MAX_BODY_PIECES` pieces with 400 (the loop
runs again every `YIELD_EVERY_PIECES` pieces). `stop()` closes the listener and every open
connection.

A connection may stay idle between requests for `ConnectionLimits.idle_seconds`, and a
request may pause for `stall_seconds` between reads (and its answer go untaken for as
long); past either the connection is closed
(a client that opens connections and leaves them, or trickles a request, held each for
ever, until the process ran out of file descriptors and answered no one). At most
`max_connections` are open at once (half the descriptors this process may have, when that
is fewer): one more gets 503 and is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import h11

from console.core.redact import mask_url

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024
MAX_HEAD = 64 * 1024
# h11 parses a chunked body chunk by chunk in Python, ~12 us each: one sent in 1-byte chunks
# held the loop (the window's, for its inbox) for 1.4 s per read, and 3 MiB of it for 36 s
MAX_BODY_PIECES = 65_536  # a 64 MiB body in 1 KiB chunks; 0.8 s of parsing at most
YIELD_EVERY_PIECES = 1024  # the loop runs again after at most ~12 ms of a body's parsing
DRAIN_SECONDS = 2.0
_HTML_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                 0x2028: "\\u2028", 0x2029: "\\u2029"}


def go_json(value: Any) -> bytes:
    """What Go's json.Encoder writes: compact, HTML characters escaped, a trailing newline."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.translate(_HTML_ESCAPES) + "\n").encode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str  # as sent (percent-encoding kept, like chi's route matching)
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def with_headers(self, extra: tuple[tuple[str, str], ...]) -> HttpResponse:
        return HttpResponse(self.status, self.body, self.content_type, self.headers + extra)


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    idle_seconds: float = 60.0  # between requests on a kept-alive connection
    stall_seconds: float = 30.0  # between two reads of one request (head or body)
    max_connections: int = 256
    max_buffered: int = 256 * 2**20  # bytes of request bodies held at once, on all of them


def _held_too_much(limits: ConnectionLimits) -> HttpResponse:
    return HttpResponse(503, go_json({
        "ids": [], "status": 503,
        "error": f"the inbox is reading {limits.max_buffered // 2**20:,} MiB of request bodies "
                 "at once, its most: try again when they are done"}))


def _descriptor_share(wanted: int) -> int:
    """`wanted`, or half the files this process may open when that is fewer."""
    try:
        import resource
    except ImportError:  # Windows
        return wanted
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return wanted if soft == resource.RLIM_INFINITY else max(1, min(wanted, soft // 2))


_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
         b"connection: close\r\ncontent-length: %d\r\n\r\n%s")
_BYTES_REPR = re.compile(r": bytearray\(b?['\"].*$|: b['\"].*$", re.DOTALL)


class _TooLargeError(Exception):
    pass


_TOO_MANY_PIECES = HttpResponse(400, go_json({
    "ids": [], "status": 400,
    "error": f"the request body came in over {MAX_BODY_PIECES:,} pieces (chunks); "
             "send it in fewer, larger ones"}))


class HttpServer:
    """Serves `handler` on one listening socket until `stop()`."""

    def __init__(self, handler: Handler, *, max_body: int,
                 too_large: Callable[[str, int], HttpResponse],
                 limits: ConnectionLimits = ConnectionLimits()) -> None:
        """`too_large(path, limit)`: the answer to a body over `max_body` (a server may
        refuse such a request for another reason first, a missing key say)."""
        self._handler = handler
        self._max_body = max_body
        self._too_large = too_large
        self.limits = limits
        self.max_connections = _descriptor_share(limits.max_connections)
        self.buffered = 0  # bytes of the bodies being read, on every connection
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self, host: str, port: int) -> int:
        """Listen; the port actually bound (useful when `port` is 0)."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=READ_CHUNK)
        sockets = self._server.sockets
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._tasks) >= self.max_connections:
            await _busy(writer, self.max_connections)
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            while await self._one_exchange(conn, reader, writer):
                conn.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                # h11 ends some messages with the bytes it read, as a Python repr
                said = _BYTES_REPR.sub("", str(exc)) or "malformed request"
                body = go_json({"status": exc.error_status_hint, "error": said})
                with contextlib.suppress(Exception):
                    await _send(conn, writer, "GET", HttpResponse(exc.error_status_hint, body),
                                close=True, stall=self.limits.stall_seconds)
        except _TooLargeError:
            await _drain(reader, writer)
        except (ConnectionError, TimeoutError, h11.LocalProtocolError):
            pass
        except asyncio.CancelledError:
            pass  # stop(): end quietly (a cancelled task here is reported as an error by asyncio)
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            try:  # a transport closes once its answers are taken: some never are
                async with asyncio.timeout(self.limits.stall_seconds):
                    await writer.wait_closed()
            except TimeoutError:
                writer.transport.abort()
            except Exception:  # the connection is gone either way
                pass

    async def _one_exchange(self, conn: h11.Connection, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> bool:
        """Read one request, answer it; whether the connection stays open."""
        event = await _next_event(conn, reader, self.limits)
        if not isinstance(event, h11.Request):
            return False  # ConnectionClosed, or nothing more to read
        if len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers) > MAX_HEAD:
            # h11 caps a head only while it is still incomplete: one that came in a single
            # read was let through, so the cap depended on how TCP cut the bytes
            raise h11.RemoteProtocolError(
                f"Request header is over the max size: Max {MAX_HEAD} bytes",
                error_status_hint=431)
        headers = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in event.headers}
        # both: which one ends the body is a guess, and a wrong guess runs the rest as a
        # request of its own (smuggling); answer this one and close (RFC 9112, 6.1)
        ambiguous = "content-length" in headers and "transfer-encoding" in headers
        declared = headers.get("content-length")
        target = _origin_form(event.target.decode("latin-1"))
        path = target.partition("?")[0]
        if declared is not None and int(declared) > self._max_body:
            await self._refuse(conn, writer, path)
        if conn.they_are_waiting_for_100_continue:
            writer.write(_bytes(conn.send(h11.InformationalResponse(status_code=100,
                                                                     headers=[]))))
        body = await self._read_body(conn, reader, writer, path)
        if body is None:
            return False
        path, _, query = target.partition("?")
        method = event.method.decode("latin-1")
        request = HttpRequest(method, path, query, headers, body)
        try:
            response = await self._handler(request)
        except Exception:
            log.exception("inbox handler failed for %s %s", method, mask_url(path))
            response = HttpResponse(500, go_json({"status": 500, "error": "internal error"}))
        await _send(conn, writer, method, response, close=ambiguous,
                    stall=self.limits.stall_seconds)
        return (not ambiguous and conn.our_state is h11.DONE
                and conn.their_state is h11.DONE)

    async def _read_body(self, conn: h11.Connection, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter, path: str) -> bytes | None:
        """The request's body; None when the connection ended before it did. The bodies
        being read on every connection together may hold `max_buffered` bytes: one that
        would go past it gets 503 (ten clients sending 60 MiB bodies held 637 MB)."""
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                part = await _next_event(conn, reader, self.limits)
                if isinstance(part, h11.EndOfMessage):
                    return b"".join(chunks)
                if not isinstance(part, h11.Data):
                    return None
                total += len(part.data)
                self.buffered += len(part.data)
                if total > self._max_body:
                    await self._refuse(conn, writer, path)
                if self.buffered > self.limits.max_buffered:
                    await _send(conn, writer, "POST", _held_too_much(self.limits), close=True,
                                stall=self.limits.stall_seconds)
                    raise _TooLargeError
                chunks.append(bytes(part.data))
                if len(chunks) > MAX_BODY_PIECES:
                    await _send(conn, writer, "POST", _TOO_MANY_PIECES, close=True,
                                stall=self.limits.stall_seconds)
                    raise _TooLargeError
                if len(chunks) % YIELD_EVERY_PIECES == 0:
                    await asyncio.sleep(0)
        finally:
            self.buffered -= total

    async def _refuse(self, conn: h11.Connection, writer: asyncio.StreamWriter,
                      path: str) -> None:
        await _send(conn, writer, "POST", self._too_large(path, self._max_body), close=True,
                    stall=self.limits.stall_seconds)
        raise _TooLargeError


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader,
                      limits: ConnectionLimits) -> Any:
    """h11's next event; TimeoutError when the client is idle or stalls too long."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        idle = conn.their_state is h11.IDLE and not conn.trailing_data[0]
        async with asyncio.timeout(limits.idle_seconds if idle else limits.stall_seconds):
            data = await reader.read(READ_CHUNK)
        conn.receive_data(data)


async def _busy(writer: asyncio.StreamWriter, limit: int) -> None:
    """503 to a connection over the limit, before reading anything from it, and close."""
    body = go_json({"status": 503, "error": f"the inbox has {limit:,} connections open, "
                    "its most: close some (or reuse them) and try again"})
    with contextlib.suppress(Exception):
        writer.write(_BUSY % (len(body), body))
        async with asyncio.timeout(1.0):
            await writer.drain()
    writer.close()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await writer.wait_closed()


def _bytes(data: bytes | None) -> bytes:
    return data or b""


async def _send(conn: h11.Connection, writer: asyncio.StreamWriter, method: str,
                response: HttpResponse, *, close: bool, stall: float) -> None:
    """Write `response`; TimeoutError when the client takes none of it for `stall`
    seconds (one that asked and never read held its connection for ever)."""
    # a server with a clock sends Date (RFC 9110, 6.6.1), as Go's does
    headers: list[tuple[str, str]] = [("date", email.utils.formatdate(usegmt=True))]
    if response.content_type is not None:
        headers.append(("content-type", response.content_type))
    if response.status not in (204, 304):
        headers.append(("content-length", str(len(response.body))))
    headers.extend(response.headers)
    if close:
        headers.append(("connection", "close"))
    try:
        reason = HTTPStatus(response.status).phrase.encode("ascii")
    except ValueError:
        reason = b""
    out = _bytes(conn.send(h11.Response(status_code=response.status, headers=headers,
                                        reason=reason)))
    if response.body and method != "HEAD" and response.status not in (204, 304):
        out += _bytes(conn.send(h11.Data(data=response.body)))
    out += _bytes(conn.send(h11.EndOfMessage()))
    writer.write(out)
    async with asyncio.timeout(stall):
        await writer.drain()


async def _drain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read and drop what the client is still sending so it gets our 413, not a reset."""
    with contextlib.suppress(Exception):
        if writer.can_write_eof():
            writer.write_eof()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_SECONDS
    with contextlib.suppress(Exception):
        while (left := deadline - loop.time()) > 0:
            if not await asyncio.wait_for(reader.read(READ_CHUNK), left):
                break


def _origin_form(target: str) -> str:
    """`/e/k?x` of a request target in absolute form (`http://host/e/k?x`), which a server
    must accept (RFC 9112, 3.2.2) and Go's does; other targets as they are."""
    if not target.lower().startswith(("http://", "https://")):
        return target
    rest = target.partition("://")[2]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"

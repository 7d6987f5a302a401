"""A real loopback HTTP server that misbehaves on cue, for testing HTTP clients.

Why a thread: the server runs its own asyncio loop in a background thread, so the same
object serves async tests (`asyncio.run` in the test thread), synchronous pytest-qt tests
(the qasync loop of the GUI) and CLI subprocesses (they just get a port). HTTP is parsed
by h11, never by hand.

Each request takes the next `Reply` from the script; when the script is empty the
`default` responder answers (by default: accept every event like the Dev Server, with ids
derived from the seed header). Every request is recorded (method, path, headers, body).

    with FaultServer() as server:
        server.script(Reply.json(503, {"error": "busy"}), Reply.reset())
        ... POST to f"{server.origin}/e/KEY" ...
        assert server.requests[0].header("x-inngest-event-id-seed") == seed.header
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import h11

from console.core.ids import IdSeed, random_ulid

Action = Literal["respond", "reset", "close", "hang", "truncate", "stall", "flood"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: list[tuple[str, str]]  # lower-case names, in the order received
    body: bytes

    def header(self, name: str) -> str | None:
        """The last value of a header, or None when it was not sent."""
        found = None
        for key, value in self.headers:
            if key == name.lower():
                found = value
        return found

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """What to do with one request.

    action: "respond" (status, headers, body), "reset" (TCP RST, no response), "close"
    (orderly close, no response), "hang" (never answer; ends when the client goes away or
    the server stops), "truncate" (announce `declared_length` bytes, send `body`, close),
    "stall" (like truncate, but then hang instead of closing), "flood" (announce
    `declared_length` bytes and send `body` over and over until the client leaves).
    `delay` seconds pass before the action.
    """

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    action: Action = "respond"
    declared_length: int | None = None

    @classmethod
    def json(
        cls, status: int, payload: Any, *, headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json", delay: float = 0.0,
    ) -> Reply:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, (("content-type", content_type), *headers), delay)

    @classmethod
    def text(cls, status: int, text: str | bytes, *, headers: Iterable[tuple[str, str]] = (),
             delay: float = 0.0) -> Reply:
        body = text.encode() if isinstance(text, str) else text
        return cls(status, body, (("content-type", "text/plain"), *headers), delay)

    @classmethod
    def reset(cls, *, delay: float = 0.0) -> Reply:
        return cls(action="reset", delay=delay)

    @classmethod
    def close(cls, *, delay: float = 0.0) -> Reply:
        return cls(action="close", delay=delay)

    @classmethod
    def hang(cls) -> Reply:
        return cls(action="hang")

    @classmethod
    def truncated(cls, status: int, body: bytes, declared_length: int) -> Reply:
        return cls(status, body, (("content-type", "application/json"),),
                   action="truncate", declared_length=declared_length)

    @classmethod
    def flood(cls, status: int, declared_length: int) -> Reply:
        return cls(status, b"x" * 65536, (("content-type", "text/plain"),),
                   action="flood", declared_length=declared_length)

    @classmethod
    def stalled(cls, status: int, body: bytes, declared_length: int) -> Reply:
        return cls(status, body, (("content-type", "application/json"),),
                   action="stall", declared_length=declared_length)


Responder = Callable[[RecordedRequest], Reply]


_NOT_EVENTS = "Request body must contain an event object or an array of event objects"


def accept_all(request: RecordedRequest) -> Reply:
    """Answer like the Dev Server does to a valid send: 200, one id per event (text/plain)."""
    try:
        value = request.json()
    except ValueError:
        return Reply.json(400, {"ids": [], "status": 400, "error": _NOT_EVENTS})
    count = len(value) if isinstance(value, list) else 1
    seed = IdSeed.parse(request.header("x-inngest-event-id-seed") or "")
    ids = [seed.event_id(i) if seed else random_ulid() for i in range(count)]
    return Reply.json(200, {"ids": ids, "status": 200}, content_type="text/plain")


@dataclass
class FaultServer:
    """The scriptable server; `start()`/`stop()` or use it as a context manager."""

    default: Responder = accept_all
    host: str = "127.0.0.1"
    port: int = 0
    record: bool = True  # False: keep no requests (long benchmarks: bodies add up)
    tls: ssl.SSLContext | None = None  # serve https with this server context
    _replies: deque[Reply] = field(default_factory=deque, init=False, repr=False)
    _requests: list[RecordedRequest] = field(default_factory=list, init=False, repr=False)
    _cond: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _stopping: asyncio.Event | None = field(default=None, init=False, repr=False)
    _error: BaseException | None = field(default=None, init=False, repr=False)

    # -- public surface ---------------------------------------------------------------
    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._cond:
            return list(self._requests)

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._cond:
            self._replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until `count` requests have arrived (use asyncio.to_thread from async code)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self._requests)}")
            return list(self._requests)

    def start(self) -> FaultServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True,
                                        name="fault-server")
        self._thread.start()
        ready.wait(10)
        if self._error is not None:
            raise RuntimeError("fault server failed to start") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # loop already finished
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)
        self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- the server thread -------------------------------------------------------------
    def _run(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._main(ready))
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            ready.set()

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        handlers: set[asyncio.Task[None]] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await self._serve(reader, writer)
            finally:
                handlers.discard(task)

        server = await asyncio.start_server(on_connect, self.host, self.port, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for task in list(handlers):
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            await server.wait_closed()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._cond:
            if self.record:
                self._requests.append(request)
                self._cond.notify_all()
            if self._replies:
                return self._replies.popleft()
        return self.default(request)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request = await self._receive(conn, reader)
                if request is None:
                    return
                reply = self._next_reply(request)
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                if not await self._act(conn, reply, reader, writer):
                    return
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError):
            return
        finally:
            if not writer.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _receive(conn: h11.Connection, reader: asyncio.StreamReader
                       ) -> RecordedRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers]
                return RecordedRequest(head.method.decode(), head.target.decode(), headers,
                                       bytes(body))
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None

    @staticmethod
    async def _act(conn: h11.Connection, reply: Reply, reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> bool:
        """Carry out one reply; False when the connection is finished."""
        if reply.action == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if reply.action == "close":
            return False
        if reply.action == "hang":
            await _until_client_leaves(reader)
            return False
        partial = reply.action in ("truncate", "stall", "flood")
        length = reply.declared_length if partial else len(reply.body)
        headers = [*reply.headers, ("content-length", str(length))]
        writer.write(conn.send(h11.Response(status_code=reply.status, headers=headers)))
        if partial:
            # bypass h11's length bookkeeping: the point is to send fewer bytes than announced
            writer.write(reply.body)
            await writer.drain()
            while reply.action == "flood" and not writer.is_closing():
                try:
                    writer.write(reply.body)
                    await writer.drain()
                except OSError:  # the client left
                    break
            if reply.action == "stall":
                await _until_client_leaves(reader)
            return False
        writer.write(conn.send(h11.Data(data=reply.body)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
        return True


async def _until_client_leaves(reader: asyncio.StreamReader) -> None:
    """Wait (ignoring anything sent) until the client hangs up or the server stops."""
    while await reader.read(65536):
        pass

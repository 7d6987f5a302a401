"""A SOCKS5 proxy on the loopback, for tests (RFC 1928: CONNECT, without authentication or
with a user name and password, RFC 1929).

Every tunnel it opens goes to `route(host, port)` (by default where it was asked to), so a
test can send to `http://events.example.test` and reach a loopback server. It records what
each client asked for, and refuses with `refuse` (a SOCKS5 reply code) when that is set.
"""

from __future__ import annotations

import selectors
import socket
import struct
from collections.abc import Callable

from tests.support.loopback import Listener

Route = Callable[[str, int], tuple[str, int]]
HOST_UNREACHABLE = 4


class Socks5Proxy:
    def __init__(self, route: Route | None = None, *, user: str | None = None,
                 password: str | None = None, refuse: int | None = None) -> None:
        self.route: Route = route or (lambda host, port: (host, port))
        self.user, self.password, self.refuse = user, password, refuse
        self.asked: list[tuple[str, int]] = []
        self.listener = Listener(self._serve, "socks5")
        self.port = self.listener.port

    def url(self, scheme: str = "socks5") -> str:
        login = f"{self.user}:{self.password}@" if self.user is not None else ""
        return f"{scheme}://{login}127.0.0.1:{self.port}"

    def close(self) -> None:
        self.listener.close()

    def __enter__(self) -> Socks5Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self, conn: socket.socket) -> None:
        try:
            upstream = self._handshake(conn)
        except (OSError, ValueError):
            return
        if upstream is not None:
            with upstream:
                _relay(conn, upstream)

    def _handshake(self, conn: socket.socket) -> socket.socket | None:
        version, count = _read(conn, 2)
        if version != 5:
            raise ValueError("not SOCKS5")
        methods = _read(conn, count)
        wanted = 2 if self.user is not None else 0
        if wanted not in methods:
            conn.sendall(b"\x05\xff")
            return None
        conn.sendall(bytes([5, wanted]))
        if wanted == 2:
            _, size = _read(conn, 2)
            user = _read(conn, size).decode()
            password = _read(conn, _read(conn, 1)[0]).decode()
            good = (user, password) == (self.user, self.password)
            conn.sendall(b"\x01\x00" if good else b"\x01\x01")
            if not good:
                return None
        _, command, _, kind = _read(conn, 4)
        if kind == 1:
            host = socket.inet_ntop(socket.AF_INET, _read(conn, 4))
        elif kind == 4:
            host = socket.inet_ntop(socket.AF_INET6, _read(conn, 16))
        else:
            host = _read(conn, _read(conn, 1)[0]).decode()
        (port,) = struct.unpack("!H", _read(conn, 2))
        self.asked.append((host, port))
        reply = self.refuse if self.refuse is not None else 0 if command == 1 else 7
        upstream = None
        if reply == 0:
            try:
                upstream = socket.create_connection(self.route(host, port), timeout=5)
            except OSError:
                reply = HOST_UNREACHABLE
        conn.sendall(bytes([5, reply, 0, 1, 0, 0, 0, 0, 0, 0]))
        return upstream


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ValueError("closed mid-handshake")
        data += chunk
    return data


def _relay(one: socket.socket, two: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    for side in (one, two):
        side.settimeout(None)
    other = {one: two, two: one}
    with selectors.DefaultSelector() as selector:
        for side in (one, two):
            selector.register(side, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select(timeout=30):
                side = key.fileobj
                assert isinstance(side, socket.socket)
                try:
                    data = side.recv(65536)
                    if not data:
                        return
                    other[side].sendall(data)
                except OSError:
                    return

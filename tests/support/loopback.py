"""A TCP listener on the loopback for the tests' own small servers (proxies): each
connection is handled on a thread of its own until `close`, which also wakes the accept
(closing the socket alone leaves a thread blocked in accept() listening on)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class Listener:
    def __init__(self, handle: Callable[[socket.socket], None], name: str = "loopback") -> None:
        self.handle = handle
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name=name).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            self.handle(conn)

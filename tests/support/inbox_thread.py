"""A real InboxServer on loopback, on its own event loop in a background thread.

For sync tests (pytest-qt, CLI subprocesses, plain httpx) that need an Event API to talk
to: `with InboxThread() as inbox: ... inbox.url ...`. Everything that touches the
server's state goes through `call()`, which runs on the server's loop, so tests never
race the server. `on_event` callbacks run on the inbox thread, not the test's.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

from console.services.inbox import CapturedEvent, InboxServer

T = TypeVar("T")


class InboxThread:
    """Runs `InboxServer(**options)` until `stop()` (or the end of the `with` block)."""

    def __init__(self, **options: Any) -> None:
        self.server = InboxServer(**options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def start(self, timeout: float = 10.0) -> InboxThread:
        started: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="inbox",
                                        daemon=True)
        self._thread.start()
        started.result(timeout)
        return self

    def _run(self, started: Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self.server.start())
        except BaseException as exc:
            started.set_exception(exc)
            loop.close()
            return
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.server.stop())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> InboxThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run `fn` on the server's loop and return its result."""
        if self._loop is None:
            raise RuntimeError("the inbox thread is not running")
        done: Future[T] = Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:
                done.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return done.result(timeout)

    def events(self) -> list[CapturedEvent]:
        """A snapshot of everything captured so far, oldest first."""
        return self.call(lambda: list(self.server.events))

    def runs(self, internal_id: str) -> list[dict[str, Any]]:
        return self.call(lambda: self.server.runs(internal_id))

    def wait_for_events(self, count: int, timeout: float = 10.0) -> list[CapturedEvent]:
        """Poll until at least `count` events arrived; AssertionError with what came if not."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            if len(events) >= count:
                return events
            if time.monotonic() > deadline:
                names = [e.name for e in events]
                raise AssertionError(f"expected {count} events in the inbox, got {names}")
            time.sleep(0.01)


@contextmanager
def running_inbox(**options: Any) -> Iterator[InboxThread]:
    """`with running_inbox(event_key="k") as inbox:` — an InboxThread for the block."""
    with InboxThread(**options) as inbox:
        yield inbox

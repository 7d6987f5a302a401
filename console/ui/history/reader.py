"""A history reader on its own thread, answering the GUI through a queued Qt signal.

The table must never wait for SQLite: counting a million filtered rows or paging deep into
them takes tens of milliseconds, longer than a frame. The reader owns its own connection
(WAL lets it read while the sender's worker writes) on one worker thread; results come
back as a signal, which Qt delivers on the GUI thread, so slots touch widgets safely.
Independent of asyncio: it works the same under qasync, plain Qt and pytest-qt.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from console.core.errors import UserError
from console.services.history import HistoryStore
from console.services.history_schema import window_words

T = TypeVar("T")
log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[str], None]


class HistoryReader(QObject):
    """Runs `fn(store)` jobs in order on one thread; callbacks run on the GUI thread."""

    _finished = Signal(object, object)  # (callback, result)
    failed = Signal(str)  # a message the view shows
    notice = Signal(str)  # what opening the file found (a damaged file moved aside)

    def __init__(self, path: Path | str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._store: HistoryStore | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="history-ui")
        self._closed = False
        self._finished.connect(self._deliver)

    def call(self, fn: Callable[[HistoryStore], T], done: Callable[[T], None] | None = None,
             failed: Failed | None = None) -> concurrent.futures.Future[None] | None:
        """Queue a job; `done(result)` follows on the GUI thread (`failed(message)` if it
        raised). A job may return `SKIP` to say it chose not to run (stale by then)."""
        if self._closed:
            return None

        def job() -> None:
            if self._closed:
                return
            try:
                result = fn(self._open())
            except ReaderClosed:  # stopped by close(): nothing is said to a closed window
                return
            except UserError as exc:
                self._finished.emit(failed or self.failed.emit, window_words(str(exc)))
                return
            except Exception as exc:  # a bug or a damaged file: log it, say it plainly
                log.exception("history query failed")
                self._finished.emit(failed or self.failed.emit,
                                    f"history: {window_words(str(exc))}")
                return
            if done is not None:
                self._finished.emit(done, result)

        return self._executor.submit(job)

    def until_closed(self, items: Iterable[T]) -> Iterator[T]:
        """`items`, until this reader is closed: a long job (an export of a million rows)
        stops there. Closing the window had waited for the export's end, a minute and a
        file of 600 MB later."""
        for item in items:
            if self._closed:
                raise ReaderClosed
            yield item

    def _open(self) -> HistoryStore:
        if self._store is None:  # opened on the worker thread, which then owns it
            self._store = HistoryStore(self.path, recover=False)
            if self._store.messages:
                self._finished.emit(self.notice.emit, " · ".join(self._store.messages))
        return self._store

    def _deliver(self, callback: Callable[[Any], None], result: Any) -> None:
        if not self._closed:
            callback(result)

    def close(self) -> None:
        """Finish queued jobs, close the connection, stop the thread."""
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._executor.submit(shut)  # queued jobs see _closed and return at once
        self._executor.shutdown(wait=True)


class ReaderClosed(Exception):
    """A job stopped part-way because its reader was closed (see `until_closed`)."""


class _Skip:
    def __repr__(self) -> str:
        return "SKIP"


SKIP: Any = _Skip()

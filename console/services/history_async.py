"""The history for code on the event loop: every call runs on one worker thread.

SQLite calls block (a commit, a count over a million rows, a purge), and a slot must never
block the Qt loop. A single worker thread owns the store's connection (sqlite3 connections
belong to the thread that made them) and runs calls in the order they were made, so a
`record_done` can never overtake its `record_pending`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar

from console.core.dedup import Outcome, PriorSend
from console.services.history import CapturedLike, HistoryStore, SendResultLike
from console.services.history_query import HistoryFilter, HistoryRow, export_csv, export_jsonl

T = TypeVar("T")


class AsyncHistory:
    """A `HistoryStore` on its own thread; open with `await AsyncHistory.open(path)`."""

    def __init__(self, executor: concurrent.futures.ThreadPoolExecutor,
                 store: HistoryStore) -> None:
        self._executor = executor
        self.store = store  # touch only through run()/submit(): it lives on the worker
        self.path = store.path
        self.messages = store.messages

    @classmethod
    async def open(cls, path: Path | str, **options: Any) -> AsyncHistory:
        executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="history")
        loop = asyncio.get_running_loop()
        try:
            store = await loop.run_in_executor(executor, partial(HistoryStore, path, **options))
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(executor, store)

    def submit(self, fn: Callable[[HistoryStore], T]) -> concurrent.futures.Future[T]:
        """Queue `fn(store)` without waiting (calls run in submission order)."""
        return self._executor.submit(fn, self.store)

    async def run(self, fn: Callable[[HistoryStore], T]) -> T:
        """`fn(store)` on the worker thread; the loop keeps running meanwhile."""
        return await asyncio.wrap_future(self.submit(fn))

    async def aclose(self) -> None:
        await self.run(lambda store: store.close())
        self._executor.shutdown(wait=True)

    # -- the store's API, awaited ----------------------------------------------------------
    async def record_pending(self, **fields: Any) -> int:
        return await self.run(lambda s: s.record_pending(**fields))

    async def record_done(self, request_id: int, result: SendResultLike) -> None:
        await self.run(lambda s: s.record_done(request_id, result))

    async def record_unknown(self, request_id: int) -> None:
        await self.run(lambda s: s.record_unknown(request_id))

    async def record_captured(self, env: str, captured: CapturedLike) -> int:
        return await self.run(lambda s: s.record_captured(env, captured))

    async def set_outcomes(self, items: Iterable[tuple[int, Outcome, str | None]]) -> None:
        batch = list(items)
        await self.run(lambda s: s.set_outcomes(batch))

    async def prior_sends(self, env: str, dedup_ids: Iterable[str]) -> list[PriorSend]:
        ids = list(dedup_ids)
        return await self.run(lambda s: s.prior_sends(env, ids))

    async def query(self, filters: HistoryFilter | None = None, offset: int = 0,
                    limit: int = 200) -> list[HistoryRow]:
        return await self.run(lambda s: s.query(filters, offset, limit))

    async def count(self, filters: HistoryFilter | None = None) -> int:
        return await self.run(lambda s: s.count(filters))

    async def get(self, row_id: int) -> HistoryRow | None:
        return await self.run(lambda s: s.get(row_id))

    async def purge(self, older_than_ms: int) -> int:
        return await self.run(lambda s: s.purge(older_than_ms))

    async def export(self, row_ids: Sequence[int], file: IO[str], fmt: str = "jsonl") -> int:
        writer = export_csv if fmt == "csv" else export_jsonl
        ids = list(row_ids)
        return await self.run(lambda s: writer(s.rows(ids), file))

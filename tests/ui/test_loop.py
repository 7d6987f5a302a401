"""The window's event loop: cancelled timers go away at once; everything else as asyncio."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from typing import Any

import httpx
import pytest

from console.ui.loop import ConsoleEventLoop
from tests.support.inbox_thread import running_inbox


def test_a_cancelled_timer_is_released_at_once(qloop: asyncio.AbstractEventLoop):
    assert isinstance(qloop, ConsoleEventLoop)
    assert qloop.stoppable, "qasync's timer table changed: cancelled timers are kept again"
    ran: list[str] = []
    handles = [qloop.call_later(60, ran.append, "late") for _ in range(1_000)]
    refs = [weakref.ref(h) for h in handles]
    for handle in handles:
        handle.cancel()
    del handles, handle
    gc.collect()
    assert sum(ref() is not None for ref in refs) == 0  # qasync kept them for 60 s
    assert ran == []


def test_timers_still_run_in_order_and_timeouts_still_fire(run_async: Any):
    async def go() -> tuple[list[int], float]:
        loop = asyncio.get_running_loop()
        order: list[int] = []
        loop.call_later(0.06, order.append, 3)
        loop.call_later(0.02, order.append, 1)
        dropped = loop.call_later(0.03, order.append, 99)
        loop.call_at(loop.time() + 0.04, order.append, 2)
        dropped.cancel()
        dropped.cancel()  # twice: nothing more happens
        await asyncio.sleep(0.1)
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10), 0.05)
        return order, time.monotonic() - start

    order, waited = run_async(go())
    assert order == [1, 2, 3]
    assert waited < 5  # the timeout fired (not the 10 s sleep)


def test_many_requests_leave_no_timers_behind(run_async: Any):
    """What polling for runs does: thousands of httpx requests, each scheduling timeouts
    it cancels when the answer comes. None of those handles may outlive its request."""

    def cancelled_handles() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects()
                   if isinstance(o, asyncio.Handle) and o.cancelled())

    async def go(origin: str) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(300):
                response = await client.get(f"{origin}/health")
                assert response.status_code == 200

    before = cancelled_handles()
    with running_inbox() as inbox:
        run_async(go(inbox.url), timeout=60)
    assert cancelled_handles() - before < 10


def test_a_timer_that_cancels_itself_while_it_runs(run_async: Any):
    """anyio's cancel scopes (httpx's timeouts) cancel their own timer handle from inside
    its callback: qasync then found the timer gone and raised KeyError out of a Qt event
    (a "Something went wrong" dialog for every request that timed out)."""

    async def go() -> list[str]:
        loop = asyncio.get_running_loop()
        ran: list[str] = []
        holder: list[asyncio.Handle] = []

        def fire() -> None:
            holder[0].cancel()
            ran.append("fired")

        holder.append(loop.call_later(0.01, fire))
        await asyncio.sleep(0.1)
        return ran

    assert run_async(go()) == ["fired"]


def test_a_request_to_a_server_that_never_answers_times_out_cleanly(run_async: Any):
    async def go() -> str:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(65536)
            await reader.read()  # until the client gives up and closes
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with httpx.AsyncClient(timeout=0.2) as client:
                with pytest.raises(httpx.ReadTimeout):
                    await client.get(f"http://127.0.0.1:{port}/health")
            await asyncio.sleep(0.05)  # the timer event that went wrong comes after the raise
            return "timed out"
        finally:
            server.close()

    assert run_async(go()) == "timed out"


def test_a_sleep_never_ends_before_its_time(run_async: Any):
    """Qt's coarse timers may fire up to 5 % early: a scenario's 250 ms wait took 239 ms."""

    async def go() -> list[float]:
        loop = asyncio.get_running_loop()
        took = []
        for delay in (0.25, 0.1, 0.0415, 0.25):
            start = loop.time()
            await asyncio.sleep(delay)
            took.append(loop.time() - start - delay)
        return took

    early = [t for t in run_async(go()) if t < 0]
    assert early == []

"""Widget-test helpers; the `qloop`/`run_async` fixtures live in tests/conftest.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0,
                     message: str = "condition") -> None:
    """Poll while the loop (and Qt) keep running; fail with `message` after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.02)

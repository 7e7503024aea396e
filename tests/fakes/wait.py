"""Waiting in tests for something to become true, where nothing signals it (a row in the
database, so many messages delivered): the one polling loop the tests share."""

import asyncio
import inspect
from collections.abc import Awaitable, Callable

POLL_SECONDS = 0.05


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = 30,  # noqa: ASYNC109
    *,
    every: float = POLL_SECONDS,
) -> None:
    """Return as soon as `condition()` (plain or async) holds; TimeoutError after `timeout`
    seconds. A bound for a hung test, never a measure of speed: give it room."""
    async with asyncio.timeout(timeout):
        while True:
            held = condition()
            if inspect.isawaitable(held):
                held = await held
            if held:
                return
            await asyncio.sleep(every)

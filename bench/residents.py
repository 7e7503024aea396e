"""Simulated residents, run inside the fake Bot API server's process.

Each resident sends an update, waits for the bot's answer to it, and sends the next: the time
from the update being available to getUpdates until the answer arrives is one latency sample.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram_api import FakeBotApi

Action = Callable[[FakeBotApi, int], Awaitable[int]]

PROBLEM = "En la calle 80 con carrera 3 hay huecos que hacen caer a los ciclistas"
IDEA = "Tapar los huecos con una minga de la junta de acción comunal"


def _text(text: str) -> Action:
    return lambda api, user: api.send_text(user, text)


def _press(data: str) -> Action:
    return lambda api, user: api.press(user, data)


# Each resident on a spot of their own, over 400 m ([similar] radius_meters) from any other's
# (a grid of 100 x 100 spots 0.005 degrees apart, about 55 km across): the same problem twice
# at one spot is offered as "the same" (issue 21), which is not the intake this script taps.
GRID, STEP_DEGREES = 100, 0.005


def _location(api: FakeBotApi, user: int) -> Awaitable[int]:
    spot = user % (GRID * GRID)
    latitude = 4.5012 + (spot % GRID) * STEP_DEGREES
    longitude = -74.1120 - (spot // GRID) * STEP_DEGREES
    return api.send_location(user, latitude, longitude)


# The whole intake, as a resident taps and types it (no photo: the bench measures the bot).
INTAKE: tuple[Action, ...] = (
    _text("/start"),
    _press("role:resident"),
    _press("consent:yes"),
    _text(PROBLEM),
    _location,
    _press("category:mobility"),
    _text(IDEA),
    _press("photos:done"),
    _press("identity:anonymous"),
    _press("publish:text"),
    _press("summary:send"),
)


class TokenBucket:
    """Paces all residents together to `rate` updates per second."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self._interval
        if wait > 0:
            await asyncio.sleep(wait)


@dataclass
class Replies:
    """Routes each message the bot sends to the resident waiting for it."""

    complete: str  # "markup": a turn ends with the message that carries buttons; "any": first
    waiting: dict[int, asyncio.Future[float]] = field(default_factory=dict)
    first_reply_at: float | None = None

    def on_send(self, chat_id: int, message: dict[str, Any]) -> None:
        now = time.monotonic()
        if self.first_reply_at is None:
            self.first_reply_at = now
        future = self.waiting.get(chat_id)
        if future is None or future.done():
            return
        if self.complete == "any" or message.get("reply_markup"):
            future.set_result(now)

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        future = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = future
        return future


async def run_residents(
    api: FakeBotApi,
    replies: Replies,
    *,
    residents: int,
    steps: int,
    rate: float | None,
    first_user: int = 10_000_000,
    reply_timeout: float = 120,
) -> dict[str, Any]:
    bucket = TokenBucket(rate) if rate else None
    latencies: list[float] = []
    failures = 0

    async def resident(user: int) -> None:
        nonlocal failures
        for action in INTAKE[:steps]:
            if bucket is not None:
                await bucket.take()
            answered = replies.expect(user)
            sent_at = time.monotonic()
            await action(api, user)
            try:
                arrived = await asyncio.wait_for(answered, reply_timeout)
            except TimeoutError:
                failures += 1
                return
            latencies.append(arrived - sent_at)

    started = time.monotonic()
    await asyncio.gather(*(resident(first_user + i) for i in range(residents)))
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "residents": residents,
        "updates": len(latencies),
        "failures": failures,
        "seconds": elapsed,
        "updates_per_second": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p99_ms": _percentile(latencies, 99) * 1000,
    }


def _percentile(sorted_values: list[float], percent: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(percent / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]

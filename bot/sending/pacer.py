"""Send slots at a steady rate per channel, handed to conversation replies before bulk work."""

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import IntEnum

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]


PAUSE_POLL_SECONDS = 0.05  # while bulk is paused, how often to look for a reply to send
# Slots missed while the event loop was busy may be caught up on, up to this much time's
# worth: a busy bot keeps its rate instead of losing a slot on every late wake-up, and the
# burst stays far below the one second of burst Telegram's flood control tolerates.
CATCH_UP_SECONDS = 0.2
# Slots bulk leaves in store for replies on a shared gate: a reply that comes while a
# broadcast runs goes at once instead of waiting for the next slot (up to 1/rate). A stock,
# not a share: bulk still gets the whole rate, a couple of slots later.
REPLY_RESERVE_SLOTS = 2


class Lane(IntEnum):
    REPLY = 0  # answers to what a person just did: never wait behind bulk work
    BULK = 1  # broadcasts, reminders, notifications


class Gate:
    """At most `rate` slots a second, evenly spaced (bursts only to catch up on slots the
    event loop was too busy to hand out, and never beyond CATCH_UP_SECONDS of them). Waiting
    replies take the next slot before waiting bulk, and bulk can be paused (after a 429)
    without holding replies up."""

    def __init__(
        self,
        rate: float,
        *,
        reply_reserve: int = REPLY_RESERVE_SLOTS,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        # Bulk waits until this much after a slot is due (never beyond what catch-up keeps).
        self._bulk_lag = min(reply_reserve / rate, CATCH_UP_SECONDS / 2)
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._bulk_paused_until = 0.0
        self._all_paused_until = 0.0
        self._waiting: dict[Lane, deque[asyncio.Future[None]]] = {
            Lane.REPLY: deque(),
            Lane.BULK: deque(),
        }
        self._task: asyncio.Task[None] | None = None

    async def slot(self, lane: Lane) -> None:
        """Wait for this lane's turn to send one message."""
        now = self._monotonic()
        if (
            now >= self._due(lane)
            and now >= self._all_paused_until
            and self._first(Lane.REPLY) is None
            and (
                lane is Lane.REPLY  # a reply goes before waiting bulk anyway
                or (self._first(Lane.BULK) is None and now >= self._bulk_paused_until)
            )
        ):  # the slot is free and nobody goes first: take it (no future, no task switch)
            self._take(now)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[lane].append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="minga-pacer")
        await future

    def pause_bulk(self, seconds: float) -> None:
        """Hold bulk sending for `seconds` (the platform said slow down); replies go on."""
        self._bulk_paused_until = max(self._bulk_paused_until, self._monotonic() + seconds)

    def pause_all(self, seconds: float) -> None:
        """Hold every lane for `seconds` (the platform counts replies against the limit too)."""
        self._all_paused_until = max(self._all_paused_until, self._monotonic() + seconds)
        self.pause_bulk(seconds)

    @property
    def waiting(self) -> int:
        return sum(1 for queue in self._waiting.values() for f in queue if not f.done())

    def _first(self, lane: Lane) -> asyncio.Future[None] | None:
        queue = self._waiting[lane]
        while queue and queue[0].done():  # cancelled while waiting
            queue.popleft()
        return queue[0] if queue else None

    def _due(self, lane: Lane) -> float:
        """When this lane may take the next slot: bulk a little later, keeping a reserve."""
        return self._next if lane is Lane.REPLY else self._next + self._bulk_lag

    async def _run(self) -> None:
        while True:
            now = self._monotonic()
            reply_waits = self._first(Lane.REPLY) is not None
            bulk_waits = self._first(Lane.BULK) is not None
            if not reply_waits and not bulk_waits:
                return  # nothing waits: the next slot() starts a new loop
            if now < self._all_paused_until:
                await self._sleep(self._all_paused_until - now)
                continue
            lane = Lane.REPLY if reply_waits else Lane.BULK
            if self._due(lane) > now:
                # Waiting for bulk's (later) time: a reply that comes once a slot is free
                # takes it in slot() itself; before that, look again when one is.
                until = self._next if now < self._next else self._due(lane)
                await self._sleep(until - now)
                continue
            if lane is Lane.BULK and now < self._bulk_paused_until:
                # Only bulk waits, and it is paused: look again soon (a reply may come).
                await self._sleep(min(PAUSE_POLL_SECONDS, self._bulk_paused_until - now))
                continue
            self._waiting[lane].popleft().set_result(None)
            self._take(now)

    def _take(self, now: float) -> None:
        """Book the slot that was due: the next one is an interval later (on the schedule,
        so a late hand-out does not push every later slot back)."""
        self._next = max(self._next, now - CATCH_UP_SECONDS) + self._interval


class Pacer:
    """The gates of one channel: replies and bulk share one, unless bulk has its own (a paid
    broadcast lane with a higher rate)."""

    def __init__(self, reply_gate: Gate, bulk_gate: Gate | None = None) -> None:
        self._gates = {Lane.REPLY: reply_gate, Lane.BULK: bulk_gate or reply_gate}

    async def slot(self, lane: Lane) -> None:
        await self._gates[lane].slot(lane)

    def pause_bulk(self, seconds: float) -> None:
        self._gates[Lane.BULK].pause_bulk(seconds)

    def pause_all(self, seconds: float) -> None:
        for gate in set(self._gates.values()):
            gate.pause_all(seconds)

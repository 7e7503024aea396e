"""Send slots at a steady rate per channel, under the platform's limit with a margin, handed
to conversation replies before bulk, and among replies fairly across chats."""

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from enum import IntEnum

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]


PAUSE_POLL_SECONDS = 0.05  # while bulk is paused, how often to look for a reply to send
# Slots missed while the event loop was busy may be caught up on, up to this much time's
# worth: a busy bot keeps its rate instead of losing a slot on every late wake-up. The
# window below still holds during a catch-up.
CATCH_UP_SECONDS = 0.2
# Slots bulk leaves in store for replies on a shared gate: a reply that comes while a
# broadcast runs goes at once instead of waiting for the next slot (up to 1/rate). A stock,
# not a share: bulk still gets the whole rate, a couple of slots later.
REPLY_RESERVE_SLOTS = 2
# Minga keeps this share under the platform's limit: the limit is counted by the platform
# over a sliding window, on arrival, and a message's way from our slot to its server varies
# by a few milliseconds. Every message counts, replies and bulk alike.
RATE_MARGIN = 0.05
# The platform's window: no WINDOW_SECONDS ever hold more than rate * (1 - margin) slots,
# counted with a guard so that a window closed at both ends holds no more either.
WINDOW_SECONDS = 1.0
WINDOW_GUARD_SECONDS = 0.005
# A chat's share of reply slots is judged on what it got in this many seconds: a chat that
# has just been served waits behind one that has not (a new person's first answer goes ahead
# of a crowd's backlog), as fair queuing per contact does.
FAIR_MEMORY_SECONDS = 10.0
# Chats remembered before quiet ones (nothing served within FAIR_MEMORY_SECONDS) are forgotten.
QUIET_CHATS_KEPT = 1_000
# Times this close count as equal: a sleep until a moment may wake a hair before it.
EPSILON = 1e-6


class Slot:
    """One message's place in the window: from when it was handed out, and once the platform
    has answered, from then (the platform counted it somewhere in between, so a message
    delayed on its way never makes a later window hold more than the cap)."""

    __slots__ = ("_monotonic", "at")

    def __init__(self, at: float, monotonic: Monotonic) -> None:
        self.at = at
        self._monotonic = monotonic

    def done(self) -> None:
        """The platform has answered (or the send failed): counted from now."""
        self.at = max(self.at, self._monotonic())


class Lane(IntEnum):
    REPLY = 0  # answers to what a person just did: never wait behind bulk work
    BULK = 1  # broadcasts, reminders, notifications


class _FairReplies:
    """Reply waiters by chat: the next slot goes to the waiting chat served least lately."""

    def __init__(self) -> None:
        self._waiting: dict[Hashable, deque[asyncio.Future[Slot]]] = {}
        self._served: dict[Hashable, deque[float]] = {}
        # Quiet chats are forgotten when more than this many are remembered. It grows with
        # what a sweep had to keep: with more chats served lately than the floor, a sweep on
        # every reply would find nothing to drop and cost a pass over all of them each time.
        self._sweep_above = QUIET_CHATS_KEPT

    def add(self, key: Hashable, future: asyncio.Future[Slot]) -> None:
        self._waiting.setdefault(key, deque()).append(future)

    def first(self, now: float) -> tuple[Hashable, asyncio.Future[Slot]] | None:
        """The waiter whose chat had fewest slots lately (the longest waiting among equals:
        dicts keep insertion order, and a chat goes to the back once served)."""
        best: tuple[int, Hashable, asyncio.Future[Slot]] | None = None
        for key in list(self._waiting):
            queue = self._waiting[key]
            while queue and queue[0].done():  # cancelled while waiting
                queue.popleft()
            if not queue:
                del self._waiting[key]
                continue
            recent = self._recent(key, now)
            if best is None or recent < best[0]:
                best = (recent, key, queue[0])
        return None if best is None else (best[1], best[2])

    def give(self, key: Hashable, slot: Slot, now: float) -> None:
        """Hand the slot to the first waiter of `key`; the chat goes to the back of the line."""
        queue = self._waiting.pop(key)
        queue.popleft().set_result(slot)
        if queue:
            self._waiting[key] = queue
        self.served(key, now)

    def served(self, key: Hashable, now: float) -> None:
        self._served.setdefault(key, deque()).append(now)
        if len(self._served) > max(4 * len(self._waiting) + QUIET_CHATS_KEPT, self._sweep_above):
            self._served = {k: v for k, v in self._served.items() if self._recent(k, now)}
            self._sweep_above = max(QUIET_CHATS_KEPT, 2 * len(self._served))

    def _recent(self, key: Hashable, now: float) -> int:
        times = self._served.get(key)
        if not times:
            return 0
        while times and now - times[0] > FAIR_MEMORY_SECONDS:
            times.popleft()
        return len(times)

    @property
    def waiting(self) -> int:
        return sum(1 for queue in self._waiting.values() for f in queue if not f.done())


class Gate:
    """At most `rate * (1 - margin)` slots a second, evenly spaced, and never more than that
    many in any WINDOW_SECONDS (bursts only to catch up on slots the event loop was too busy
    to hand out). Waiting replies take the next slot before waiting bulk, fairly across chats;
    bulk can be paused (after a 429) without holding replies up."""

    def __init__(
        self,
        rate: float,
        *,
        reply_reserve: int = REPLY_RESERVE_SLOTS,
        margin: float = RATE_MARGIN,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._limit = rate  # the platform's, for all workers together
        self._margin = margin
        self._reply_reserve = reply_reserve
        self._workers = 1
        self._set_rate(rate)
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._taken: list[Slot] = []  # the slots of the last window
        self._bulk_paused_until = 0.0
        self._all_paused_until = 0.0
        self._replies = _FairReplies()
        self._bulk: deque[asyncio.Future[Slot]] = deque()
        self._task: asyncio.Task[None] | None = None

    @property
    def rate(self) -> float:
        """The slots a second this gate hands out (under the platform's limit)."""
        return 1.0 / self._interval

    def share(self, workers: int) -> None:
        """`workers` processes send through this platform account (this one included): this
        gate hands out its share of the limit, so that all of them together stay under it.
        Slots already taken still count in the window, so a smaller share binds at once."""
        workers = max(1, workers)
        if workers != self._workers:
            self._workers = workers
            self._set_rate(self._limit / workers)

    def _set_rate(self, rate: float) -> None:
        # The most slots any window may hold (at least one, for very low rates), evenly
        # spaced so that the window itself only binds after a catch-up.
        self._window_cap = max(1, math.floor(rate * (1 - self._margin) * WINDOW_SECONDS))
        self._interval = (WINDOW_SECONDS + WINDOW_GUARD_SECONDS) / self._window_cap
        # Bulk waits until this much after a slot is due (never beyond what catch-up keeps).
        self._bulk_lag = min(self._reply_reserve * self._interval, CATCH_UP_SECONDS / 2)

    async def slot(self, lane: Lane, chat: Hashable = None) -> Slot:
        """Wait for this lane's turn to send one message (to `chat`, for a reply); tell the
        slot when the platform has answered (`Slot.done`)."""
        now = self._monotonic()
        if (
            now >= self._free_at(lane, now)
            and now >= self._all_paused_until
            and self._replies.first(now) is None
            and (
                lane is Lane.REPLY  # a reply goes before waiting bulk anyway
                or (self._first_bulk() is None and now >= self._bulk_paused_until)
            )
        ):  # the slot is free and nobody goes first: take it (no future, no task switch)
            slot = self._take(now)
            if lane is Lane.REPLY:
                self._replies.served(chat, now)
            return slot
        future: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        if lane is Lane.REPLY:
            self._replies.add(chat, future)
        else:
            self._bulk.append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="minga-pacer")
        return await future

    def pause_bulk(self, seconds: float) -> None:
        """Hold bulk sending for `seconds` (the platform said slow down); replies go on."""
        self._bulk_paused_until = max(self._bulk_paused_until, self._monotonic() + seconds)

    def pause_all(self, seconds: float) -> None:
        """Hold every lane for `seconds` (the platform counts replies against the limit too)."""
        self._all_paused_until = max(self._all_paused_until, self._monotonic() + seconds)
        self.pause_bulk(seconds)

    @property
    def waiting(self) -> int:
        return self._replies.waiting + sum(1 for f in self._bulk if not f.done())

    def _first_bulk(self) -> asyncio.Future[Slot] | None:
        while self._bulk and self._bulk[0].done():  # cancelled while waiting
            self._bulk.popleft()
        return self._bulk[0] if self._bulk else None

    def _due(self, lane: Lane) -> float:
        """When this lane may take the next slot: bulk a little later, keeping a reserve."""
        return self._next if lane is Lane.REPLY else self._next + self._bulk_lag

    def _window_free_at(self, now: float) -> float:
        """When the window has room for one more slot."""
        # Fewer slots than the cap even counting old ones: room. Only then is the window
        # swept, so a gate far from its cap (1,000 a second, a few hundred used) does not
        # go over the whole window for every message.
        if len(self._taken) < self._window_cap:
            return now
        span = WINDOW_SECONDS + WINDOW_GUARD_SECONDS
        self._taken = [slot for slot in self._taken if now - slot.at < span - EPSILON]
        if len(self._taken) < self._window_cap:
            return now
        times = sorted(slot.at for slot in self._taken)
        return times[len(times) - self._window_cap] + span

    def _free_at(self, lane: Lane, now: float) -> float:
        free_at = max(self._due(lane), self._window_free_at(now))
        return now if free_at - now < EPSILON else free_at

    async def _run(self) -> None:
        while True:
            now = self._monotonic()
            reply = self._replies.first(now)
            bulk_waits = self._first_bulk() is not None
            if reply is None and not bulk_waits:
                return  # nothing waits: the next slot() starts a new loop
            if now < self._all_paused_until:
                await self._sleep(self._all_paused_until - now)
                continue
            lane = Lane.REPLY if reply is not None else Lane.BULK
            free_at = self._free_at(lane, now)
            if free_at > now:
                # Waiting for bulk's (later) time: a reply that comes once a slot is free
                # takes it in slot() itself; before that, look again when one is.
                reply_free = self._free_at(Lane.REPLY, now)
                until = reply_free if now < reply_free else free_at
                await self._sleep(until - now)
                continue
            if lane is Lane.BULK and now < self._bulk_paused_until:
                # Only bulk waits, and it is paused: look again soon (a reply may come).
                await self._sleep(min(PAUSE_POLL_SECONDS, self._bulk_paused_until - now))
                continue
            slot = self._take(now)
            if reply is not None:
                self._replies.give(reply[0], slot, now)
            else:
                self._bulk.popleft().set_result(slot)

    def _take(self, now: float) -> Slot:
        """Book the slot that was due: the next one is an interval later (on the schedule,
        so a late hand-out does not push every later slot back)."""
        self._next = max(self._next, now - CATCH_UP_SECONDS) + self._interval
        slot = Slot(now, self._monotonic)
        self._taken.append(slot)
        free_at = self._window_free_at(now) if len(self._taken) >= self._window_cap else now
        if free_at > now:
            # The window is full: the next slot is when it has room, and slots that could
            # not be had meanwhile are not owed (no burst when the window moves on).
            # Bulk's reserve lag is not added on top: replies could not go earlier anyway.
            self._next = max(self._next, free_at - self._bulk_lag)
        return slot


class Pacer:
    """The gates of one channel: replies and bulk share one, unless bulk has its own (a paid
    broadcast lane with a higher rate)."""

    def __init__(self, reply_gate: Gate, bulk_gate: Gate | None = None) -> None:
        self._gates = {Lane.REPLY: reply_gate, Lane.BULK: bulk_gate or reply_gate}

    async def slot(self, lane: Lane, chat: Hashable = None) -> Slot:
        return await self._gates[lane].slot(lane, chat)

    def pause_bulk(self, seconds: float) -> None:
        self._gates[Lane.BULK].pause_bulk(seconds)

    def pause_all(self, seconds: float) -> None:
        for gate in set(self._gates.values()):
            gate.pause_all(seconds)

    def share(self, workers: int) -> None:
        """`workers` processes send through this account: each gate paces at its share."""
        for gate in set(self._gates.values()):
            gate.share(workers)

"""The pacer: a steady rate under the limit with a margin, every window counted; replies
before bulk and fairly across chats; bulk paused after a 429."""

import asyncio
import heapq
import itertools
import math
import random
from collections.abc import Coroutine
from typing import Any

from bot.sending.pacer import CATCH_UP_SECONDS, RATE_MARGIN, Gate, Lane, Pacer
from tests.fakes.timeline import Timeline

LIMIT = 30  # Telegram's ~30 messages a second
CAP = math.floor(LIMIT * (1 - RATE_MARGIN))  # what Minga allows itself in any second


def _busiest_second(times: list[float]) -> int:
    """The most slots any window of one second (closed at both ends) holds."""
    ordered = sorted(times)
    return max(sum(1 for other in ordered if start <= other <= start + 1) for start in ordered)


async def _take(gate: Gate, lane: Lane, log: list[tuple[str, float]], name: str, t: Timeline):
    await gate.slot(lane)
    log.append((name, t.now))


async def test_no_second_holds_more_slots_than_the_limit_less_the_margin() -> None:
    t = Timeline()
    gate = Gate(LIMIT, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []
    await asyncio.gather(*(_take(gate, Lane.BULK, log, str(i), t) for i in range(300)))
    times = [at for _, at in log]
    assert _busiest_second(times) <= CAP < LIMIT
    # ...and no less: at least 90% of the limit (300 slots in under 11.1 s).
    assert 300 / (times[-1] - times[0]) >= 0.9 * LIMIT
    # After the first catch-up, slots are evenly spaced.
    tail = times[10:]
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in itertools.pairwise(tail))


async def test_a_late_wake_up_catches_up_without_exceeding_the_rate() -> None:
    t = Timeline()
    gate = Gate(100, monotonic=t.monotonic, sleep=t.sleep)
    for _ in range(40):  # past the first catch-up: on the schedule, one slot each 10 ms
        await gate.slot(Lane.REPLY)
    t.now += 0.05  # the event loop was busy for 50 ms: five slots went by
    immediate = 0
    while True:
        before = t.now
        await gate.slot(Lane.REPLY)
        if t.now > before + 1e-9:  # this one had to wait: back on the schedule
            break
        immediate += 1
    # The missed slots are handed out at once (without catching up, it would be one), and
    # no more than were missed.
    assert 4 <= immediate <= 6


async def test_a_reply_overtakes_bulk_already_waiting() -> None:
    t = Timeline()
    gate = Gate(10, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []
    bulk = [asyncio.create_task(_take(gate, Lane.BULK, log, f"b{i}", t)) for i in range(20)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await _take(gate, Lane.REPLY, log, "reply", t)
    await asyncio.gather(*bulk)
    order = [name for name, _ in log]
    # At most the slots handed out before it came (the first catch-up burst).
    assert order.index("reply") <= 1 + int(CATCH_UP_SECONDS * 10)


async def test_paused_bulk_waits_but_replies_go_on() -> None:
    t = Timeline()
    gate = Gate(100, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []
    gate.pause_bulk(5)
    paused_at = t.now
    bulk = asyncio.create_task(_take(gate, Lane.BULK, log, "bulk", t))
    await asyncio.sleep(0)
    await _take(gate, Lane.REPLY, log, "reply", t)
    await bulk
    assert [name for name, _ in log] == ["reply", "bulk"]
    assert log[0][1] - paused_at < 1  # the reply did not wait for the pause
    assert log[1][1] - paused_at >= 5


async def test_a_paid_bulk_gate_does_not_slow_replies() -> None:
    t = Timeline()
    pacer = Pacer(Gate(1, monotonic=t.monotonic, sleep=t.sleep),
                  Gate(1000, monotonic=t.monotonic, sleep=t.sleep))  # fmt: skip
    start = t.now
    for _ in range(100):
        await pacer.slot(Lane.BULK)
    assert t.now - start < 1  # 100 bulk slots at 1000/s, while replies keep 1/s


async def test_a_cancelled_waiter_gives_its_slot_away() -> None:
    t = Timeline()
    gate = Gate(10, monotonic=t.monotonic, sleep=t.sleep)
    await gate.slot(Lane.BULK)
    waiting = asyncio.create_task(gate.slot(Lane.BULK))
    await asyncio.sleep(0)
    waiting.cancel()
    await gate.slot(Lane.REPLY)  # does not hang on the cancelled one
    assert gate.waiting == 0


async def test_a_reply_during_a_broadcast_goes_at_once_and_the_rate_holds() -> None:
    """Bulk keeps a couple of slots in store, so a reply does not wait for the next slot;
    bulk still gets the whole rate, and no second holds more than the rate allows."""
    t = Timeline()
    gate = Gate(30, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []
    bulk = [asyncio.create_task(_take(gate, Lane.BULK, log, f"b{i}", t)) for i in range(300)]
    waits = []
    for checkpoint in (60, 90, 120, 150, 180):
        while len(log) < checkpoint:  # noqa: ASYNC110 (virtual time: the broadcast goes on)
            await asyncio.sleep(0)
        before = t.now
        await _take(gate, Lane.REPLY, log, "reply", t)
        waits.append(t.now - before)
    await asyncio.gather(*bulk)
    assert waits == [0.0] * 5
    times = [at for _, at in log]
    assert _busiest_second(times) <= CAP
    bulk_times = [at for name, at in log if name != "reply"]
    # 300 bulk and 5 replies at the gate's rate, the replies' slots included.
    assert bulk_times[-1] - bulk_times[0] <= 305 / gate.rate + 0.2


async def test_a_new_chats_first_reply_goes_ahead_of_a_crowds_backlog() -> None:
    """40 chats with 20 replies each waiting; a new person's answer takes one of the next
    slots, not the 801st; each chat's own replies keep their order."""
    t = Timeline()
    gate = Gate(LIMIT, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []

    async def chat_sends(chat: int, count: int) -> None:
        for i in range(count):
            await gate.slot(Lane.REPLY, chat)
            log.append((f"{chat}:{i}", t.now))

    crowd = [asyncio.create_task(chat_sends(chat, 20)) for chat in range(40)]
    while len(log) < 100:  # noqa: ASYNC110 (virtual time: the crowd is being answered)
        await asyncio.sleep(0)
    before = len(log)
    await chat_sends(999, 1)
    position = [name for name, _ in log].index("999:0") - before
    assert position <= 1
    await asyncio.gather(*crowd)
    for chat in range(40):
        mine = [int(name.partition(":")[2]) for name, _ in log if name.startswith(f"{chat}:")]
        assert mine == list(range(20))
    assert _busiest_second([at for _, at in log]) <= CAP


async def test_replies_are_shared_round_robin_across_chats() -> None:
    """Two chats with long backlogs and one with a few: nobody waits for another's backlog."""
    t = Timeline()
    gate = Gate(LIMIT, monotonic=t.monotonic, sleep=t.sleep)
    order: list[str] = []

    async def chat_sends(chat: str, count: int) -> None:
        for _ in range(count):
            await gate.slot(Lane.REPLY, chat)
            order.append(chat)
            await asyncio.sleep(0)  # the message goes out

    await gate.slot(Lane.REPLY, "warm-up")  # the next ones wait for the pacer's loop
    await asyncio.gather(chat_sends("a", 30), chat_sends("b", 30), chat_sends("c", 3))
    assert order.index("c") <= 2
    last_c = len(order) - 1 - order[::-1].index("c")
    assert last_c <= 9  # three rounds of three chats


async def test_bulk_uses_what_replies_leave() -> None:
    """Replies at 10 a second while a broadcast waits: bulk gets at least 90% of the rest of
    the budget, and no second holds more than the cap."""
    t = Timeline()
    gate = Gate(LIMIT, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []
    start = t.now
    bulk = [asyncio.create_task(_take(gate, Lane.BULK, log, "bulk", t)) for _ in range(1000)]

    async def replies() -> None:
        for i in range(200):  # one every 0.1 s for 20 s, from 20 chats
            await asyncio.sleep(0)
            while t.now < start + i * 0.1:  # noqa: ASYNC110 (virtual time moves by the bulk)
                await asyncio.sleep(0)
            await gate.slot(Lane.REPLY, i % 20)
            log.append(("reply", t.now))

    await replies()
    end = t.now
    for task in bulk:
        task.cancel()
    window = [(name, at) for name, at in log if start + 1 <= at <= end - 1]
    seconds = (end - 1) - (start + 1)
    reply_rate = sum(1 for name, _ in window if name == "reply") / seconds
    bulk_rate = sum(1 for name, _ in window if name == "bulk") / seconds
    assert bulk_rate >= 0.9 * (gate.rate - reply_rate)
    assert _busiest_second([at for _, at in log]) <= CAP


async def test_no_mix_of_replies_and_bulk_ever_exceeds_the_cap() -> None:
    t = Timeline()
    gate = Gate(LIMIT, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []
    rng = random.Random(30)

    async def bursty(chat: int) -> None:
        for _ in range(15):
            await t.sleep(rng.random() * 0.5)
            await gate.slot(Lane.REPLY, chat)
            log.append(("reply", t.now))

    bulk = [asyncio.create_task(_take(gate, Lane.BULK, log, "bulk", t)) for _ in range(300)]
    await asyncio.gather(*(bursty(chat) for chat in range(30)), *bulk)
    assert _busiest_second([at for _, at in log]) <= CAP


async def test_a_message_slow_on_its_way_counts_from_the_platforms_answer() -> None:
    """The platform counts a message when it arrives, somewhere between our slot and its
    answer: a slow one holds its place in the window from the answer on, so no window at
    the platform's end can hold more than the cap, whatever the delays on the way."""
    t = Timeline()
    gate = Gate(2, margin=0, monotonic=t.monotonic, sleep=t.sleep)  # two in any second
    start = t.now
    slow = await gate.slot(Lane.BULK)
    (await gate.slot(Lane.BULK)).done()  # the second, answered at once
    second_at = t.now
    t.now = start + 0.9
    slow.done()  # the first is answered only now: it may have arrived just now
    await gate.slot(Lane.BULK)
    # Counted from its slot, the first would have left the window at start + 1; counted
    # from its answer it is still there, and the third waits for the second to leave.
    assert t.now >= second_at + 1.0 > start + 1.005


async def test_a_busy_gate_far_from_its_cap_does_not_go_over_every_chat_and_slot_each_time(
    monkeypatch,
) -> None:
    """3,000 people answered at 500 a second through a 1,000-a-second gate (the paid lane's
    rate, or a bench with no limit): every reply went over all chats served in the last ten
    seconds and every slot of the last second, so each cost grew with the crowd."""
    from bot.sending import pacer

    looked_at = 0
    recent = pacer._FairReplies._recent

    def counted(self: pacer._FairReplies, key: object, now: float) -> int:
        nonlocal looked_at
        looked_at += 1
        return recent(self, key, now)

    monkeypatch.setattr(pacer._FairReplies, "_recent", counted)
    t = Timeline()
    gate = Gate(1000, monotonic=t.monotonic, sleep=t.sleep)
    windows, window = 0, None
    for chat in range(3000):
        (await gate.slot(Lane.REPLY, chat)).done()
        if gate._taken is not window:  # the window was swept (a new list)
            windows, window = windows + 1, gate._taken
        t.now += 0.002
    assert looked_at < 10 * 3000
    assert windows < 100
    # ...and the window still counts every slot: none of its seconds held more than the cap.
    assert len(gate._taken) <= math.floor(1000 * (1 - RATE_MARGIN))


class Together:
    """Virtual time for several gates at once: each sleeper wakes at its own time, the
    earliest first (Timeline adds up the sleeps of concurrent sleepers)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, *work: Coroutine[Any, Any, list[float]]) -> list[list[float]]:
        tasks = [asyncio.create_task(w) for w in work]
        while not all(task.done() for task in tasks):
            for _ in range(10):  # let every woken coroutine run at this time
                await asyncio.sleep(0)
            if self._sleepers:
                at, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, at)
                future.set_result(None)
        return [task.result() for task in tasks]


async def _worker_slots(gate: Gate, count: int, t: Together) -> list[float]:
    times: list[float] = []
    for _ in range(count):
        await gate.slot(Lane.BULK)
        times.append(t.now)
    return times


async def test_workers_sharing_one_account_stay_under_its_limit_together() -> None:
    """Three workers send bulk through one bot at once, each at its share: no second holds
    more than the limit allows over all three; when one is gone, the two left take its share
    and the account is used about as fully as before."""
    t = Together()
    gates = [Gate(LIMIT, monotonic=t.monotonic, sleep=t.sleep) for _ in range(3)]
    for gate in gates:
        gate.share(3)
    runs = await t.run(*(_worker_slots(gate, 100, t) for gate in gates))
    together = [at for run in runs for at in run]
    assert _busiest_second(together) <= CAP
    assert 300 / (max(together) - min(together)) >= 0.8 * LIMIT
    for gate in gates[:2]:  # the third stopped: its heartbeat ran out
        gate.share(2)
    runs = await t.run(*(_worker_slots(gate, 150, t) for gate in gates[:2]))
    together = [at for run in runs for at in run]
    assert _busiest_second(together) <= CAP
    assert 300 / (max(together) - min(together)) >= 0.85 * LIMIT  # its share is used again

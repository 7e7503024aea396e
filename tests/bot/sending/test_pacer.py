"""The pacer: a steady rate, replies before bulk, bulk paused after a 429."""

import asyncio
import itertools

from bot.sending.pacer import CATCH_UP_SECONDS, Gate, Lane, Pacer
from tests.fakes.timeline import Timeline


async def _take(gate: Gate, lane: Lane, log: list[tuple[str, float]], name: str, t: Timeline):
    await gate.slot(lane)
    log.append((name, t.now))


async def test_no_second_holds_more_slots_than_the_rate_and_a_small_catch_up() -> None:
    t = Timeline()
    gate = Gate(30, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []
    await asyncio.gather(*(_take(gate, Lane.BULK, log, str(i), t) for i in range(300)))
    times = [at for _, at in log]
    most = max(sum(1 for other in times if start <= other < start + 1) for start in times)
    assert most <= 30 + CATCH_UP_SECONDS * 30
    # 300 slots at 30/s take ten seconds of (virtual) time, not more.
    assert times[-1] - times[0] <= 10.0
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
    most = max(sum(1 for other in times if start <= other < start + 1) for start in times)
    assert most <= 30 + CATCH_UP_SECONDS * 30
    bulk_times = [at for name, at in log if name != "reply"]
    # 300 bulk and 5 replies at 30/s: about ten seconds, the replies' slots included.
    assert bulk_times[-1] - bulk_times[0] <= 305 / 30 + 0.2

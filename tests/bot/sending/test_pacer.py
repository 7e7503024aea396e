"""The pacer: a steady rate, replies before bulk, bulk paused after a 429."""

import asyncio
import itertools

from bot.sending.pacer import Gate, Lane, Pacer
from tests.fakes.timeline import Timeline


async def _take(gate: Gate, lane: Lane, log: list[tuple[str, float]], name: str, t: Timeline):
    await gate.slot(lane)
    log.append((name, t.now))


async def test_slots_are_never_closer_than_the_rate_allows() -> None:
    t = Timeline()
    gate = Gate(30, monotonic=t.monotonic, sleep=t.sleep)
    log: list[tuple[str, float]] = []
    await asyncio.gather(*(_take(gate, Lane.BULK, log, str(i), t) for i in range(90)))
    times = [at for _, at in log]
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in itertools.pairwise(times))
    # 90 slots at 30/s take three seconds of (virtual) time, not more.
    assert times[-1] - times[0] <= 3.0


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
    assert order.index("reply") <= 2  # at most the slots already handed out before it came


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

"""Flood control: more than 20 messages in 10 seconds from one person get one "please slow
down"; the rest are not processed; everybody else carries on."""

from datetime import UTC, datetime, timedelta

from handlers.engine.flood import SWEEP_EVERY, FloodGate, Verdict
from handlers.engine.messages import Reply
from storage.database import Database
from tests.fakes.chat import Chat


async def _burst(chat: Chat, count: int) -> list[list[Reply]]:
    """`count` messages at the same instant (the clock does not move), each one's replies."""
    answers = []
    for number in range(count):
        replies: list[Reply] = []

        async def deliver(sent, replies=replies) -> None:
            replies.extend(sent)

        inbound = chat.inbound(f"burst-{number}", text=f"mensaje {number}")
        await chat.dispatcher.handle(inbound, deliver)
        answers.append(replies)
    return answers


async def test_a_flood_gets_one_slow_down_and_is_not_processed(
    make_chat, database: Database, clock
) -> None:
    flooder, neighbour = make_chat(user="flooder"), make_chat(user="neighbour")
    await flooder.command("start")
    clock.advance(seconds=10)

    answers = await _burst(flooder, 25)
    assert all(replies for replies in answers[:20])
    assert [r.text for r in answers[20]] == [flooder.t("flood.slow_down")]
    assert answers[21:] == [[], [], [], []]
    inbound = database.reader().inbound
    assert await inbound.seen("test", "burst-19")
    assert not await inbound.seen("test", "burst-20")  # not processed, not even recorded
    assert not await inbound.seen("test", "burst-24")

    await neighbour.command("start")  # at the same instant: unaffected
    assert neighbour.asked("role.ask")

    clock.advance(seconds=10)
    await flooder.command("help")  # slowed down: heard again
    assert flooder.t("help.intro") in flooder.text


def test_the_gate_counts_a_window_per_person_and_forgets_the_quiet() -> None:
    gate, start = FloodGate(3, 10), datetime(2026, 11, 21, tzinfo=UTC)
    verdicts = [gate.admit("a", start) for _ in range(5)]
    assert verdicts == [Verdict.TAKE] * 3 + [Verdict.WARN, Verdict.DROP]
    assert gate.admit("b", start) is Verdict.TAKE
    later = start + timedelta(seconds=10)
    assert gate.admit("a", later) is Verdict.TAKE
    for number in range(SWEEP_EVERY):
        gate.admit(number, later + timedelta(seconds=20))
    assert "a" not in gate._seen and "b" not in gate._seen

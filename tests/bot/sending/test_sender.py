"""The sender: retries with backoff, waits out 429s, gives up on a blocked chat."""

import asyncio
from collections.abc import Sequence
from typing import Any

from bot.sending.errors import (
    Blocked,
    ChatRateLimited,
    DeliveryError,
    Halted,
    RateLimited,
    Rejected,
    Skipped,
    Transient,
    TryLater,
)
from bot.sending.pacer import Gate, Lane, Pacer
from bot.sending.sender import RetryPolicy, Sender
from handlers.engine.messages import Reply
from tests.fakes.timeline import Timeline


class ScriptedTransport:
    """Sends by recording; raises the errors queued for the next calls."""

    channel = "test"

    def __init__(self, *errors: DeliveryError) -> None:
        self.errors = list(errors)
        self.sent: list[tuple[str, str, bool]] = []
        self.calls = 0

    def render(self, replies: Sequence[Reply]) -> Sequence[Any]:
        return [reply.text for reply in replies]

    async def send(self, recipient: str, message: Any, *, bulk: bool) -> str | None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((recipient, message, bulk))
        return None


def _sender(transport: ScriptedTransport, t: Timeline, **policy: Any) -> tuple[Sender, Gate]:
    gate = Gate(30, monotonic=t.monotonic, sleep=t.sleep)
    sender = Sender(transport, Pacer(gate), RetryPolicy(**policy), sleep=t.sleep,
                    monotonic=t.monotonic)  # fmt: skip
    return sender, gate


async def test_server_errors_are_retried_with_growing_pauses() -> None:
    t = Timeline()
    transport = ScriptedTransport(Transient("500"), Transient("500"))
    sender, _ = _sender(transport, t, backoff_seconds=1.0)
    start = t.now
    outcome = await sender.deliver("7", [Reply("hola")], Lane.REPLY)
    assert outcome.status == "sent" and outcome.attempts == 3
    assert transport.sent == [("7", "hola", False)]
    assert t.now - start >= 0.8 + 1.6  # 1 s then 2 s, each with up to 20% jitter


async def test_a_message_that_keeps_failing_is_reported_failed_with_the_error() -> None:
    t = Timeline()
    transport = ScriptedTransport(*(Transient("502 Bad Gateway") for _ in range(9)))
    sender, _ = _sender(transport, t, attempts=4)
    outcome = await sender.deliver("7", [Reply("hola")], Lane.BULK)
    assert (outcome.status, outcome.attempts, outcome.error) == ("failed", 4, "502 Bad Gateway")
    assert transport.calls == 4


async def test_a_429_is_waited_out_and_pauses_bulk() -> None:
    t = Timeline()
    transport = ScriptedTransport(RateLimited(3))
    sender, _ = _sender(transport, t)
    start = t.now
    outcome = await sender.deliver("7", [Reply("hola")], Lane.BULK)
    assert outcome.status == "sent" and outcome.attempts == 1  # a 429 is not a failed try
    assert t.now - start >= 3


async def test_a_blocked_chat_is_not_retried_and_the_rest_is_not_sent() -> None:
    t = Timeline()
    transport = ScriptedTransport(Blocked("Forbidden: bot was blocked by the user"))
    sender, _ = _sender(transport, t)
    outcome = await sender.deliver("7", [Reply("uno"), Reply("dos")], Lane.BULK)
    assert outcome.status == "blocked" and transport.calls == 1 and not transport.sent


async def test_a_refused_message_is_not_retried() -> None:
    t = Timeline()
    transport = ScriptedTransport(Rejected("Bad Request: chat not found"))
    sender, _ = _sender(transport, t)
    outcome = await sender.deliver("7", [Reply("hola")], Lane.REPLY)
    assert outcome.status == "failed" and transport.calls == 1


async def test_bulk_messages_to_one_chat_are_spaced() -> None:
    t = Timeline()
    transport = ScriptedTransport()
    sender, _ = _sender(transport, t, bulk_seconds_per_chat=1.0)
    await sender.deliver("7", [Reply("invitación")], Lane.BULK)
    first = t.now
    await sender.deliver("7", [Reply("recordatorio")], Lane.BULK)
    assert t.now - first >= 1.0
    other = t.now
    await sender.deliver("8", [Reply("invitación")], Lane.BULK)
    assert t.now - other < 0.1  # another chat does not wait


async def test_a_throughput_error_for_everyone_holds_replies_too() -> None:
    t = Timeline()
    transport = ScriptedTransport(RateLimited(4, everyone=True))
    sender, _ = _sender(transport, t)
    start = t.now
    bulk = asyncio.create_task(sender.deliver("7", [Reply("aviso")], Lane.BULK))
    while transport.calls == 0:  # noqa: ASYNC110 (the bulk message meets the error first)
        await asyncio.sleep(0)
    reply = await sender.deliver("8", [Reply("respuesta")], Lane.REPLY)
    assert reply.status == "sent" and t.now - start >= 4  # the reply waited out the pause
    assert (await bulk).status == "sent"


async def test_a_pair_rate_error_spaces_that_chat_only() -> None:
    t = Timeline()
    transport = ScriptedTransport(ChatRateLimited(6))
    sender, _ = _sender(transport, t)
    start = t.now
    assert (await sender.deliver("7", [Reply("uno")], Lane.BULK)).status == "sent"
    assert t.now - start >= 6
    other = t.now
    assert (await sender.deliver("8", [Reply("dos")], Lane.BULK)).status == "sent"
    assert t.now - other < 1  # someone else did not wait


async def test_a_halt_stops_bulk_until_it_ends_and_lets_replies_through() -> None:
    t = Timeline()
    transport = ScriptedTransport(Halted("368 restricted", 3600))
    sender, _ = _sender(transport, t)
    first = await sender.deliver("7", [Reply("uno")], Lane.BULK)
    assert (first.status, first.halt_seconds) == ("halted", 3600)
    later = await sender.deliver("8", [Reply("dos")], Lane.BULK)
    assert later.status == "halted" and transport.calls == 1  # not even tried
    assert (await sender.deliver("9", [Reply("hola")], Lane.REPLY)).status == "sent"
    await t.sleep(3601)
    assert (await sender.deliver("8", [Reply("dos")], Lane.BULK)).status == "sent"


async def test_skipped_and_try_later_are_reported_as_such() -> None:
    t = Timeline()
    transport = ScriptedTransport(Skipped("no template"), TryLater("window closed"))
    sender, _ = _sender(transport, t)
    assert (await sender.deliver("7", [Reply("a")], Lane.BULK)).status == "skipped"
    assert (await sender.deliver("7", [Reply("b")], Lane.BULK)).status == "retry"

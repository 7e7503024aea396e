"""One channel's sending path: pace, send, and deal with what the platform answers."""

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

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
from bot.sending.pacer import Lane, Monotonic, Pacer, Sleep
from handlers.engine.messages import Reply

log = logging.getLogger(__name__)

MAX_RATE_LIMIT_WAITS = 5  # 429s waited out for one message before it counts as failed


class Transport(Protocol):
    """A platform's own part of sending: its message forms and its API."""

    channel: str

    def render(self, replies: Sequence[Reply]) -> Sequence[Any]:
        """Replies -> the platform's messages, within its limits."""
        ...

    async def send(self, recipient: str, message: Any, *, bulk: bool) -> str | None:
        """Send one message; raise a DeliveryError subclass when it was not delivered.
        Returns the platform's id for the message where its later reports are read."""
        ...


class Preparing(Protocol):
    """A transport whose messages depend on more than the replies (WhatsApp: whether the
    resident's 24-hour window is open); it prepares them itself, and may refuse (Skipped)."""

    async def prepare(
        self, recipient: str, replies: Sequence[Reply], *, bulk: bool
    ) -> Sequence[Any]: ...


class SendObserver(Protocol):
    def answered(self, channel: str, lane: str, result: str) -> None:
        """The platform answered one try: ok, retried (delivered after a retry or a wait),
        403 (blocked), 429 (asked to wait), 5xx (server error or time-out), refused."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    # sent; blocked (never again); failed (given up); skipped (not allowed now, on purpose);
    # retry (queue it again: the next try goes another way); halted (the account is stopped)
    status: Literal["sent", "blocked", "failed", "skipped", "retry", "halted"]
    attempts: int = 1
    error: str | None = None
    message_ids: tuple[str, ...] = ()
    halt_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5  # tries per message on server errors and time-outs
    backoff_seconds: float = 1.0  # the first pause; doubled each time, with jitter
    max_backoff_seconds: float = 60.0
    bulk_seconds_per_chat: float = 1.0  # bulk messages to one chat at most this often

    def pause(self, attempt: int) -> float:
        base = min(self.max_backoff_seconds, self.backoff_seconds * 2.0 ** (attempt - 1))
        return base * random.uniform(0.8, 1.2)  # jitter, so that retries spread out


class Sender:
    def __init__(
        self,
        transport: Transport,
        pacer: Pacer,
        policy: RetryPolicy = RetryPolicy(),
        *,
        sleep: Sleep = asyncio.sleep,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.transport = transport
        self._pacer = pacer
        self._policy = policy
        self._sleep = sleep
        self._monotonic = monotonic
        self._chat_free_at: dict[str, float] = {}
        self._halted_until = 0.0
        self._halt_reason = ""
        self.observer: SendObserver | None = None  # bot/metrics.py, set by `minga run`

    @property
    def channel(self) -> str:
        return self.transport.channel

    @property
    def chat_gap(self) -> float:
        """Seconds between two bulk messages to one chat."""
        return self._policy.bulk_seconds_per_chat

    @property
    def halted(self) -> bool:
        """Bulk sending is stopped (the platform restricted the account)."""
        return self._monotonic() < self._halted_until

    async def deliver(self, recipient: str, replies: Sequence[Reply], lane: Lane) -> Outcome:
        """Send the replies in order; stop at the first message that cannot be delivered."""
        bulk = lane is Lane.BULK
        if bulk and self.halted:
            return Outcome("halted", 0, self._halt_reason,
                           halt_seconds=self._halted_until - self._monotonic())  # fmt: skip
        # Only WhatsApp's transport prepares (see Preparing); the others render.
        prepare = getattr(self.transport, "prepare", None)
        try:
            if prepare is not None:
                messages = await prepare(recipient, replies, bulk=bulk)
            else:
                messages = self.transport.render(replies)
        except Skipped as error:
            return Outcome("skipped", 0, str(error))
        if bulk:
            await self._wait_for_chat(recipient, len(messages))
        attempts, ids = 0, list[str]()
        for message in messages:
            outcome = await self._send_one(recipient, message, lane)
            attempts = max(attempts, outcome.attempts)
            ids.extend(outcome.message_ids)
            if outcome.status != "sent":
                return outcome
        return Outcome("sent", max(attempts, 1), message_ids=tuple(ids))

    async def _wait_for_chat(self, recipient: str, count: int) -> None:
        """Space bulk messages to one chat (a reminder right after an invitation)."""
        now = self._monotonic()
        free_at = self._chat_free_at.get(recipient, 0.0)
        if free_at > now:
            await self._sleep(free_at - now)
            now = self._monotonic()
        self._chat_free_at[recipient] = now + count * self._policy.bulk_seconds_per_chat
        if len(self._chat_free_at) > 10_000:  # forget chats whose pause is over
            self._chat_free_at = {k: v for k, v in self._chat_free_at.items() if v > now}

    def halt(self, reason: str, seconds: float) -> None:
        """No bulk sending for `seconds` (the account is restricted, or its token expired)."""
        self._halted_until = max(self._halted_until, self._monotonic() + seconds)
        self._halt_reason = reason
        log.error("%s stopped bulk sending for %.0f min: %s", self.channel, seconds / 60, reason)

    def pause_all(self, seconds: float) -> None:
        """Every lane waits `seconds` (the platform's throughput limit for the number)."""
        self._pacer.pause_all(seconds)

    def share(self, workers: int) -> None:
        """`workers` processes (this one included) send through this platform account: this
        one paces at its share of the platform's limit."""
        self._pacer.share(workers)

    def space(self, recipient: str, seconds: float) -> None:
        """The next bulk message to this person waits at least `seconds`."""
        now = self._monotonic()
        self._chat_free_at[recipient] = max(self._chat_free_at.get(recipient, now), now + seconds)

    def _halt(self, error: Halted) -> Outcome:
        self.halt(str(error), error.seconds)
        return Outcome("halted", 0, str(error), halt_seconds=error.seconds)

    async def _send_one(self, recipient: str, message: Any, lane: Lane) -> Outcome:
        """One message, tried again after a server error or a time-out and after waiting out
        a rate limit (not the message's fault: not counted as an attempt)."""
        attempt, waits = 0, 0
        while True:
            attempt += 1
            slot = await self._pacer.slot(lane, recipient)
            try:
                try:
                    message_id = await self.transport.send(recipient, message,
                                                           bulk=lane is Lane.BULK)  # fmt: skip
                except DeliveryError as error:
                    self._answered(lane, _result(error))
                    raise
                finally:
                    slot.done()  # counted from the platform's answer: see Slot
                self._answered(lane, "ok" if attempt == 1 and waits == 0 else "retried")
                return Outcome("sent", attempt, message_ids=(message_id,) if message_id else ())
            except ChatRateLimited as error:
                # Only this person: later bulk to them waits too; other people go on.
                waits += 1
                attempt -= 1
                if waits > MAX_RATE_LIMIT_WAITS:
                    return Outcome("failed", attempt + 1, str(error))
                self._chat_free_at[recipient] = self._monotonic() + error.retry_after
                await self._sleep(error.retry_after)
            except RateLimited as error:
                self._pause(error)
                waits += 1
                attempt -= 1  # a 429 is not the message's fault
                if waits > MAX_RATE_LIMIT_WAITS:
                    return Outcome("failed", attempt + 1, str(error))
                log.info("%s asked to wait %.1f s (lane %s)", self.channel, error.retry_after,
                         lane.name)  # fmt: skip
                await self._sleep(error.retry_after)
            except Transient as error:
                if attempt >= self._policy.attempts:
                    log.warning("%s send failed after %d attempts: %s", self.channel, attempt,
                                error)  # fmt: skip
                    return Outcome("failed", attempt, str(error))
                await self._sleep(self._policy.pause(attempt))
            except DeliveryError as error:
                return self._given_up(error, attempt)

    def _answered(self, lane: Lane, result: str) -> None:
        if self.observer is not None:
            self.observer.answered(self.channel, lane.name.lower(), result)

    def _pause(self, error: RateLimited) -> None:
        """The platform's limit applies to everything: bulk pauses (with `everyone`, replies
        too); the message that met it waits."""
        if error.everyone:
            self._pacer.pause_all(error.retry_after)
        else:
            self._pacer.pause_bulk(error.retry_after)

    def _given_up(self, error: DeliveryError, attempt: int) -> Outcome:
        """The outcome of an error that is not tried again."""
        if isinstance(error, Blocked):
            return Outcome("blocked", attempt, str(error))
        if isinstance(error, Skipped):
            return Outcome("skipped", attempt, str(error))
        if isinstance(error, TryLater):
            return Outcome("retry", attempt, str(error))
        if isinstance(error, Halted):
            return self._halt(error)
        if isinstance(error, Rejected):
            log.warning("%s refused a message: %s", self.channel, error)
        # a Rejected, or a transport's own subclass of DeliveryError: treated as refused
        return Outcome("failed", attempt, str(error))


def _result(error: DeliveryError) -> str:
    """A failed try as /metrics counts it (the HTTP status a Bot API would have given)."""
    if isinstance(error, RateLimited | ChatRateLimited):
        return "429"
    if isinstance(error, Transient):
        return "5xx"
    if isinstance(error, Blocked):
        return "403"
    return "refused"

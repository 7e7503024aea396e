"""Outbox policy in one place: what becomes of a row after a try (sent, queued again, held
while a channel is halted, given up), what a platform's later report of a failure does, waking
the worker when rows are written, and the staff hearing how things went. Built once by the
composition root (bot/app.py) and given to the worker and the WhatsApp channel; the
dispatcher and the scheduler get only `wake`."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.sending.sender import Outcome
from handlers.engine.clock import Clock
from handlers.outbound.broadcasts import finish_broadcasts
from storage.database import Database
from storage.deliveries import Report, Reported
from storage.models import OutboxItem, OutboxStatus
from storage.repositories import Repositories

log = logging.getLogger(__name__)

MAX_TRIES = 3  # a row queued again ("retry": e.g. as a template next time) at most this often

# Tell the staff that a channel stopped bulk sending (channel, reason, for how many seconds),
# in the transaction that puts the row back.
Alert = Callable[[Repositories, str, str, float, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Sent:
    """A row the platform took: how many tries it took, and the platform's message ids."""

    item: OutboxItem
    attempts: int
    message_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Retry:
    """What a failure the platform reported after taking a message means for its row: tried
    again from `at` (None: given up), and whether the channel stopped bulk sending."""

    at: datetime | None
    error: str
    halt_seconds: float | None = None


# A channel's reading of a failure it reported (its error codes), at `now`.
React = Callable[[Reported, datetime], Retry]


class OutboxPolicy:
    def __init__(self, database: Database, clock: Clock, *, alert: Alert | None = None) -> None:
        self._database = database
        self._clock = clock
        self._alert = alert
        self._alerted_until: dict[str, datetime] = {}  # one staff alert per halt and channel
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()

    # -- wake-ups ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Rows were written (a turn, the scheduler, a row queued again) or a delivery ended:
        the worker looks now instead of at its next poll."""
        self._idle.clear()
        self._wake.set()

    def looking(self) -> None:
        """The worker is about to look: a wake-up from now on means look again."""
        self._wake.clear()

    async def woken(self) -> None:
        """Until the next wake-up."""
        await self._wake.wait()

    def caught_up(self) -> None:
        """The worker found nothing to do (nothing due, nothing in flight)."""
        if not self._wake.is_set():
            self._idle.set()

    async def until_caught_up(self) -> None:
        """Until the worker has looked since the last wake-up and found nothing to do: what
        tests wait for before saying that nothing (more) was sent."""
        await self._idle.wait()

    # -- after a try ---------------------------------------------------------------------------

    async def sent(self, rows: Sequence[Sent]) -> None:
        """Rows the platform took, marked together (and where its later reports will go)."""
        now = self._clock.now()
        async with self._database.transaction() as repos:
            await repos.outbox.mark_sent([r.item.id for r in rows], [r.attempts for r in rows],
                                         now)  # fmt: skip
            for row in rows:
                if row.message_ids:
                    await repos.deliveries.record(row.item.recipient.channel, row.item.id,
                                                  row.item.recipient.id, row.message_ids,
                                                  now)  # fmt: skip

    async def not_sent(self, item: OutboxItem, outcome: Outcome) -> None:
        """A try that did not end sent: queued again, held, or given up."""
        attempts = item.attempts + outcome.attempts
        now = self._clock.now()
        async with self._database.transaction() as repos:
            if outcome.status == "halted":
                await self._halted(repos, item, outcome, now)
            elif outcome.status == "retry" and attempts < MAX_TRIES:
                await repos.outbox.requeue(item.id, now, attempts=attempts, error=outcome.error)
            elif outcome.status == "skipped":
                await repos.outbox.mark(item.id, OutboxStatus.SKIPPED, now, attempts=attempts,
                                        error=outcome.error)  # fmt: skip
            elif outcome.status == "blocked":
                await repos.outbox.mark(item.id, OutboxStatus.BLOCKED, now, attempts=attempts,
                                        error=outcome.error)  # fmt: skip
                await repos.outbox.block_recipient(item.recipient.id, now)
            else:
                await repos.outbox.mark(item.id, OutboxStatus.FAILED, now, attempts=attempts,
                                        error=outcome.error)  # fmt: skip

    async def _halted(
        self, repos: Repositories, item: OutboxItem, outcome: Outcome, now: datetime
    ) -> None:
        """Not sent: the row waits until the halt is over; the staff hear of it once."""
        until = now + timedelta(seconds=outcome.halt_seconds)
        await repos.outbox.requeue(item.id, until, error=outcome.error)
        channel = item.recipient.channel
        if self._alert is not None and self._alerted_until.get(channel, now) <= now:
            self._alerted_until[channel] = until
            await self._alert(repos, channel, outcome.error or "", outcome.halt_seconds, now)

    async def not_tried(self, item: OutboxItem, status: OutboxStatus, *, error: str) -> None:
        """A row not sent at all: expired, its resident blocked the bot, no longer wanted."""
        async with self._database.transaction() as repos:
            await repos.outbox.mark(item.id, status, self._clock.now(), error=error)

    # -- later ---------------------------------------------------------------------------------

    async def reported(self, channel: str, report: Report, react: React) -> None:
        """A platform's report on a message it took; a failure queues the row again or gives
        it up as `react` reads it (at most MAX_TRIES in all), in the report's transaction."""
        now = self._clock.now()
        async with self._database.transaction() as repos:
            reported = await repos.deliveries.report(channel, report)
            if reported is None or reported.status != "failed":
                return
            retry = react(reported, now)
            if retry.halt_seconds is not None and self._alert is not None:
                await self._alert(repos, channel, retry.error, retry.halt_seconds, now)
            # No time: undeliverable, or refused for a reason retrying will not change.
            tries = MAX_TRIES if retry.at is not None else 0
            again = await repos.outbox.after_report(reported.outbox_id, retry.at or now,
                                                    error=retry.error, max_tries=tries)  # fmt: skip
        log.info("outbox row=%s failed at %s (%s): %s", reported.outbox_id, channel,
                 reported.error_code, "queued again" if again else "given up")  # fmt: skip
        if again:
            self.wake()

    async def finish_broadcasts(self) -> None:
        """Broadcasts with nothing left to send are finished; staff who started one hear how
        it went (handlers.outbound.broadcasts)."""
        async with self._database.transaction() as repos:
            finished = await finish_broadcasts(repos, self._clock.now())
        for broadcast in finished:
            log.info("broadcast %s finished", broadcast.id)
        if any(broadcast.reporter_id is not None for broadcast in finished):
            self.wake()  # the reports are due now

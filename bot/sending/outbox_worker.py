"""The outbox worker: sends pending bulk messages through each channel's sender, in the
bulk lane, and marks every row as it goes (so a restart resumes and repeats nothing but
what was in flight)."""

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.sending.pacer import Lane
from bot.sending.sender import Outcome, Sender
from handlers.engine.clock import Clock
from handlers.engine.messages import Reply
from handlers.outbound.compose import BROADCAST_REPORT
from storage.database import Database
from storage.models import NewOutbox, OutboxItem, OutboxStatus
from storage.repositories import Repositories

log = logging.getLogger(__name__)

Compose = Callable[[OutboxItem, datetime], Awaitable[list[Reply] | None]]
# Tell the staff that a channel stopped bulk sending (channel, reason, for how many seconds),
# in the transaction that puts the row back.
Alert = Callable[[Repositories, str, str, float, datetime], Awaitable[None]]
REPORT_PRIORITY = 4
MAX_TRIES = 3  # a row queued again ("retry": e.g. as a template next time) at most this often
FINISH_CHECK_SECONDS = 1.0  # while busy, how often to look for broadcasts that are done
# How often the worker writes that it is delivering its channels (outbox_heartbeats), and how
# old that row may be before `minga broadcast send --wait` takes it for a stopped bot.
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_STALE_SECONDS = 4 * HEARTBEAT_SECONDS


class OutboxWorker:
    def __init__(
        self,
        database: Database,
        senders: Mapping[str, Sender],
        compose: Compose,
        clock: Clock,
        *,
        concurrency: int = 32,
        poll_seconds: float = 1.0,
        alert: Alert | None = None,
    ) -> None:
        self._database = database
        self._senders = dict(senders)
        self._compose = compose
        self._clock = clock
        self._concurrency = concurrency
        self._refill_at = max(1, concurrency // 4)  # free slots worth a query while busy
        self._finish_checked_at = 0.0
        self._poll = poll_seconds
        self._alert = alert
        self._alerted_until: dict[str, datetime] = {}  # one staff alert per halt and channel
        self._wake = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._finished_some = False
        self.delivered = 0  # rows marked sent by this worker, for progress and tests
        # Sent rows wait here to be marked together: one transaction for all that were sent
        # while the previous one was being written (group commit).
        self._sent: list[tuple[OutboxItem, int, tuple[str, ...], asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._name = f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:6]}"
        self._beat_at: datetime | None = None

    def notify(self) -> None:
        """New rows were written: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; what is in flight then is finished first."""
        channels = tuple(self._senders)
        try:
            while not stop.is_set():
                await self._heartbeat(channels)
                # Cleared before looking, so that a row written or a delivery ended while we
                # look (or finish broadcasts) wakes the wait below at once.
                self._wake.clear()
                try:
                    started = await self._step(channels)
                except Exception:  # e.g. the database busy for too long: try again soon
                    log.exception("outbox worker: trying again in %.0f s", self._poll)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._poll)
                    continue
                if not started:
                    await self._wait(stop)
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
            with contextlib.suppress(Exception):  # a stopped bot says so at once
                async with self._database.transaction() as repos:
                    await repos.outbox.stop_beating(channels, self._name)

    async def _heartbeat(self, channels: tuple[str, ...]) -> None:
        """Every HEARTBEAT_SECONDS: "this process is delivering these channels"."""
        now = self._clock.now()
        if self._beat_at is not None and (now - self._beat_at).total_seconds() < HEARTBEAT_SECONDS:
            return
        try:
            async with self._database.transaction() as repos:
                await repos.outbox.beat(channels, self._name, now)
            self._beat_at = now
        except Exception:  # a busy database: the next turn of the loop tries again
            log.warning("outbox worker: heartbeat not written", exc_info=True)

    async def _step(self, channels: tuple[str, ...]) -> int:
        """Start what is due; finish broadcasts that are done. Returns how many started."""
        started = await self._start_due(channels)
        if self._finished_some and self._time_to_finish_broadcasts():
            self._finished_some = False
            self._finish_checked_at = time.monotonic()
            await self._finish_broadcasts()
        return started

    def _time_to_finish_broadcasts(self) -> bool:
        """When idle, or once a second while busy: the check is a write transaction, which
        once per message cost more than the messages' own marks."""
        idle = not self._in_flight
        return idle or time.monotonic() - self._finish_checked_at >= FINISH_CHECK_SECONDS

    async def _wait(self, stop: asyncio.Event) -> None:
        """Until a row is written, a delivery ends (a free slot), the poll time, or stop."""
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _start_due(self, channels: tuple[str, ...]) -> int:
        free = self._concurrency - len(self._in_flight)
        # Refill in batches while busy: one query for several rows, not one per message that
        # ends (at 1,000 messages/s that query was most of the database thread's work).
        if free <= 0 or (self._in_flight and free < self._refill_at):
            return 0
        items = await self._database.reader().outbox.due(
            self._clock.now(), channels=channels, limit=free, skip=self._in_flight
        )
        for item in items:
            task = asyncio.create_task(self._deliver(item), name=f"outbox-{item.id}")
            self._in_flight[item.id] = task
        return len(items)

    async def _deliver(self, item: OutboxItem) -> None:
        try:
            await self._deliver_one(item)
        except Exception:
            log.exception("outbox row %s (%s) could not be handled", item.id, item.kind)
            with contextlib.suppress(Exception):
                await self._mark(item, OutboxStatus.FAILED, error="internal error")
        finally:
            del self._in_flight[item.id]
            self._finished_some = True
            self._wake.set()

    async def _deliver_one(self, item: OutboxItem) -> None:
        now = self._clock.now()
        if item.expires_at is not None and now >= item.expires_at:
            return await self._mark(item, OutboxStatus.SKIPPED, error="expired")
        if item.recipient.unreachable_at is not None:
            return await self._mark(item, OutboxStatus.BLOCKED, error="blocked the bot")
        replies = await self._compose(item, now)
        if not replies:
            return await self._mark(item, OutboxStatus.SKIPPED, error="no longer wanted")
        sender = self._senders[item.recipient.channel]
        outcome = await sender.deliver(item.recipient.user_key, replies, Lane.BULK)
        await self._record(item, outcome)

    async def _record(self, item: OutboxItem, outcome: Outcome) -> None:
        attempts = item.attempts + outcome.attempts
        if outcome.status == "sent":
            await self._mark_sent(item, attempts, outcome.message_ids)
            log.debug("outbox row=%s kind=%s resident=%s sent", item.id, item.kind,
                      item.recipient.id)  # fmt: skip
            return
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
        log.info("outbox row=%s kind=%s resident=%s %s", item.id, item.kind,
                 item.recipient.id, outcome.status)  # fmt: skip

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

    async def _mark_sent(self, item: OutboxItem, attempts: int, ids: tuple[str, ...]) -> None:
        """Returns once the row is marked sent (the row stays "in flight" until then)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append((item, attempts, ids, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_sent())
        await done

    async def _flush_sent(self) -> None:
        while self._sent:
            batch, self._sent = self._sent, []
            now = self._clock.now()
            try:
                async with self._database.transaction() as repos:
                    await repos.outbox.mark_sent([b[0].id for b in batch], [b[1] for b in batch],
                                                 now)  # fmt: skip
                    for item, _, ids, _ in batch:
                        if ids:  # where the platform's later reports will be read
                            await repos.deliveries.record(item.recipient.channel, item.id,
                                                          item.recipient.id, ids, now)  # fmt: skip
            except Exception as error:
                for *_, done in batch:
                    done.set_exception(error)
                continue
            self.delivered += len(batch)
            for *_, done in batch:
                done.set_result(None)

    async def _mark(self, item: OutboxItem, status: OutboxStatus, *, error: str) -> None:
        async with self._database.transaction() as repos:
            await repos.outbox.mark(item.id, status, self._clock.now(), error=error)

    async def _finish_broadcasts(self) -> None:
        """Broadcasts with nothing left to send are finished; staff who started one hear how
        it went."""
        now = self._clock.now()
        async with self._database.transaction() as repos:
            finished = await repos.broadcasts.finish_done(now)
            reports = [
                NewOutbox(
                    kind=BROADCAST_REPORT,
                    subject=str(b.id),
                    recipient_id=b.reporter_id,
                    payload={"broadcast_id": b.id},
                    priority=REPORT_PRIORITY,
                    not_before=now,
                )
                for b in finished
                if b.reporter_id is not None
            ]
            if reports:
                await repos.outbox.add(reports, now)
        for broadcast in finished:
            log.info("broadcast %s finished", broadcast.id)

"""The outbox worker: sends pending bulk messages through each channel's sender, in the
bulk lane, and marks every row as it goes (so a restart resumes and repeats nothing but
what was in flight)."""

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.sending.outbox_policy import OutboxPolicy, Sent
from bot.sending.pacer import Lane
from bot.sending.sender import Outcome, Sender
from handlers.engine.clock import Clock
from handlers.engine.messages import Reply
from storage.database import Database
from storage.models import OutboxItem, OutboxStatus

log = logging.getLogger(__name__)

Compose = Callable[[OutboxItem, datetime], Awaitable[list[Reply] | None]]
FINISH_CHECK_SECONDS = 1.0  # while busy, how often to look for broadcasts that are done
# How often the worker writes that it is delivering its channels (the rows "outbox:CHANNEL" of
# the leases table, shared by every worker that delivers them), and how old that row may be
# before `minga broadcast send --wait` takes it for a stopped bot.
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_STALE_SECONDS = 4 * HEARTBEAT_SECONDS
STALE = timedelta(seconds=HEARTBEAT_STALE_SECONDS)
HEARTBEAT_PREFIX = "outbox:"
# Each worker's own row too ("sending:CHANNEL:WORKER", same table and lifetime): how many
# workers deliver a channel, so that each paces at its share of the platform's limit.
SENDING_PREFIX = "sending:"
# A row a worker claims is its own until then; the claims of rows still in flight are
# renewed with each heartbeat, so this only runs out when the worker died or lost the
# database: then the rows are due again (sent again at most once more, if they went out).
CLAIM = timedelta(seconds=HEARTBEAT_STALE_SECONDS)
# A worker that finds others delivering its channels waits this long before it claims: by
# then each of them has read the count again and slowed to its new share (they read it with
# every heartbeat), so the account never gets more than the limit while one joins.
JOIN_SECONDS = 2 * HEARTBEAT_SECONDS


def heartbeat_names(channels: tuple[str, ...]) -> list[str]:
    """The heartbeat rows (leases table) of these channels' delivery."""
    return [HEARTBEAT_PREFIX + channel for channel in channels]


def worker_name() -> str:
    """This process's name in leases and claims: its host, its pid, and a random tag."""
    return f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:6]}"


def gone_here(holder: str) -> bool:
    """Whether `holder` is a process of this host that no longer runs (a worker restarted
    after a crash finds its former self's rows: no need to wait for them to run out). A pid
    alive, or another host's process, is taken as alive."""
    host, _, rest = holder.partition(" pid ")
    pid = rest.split(" ", 1)[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    return False


def sending_prefix(channel: str) -> str:
    """The start of the name of every worker's own row for this channel."""
    return f"{SENDING_PREFIX}{channel}:"


class OutboxWorker:
    def __init__(
        self,
        database: Database,
        senders: Mapping[str, Sender],
        compose: Compose,
        clock: Clock,
        policy: OutboxPolicy,
        *,
        concurrency: int = 32,
        poll_seconds: float = 1.0,
        on_sent: Callable[[OutboxItem, datetime], None] | None = None,
    ) -> None:
        self._database = database
        # Told of each row sent, and when (bot/metrics.py: a reminder's lateness).
        self._on_sent = on_sent
        self._senders = dict(senders)
        self._compose = compose
        self._clock = clock
        self._policy = policy
        self._concurrency = concurrency
        self._refill_at = max(1, concurrency // 4)  # free slots worth a query while busy
        self._finish_checked_at: datetime | None = None
        self._poll = poll_seconds  # also for rows another process wrote (minga broadcast)
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._finished_some = False
        self.delivered = 0  # rows marked sent by this worker, for progress and tests
        # Sent rows wait here to be marked together: one transaction for all that were sent
        # while the previous one was being written (group commit).
        self._sent: list[tuple[Sent, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._name = worker_name()
        self._beat_at: datetime | None = None
        self._claim_from: datetime | None = None  # None: the workers are not counted yet
        self.workers: dict[str, int] = {}  # workers delivering each channel, this one too
        self._chat_gaps = {channel: timedelta(seconds=sender.chat_gap)
                           for channel, sender in self._senders.items()}  # fmt: skip

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; what is in flight then is finished first."""
        channels = tuple(self._senders)
        try:
            while not stop.is_set():
                await self._heartbeat(channels)
                # Before looking, so that a row written or a delivery ended while we look (or
                # finish broadcasts) wakes the wait below at once.
                self._policy.looking()
                try:
                    started = await self._step(channels)
                except Exception:  # e.g. the database busy for too long: try again soon
                    log.exception("outbox worker: trying again in %.0f s", self._poll)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._poll)
                    continue
                if not started:
                    if not self._in_flight and not self._finished_some:
                        self._policy.caught_up()
                    await self._wait(stop)
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
            with contextlib.suppress(Exception):  # a stopped bot says so at once
                async with self._database.transaction() as repos:
                    await repos.leases.release_all(heartbeat_names(channels), self._name)
                    await repos.leases.release_all(self._own_names(channels), self._name)

    def _own_names(self, channels: tuple[str, ...]) -> list[str]:
        """This worker's own rows: one per channel it delivers."""
        return [sending_prefix(channel) + self._name for channel in channels]

    async def _heartbeat(self, channels: tuple[str, ...]) -> None:
        """Every HEARTBEAT_SECONDS: "this process is delivering these channels"."""
        now = self._clock.now()
        if self._beat_at is not None and (now - self._beat_at).total_seconds() < HEARTBEAT_SECONDS:
            return
        try:
            async with self._database.transaction() as repos:
                await repos.leases.beat(heartbeat_names(channels), self._name, now, STALE)
                await repos.leases.beat(self._own_names(channels), self._name, now, STALE)
                await repos.outbox.renew_claims(list(self._in_flight), self._name, now + CLAIM)
                workers = {}
                for channel in channels:
                    prefix = sending_prefix(channel)
                    await repos.leases.forget_expired(prefix, now)
                    for holder in await repos.leases.holders(prefix, now):
                        if gone_here(holder):
                            await repos.leases.release_holder(prefix, holder)
                            await repos.outbox.release_claims(holder)
                    workers[channel] = await repos.leases.live(prefix, now)
            self._beat_at = now
        except Exception:  # a busy database: the next turn of the loop tries again
            log.warning("outbox worker: heartbeat not written", exc_info=True)
            return
        self._share(workers, now)

    def _share(self, workers: dict[str, int], now: datetime) -> None:
        """Each channel's sender paces at its share of the platform's limit; on the first
        count, a worker that joins others waits JOIN_SECONDS before it claims."""
        for channel, count in workers.items():
            if count != self.workers.get(channel):
                log.info("outbox worker: %d worker(s) deliver %s", count, channel)
            self._senders[channel].share(count)
        self.workers = workers
        if self._claim_from is None:
            joining = any(count > 1 for count in workers.values())
            self._claim_from = now + timedelta(seconds=JOIN_SECONDS) if joining else now

    async def _step(self, channels: tuple[str, ...]) -> int:
        """Start what is due; finish broadcasts that are done. Returns how many started."""
        started = await self._start_due(channels)
        if self._finished_some and self._time_to_finish_broadcasts():
            self._finished_some = False
            self._finish_checked_at = self._clock.now()
            await self._policy.finish_broadcasts()
        return started

    def _time_to_finish_broadcasts(self) -> bool:
        """When idle, or once a second while busy: the check is a write transaction, which
        once per message cost more than the messages' own marks."""
        if not self._in_flight or self._finish_checked_at is None:
            return True
        since = (self._clock.now() - self._finish_checked_at).total_seconds()
        return since >= FINISH_CHECK_SECONDS

    async def _wait(self, stop: asyncio.Event) -> None:
        """Until a row is written, a delivery ends (a free slot), the poll time, or stop."""
        waiters = [asyncio.ensure_future(self._policy.woken()), asyncio.ensure_future(stop.wait())]
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
        now = self._clock.now()
        if self._claim_from is None or now < self._claim_from:
            return 0  # the workers are not counted yet, or the others are slowing down
        # A write: the rows become this worker's, so no other worker sends them too.
        async with self._database.transaction() as repos:
            items = await repos.outbox.claim(now, holder=self._name, until=now + CLAIM,
                                             channels=channels, limit=free,
                                             skip=self._in_flight,
                                             chat_gap=self._chat_gaps)  # fmt: skip
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
                await self._policy.not_tried(item, OutboxStatus.FAILED, error="internal error")
        finally:
            del self._in_flight[item.id]
            self._finished_some = True
            self._policy.wake()  # a free slot

    async def _deliver_one(self, item: OutboxItem) -> None:
        now = self._clock.now()
        if item.expires_at is not None and now >= item.expires_at:
            return await self._policy.not_tried(item, OutboxStatus.SKIPPED, error="expired")
        if item.recipient.unreachable_at is not None:
            return await self._policy.not_tried(item, OutboxStatus.BLOCKED,
                                                error="blocked the bot")  # fmt: skip
        replies = await self._compose(item, now)
        if not replies:
            return await self._policy.not_tried(item, OutboxStatus.SKIPPED,
                                                error="no longer wanted")  # fmt: skip
        sender = self._senders[item.recipient.channel]
        outcome = await sender.deliver(item.recipient.user_key, replies, Lane.BULK)
        await self._record(item, outcome)

    async def _record(self, item: OutboxItem, outcome: Outcome) -> None:
        if outcome.status == "sent":
            attempts = item.attempts + outcome.attempts
            await self._mark_sent(Sent(item, attempts, outcome.message_ids))
            if self._on_sent is not None:
                self._on_sent(item, self._clock.now())
            log.debug("outbox row=%s kind=%s resident=%s sent", item.id, item.kind,
                      item.recipient.id)  # fmt: skip
            return
        await self._policy.not_sent(item, outcome)
        log.info("outbox row=%s kind=%s resident=%s %s", item.id, item.kind,
                 item.recipient.id, outcome.status)  # fmt: skip

    async def _mark_sent(self, sent: Sent) -> None:
        """Returns once the row is marked sent (the row stays "in flight" until then)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append((sent, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_sent())
        await done

    async def _flush_sent(self) -> None:
        while self._sent:
            batch, self._sent = self._sent, []
            try:
                await self._policy.sent([sent for sent, _ in batch])
            except Exception as error:
                for _, done in batch:
                    done.set_exception(error)
                continue
            self.delivered += len(batch)
            for _, done in batch:
                done.set_result(None)

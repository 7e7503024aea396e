"""The outbox worker: every reachable opted-in resident once, blocked ones given up, expired
rows skipped, failures recorded, and staff told when their broadcast ends."""

import ast
import asyncio
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.metrics import Metrics
from bot.sending.errors import Blocked, DeliveryError, Halted, Transient, TryLater
from bot.sending.outbox_policy import MAX_TRIES, OutboxPolicy
from bot.sending.outbox_worker import (
    CLAIM,
    HEARTBEAT_STALE_SECONDS,
    JOIN_SECONDS,
    STALE,
    OutboxWorker,
    gone_here,
    sending_prefix,
    worker_name,
)
from bot.sending.pacer import Gate, Lane, Pacer
from bot.sending.sender import RetryPolicy, Sender
from handlers.engine.catalog import Catalog
from handlers.engine.messages import Reply
from handlers.engine.settings import FlowSettings
from handlers.events.reminders import queue_due_reminders
from handlers.outbound.broadcasts import Audience, queue_broadcast
from handlers.outbound.compose import compose
from storage.database import Database
from storage.models import OutboxItem
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.timeline import Timeline
from tests.fakes.wait import wait_for
from tests.handlers.events.helpers import OFFSETS, add_event, outbox_rows
from tests.handlers.walk import answer_receipt, to_summary

ROOT = Path(__file__).parents[3]


class Recorder:
    """A transport that records per recipient and fails as told."""

    channel = "test"

    def __init__(self) -> None:
        self.sent: dict[str, list[Reply]] = {}
        self.failures: dict[str, DeliveryError] = {}

    def render(self, replies: Sequence[Reply]) -> Sequence[Any]:
        return list(replies)

    async def send(self, recipient: str, message: Any, *, bulk: bool) -> None:
        if recipient in self.failures:
            raise self.failures[recipient]
        self.sent.setdefault(recipient, []).append(message)


async def _instant(seconds: float) -> None:
    await asyncio.sleep(0)


def _worker(
    database: Database, transport: Recorder, clock: FakeClock, catalog: Catalog, *,
    concurrency: int = 32, poll_seconds: float = 3600,
    on_sent: Callable[[OutboxItem, datetime], None] | None = None,
) -> tuple[OutboxWorker, OutboxPolicy]:  # fmt: skip
    sender = Sender(transport, Pacer(Gate(1000)), RetryPolicy(attempts=2, backoff_seconds=0,
                    bulk_seconds_per_chat=0), sleep=_instant)  # fmt: skip

    async def composed(item: OutboxItem, now: datetime) -> list[Reply] | None:
        return await compose(item, database.reader(), FlowSettings(), catalog, now)

    policy = OutboxPolicy(database, clock)
    # By default a poll far longer than any test: the worker must be woken, never find rows
    # by chance.
    worker = OutboxWorker(database, {"test": sender}, composed, clock, policy,
                          concurrency=concurrency, poll_seconds=poll_seconds,
                          on_sent=on_sent)  # fmt: skip
    return worker, policy


async def _drain(worker_and_policy: tuple[OutboxWorker, OutboxPolicy], database: Database) -> None:
    """Run the worker until it has nothing left to do (reports of finished broadcasts
    included): what it did not send by then, it will not send."""
    worker, policy = worker_and_policy
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    policy.wake()  # the rows the test wrote
    async with asyncio.timeout(20):
        await policy.until_caught_up()
    stop.set()
    await task


async def _residents(make_chat: Callable[..., Chat], names: Sequence[str], subscribe: bool) -> None:
    for name in names:
        person = make_chat(language="es", user=name)
        await to_summary(person)
        await person.press("summary.send")
        await answer_receipt(person, announcements=subscribe)


async def _broadcast(database: Database, clock: FakeClock, reporter: int | None = None) -> int:
    async with database.transaction() as repos:
        broadcast = await queue_broadcast(
            repos, text="¡Hola! El sábado lanzamos el laboratorio.", event_id=None,
            audience=Audience("all"), created_by="test", reporter_id=reporter, now=clock.now(),
        )  # fmt: skip
    return broadcast.id


async def test_a_broadcast_reaches_each_opted_in_resident_once(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    await _residents(make_chat, ["ana", "beto", "caro"], subscribe=True)
    await _residents(make_chat, ["dora"], subscribe=False)
    broadcast_id = await _broadcast(database, clock)
    transport = Recorder()
    await _drain(_worker(database, transport, clock, catalog), database)
    assert sorted(transport.sent) == ["ana", "beto", "caro"]
    assert all(len(messages) == 1 for messages in transport.sent.values())
    counts = await database.reader().outbox.counts(broadcast_id)
    assert (counts.sent, counts.pending) == (3, 0)
    # Run again (a restart): nothing is sent twice.
    again = Recorder()
    await _drain(_worker(database, again, clock, catalog), database)
    assert again.sent == {}


async def test_a_resident_who_blocked_the_bot_is_skipped_from_then_on(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    await _residents(make_chat, ["ana", "beto"], subscribe=True)
    await _broadcast(database, clock)
    transport = Recorder()
    transport.failures["beto"] = Blocked("Forbidden: bot was blocked by the user")
    await _drain(_worker(database, transport, clock, catalog), database)
    beto = await database.reader().residents.find("test", "beto")
    assert beto is not None and beto.unreachable_at is not None
    second = await _broadcast(database, clock)
    assert (await database.reader().broadcasts.get(second)).recipients == 1
    # Writing to the bot again makes them reachable.
    await make_chat(language="es", user="beto").command("ayuda")
    beto = await database.reader().residents.find("test", "beto")
    assert beto is not None and beto.unreachable_at is None


async def test_a_failure_is_recorded_with_its_error(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    await _residents(make_chat, ["ana"], subscribe=True)
    await _broadcast(database, clock)
    transport = Recorder()
    transport.failures["ana"] = Transient("Internal Server Error (500)")
    await _drain(_worker(database, transport, clock, catalog), database)
    [row] = await outbox_rows(database, "broadcast")
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "failed", 2, "Internal Server Error (500)",
    )  # fmt: skip


async def test_staff_who_started_a_broadcast_hear_how_it_went(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    await _residents(make_chat, ["ana", "beto"], subscribe=True)
    staff = await database.reader().residents.find("test", "ana")
    assert staff is not None
    broadcast_id = await _broadcast(database, clock, reporter=staff.id)
    transport = Recorder()
    await _drain(_worker(database, transport, clock, catalog), database)
    report = catalog.text("es", "broadcast.report", id=broadcast_id, sent=2, failed=0,
                          blocked=0, skipped=0)  # fmt: skip
    assert [m.text for m in transport.sent["ana"]][-1] == report
    assert (await database.reader().broadcasts.get(broadcast_id)).finished_at is not None


async def test_opting_out_drops_broadcasts_not_yet_sent(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    await _residents(make_chat, ["ana"], subscribe=True)
    await _broadcast(database, clock)
    await make_chat(language="es", user="ana").say("BAJA")
    transport = Recorder()
    await _drain(_worker(database, transport, clock, catalog), database)
    assert transport.sent == {}
    [row] = await outbox_rows(database, "broadcast")
    assert (row["status"], row["last_error"]) == ("skipped", "opted out")


async def test_a_database_error_while_looking_is_retried_not_fatal(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog,
    monkeypatch: Any,
) -> None:  # fmt: skip
    await _residents(make_chat, ["ana", "beto"], subscribe=True)
    await _broadcast(database, clock)
    outbox = type(database.reader().outbox)
    real_claim = outbox.claim
    failures = [RuntimeError("database is locked")]

    async def flaky_claim(self: Any, *args: Any, **kwargs: Any) -> list[OutboxItem]:
        if failures:
            raise failures.pop()
        return await real_claim(self, *args, **kwargs)

    monkeypatch.setattr(outbox, "claim", flaky_claim)
    transport = Recorder()
    # After a failed look it tries again a poll later.
    await _drain(_worker(database, transport, clock, catalog, poll_seconds=0.05), database)
    assert not failures  # it failed once...
    assert sorted(transport.sent) == ["ana", "beto"]  # ...and went on


async def test_many_rows_go_out_in_batches_and_all_once(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    """More rows than the worker sends at once: refilled as slots free up, none twice."""
    names = [f"r{i}" for i in range(12)]
    await _residents(make_chat, names, subscribe=True)
    broadcast_id = await _broadcast(database, clock, reporter=None)
    transport = Recorder()
    # 8 at once, refilled when 2 are free: several refills happen.
    await _drain(_worker(database, transport, clock, catalog, concurrency=8), database)
    assert sorted(transport.sent) == sorted(names)
    assert all(len(messages) == 1 for messages in transport.sent.values())
    counts = await database.reader().outbox.counts(broadcast_id)
    assert (counts.sent, counts.pending) == (12, 0)
    broadcast = await database.reader().broadcasts.get(broadcast_id)
    assert broadcast is not None and broadcast.finished_at is not None


async def test_a_retry_is_queued_again_and_given_up_after_max_tries(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    """A "try again another way" answer (e.g. WhatsApp's closed window) queues the row again,
    at most MAX_TRIES tries in all; then it is failed with the last error."""
    await _residents(make_chat, ["ana"], subscribe=True)
    await _broadcast(database, clock)
    transport = Recorder()
    transport.failures["ana"] = TryLater("window closed (sent again as a template)")
    await _drain(_worker(database, transport, clock, catalog), database)
    [row] = await outbox_rows(database, "broadcast")
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "failed", MAX_TRIES, "window closed (sent again as a template)",
    )  # fmt: skip


async def test_a_halted_channel_holds_its_rows_until_the_clock_passes_the_halt(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    """Held, not given up; sent once the (injected) clock has moved past the halt."""
    await _residents(make_chat, ["ana"], subscribe=True)
    await _broadcast(database, clock)
    transport = Recorder()
    transport.failures["ana"] = Halted("account restricted", 600)
    timeline = Timeline()
    sender = Sender(transport, Pacer(Gate(1000, monotonic=timeline.monotonic)),
                    RetryPolicy(attempts=1, backoff_seconds=0, bulk_seconds_per_chat=0),
                    sleep=_instant, monotonic=timeline.monotonic)  # fmt: skip
    policy = OutboxPolicy(database, clock)

    async def composed(item: OutboxItem, now: datetime) -> list[Reply] | None:
        return await compose(item, database.reader(), FlowSettings(), catalog, now)

    worker = OutboxWorker(database, {"test": sender}, composed, clock, policy, poll_seconds=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(20):
            await policy.until_caught_up()  # tried once: halted
            del transport.failures["ana"]
            clock.advance(seconds=599)
            timeline.now += 599
            policy.wake()
            await policy.until_caught_up()
            assert transport.sent == {}  # the halt is not over
            [row] = await outbox_rows(database, "broadcast")
            assert (row["status"], row["last_error"]) == ("pending", "account restricted")
            clock.advance(seconds=2)
            timeline.now += 2
            policy.wake()
            await policy.until_caught_up()
    finally:
        stop.set()
        await task
    assert list(transport.sent) == ["ana"]
    [row] = await outbox_rows(database, "broadcast")
    assert row["status"] == "sent"


def _imports(path: Path) -> set[str]:
    """The modules a source file imports."""
    tree = ast.parse(path.read_text())
    names = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    return names | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


def test_the_channels_reach_the_outbox_only_through_its_policy() -> None:
    """No adapter takes the worker's constants or runs retries of its own."""
    for path in (ROOT / "bot" / "channels").rglob("*.py"):
        assert "bot.sending.outbox_worker" not in _imports(path), path


def test_the_worker_reads_time_only_from_its_clock_and_writes_no_domain_rows() -> None:
    for name in ("outbox_worker.py", "outbox_policy.py"):
        path = ROOT / "bot" / "sending" / name
        assert not {"time", "storage.outbox_kinds"} & _imports(path), path
        source = path.read_text()
        assert ".now(" not in source.replace("self._clock.now(", ""), path
        assert "NewOutbox" not in source, path  # "how it went" rows: handlers.outbound.broadcasts


async def test_a_worker_joining_another_paces_at_half_and_waits_for_it_to_slow_down(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    """Another worker is delivering the channel (its heartbeat row is live): this one paces at
    half the platform's limit, claims nothing until the other has read the new count, and
    takes the whole limit again once the other's heartbeat has run out."""
    await _residents(make_chat, ["ana", "beto"], subscribe=True)
    await _broadcast(database, clock)
    async with database.transaction() as repos:
        await repos.leases.beat([sending_prefix("test") + "other"], "other", clock.now(), STALE)
    transport = Recorder()
    worker, policy = _worker(database, transport, clock, catalog)
    gate = worker._senders["test"]._pacer._gates[Lane.BULK]
    full = gate.rate
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        policy.wake()
        await asyncio.wait_for(policy.until_caught_up(), 20)
        assert worker.workers == {"test": 2}
        assert gate.rate == pytest.approx(full / 2, rel=0.01)
        assert transport.sent == {}  # the other is still at the whole limit for a moment
        clock.advance(seconds=JOIN_SECONDS)
        policy.wake()
        await wait_for(lambda: sorted(transport.sent) == ["ana", "beto"], 20)
        clock.advance(seconds=HEARTBEAT_STALE_SECONDS)  # the other stopped beating
        policy.wake()
        await wait_for(lambda: worker.workers == {"test": 1}, 20)
        assert gate.rate == pytest.approx(full)
    finally:
        stop.set()
        await task


async def test_rows_in_the_hands_of_a_worker_that_died_are_sent_once_its_claim_lapses(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    await _residents(make_chat, ["ana", "beto"], subscribe=True)
    await _broadcast(database, clock)
    now = clock.now()
    async with database.transaction() as repos:  # claimed, then its worker was killed
        taken = await repos.outbox.claim(now, holder="dead", until=now + CLAIM,
                                         channels=("test",), limit=1)  # fmt: skip
    [dead] = [item.recipient.user_key for item in taken]
    transport = Recorder()
    worker, policy = _worker(database, transport, clock, catalog)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        policy.wake()
        await asyncio.wait_for(policy.until_caught_up(), 20)
        assert dead not in transport.sent and len(transport.sent) == 1  # the other one
        clock.advance(seconds=CLAIM.total_seconds())
        policy.wake()
        await wait_for(lambda: dead in transport.sent, 20)
    finally:
        stop.set()
        await task
    assert all(len(messages) == 1 for messages in transport.sent.values())


async def test_a_worker_restarted_after_a_crash_takes_over_its_former_selfs_rows_at_once(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    """One worker, killed and started again on the same host: its former self's heartbeat and
    claims are those of a process that no longer runs, so it neither waits for them to run
    out nor shares the pace with it."""
    await _residents(make_chat, ["ana", "beto"], subscribe=True)
    await _broadcast(database, clock)
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await process.wait()  # a pid that no longer runs
    former = f"{socket.gethostname()} pid {process.pid} 0a1b2c"
    assert gone_here(former) and not gone_here(worker_name())
    now = clock.now()
    async with database.transaction() as repos:
        await repos.leases.beat([sending_prefix("test") + former], former, now, STALE)
        await repos.outbox.claim(now, holder=former, until=now + CLAIM, channels=("test",),
                                 limit=1)  # fmt: skip
    transport = Recorder()
    worker, policy = _worker(database, transport, clock, catalog)
    await _drain((worker, policy), database)
    assert worker.workers == {"test": 1}
    assert sorted(transport.sent) == ["ana", "beto"]


async def test_a_reminder_sent_late_is_measured_from_its_time(
    database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    """/metrics' reminder lateness: the bot woke 10 minutes after the reminder's time."""
    event = await add_event(database, clock.now(), days=1 + 1 / 24)  # its 1-day one: in 1 h
    async with database.transaction() as repos:
        ana = await repos.residents.get_or_create("test", "ana", clock.now())
        await repos.rsvps.say_yes(event.id, ana.id, clock.now())
    clock.advance(minutes=70)
    async with database.transaction() as repos:
        assert await queue_due_reminders(repos, OFFSETS, clock.now()) == 1
    metrics = Metrics()
    transport = Recorder()
    await _drain(_worker(database, transport, clock, catalog, on_sent=metrics.sent), database)
    assert list(transport.sent) == ["ana"]
    assert metrics.registry.get_sample_value("minga_reminder_lateness_seconds_count") == 1
    assert metrics.registry.get_sample_value("minga_reminder_lateness_seconds_sum") == 600

"""Several workers on one PostgreSQL database (issue 19): one person's messages, whichever
worker receives them, are handled one at a time, in the order they came, each once; what a
worker that died left (a message, replies) is taken up by another, once.

Two workers here are two dispatchers in one test process, each with its own pool on the same
database (what `minga run` processes share); tests/bot/test_workers_one_person.py runs real
processes."""

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from handlers.engine.catalog import Catalog
from handlers.engine.dispatcher import LEFT_BEHIND, SENDING_TIME, Arrival
from handlers.engine.messages import Inbound, Reply
from handlers.engine.settings import FloodSettings, FlowSettings
from handlers.flows import Dispatcher
from storage.database import Database
from storage.pending import Kept
from tests.fakes.clock import FakeClock
from tests.fakes.postgres import created_database, drop_database
from tests.fakes.sql import connect
from tests.fakes.wait import wait_for

CHANNEL = "test"
PERSON = "5730012345"


@pytest.fixture
async def shared(postgres_dsn: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database for the workers to share."""
    url = await asyncio.to_thread(created_database, postgres_dsn)
    yield url
    await asyncio.to_thread(drop_database, postgres_dsn, url)


@dataclass
class Worker:
    """One worker: its database pool and dispatcher; what it answered goes to `answered`
    (the message each answer was to), shared by all workers as the person's phone is."""

    name: str
    database: Database
    dispatcher: Dispatcher
    clock: FakeClock
    answered: list[str]
    gate: asyncio.Event | None = None  # when set, reading a message waits for it (a hang)
    reading: asyncio.Event = field(default_factory=asyncio.Event)  # a message is being read
    send_gate: asyncio.Event | None = None  # when set, sending replies left waits for it
    sending: asyncio.Event = field(default_factory=asyncio.Event)  # replies left being sent
    tasks: list[asyncio.Task[bool]] = field(default_factory=list)

    def arrival(self, message: dict[str, str]) -> Arrival:
        async def prepare() -> Inbound:
            self.reading.set()
            if self.gate is not None:
                await self.gate.wait()
            return Inbound(channel=CHANNEL, user_key=message["user"], external_id=message["id"],
                           at=self.clock.now(), text=message["text"])  # fmt: skip

        async def deliver(replies: Sequence[Reply]) -> None:
            assert replies
            self.answered.append(message["id"])

        return Arrival(message["user"], prepare, deliver)

    def reopen(self, body: str) -> Arrival:
        return self.arrival(json.loads(body))

    async def send_to(self, chat: str, replies: Sequence[Reply]) -> None:
        self.sending.set()
        if self.send_gate is not None:
            await self.send_gate.wait()
        self.answered.append(f"again:{chat}")

    async def receive(self, message: dict[str, str], position: int) -> None:
        """A webhook delivery: the body committed (the 200), then handled in the background."""
        kept = Kept(message["id"], json.dumps(message), message["user"], position)
        async with self.database.transaction() as repos:
            await repos.inbound_queue.put_all(CHANNEL, [kept], self.clock.now())
        arrival = self.arrival(message)
        self.tasks.append(asyncio.create_task(self.dispatcher.handle_prepared(
            CHANNEL, arrival.user_key, arrival.prepare, arrival.deliver, message["id"]
        )))  # fmt: skip


async def _workers(
    url: str, count: int, catalog: Catalog, clock: FakeClock, answered: list[str],
    dead: set[str] | None = None,
) -> list[Worker]:  # fmt: skip
    """`dead`: with it, each worker is named (w0, w1...) in the replies it commits, and knows
    the workers named there as dead (bot/leases.py's `gone`, for processes of this host)."""
    # A person writing 50 times at once is what is tested here, not the flood control.
    settings = FlowSettings(flood=FloodSettings(max_messages=1000))
    workers = []
    for number in range(count):
        database = await Database.open(url)
        dispatcher = Dispatcher(
            database, settings, catalog, clock,
            worker=None if dead is None else f"w{number}",
            gone=None if dead is None else dead.__contains__,
        )  # fmt: skip
        worker = Worker(f"w{number}", database, dispatcher, clock, answered)
        worker.dispatcher.attach(CHANNEL, reopen=worker.reopen, send_to=worker.send_to)
        workers.append(worker)
    return workers


def _message(number: int) -> dict[str, str]:
    return {"id": f"u{number}", "user": PERSON, "text": f"mensaje {number}"}


async def _count(url: str, sql: str) -> int:
    async with connect(url) as db:
        rows = await db.execute_fetchall(sql, (PERSON,))
    return int(next(iter(rows))[0])


async def test_one_persons_messages_across_two_workers_are_answered_once_in_order(
    shared: str, catalog: Catalog, clock: FakeClock
) -> None:
    """50 deliveries from one person spread over two workers, every fifth also retried to the
    other one at once: one resident, one conversation, every message answered once, in the
    order they came (a worker holding the person's lock answers the others' messages too)."""
    answered: list[str] = []
    workers = await _workers(shared, 2, catalog, clock, answered)
    try:
        for number in range(50):
            message = _message(number)
            await workers[number % 2].receive(message, number)
            if number % 5 == 0:  # Telegram/Meta sending the same delivery again, elsewhere
                await workers[(number + 1) % 2].receive(message, number)
        await asyncio.gather(*(task for worker in workers for task in worker.tasks))
        assert answered == [f"u{number}" for number in range(50)]
        assert await _count(shared, "SELECT count(*) FROM residents WHERE user_key = ?") == 1
        assert await _count(shared, "SELECT count(*) FROM conversations AS c JOIN residents "
                            "AS r ON r.id = c.resident_id WHERE r.user_key = ?") == 1  # fmt: skip
        assert await _count(shared, "SELECT count(*) FROM inbound_queue WHERE user_key = ?") == 0
    finally:
        for worker in workers:
            await worker.database.close()


async def test_a_message_left_by_a_worker_that_died_mid_turn_is_answered_once_by_another(
    shared: str, catalog: Catalog, clock: FakeClock
) -> None:
    """The first worker keeps the message and dies while handling it, holding the person's
    lock: the other does not take it over while the lock is held; once the first is gone, its
    sweep answers the message, once, and the person's next message after it."""
    answered: list[str] = []
    first, second = await _workers(shared, 2, catalog, clock, answered)
    try:
        first.gate = asyncio.Event()  # never set: the first worker hangs on the message
        await first.receive(_message(1), 1)
        await first.reading.wait()  # it holds the person's lock, and reads the message
        clock.advance(seconds=LEFT_BEHIND.total_seconds() + 1)
        assert await second.dispatcher.sweep() == 0  # a live worker has it in hand
        first.tasks[0].cancel()  # the worker dies: its transaction, and the lock, go with it
        with pytest.raises(asyncio.CancelledError):
            await first.tasks[0]
        await first.database.close()
        assert answered == []

        assert await second.dispatcher.sweep() == 1
        assert answered == ["u1"]
        assert await second.dispatcher.sweep() == 0
        await second.receive(_message(2), 2)
        await asyncio.gather(*second.tasks)
        assert answered == ["u1", "u2"]
    finally:
        for worker in (first, second):
            await worker.database.close()


class Died(BaseException):
    """The worker dies here (a SIGKILL): nothing after it runs."""


async def test_replies_a_worker_committed_and_died_before_sending_are_sent_by_another_once(
    shared: str, catalog: Catalog, clock: FakeClock
) -> None:
    """The turn committed and the worker died before sending: the next holder of the person's
    lock sends those replies before answering anything newer, once; its sweep does it even
    when the person sends nothing more."""
    answered: list[str] = []
    first, second = await _workers(shared, 2, catalog, clock, answered)
    try:

        async def dies(replies: Sequence[Reply]) -> None:
            raise Died

        message = _message(1)
        arrival = first.arrival(message)
        async with first.database.transaction() as repos:
            kept = Kept(message["id"], json.dumps(message), PERSON)
            await repos.inbound_queue.put_all(CHANNEL, [kept], clock.now())
        with pytest.raises(Died):
            await first.dispatcher.handle_prepared(CHANNEL, PERSON, arrival.prepare, dies, "u1")
        await first.database.close()

        assert await second.dispatcher.sweep() == 0  # not left long enough yet
        clock.advance(seconds=LEFT_BEHIND.total_seconds() + 1)
        # Committed replies are their worker's to send for SENDING_TIME (it may be sending
        # them behind a crowd's): only then does another take them over.
        assert await second.dispatcher.sweep() == 0
        clock.advance(seconds=SENDING_TIME.total_seconds())
        assert await second.dispatcher.sweep() == 1
        assert answered == [f"again:{PERSON}"]  # the committed turn's replies, not the turn
        await second.receive(_message(2), 2)
        await asyncio.gather(*second.tasks)
        assert answered == [f"again:{PERSON}", "u2"]
    finally:
        for worker in (first, second):
            await worker.database.close()


async def _dies_after_committing(worker: Worker, message: dict[str, str]) -> None:
    """The worker handles the message, commits its turn, and dies before sending a reply."""

    async def dies(replies: Sequence[Reply]) -> None:
        raise Died

    arrival = worker.arrival(message)
    async with worker.database.transaction() as repos:
        kept = Kept(message["id"], json.dumps(message), message["user"])
        await repos.inbound_queue.put_all(CHANNEL, [kept], worker.clock.now())
    with pytest.raises(Died):
        await worker.dispatcher.handle_prepared(
            CHANNEL, message["user"], arrival.prepare, dies, message["id"]
        )
    await worker.database.close()


async def test_replies_of_a_worker_known_dead_are_sent_by_the_next_sweep_at_once(
    shared: str, catalog: Catalog, clock: FakeClock
) -> None:
    """A worker of this host that died (its pid gone: killed, maybe started again) between
    its commit and its send: another sends its replies at its next sweep, without waiting
    SENDING_TIME, once; while it lived, nobody took them."""
    answered: list[str] = []
    dead: set[str] = set()
    first, second = await _workers(shared, 2, catalog, clock, answered, dead)
    try:
        await _dies_after_committing(first, _message(1))
        assert await second.dispatcher.sweep() == 0  # w0 not known dead: still its to send
        assert answered == []
        dead.add("w0")  # its process is gone
        assert await second.dispatcher.sweep() == 1
        assert answered == [f"again:{PERSON}"]
        assert await second.dispatcher.sweep() == 0  # once
        assert answered == [f"again:{PERSON}"]
    finally:
        for worker in (first, second):
            await worker.database.close()


async def test_the_next_message_after_a_dead_workers_replies_waits_for_them_not_for_time(
    shared: str, catalog: Catalog, clock: FakeClock
) -> None:
    """The person writes again after the worker that had their answer died: the next holder
    sends that answer first, at once (the worker is known dead), then answers the new one."""
    answered: list[str] = []
    dead: set[str] = set()
    first, second = await _workers(shared, 2, catalog, clock, answered, dead)
    try:
        await _dies_after_committing(first, _message(1))
        dead.add("w0")
        await second.receive(_message(2), 2)
        # Bounded: without knowing w0 dead, the turn would wait SENDING_TIME on the clock,
        # which this test never moves.
        await asyncio.wait_for(asyncio.gather(*second.tasks), 30)
        assert answered == [f"again:{PERSON}", "u2"]
    finally:
        for worker in (first, second):
            await worker.database.close()


async def test_a_dead_workers_replies_go_once_when_a_turn_and_a_sweep_take_them_together(
    shared: str, catalog: Catalog, clock: FakeClock
) -> None:
    """The person wrote again while the worker that had their answer was alive: the next
    holder waits for that answer behind its own turn. The worker dies; the next holder sends
    the answer, and meanwhile a third worker's sweep finds it too: it goes once."""
    answered: list[str] = []
    dead: set[str] = set()
    first, second, third = await _workers(shared, 3, catalog, clock, answered, dead)
    try:
        await _dies_after_committing(first, _message(1))  # w0 not known dead yet
        second.send_gate = asyncio.Event()
        await second.receive(_message(2), 2)  # its answer waits behind w0's

        async def committed() -> bool:
            async with connect(shared) as db:
                rows = await db.execute_fetchall(
                    "SELECT count(*) FROM inbound_messages WHERE external_id = 'u2'"
                )
            return int(next(iter(rows))[0]) == 1

        await wait_for(committed)  # its turn is done: it waits for w0's answer to go
        dead.add("w0")
        await asyncio.wait_for(second.sending.wait(), 30)  # it sends w0's answer, slowly
        # The second has it in hand (bounded: a sweep that took it would then wait for the
        # second's own answer, on a clock this test never moves).
        assert await asyncio.wait_for(third.dispatcher.sweep(), 10) == 0
        second.send_gate.set()
        await asyncio.wait_for(asyncio.gather(*second.tasks), 30)
        assert await third.dispatcher.sweep() == 0
        assert answered == [f"again:{PERSON}", "u2"]
    finally:
        second.send_gate.set()  # a failure above must not leave the worker hanging
        await asyncio.wait_for(asyncio.gather(*second.tasks, return_exceptions=True), 30)
        for worker in (first, second, third):
            await worker.database.close()


async def test_a_kept_messages_row_goes_with_its_turn_and_stays_when_the_turn_dies(
    database: Database, catalog: Catalog, clock: FakeClock
) -> None:
    """On either database: the row of a message kept before its 200 is deleted in its turn's
    transaction (handled exactly when committed); a worker dying in the turn leaves it for
    the next holder, and a message already handled is not handled again."""
    answered: list[str] = []
    settings = FlowSettings(flood=FloodSettings(max_messages=1000))
    worker = Worker("w", database, Dispatcher(database, settings, catalog, clock), clock,
                    answered)  # fmt: skip
    worker.dispatcher.attach(CHANNEL, reopen=worker.reopen, send_to=worker.send_to)

    async def waiting() -> list[str]:
        return [body.key for body in await database.reader().inbound_queue.waiting(CHANNEL)]

    message = _message(1)
    arrival = worker.arrival(message)

    async def dies_reading() -> Inbound:
        raise Died

    async with database.transaction() as repos:
        kept = Kept(message["id"], json.dumps(message), PERSON, 1)
        await repos.inbound_queue.put_all(CHANNEL, [kept], clock.now())
    with pytest.raises(Died):
        await worker.dispatcher.handle_prepared(CHANNEL, PERSON, dies_reading, arrival.deliver,
                                                "u1")  # fmt: skip
    assert await waiting() == ["u1"]
    assert await worker.dispatcher.handle_prepared(
        CHANNEL, PERSON, arrival.prepare, arrival.deliver, "u1"
    )
    assert await waiting() == []
    assert answered == ["u1"]
    # The same delivery again (a platform's retry after the row went): kept, not answered.
    async with database.transaction() as repos:
        await repos.inbound_queue.put_all(CHANNEL, [kept], clock.now())
    await worker.dispatcher.handle_prepared(CHANNEL, PERSON, arrival.prepare, arrival.deliver,
                                            "u1")  # fmt: skip
    assert answered == ["u1"]


async def test_replies_a_live_worker_is_sending_go_first_and_are_not_sent_twice(
    shared: str, catalog: Catalog, clock: FakeClock
) -> None:
    """The database's lock is let go once a turn is committed, before its replies are sent
    (a crowd waiting for its answers holds no connection): the person's next message, on
    another worker, is handled meanwhile, and its answer waits for the first one's, which
    that worker does not send again."""
    answered: list[str] = []
    first, second = await _workers(shared, 2, catalog, clock, answered)
    try:
        sending, let_go = asyncio.Event(), asyncio.Event()
        message = _message(1)
        arrival = first.arrival(message)

        async def slow(replies: Sequence[Reply]) -> None:  # paced behind a crowd's replies
            sending.set()
            await let_go.wait()
            answered.append("u1")

        async with first.database.transaction() as repos:
            await repos.inbound_queue.put_all(
                CHANNEL, [Kept(message["id"], json.dumps(message), PERSON, 1)], clock.now()
            )
        slow_one = asyncio.create_task(
            first.dispatcher.handle_prepared(CHANNEL, PERSON, arrival.prepare, slow, "u1")
        )
        await sending.wait()
        await second.receive(_message(2), 2)

        async def handled_meanwhile() -> bool:
            sql = "SELECT count(*) FROM inbound_messages WHERE external_id = 'u2' AND 1 = ?"
            async with connect(shared) as db:
                rows = await db.execute_fetchall(sql, (1,))
            return int(next(iter(rows))[0]) == 1

        await wait_for(handled_meanwhile)  # its turn did not wait for the first one's sending
        assert answered == []  # ...but its answer does
        let_go.set()
        await asyncio.gather(slow_one, *second.tasks)
        assert answered == ["u1", "u2"]
    finally:
        for worker in (first, second):
            await worker.database.close()


async def test_replies_this_worker_failed_to_send_go_at_the_next_message_at_once(
    shared: str, catalog: Catalog, clock: FakeClock
) -> None:
    """Replies this process committed and could not send are its own to send again before
    the next answer, without the wait kept for another worker's (SENDING_TIME)."""
    answered: list[str] = []
    (worker,) = await _workers(shared, 1, catalog, clock, answered)
    try:

        async def fails(replies: Sequence[Reply]) -> None:
            raise Died

        arrival = worker.arrival(_message(1))
        with pytest.raises(Died):
            await worker.dispatcher.handle_prepared(CHANNEL, PERSON, arrival.prepare, fails)
        await worker.receive(_message(2), 2)
        # Bounded: replies taken for another worker's would wait for SENDING_TIME, which this
        # test's clock never reaches.
        await asyncio.wait_for(asyncio.gather(*worker.tasks), 10)
        assert answered == [f"again:{PERSON}", "u2"]
    finally:
        await worker.database.close()

"""A turn's writes: none until the first, then one transaction that ends with the common write."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar, cast

import aiosqlite

from storage import conversations, inbound, pending, residents
from storage.models import Resident
from storage.repositories import Repositories
from storage.residents import ResidentRepository
from storage.sql import Statement

T = TypeVar("T")


async def on_database_thread(
    connection: aiosqlite.Connection, function: Callable[[sqlite3.Connection], T]
) -> T:
    """Run `function` with the sqlite3 connection on aiosqlite's thread: one round trip,
    however many statements it runs. aiosqlite has no public call for this; `_execute` is
    what each of its own methods goes through (pinned in pyproject.toml, held by
    tests/storage/test_turns.py)."""
    execute = cast(Callable[[Callable[[], T]], Awaitable[T]], connection._execute)
    return await execute(lambda: function(connection._conn))


def _committed(
    statements: Sequence[Statement], *, begin: bool
) -> Callable[[sqlite3.Connection], list[Any]]:
    """The statements and COMMIT (after BEGIN IMMEDIATE if `begin`), as one call on the
    database thread; on a failure, ROLLBACK there too: all of the transaction, or none.
    Returns each statement's first row (None for most; a RETURNING statement's row)."""

    def run(connection: sqlite3.Connection) -> list[Any]:
        if begin:
            connection.execute("BEGIN IMMEDIATE")
        try:
            # Each cursor is read before the next statement: RETURNING rows are only there then.
            first_rows = [connection.execute(sql, parameters).fetchone()
                          for sql, parameters in statements]  # fmt: skip
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return first_rows

    return run


def _begun(work: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    """`work` after BEGIN IMMEDIATE, in the same call on the database thread."""

    def run(connection: sqlite3.Connection) -> T:
        connection.execute("BEGIN IMMEDIATE")
        return work(connection)

    return run


# A turn's common write as the database thread gives it back: each statement's first row, or
# the error that rolled back its turn alone.
Outcome = list[Any] | Exception


def _grouped(batch: Sequence[Sequence[Statement]]) -> Callable[[sqlite3.Connection], list[Outcome]]:
    """Several turns' common writes in one transaction, each in a savepoint of its own, as one
    call on the database thread: a turn whose statements fail is rolled back to its savepoint
    (its error returned in its place) and the others commit. A failure of the whole (BEGIN,
    COMMIT, an error that ends the transaction) rolls back all of them and is raised."""

    def run(connection: sqlite3.Connection) -> list[Outcome]:
        connection.execute("BEGIN IMMEDIATE")
        outcomes: list[Outcome] = []
        try:
            for statements in batch:
                connection.execute("SAVEPOINT turn")
                try:
                    rows = [connection.execute(sql, parameters).fetchone()
                            for sql, parameters in statements]  # fmt: skip
                except sqlite3.Error as error:
                    if not connection.in_transaction:  # SQLite ended it: nothing is kept
                        raise
                    connection.execute("ROLLBACK TO turn")
                    connection.execute("RELEASE turn")
                    outcomes.append(error)
                    continue
                connection.execute("RELEASE turn")
                outcomes.append(rows)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return outcomes

    return run


class GroupCommit:
    """Turns' common writes, committed together: those that come while one transaction is on
    the database thread wait for it, and go in the next, each turn in a savepoint of its own.

    Under load every turn used to pay its own BEGIN IMMEDIATE and COMMIT (SQLite writes each
    changed page to the WAL at every COMMIT) and its own trip to aiosqlite's thread; a group
    pays them once. Nobody waits for a group to fill: a turn that finds no transaction under
    way is committed at once. Each turn still hears back only once its own writes are
    committed (or rolled back alone), so nothing is answered before it is durable; one
    person's turns never share a group, as the next waits for the last's commit."""

    def __init__(self, writer: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        self._writer = writer
        self._lock = lock  # the database's: no other unit of work runs inside a group
        self._waiting: list[tuple[Sequence[Statement], asyncio.Future[list[Any]]]] = []
        self._committing: asyncio.Task[None] | None = None

    async def commit(self, statements: Sequence[Statement]) -> list[Any]:
        """Commit `statements` (a turn's common write, BEGIN and COMMIT left to the group);
        returns each statement's first row. A failure rolls back all of the turn's."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((statements, future))
        if self._committing is None:
            self._committing = asyncio.create_task(self._commit_all(), name="group-commit")
        return await future

    async def _commit_all(self) -> None:
        """Commit groups until nobody waits."""
        try:
            while self._waiting:
                async with self._lock:
                    # A turn cancelled while it waited (its conversation's task stopped) is
                    # not written, as when it waited for the lock on its own.
                    batch = [(s, f) for s, f in self._waiting if not f.done()]
                    self._waiting = []
                    if batch:
                        await self._commit_group(batch)
        finally:
            self._committing = None
            for _, future in self._waiting:  # only on a cancellation (a stopping process)
                future.cancel()
            self._waiting = []

    async def _commit_group(
        self, batch: list[tuple[Sequence[Statement], asyncio.Future[list[Any]]]]
    ) -> None:
        try:
            if len(batch) == 1:  # the common case at low load: no savepoint needed
                outcomes: list[Outcome] = [
                    await on_database_thread(self._writer, _committed(batch[0][0], begin=True))
                ]
            else:
                outcomes = await on_database_thread(
                    self._writer, _grouped([statements for statements, _ in batch])
                )
        except BaseException as error:  # the whole group rolled back: each turn hears why
            for _, future in batch:
                if not future.done():
                    if isinstance(error, Exception):
                        future.set_exception(error)
                    else:
                        future.cancel()
            if not isinstance(error, Exception):
                raise
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue  # cancelled meanwhile: written, as an interrupted turn's write was
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


class TurnConnection:
    """The connection a turn's repositories run on (a `storage.sql.Db`).

    Until the turn writes, its reads run on the reader connection, which sees only committed
    data: the writer connection may be inside another coroutine's transaction meanwhile. The
    first write takes the database lock and begins the turn's transaction on the writer, so a
    turn that adds rows (a new idea) commits them with its conversation; from then on reads run
    inside that transaction and see the turn's own writes. Which calls read and which write is
    the repositories' choice (`storage.sql.Db`), never a guess from the SQL.
    """

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection | None,
        lock: asyncio.Lock,
        group: GroupCommit | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = lock
        self._group = group
        self.began = False
        self.wrote = False  # the turn's repositories wrote (rows beyond the common write)

    async def begin(self) -> None:
        """Take the lock and begin the turn's transaction, unless it began already."""
        if self.began:
            return
        await self._lock.acquire()
        try:
            await self._writer.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        self.began = True

    async def execute_fetchall(
        self, sql: str, parameters: Sequence[Any] = ()
    ) -> Iterable[aiosqlite.Row]:
        """A read: committed data, or inside the turn's transaction once it began."""
        if self.began:
            return await self._writer.execute_fetchall(sql, parameters)
        if self._reader is not None:
            return await self._reader.execute_fetchall(sql, parameters)
        # One connection only (an in-memory database): read between other units of work.
        async with self._lock:
            return await self._writer.execute_fetchall(sql, parameters)

    async def write_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        """A write's RETURNING rows, inside the turn's transaction: one trip to the database
        thread, which begins the transaction too if this is the turn's first write."""

        def returned(connection: sqlite3.Connection) -> list[Any]:
            return connection.execute(sql, parameters).fetchall()

        if self.began:
            self.wrote = True
            return await on_database_thread(self._writer, returned)
        await self._lock.acquire()
        self.began = self.wrote = True  # from here on `rollback` ends what this began
        try:
            return await on_database_thread(self._writer, _begun(returned))
        except BaseException:
            if not self._writer.in_transaction:  # BEGIN itself failed: nothing to end
                self.began = False
                self._lock.release()
            raise

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> aiosqlite.Cursor:
        """A write, inside the turn's transaction."""
        await self._begin_writing()
        return await self._writer.execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> aiosqlite.Cursor:
        """Writes, inside the turn's transaction."""
        await self._begin_writing()
        return await self._writer.executemany(sql, parameters)

    async def _begin_writing(self) -> None:
        await self.begin()
        self.wrote = True

    async def _end(self, statement: str) -> None:
        try:
            await self._writer.execute(statement)
        except BaseException:
            # A COMMIT that failed leaves the transaction open: end it, or the next unit of
            # work on this connection could not begin.
            if self._writer.in_transaction:
                await self._writer.execute("ROLLBACK")
            raise
        finally:
            self.began = False
            self._lock.release()

    async def commit(self) -> None:
        if self.began:
            await self._end("COMMIT")

    async def commit_with(self, statements: Sequence[Statement]) -> list[Any]:
        """Run `statements` and commit them with whatever the turn wrote before, in one round
        trip to the database thread (each trip costs the event loop a wake-up and both
        threads a switch; the turn's common write used to take five). A failure rolls back
        all of it. A turn that wrote nothing before goes with other turns' (`GroupCommit`)."""
        if not self.began and self._group is not None:
            return await self._group.commit(statements)
        if not self.began:
            await self._lock.acquire()
        try:
            return await on_database_thread(
                self._writer, _committed(statements, begin=not self.began)
            )
        finally:
            self.began = False
            self._lock.release()

    async def rollback(self) -> None:
        if self.began:
            await self._end("ROLLBACK")


class TurnWork:
    """What a turn writes with: repositories, and `finish` for its last, common write."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection | None,
        lock: asyncio.Lock,
        group: GroupCommit | None = None,
    ) -> None:
        self._writer = writer
        self._lock = lock
        self._transaction = TurnConnection(writer, reader, lock, group)
        self.repos = Repositories.on(self._transaction)

    @asynccontextmanager
    async def _alone(self) -> AsyncIterator[aiosqlite.Connection]:
        """For one statement: inside the turn's transaction if it began one, else on its own
        (atomic by itself), with the lock so that no other transaction is open around it."""
        if self._transaction.began:
            yield self._writer
        else:
            async with self._lock:
                yield self._writer

    async def create_resident(self, channel: str, user_key: str, now: datetime) -> Resident:
        """The resident for a channel identity, made on first contact (one statement)."""
        async with self._alone() as connection:
            return await ResidentRepository(connection).get_or_create(channel, user_key, now)

    async def finish(
        self, *, channel: str, external_id: str, resident: Resident, step: str, draft: str,
        now: datetime, chat: str | None = None, replies: str | None = None,
        sent: Sequence[int] = (), handled: Sequence[tuple[str, str]] = (),
        worker: str | None = None,
    ) -> int | None:  # fmt: skip
        """Record the message as handled, save the conversation and the resident's own fields,
        and commit them with whatever the turn wrote before: all of it, or (on a failure) none.

        `replies` (JSON, for `chat`) are kept with the turn until they are sent: the id of
        their row is returned. `sent` are rows of earlier turns' replies sent since, forgotten
        here rather than in a transaction of their own (one less per turn); so are `handled`,
        webhook bodies (channel, key) whose messages were all handled since; `worker`, the
        process committing the replies (which is to send them)."""
        # The turn's common write (not rows it added), with BEGIN and COMMIT, in one trip to
        # the database thread: every turn waits here under the lock.
        statements = [
            inbound.record_statement(channel, external_id, now),
            conversations.save_statement(resident.id, step, draft, now),
            residents.save_turn_statement(resident),
        ]
        if replies is not None:
            chat = chat or resident.user_key
            statements.append(
                pending.add_replies_statement(
                    channel, resident.user_key, chat, replies, now, worker
                )
            )
        if sent:
            statements.append(pending.sent_statement(sent))
        if handled:
            statements.append(pending.done_all_statement(handled))
        first_rows = await self._transaction.commit_with(statements)
        owed = first_rows[3] if replies is not None else None
        return None if owed is None else int(owed[0])

    @property
    def wrote_rows(self) -> bool:
        """Whether the turn wrote more than its conversation (an idea, an RSVP, outbox rows)."""
        return self._transaction.wrote

    async def abandon(self) -> None:
        await self._transaction.rollback()

"""The database connection, its settings, and transactions that hand out repositories:
`Database.open` gives SQLite's (a file, the default) or PostgreSQL's (storage/postgres.py) for a
postgresql:// URL; both have the surface below."""

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

import aiosqlite

from storage import postgres
from storage.migrations import apply_migrations
from storage.models import Resident
from storage.postgres import is_postgres_url
from storage.private import private_database_file
from storage.repositories import Repositories
from storage.sql import Dialect
from storage.turns import GroupCommit, TurnWork

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000

# Told how long a unit of work waited for the database: (what waited, seconds). "write": SQLite's
# one writer; "connection": a pooled connection on PostgreSQL; "conversation": a conversation's
# lock across workers. A measurement for /metrics (bot/metrics.py), never a decision.
OnWait = Callable[[str, float], None]


class TimedLock(asyncio.Lock):
    """SQLite's writer lock, telling `on_wait` how long each acquisition waited."""

    def __init__(self) -> None:
        super().__init__()
        self.on_wait: OnWait | None = None

    async def acquire(self) -> Literal[True]:
        started = time.perf_counter()
        acquired = await super().acquire()
        if self.on_wait is not None:
            self.on_wait("write", time.perf_counter() - started)
        return acquired


class Turn(Protocol):
    """A conversation turn's unit of work (storage/turns.py on SQLite, its twin on PostgreSQL)."""

    repos: Repositories

    async def create_resident(self, channel: str, user_key: str, now: datetime) -> Resident: ...

    async def finish(
        self, *, channel: str, external_id: str, resident: Resident, step: str, draft: str,
        now: datetime, chat: str | None = None, replies: str | None = None,
        sent: Sequence[int] = (), handled: Sequence[tuple[str, str]] = (),
        worker: str | None = None,
    ) -> int | None: ...  # fmt: skip

    @property
    def wrote_rows(self) -> bool: ...

    async def abandon(self) -> None: ...


class Database(ABC):
    """Minga's database, whichever it is: open it with `Database.open`."""

    dialect: Dialect
    # Whether several processes may work on it at once (PostgreSQL): then a conversation's
    # lock is the database's, and what one worker left behind another takes over.
    shared: bool = False
    on_wait: OnWait | None = None

    def watch_waits(self, on_wait: OnWait) -> None:
        """Tell `on_wait` how long units of work wait for a connection or a lock."""
        self.on_wait = on_wait

    def _waited(self, kind: str, started: float) -> None:
        if self.on_wait is not None:
            self.on_wait(kind, time.perf_counter() - started)

    @classmethod
    async def open(
        cls, target: str | Path, *, migrate: bool = True, prepared_statements: bool = True
    ) -> "Database":
        """SQLite's file at `target`, or the PostgreSQL server a postgresql:// URL names."""
        if is_postgres_url(target):
            return await PostgresDatabase.open_url(
                str(target), migrate=migrate, prepared_statements=prepared_statements
            )
        return await SqliteDatabase.open_file(target, migrate=migrate)

    @abstractmethod
    async def upgrade(self) -> tuple[int, int]:
        """Apply pending migrations; returns (version before, version after)."""

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    def reader(self) -> Repositories:
        """Repositories for single reads outside any unit of work (committed data)."""

    @abstractmethod
    def turn(self) -> AbstractAsyncContextManager[Turn]:
        """A conversation turn's unit of work."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Repositories]:
        """A unit of work: everything done through the repositories commits together or not."""

    @abstractmethod
    def conversation_lock(
        self, channel: str, user_key: str, *, wait: bool = True
    ) -> AbstractAsyncContextManager[bool]:
        """Hold a conversation's lock across workers (taken before its state is read, held
        until its turn is committed and answered); yields False when `wait` is off and another
        holds it. The caller holds the process's own lock of it first."""

    @abstractmethod
    async def close(self) -> None: ...


class SqliteDatabase(Database):
    """A writer connection, where every unit of work runs in a transaction, one at a time, and
    a reader connection for single reads, which WAL lets run beside the writer.

    aiosqlite runs all statements of a connection on one thread, so two coroutines sharing it
    would interleave inside each other's transactions; the lock keeps each unit of work whole.
    Reading outside that lock keeps the serialised part of each turn short.
    """

    dialect = "sqlite"

    def __init__(
        self, connection: aiosqlite.Connection, reader: aiosqlite.Connection | None = None
    ) -> None:
        self._connection = connection
        self._reader = reader
        self._lock = TimedLock()
        self._group = GroupCommit(connection, self._lock)  # turns' common writes, together
        self._reading: tuple[aiosqlite.Connection, Repositories] | None = None

    @classmethod
    async def open_file(cls, path: str | Path, *, migrate: bool = True) -> "SqliteDatabase":
        if str(path) != ":memory:":
            private_database_file(Path(path))
        connection = await _connect(path)
        await connection.execute("PRAGMA journal_mode = WAL")
        # With WAL, NORMAL is safe against corruption and loses nothing on a process crash.
        await connection.execute("PRAGMA synchronous = NORMAL")
        database = cls(connection)
        try:
            if migrate:
                await database.upgrade()
            if str(path) != ":memory:":  # a second in-memory connection would be another db
                database._reader = await _connect(path)
                await database._reader.execute("PRAGMA query_only = ON")
        except BaseException:
            await database.close()
            raise
        return database

    def watch_waits(self, on_wait: OnWait) -> None:
        super().watch_waits(on_wait)
        self._lock.on_wait = on_wait

    @classmethod
    async def look_at(cls, path: str | Path) -> "SqliteDatabase":
        """The file as it is, read-only: nothing created, migrated or made owner-only
        (`minga doctor` reports what it finds)."""
        connection = await aiosqlite.connect(_read_only(path), uri=True, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        return cls(connection)

    async def upgrade(self) -> tuple[int, int]:
        """Apply pending migrations; returns (version before, version after)."""
        async with self._lock:
            return await apply_migrations(self._connection)

    async def schema_version(self) -> int:
        async with self._connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    def reader(self) -> Repositories:
        """Repositories for single reads outside any unit of work (no lock, no transaction).

        Each read sees what was committed when it ran; use it for what only this coroutine
        changes (a conversation under its lock), or where a slightly old answer is fine.
        """
        connection = self._reader or self._connection
        # Made once (repositories keep nothing but their connection): every turn reads here.
        if self._reading is None or self._reading[0] is not connection:
            self._reading = (connection, Repositories.on(connection))
        return self._reading[1]

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[TurnWork]:
        """A conversation turn's unit of work: it reads committed data, writes nothing until it
        must, and ends with `finish`; an exception rolls back whatever it began."""
        work = TurnWork(self._connection, self._reader, self._lock, self._group)
        try:
            yield work
        except BaseException:
            await work.abandon()
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """A unit of work: everything done through the repositories commits together or not."""
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield Repositories.on(self._connection)
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            else:
                await self._connection.execute("COMMIT")

    @asynccontextmanager
    async def conversation_lock(
        self, channel: str, user_key: str, *, wait: bool = True
    ) -> AsyncIterator[bool]:
        """Nothing more than the process's own lock: one process per SQLite file."""
        yield True

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        await self._connection.close()


def _read_only(path: str | Path) -> str:
    """SQLite's URI for the file, opened read-only."""
    return f"{Path(path).resolve().as_uri()}?mode=ro"


async def _connect(path: str | Path) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a unit of work is explicit.
    connection = await aiosqlite.connect(str(path), isolation_level=None)
    connection.row_factory = aiosqlite.Row
    await connection.execute("PRAGMA foreign_keys = ON")
    await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection


class PostgresDatabase(Database):
    """Minga's database on a PostgreSQL server: a pool of connections, each unit of work on one
    of them in its own transaction. Several workers can share the server; within one, units of
    work run side by side (no lock as on SQLite's single writer).

    Turns take at most half the pool, so that a reader or a unit of work a turn opens inside
    itself always finds a free connection (a full pool of waiting turns would deadlock).
    """

    dialect = "postgresql"
    shared = True

    def __init__(self, pool: "postgres.Pool", size: int, url: str = "",
                 prepared_statements: bool = True) -> None:  # fmt: skip
        self.pool = pool
        self._turns = asyncio.Semaphore(max(1, size // 2))
        # Made once (each statement takes its own pooled connection): every turn reads here.
        self._reading = Repositories.on(postgres.PgPooled(pool))
        # Each held conversation lock keeps a connection (its transaction holds the lock) from
        # a pool of their own, opened at the first: in the main pool, held locks waiting for
        # their turns' connections could take them all. Commands that handle no message
        # never open it.
        self._url, self._prepared = url, prepared_statements
        self._lock_pool: postgres.Pool | None = None
        self._opening = asyncio.Lock()
        # Conversations beyond the lock pool wait here, in line for as long as it takes: the
        # pool's own wait gives up after 30 s, and a message whose turn failed so would wait
        # for a sweep to take it over (minutes behind a crowd, in the workers' soak).
        self._lock_slots = asyncio.Semaphore(postgres.LOCK_POOL_SIZE)

    @classmethod
    async def open_url(
        cls, url: str, *, migrate: bool = True, prepared_statements: bool = True,
        size: int = postgres.POOL_SIZE,
    ) -> "PostgresDatabase":  # fmt: skip
        """Connect to the server at `url` (see postgres.open_pool)."""
        pool = await postgres.open_pool(url, prepared_statements=prepared_statements, size=size)
        database = cls(pool, size, url, prepared_statements)
        try:
            if migrate:
                await database.upgrade()
        except BaseException:
            await database.close()
            raise
        return database

    async def upgrade(self) -> tuple[int, int]:
        """Apply pending migrations; returns (version before, version after)."""
        return await postgres.upgrade(self.pool)

    async def schema_version(self) -> int:
        return await postgres.schema_version(self.pool)

    def reader(self) -> Repositories:
        """Repositories for single reads outside any unit of work (each on a pooled connection,
        committed data)."""
        return self._reading

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[postgres.PgConnection]:
        """A pooled connection of its own, in autocommit: for statements that differ per
        dialect or need the connection (locks, claims), written in storage/ only."""
        async with self.pool.connection() as connection:
            yield postgres.PgConnection(connection)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[postgres.PgTurnWork]:
        """A conversation turn's unit of work: it reads committed data, writes nothing until it
        must, and ends with `finish`; an exception rolls back whatever it began."""
        started = time.perf_counter()
        async with self._turns, self.pool.connection() as connection:
            self._waited("connection", started)
            work = postgres.PgTurnWork(connection)
            try:
                yield work
            finally:
                await work.abandon()  # nothing left to roll back after `finish`

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """A unit of work: everything done through the repositories commits together or not."""
        started = time.perf_counter()
        async with self.pool.connection() as connection:
            self._waited("connection", started)
            async with connection.transaction():
                yield Repositories.on(postgres.PgConnection(connection))

    @asynccontextmanager
    async def conversation_lock(
        self, channel: str, user_key: str, *, wait: bool = True
    ) -> AsyncIterator[bool]:
        """An advisory lock of the transaction of a connection kept for it: released when that
        transaction ends, so a worker that dies (its connection gone) or is cancelled (the
        pool rolls back or discards the connection) never leaves it held."""
        started = time.perf_counter()
        pool = await self._locks()
        async with self._lock_slots, pool.connection() as connection, connection.transaction():
            held = await postgres.lock_conversation(connection, channel, user_key, wait=wait)
            self._waited("conversation", started)
            yield held

    async def _locks(self) -> "postgres.Pool":
        """The pool the conversation locks hold their connections from (opened once)."""
        async with self._opening:
            if self._lock_pool is None:
                self._lock_pool = await postgres.open_pool(
                    self._url, prepared_statements=self._prepared, size=postgres.LOCK_POOL_SIZE,
                    least=0,
                )  # fmt: skip
            return self._lock_pool

    async def close(self) -> None:
        if self._lock_pool is not None:
            await self._lock_pool.close()
        await self.pool.close()

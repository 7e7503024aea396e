"""The database connection, its settings, and transactions that hand out repositories:
`Database.open` gives SQLite's (a file, the default) or PostgreSQL's (storage/postgres.py) for a
postgresql:// URL; both have the surface below."""

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol

import aiosqlite

from storage.migrations import apply_migrations
from storage.models import Resident
from storage.private import private_database_file
from storage.repositories import Repositories
from storage.sql import Dialect
from storage.turns import TurnWork

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000


class Turn(Protocol):
    """A conversation turn's unit of work (storage/turns.py on SQLite, its twin on PostgreSQL)."""

    repos: Repositories

    async def create_resident(self, channel: str, user_key: str, now: datetime) -> Resident: ...

    async def finish(
        self, *, channel: str, external_id: str, resident: Resident, step: str, draft: str,
        now: datetime,
    ) -> None: ...  # fmt: skip

    @property
    def wrote_rows(self) -> bool: ...

    async def abandon(self) -> None: ...


class Database(ABC):
    """Minga's database, whichever it is: open it with `Database.open`."""

    dialect: Dialect

    @classmethod
    async def open(
        cls, target: str | Path, *, migrate: bool = True, prepared_statements: bool = True
    ) -> "Database":
        """SQLite's file at `target`, or the PostgreSQL server a postgresql:// URL names."""
        # Imported here: storage.postgres builds on this module (its class is a Database).
        from storage.postgres import PostgresDatabase, is_postgres_url

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
        self._lock = asyncio.Lock()

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
        return Repositories.on(self._reader or self._connection)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[TurnWork]:
        """A conversation turn's unit of work: it reads committed data, writes nothing until it
        must, and ends with `finish`; an exception rolls back whatever it began."""
        work = TurnWork(self._connection, self._reader, self._lock)
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

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        await self._connection.close()


async def _connect(path: str | Path) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a unit of work is explicit.
    connection = await aiosqlite.connect(str(path), isolation_level=None)
    connection.row_factory = aiosqlite.Row
    await connection.execute("PRAGMA foreign_keys = ON")
    await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection

"""A turn's writes: none until the first, and the common turn as one atomic statement."""

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiosqlite

from storage.models import Resident
from storage.repositories import Repositories
from storage.residents import ResidentRepository
from storage.timefmt import to_db, to_db_optional


class LazyTransaction:
    """The writer connection as a turn sees it.

    Reads run at once. The first write takes the database lock and begins a transaction, so a
    turn that adds other rows (a new idea) commits them with its conversation
    together; a turn that only moves the conversation on never begins one (see `finish`).
    """

    def __init__(self, connection: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        self._connection = connection
        self._lock = lock
        self.began = False
        self.wrote = False  # began a transaction at some point (rows beyond the common write)

    @staticmethod
    def _reads(sql: str) -> bool:
        return sql.lstrip()[:6].upper() == "SELECT"

    async def _begin(self) -> None:
        if self.began:
            return
        await self._lock.acquire()
        try:
            await self._connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        self.began = True
        self.wrote = True

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> aiosqlite.Cursor:
        if not self._reads(sql):
            await self._begin()
        return await self._connection.execute(sql, parameters)

    async def execute_fetchall(
        self, sql: str, parameters: Sequence[Any] = ()
    ) -> Iterable[aiosqlite.Row]:
        if not self._reads(sql):
            await self._begin()
        return await self._connection.execute_fetchall(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> aiosqlite.Cursor:
        await self._begin()
        return await self._connection.executemany(sql, parameters)

    async def _end(self, statement: str) -> None:
        try:
            await self._connection.execute(statement)
        finally:
            self.began = False
            self._lock.release()

    async def commit(self) -> None:
        if self.began:
            await self._end("COMMIT")

    async def rollback(self) -> None:
        if self.began:
            await self._end("ROLLBACK")


class TurnWork:
    """What a turn writes with: repositories, and `finish` for its last, common write."""

    def __init__(self, connection: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        self._lock = lock
        self._transaction = LazyTransaction(connection, lock)
        self._connection = connection
        self.repos = Repositories.on(self._transaction)  # type: ignore[arg-type]

    @asynccontextmanager
    async def _alone(self) -> AsyncIterator[aiosqlite.Connection]:
        """For one statement: inside the turn's transaction if it began one, else on its own
        (atomic by itself), with the lock so that no other transaction is open around it."""
        if self._transaction.began:
            yield self._connection
        else:
            async with self._lock:
                yield self._connection

    async def create_resident(self, channel: str, user_key: str, now: datetime) -> Resident:
        """The resident for a channel identity, made on first contact (one statement)."""
        async with self._alone() as connection:
            return await ResidentRepository(connection).get_or_create(channel, user_key, now)

    async def finish(
        self, *, channel: str, external_id: str, resident: Resident, step: str, draft: str,
        now: datetime,
    ) -> None:  # fmt: skip
        """Record the message as handled, save the conversation and the resident's fields,
        in one statement; then commit what the turn wrote before, if anything."""
        consent_at = to_db_optional(resident.consent_at)
        refused_at = to_db_optional(resident.consent_refused_at)
        values = (
            channel, external_id, to_db(now), resident.id, step, draft, resident.language,
            None if resident.role is None else resident.role.value,
            resident.consent_version, consent_at, refused_at,
            to_db_optional(resident.announcements_at), resident.announcements_version,
            to_db_optional(resident.announcements_off_at), to_db_optional(resident.updates_at),
            resident.updates_version, to_db_optional(resident.updates_off_at),
        )  # fmt: skip
        async with self._alone() as connection:
            await connection.execute(
                "INSERT INTO turn_writes (channel, external_id, at, resident_id, step, draft, "
                "language, role, consent_version, consent_at, consent_refused_at, "
                "announcements_at, announcements_version, announcements_off_at, updates_at, "
                "updates_version, updates_off_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        await self._transaction.commit()

    @property
    def wrote_rows(self) -> bool:
        """Whether the turn wrote more than its conversation (an idea, an RSVP, outbox rows)."""
        return self._transaction.wrote

    async def abandon(self) -> None:
        await self._transaction.rollback()

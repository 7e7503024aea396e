"""A turn's writes: none until the first, and the common turn as one atomic statement."""

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from storage.repositories import Repositories
from storage.timefmt import to_db


class LazyTransaction:
    """The writer connection as a turn sees it.

    Reads run at once. The first write takes the database lock and begins a transaction, so a
    turn that changes more than its conversation (a consent, a new idea) commits it all
    together; a turn that only moves the conversation on never begins one (see `finish`).
    """

    def __init__(self, connection: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        self._connection = connection
        self._lock = lock
        self.began = False

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

    async def finish(
        self, *, channel: str, external_id: str, resident_id: int, step: str, draft: str,
        now: datetime,
    ) -> None:  # fmt: skip
        """Record the message as handled and save the conversation, in one statement."""
        values = (channel, external_id, resident_id, step, draft, to_db(now))
        sql = (
            "INSERT INTO turn_writes (channel, external_id, resident_id, step, draft, at) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        if self._transaction.began:
            await self._connection.execute(sql, values)
            await self._transaction.commit()
        else:
            async with self._lock:  # nobody else's transaction may be open around it
                await self._connection.execute(sql, values)

    async def abandon(self) -> None:
        await self._transaction.rollback()

"""What repositories run SQL on, and query helpers: each is one round trip to the database
thread (aiosqlite's execute_fetchall), where execute + fetchone + close would be three."""

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import aiosqlite

# One SQL statement with its parameters, for a caller that runs several in one round trip.
Statement = tuple[str, Sequence[Any]]


class Row(Protocol):
    """A result row read by column name (sqlite3.Row is one; not a Mapping, hence this)."""

    def __getitem__(self, key: str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Db(Protocol):
    """A connection as repositories use it, shaped like aiosqlite's so that one is a `Db`.

    Reads go through `execute_fetchall` (`fetch_one`, `fetch_all`); every write, with RETURNING
    or not, through `execute` or `executemany` (`write_returning`). A conversation turn relies on
    this split to send its reads to committed data and its writes into its transaction
    (storage/turns.py), so a write never goes through `execute_fetchall`.
    """

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> aiosqlite.Cursor: ...

    async def executemany(
        self, sql: str, parameters: Iterable[Sequence[Any]]
    ) -> aiosqlite.Cursor: ...

    async def execute_fetchall(
        self, sql: str, parameters: Sequence[Any] = ()
    ) -> Iterable[aiosqlite.Row]: ...


async def fetch_all(db: Db, sql: str, parameters: Sequence[Any] = ()) -> Iterable[aiosqlite.Row]:
    """The rows of a read."""
    return await db.execute_fetchall(sql, parameters)


async def fetch_one(db: Db, sql: str, parameters: Sequence[Any] = ()) -> aiosqlite.Row | None:
    """The first row of a read, if any."""
    rows = list(await db.execute_fetchall(sql, parameters))
    return rows[0] if rows else None


async def write_returning(db: Db, sql: str, parameters: Sequence[Any] = ()) -> list[aiosqlite.Row]:
    """The rows a write gives back with RETURNING (a write, so it runs where writes run)."""
    cursor = await db.execute(sql, parameters)
    return list(await cursor.fetchall())


async def write_returning_one(
    db: Db, sql: str, parameters: Sequence[Any] = ()
) -> aiosqlite.Row | None:
    """The first row a write gives back with RETURNING, if any."""
    rows = await write_returning(db, sql, parameters)
    return rows[0] if rows else None

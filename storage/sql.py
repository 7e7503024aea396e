"""What repositories run SQL on, and query helpers: each is one round trip to the database
(aiosqlite's execute_fetchall), where execute + fetchone + close would be three.

SQL is written once, with `?` placeholders, for both databases; where the two must differ, the
repository picks its statement with `dialect(db)` (the two forms side by side)."""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, Protocol

import aiosqlite

Dialect = Literal["sqlite", "postgresql"]

# One SQL statement with its parameters, for a caller that runs several in one round trip.
Statement = tuple[str, Sequence[Any]]


class Row(Protocol):
    """A result row read by column name or position (sqlite3.Row is one, and storage.postgres's
    rows; not a Mapping, hence this)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    """What a write gives back: the rows it returned, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    async def fetchall(self) -> Iterable[Row]: ...

    async def fetchone(self) -> Row | None: ...


class Db(Protocol):
    """A connection as repositories use it, shaped like aiosqlite's so that one is a `Db`.

    Reads go through `execute_fetchall` (`fetch_one`, `fetch_all`); every write, with RETURNING
    or not, through `execute` or `executemany` (`write_returning`). A conversation turn relies on
    this split to send its reads to committed data and its writes into its transaction
    (storage/turns.py), so a write never goes through `execute_fetchall`.
    """

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor: ...

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor: ...

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> Iterable[Row]: ...


def dialect(db: Db) -> Dialect:
    """Which SQL the connection speaks. PostgreSQL's connections say so (`dialect`); aiosqlite's
    own connection carries no such attribute, and is used as it is to keep SQLite's path bare."""
    found: Dialect = getattr(db, "dialect", "sqlite")
    return found


async def fetch_all(db: Db, sql: str, parameters: Sequence[Any] = ()) -> Iterable[Row]:
    """The rows of a read."""
    return await db.execute_fetchall(sql, parameters)


async def fetch_one(db: Db, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
    """The first row of a read, if any."""
    rows = list(await db.execute_fetchall(sql, parameters))
    return rows[0] if rows else None


async def write_returning(db: Db, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
    """The rows a write gives back with RETURNING (a write, so it runs where writes run). On
    SQLite one round trip to aiosqlite's thread, not two (execute, then fetchall): a
    connection that offers `write_fetchall` (a turn's) runs it there, and aiosqlite's own
    connection (a unit of work's writer) runs it as execute_fetchall, which is only a read
    through a turn's connection."""
    one_trip = getattr(db, "write_fetchall", None)
    if one_trip is not None:
        return list(await one_trip(sql, parameters))
    if isinstance(db, aiosqlite.Connection):
        return list(await db.execute_fetchall(sql, parameters))
    cursor = await db.execute(sql, parameters)
    return list(await cursor.fetchall())


async def write_returning_one(db: Db, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
    """The first row a write gives back with RETURNING, if any."""
    rows = await write_returning(db, sql, parameters)
    return rows[0] if rows else None

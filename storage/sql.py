"""Query helpers: each is one round trip to the database thread (aiosqlite's execute_fetchall),
where execute + fetchone + close would be three."""

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import aiosqlite


class Row(Protocol):
    """A result row read by column name (sqlite3.Row is one; not a Mapping, hence this)."""

    def __getitem__(self, key: str, /) -> Any: ...

    def keys(self) -> list[str]: ...


async def fetch_all(
    db: aiosqlite.Connection, sql: str, parameters: Sequence[Any] = ()
) -> Iterable[aiosqlite.Row]:
    return await db.execute_fetchall(sql, parameters)


async def fetch_one(
    db: aiosqlite.Connection, sql: str, parameters: Sequence[Any] = ()
) -> aiosqlite.Row | None:
    rows = list(await db.execute_fetchall(sql, parameters))
    return rows[0] if rows else None

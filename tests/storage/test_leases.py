"""Named leases (issue 19): one worker at a time holds one, another takes it once it expires.

The same repository runs on SQLite and on PostgreSQL (through a thin psycopg adapter here:
PostgreSQL's own repositories are another branch's work), with the clock given by the test."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.database import Database
from storage.leases import LeaseRepository
from storage.migrations import postgres_migrations
from tests.fakes.wait import wait_for

NOW = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


class PgDb:
    """A psycopg connection shaped as storage.sql.Db: `?` marks become `%s`."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    @staticmethod
    def _sql(sql: str) -> str:
        return re.sub(r"\?", "%s", sql.replace("%", "%%"))

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        return await self._connection.execute(self._sql(sql), tuple(parameters))

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Any:
        cursor = self._connection.cursor()
        await cursor.executemany(self._sql(sql), [tuple(p) for p in parameters])
        return cursor

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        cursor = await self.execute(sql, parameters)
        return list(await cursor.fetchall())


@pytest.fixture
async def pg_leases(postgres_dsn: str) -> AsyncIterator[tuple[str, list[Any]]]:
    """A fresh PostgreSQL database with PostgreSQL's migrations: (its address, connections
    opened on it, closed at the end)."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is missing: make install")
    name = f"minga_test_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = postgres_dsn.rsplit("/", 1)[0] + f"/{name}"
    opened: list[Any] = []
    try:
        with psycopg.connect(dsn) as connection:
            for migration in postgres_migrations():
                connection.execute(migration.sql)
            connection.commit()
        yield dsn, opened
    finally:
        for connection in opened:
            await connection.close()
        with psycopg.connect(postgres_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


async def _pg(dsn: str, opened: list[Any], *, autocommit: bool = True) -> Any:
    import psycopg
    from psycopg.rows import dict_row

    connection = await psycopg.AsyncConnection.connect(
        dsn, autocommit=autocommit, row_factory=dict_row
    )
    opened.append(connection)
    return connection


async def _take_expire_renew_release(leases: LeaseRepository) -> None:
    """The whole life of a lease, as two workers see it."""
    assert await leases.take("polling", "a", NOW, TTL)
    assert await leases.holder("polling", NOW) == "a"
    assert not await leases.take("polling", "b", NOW + TTL / 2, TTL)  # held: b waits
    assert await leases.take("polling", "a", NOW + TTL / 2, TTL)  # a again: renewed
    assert await leases.renew("polling", "a", NOW + TTL, TTL)
    expired = NOW + 2 * TTL  # a renewed at NOW + TTL, for TTL: gone now (a died)
    assert await leases.holder("polling", expired) is None
    assert await leases.take("polling", "b", expired, TTL)  # b takes over
    assert await leases.holder("polling", expired) == "b"
    assert not await leases.renew("polling", "a", expired, TTL)  # a woke up: it is b's now
    assert not await leases.release("polling", "a")  # nor can a let go of b's lease
    assert await leases.release("polling", "b")  # a clean stop
    assert await leases.take("polling", "a", expired, TTL)  # free at once
    assert await leases.take("scheduler", "b", expired, TTL)  # names are independent


async def test_a_lease_is_taken_renewed_expired_and_released_on_sqlite(database: Database) -> None:
    async with database.transaction() as repos:
        await _take_expire_renew_release(repos.leases)


async def test_a_lease_is_taken_renewed_expired_and_released_on_postgres(
    pg_leases: tuple[str, list[Any]],
) -> None:
    dsn, opened = pg_leases
    await _take_expire_renew_release(LeaseRepository(PgDb(await _pg(dsn, opened))))


async def test_two_workers_asking_at_once_on_sqlite_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "minga.sqlite3"
    first, second = await Database.open(path), await Database.open(path)
    try:

        async def take(database: Database, holder: str) -> bool:
            async with database.transaction() as repos:
                return await repos.leases.take("polling", holder, NOW, TTL)

        won = await asyncio.gather(take(first, "a"), take(second, "b"))
        assert sorted(won) == [False, True]
    finally:
        await first.close()
        await second.close()


async def test_two_workers_taking_an_expired_lease_at_once_on_postgres_one_wins(
    pg_leases: tuple[str, list[Any]],
) -> None:
    """b's take waits for a's uncommitted one, then sees a's row: no two holders."""
    dsn, opened = pg_leases
    setup = LeaseRepository(PgDb(await _pg(dsn, opened)))
    assert await setup.take("polling", "dead", NOW - 2 * TTL, TTL)  # expired: free to take
    a_connection = await _pg(dsn, opened, autocommit=False)
    b_connection = await _pg(dsn, opened, autocommit=False)
    a, b = LeaseRepository(PgDb(a_connection)), LeaseRepository(PgDb(b_connection))
    assert await a.take("polling", "a", NOW, TTL)  # a's transaction is still open
    b_pid = b_connection.info.backend_pid
    b_asks = asyncio.create_task(b.take("polling", "b", NOW, TTL))
    watcher = await _pg(dsn, opened)

    async def b_waits_on_a_lock() -> bool:
        cursor = await watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (b_pid,)
        )
        row = await cursor.fetchone()
        return row is not None and row["wait_event_type"] == "Lock"

    await wait_for(b_waits_on_a_lock)
    assert not b_asks.done()
    await a_connection.commit()
    assert not await b_asks
    await b_connection.commit()
    assert await setup.holder("polling", NOW) == "a"


async def test_heartbeats_are_shared_and_read_by_prefix(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.leases.beat(["outbox:telegram", "outbox:whatsapp"], "a", NOW, TTL)
        await repos.leases.beat(["outbox:telegram"], "b", NOW + TTL, TTL)  # not exclusive
        await repos.leases.take("polling", "a", NOW, TTL)
        assert await repos.leases.renewed("outbox:") == {
            "telegram": NOW + TTL,
            "whatsapp": NOW,
        }
        await repos.leases.release_all(["outbox:telegram", "outbox:whatsapp"], "a")
        assert await repos.leases.renewed("outbox:") == {"telegram": NOW + TTL}

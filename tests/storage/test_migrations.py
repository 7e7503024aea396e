"""Migrations: a fresh database, and an upgrade from every earlier version, end the same."""

from pathlib import Path

import aiosqlite
import pytest

from storage.database import Database
from storage.migrations import apply_migrations, available_migrations

LATEST = available_migrations()[-1].version


async def _schema(path: Path) -> list[tuple]:
    async with aiosqlite.connect(path) as connection:
        cursor = await connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        )
        return [tuple(row) for row in await cursor.fetchall()]


async def test_a_fresh_database_is_at_the_latest_version(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "fresh.sqlite3")
    assert await database.schema_version() == LATEST
    await database.close()


async def test_wal_foreign_keys_and_busy_timeout_are_on(database: Database) -> None:
    connection = database._connection
    assert (await (await connection.execute("PRAGMA journal_mode")).fetchone())[0] == "wal"
    assert (await (await connection.execute("PRAGMA foreign_keys")).fetchone())[0] == 1
    assert (await (await connection.execute("PRAGMA busy_timeout")).fetchone())[0] == 5000


@pytest.mark.parametrize("start", range(LATEST))
async def test_upgrade_from_every_earlier_version(tmp_path: Path, start: int) -> None:
    old = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(old) as connection:
        await apply_migrations(connection, target=start)
    database = await Database.open(old, migrate=False)
    assert await database.upgrade() == (start, LATEST)
    await database.close()
    fresh = await Database.open(tmp_path / "fresh.sqlite3")
    await fresh.close()
    assert await _schema(old) == await _schema(tmp_path / "fresh.sqlite3")


async def test_upgrading_twice_changes_nothing(database: Database) -> None:
    assert await database.upgrade() == (LATEST, LATEST)


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    async with aiosqlite.connect(path) as connection:
        await connection.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(RuntimeError, match="newer than this Minga"):
        await Database.open(path)


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in available_migrations()]
    assert versions == list(range(1, len(versions) + 1))

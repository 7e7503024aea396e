"""Migrations: a fresh database, and an upgrade from every earlier version, end the same."""

from datetime import timedelta
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


async def test_wal_foreign_keys_and_busy_timeout_are_on(sqlite_database: Database) -> None:
    connection = sqlite_database._connection
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


async def test_the_turn_writes_view_and_its_trigger_are_gone(sqlite_database: Database) -> None:
    """A turn writes with plain statements (storage/turns.py): nothing fans an INSERT out."""
    rows = await sqlite_database.reader().residents._db.execute_fetchall(
        "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') "
        "AND (name LIKE 'turn_writes%' OR tbl_name = 'turn_writes')"
    )
    assert list(rows) == []


async def test_a_database_of_version_7_upgrades_with_its_conversations(tmp_path: Path) -> None:
    """Residents mid-intake when Minga is upgraded carry on where they were."""
    old = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(old) as connection:
        await apply_migrations(connection, target=7)
        await connection.execute(
            "INSERT INTO residents (id, channel, user_key, created_at) "
            "VALUES (1, 'telegram', '42', '2026-08-16T19:00:00.000000Z')"
        )
        # How a turn ended before version 8: one INSERT into the view, fanned out by a trigger.
        await connection.execute(
            "INSERT INTO turn_writes (channel, external_id, at, resident_id, step, draft, "
            "language, role, consent_version, consent_at, consent_refused_at, announcements_at, "
            "announcements_version, announcements_off_at, updates_at, updates_version, "
            "updates_off_at) VALUES ('telegram', '7', '2026-08-16T19:01:00.000000Z', 1, "
            "'location', '{\"problem\": \"Huecos\"}', 'es', 'resident', 'v1', "
            "'2026-08-16T19:00:30.000000Z', NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        )
        await connection.execute(
            "UPDATE residents SET unreachable_at = '2026-08-16T19:02:00.000000Z' WHERE id = 1"
        )
        await connection.commit()
    database = await Database.open(old)
    try:
        assert await database.schema_version() == LATEST
        seen, resident, record = await database.reader().conversations.load_turn(
            "telegram", "42", "7"
        )
        assert seen and resident is not None and record is not None
        assert (record.step, record.draft) == ("location", '{"problem": "Huecos"}')
        assert (resident.language, resident.consent_version) == ("es", "v1")
        # The next message continues that conversation, and they are reachable again.
        async with database.turn() as work:
            await work.finish(
                channel="telegram", external_id="8", resident=resident, step="location_detail",
                draft=record.draft, now=record.updated_at + timedelta(minutes=2),
            )  # fmt: skip
        seen, after, record = await database.reader().conversations.load_turn("telegram", "42", "8")
        assert seen and record is not None and record.step == "location_detail"
        assert after == resident.model_copy(update={"unreachable_at": None})
    finally:
        await database.close()

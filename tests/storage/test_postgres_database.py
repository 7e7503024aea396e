"""Minga's database on PostgreSQL (storage/postgres.py): chosen by the setting, migrated once
by several workers starting together, and the SQL translation the repositories rely on.

The repositories' own behaviour on PostgreSQL is the whole suite's: `make test-postgres`."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import StorageSettings, load_settings
from storage import postgres
from storage.database import Database, PostgresDatabase, SqliteDatabase
from storage.migrations import postgres_migrations
from storage.postgres import to_postgres, without_password
from tests.fakes.graph_api import free_port
from tests.fakes.postgres import fresh_database

NOW = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)
LATEST = postgres_migrations()[-1].version


@pytest.fixture
def url(postgres_dsn: str) -> Iterator[str]:
    """An empty database of the test's own on the test server."""
    with fresh_database(postgres_dsn) as address:
        yield address


def test_placeholders_become_postgresql_s_own() -> None:
    sql = "SELECT ? AS a, ?2 AS b WHERE kind LIKE 'voice%' AND c = ?1 AND d = ?"
    assert to_postgres(sql) == (
        "SELECT $1 AS a, $2 AS b WHERE kind LIKE 'voice%' AND c = $1 AND d = $2"
    )


def test_an_empty_list_means_what_it_means_on_sqlite() -> None:
    assert to_postgres("x IN () AND y NOT IN ()") == "x = ANY ('{}') AND y <> ALL ('{}')"


async def test_an_empty_list_runs_on_postgresql(url: str) -> None:
    database = await Database.open(url)
    try:
        rows = await database.reader().ideas._db.execute_fetchall(
            "SELECT 1 IN () AS inside, 1 NOT IN () AS outside"
        )
        [row] = list(rows)
        assert (row["inside"], row["outside"]) == (False, True)
    finally:
        await database.close()


def test_the_setting_tells_a_file_from_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    assert StorageSettings().database == Path("data/minga.sqlite3")
    assert StorageSettings().prepared_statements is True
    url = "postgresql://minga:secret@db.example.gov.co/minga"
    monkeypatch.setenv("MINGA_STORAGE__DATABASE", url)
    monkeypatch.setenv("MINGA_STORAGE__PREPARED_STATEMENTS", "false")
    storage = load_settings(None).storage
    assert storage.database == url  # not a Path: that would fold "//" into "/"
    assert storage.prepared_statements is False
    assert "secret" not in storage.shown_database
    assert without_password("postgresql://minga@host/db") == "postgresql://minga@host/db"


async def test_a_postgresql_url_opens_postgresql_and_a_path_sqlite(
    url: str, tmp_path: Path
) -> None:
    on_server = await Database.open(url)
    on_file = await Database.open(tmp_path / "minga.sqlite3")
    try:
        assert isinstance(on_server, PostgresDatabase) and on_server.dialect == "postgresql"
        assert isinstance(on_file, SqliteDatabase) and on_file.dialect == "sqlite"
        assert await on_server.schema_version() == LATEST
    finally:
        await on_server.close()
        await on_file.close()


async def test_without_prepared_statements_a_turn_still_commits(url: str) -> None:
    """PgBouncer in transaction mode: no statement is prepared on the server, however often
    it runs (psycopg's prepare_threshold=None)."""
    database = await Database.open(url, prepared_statements=False)
    assert isinstance(database, PostgresDatabase)
    try:
        for _ in range(5):  # past psycopg's threshold, had it one
            async with database.turn() as work:
                resident = await work.create_resident("telegram", "42", NOW)
                await work.finish(channel="telegram", external_id=f"m{_}", resident=resident,
                                  step="problem", draft="{}", now=NOW)  # fmt: skip
        async with database.connection() as connection:
            rows = await connection.execute_fetchall("SELECT count(*) FROM pg_prepared_statements")
            assert [tuple(row) for row in rows] == [(0,)]
            assert connection.connection.prepare_threshold is None
        assert await database.reader().inbound.seen("telegram", "m4")
    finally:
        await database.close()


async def test_workers_starting_together_migrate_once(url: str) -> None:
    """Three workers open a new database at the same moment: one applies the schema, the
    others wait for it (an advisory lock) and find it done."""
    databases = await asyncio.gather(*(Database.open(url) for _ in range(3)))
    try:
        assert [await d.schema_version() for d in databases] == [LATEST] * 3
        assert await databases[0].upgrade() == (LATEST, LATEST)
    finally:
        for database in databases:
            await database.close()


async def test_a_database_newer_than_the_code_is_refused(url: str) -> None:
    database = await Database.open(url)
    async with database.connection() as connection:
        await connection.execute("UPDATE schema_version SET version = ?", (LATEST + 1,))
    await database.close()
    with pytest.raises(RuntimeError, match="newer than this Minga"):
        await Database.open(url)


def test_db_upgrade_on_postgresql_reports_without_the_password(url: str, tmp_path: Path) -> None:
    with_password = url.replace("postgres@", "postgres:s3cret@")  # trust auth ignores it
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment["MINGA_STORAGE__DATABASE"] = with_password
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"], cwd=tmp_path, env=environment,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"schema version 0 -> {LATEST}" in result.stdout
    assert "s3cret" not in result.stdout and "***" in result.stdout
    assert not (tmp_path / "data" / "minga.sqlite3").exists()  # no SQLite file made


def test_an_unreachable_server_is_named_in_one_line(tmp_path: Path) -> None:
    """No traceback and no 30 s of retries for the person who mistyped the address."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment["MINGA_STORAGE__DATABASE"] = f"postgresql://minga:s3cret@127.0.0.1:{free_port()}/x"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"], cwd=tmp_path, env=environment,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("minga: cannot reach the database at postgresql://minga:***@")
    assert "s3cret" not in result.stderr


async def test_more_conversations_at_once_than_lock_connections_wait_in_line(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crowd: more conversations handled at once than the lock pool's connections. Each
    waits its turn, however long the ones before it hold theirs (the pool's own wait, here
    cut to 0.2 s, would give up: that message would then wait for a sweep)."""
    monkeypatch.setattr(postgres, "LOCK_POOL_SIZE", 2)
    database = await Database.open(url)
    assert isinstance(database, PostgresDatabase)
    held: list[str] = []
    try:
        lock_pool = await database._locks()
        monkeypatch.setattr(lock_pool, "timeout", 0.2)

        async def conversation(person: str) -> None:
            async with database.conversation_lock("telegram", person) as got:
                assert got
                held.append(person)
                await asyncio.sleep(0.5)  # longer than the pool would wait

        await asyncio.gather(*(conversation(str(n)) for n in range(5)))
        assert sorted(held) == [str(n) for n in range(5)]
    finally:
        await database.close()

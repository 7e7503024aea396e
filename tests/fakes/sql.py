"""The test's own database, on SQLite or (with MINGA_TEST_DATABASE, `make test-postgres`) on
PostgreSQL, and a raw connection to it for what a test puts in or checks behind Minga's back.

Tests write their SQL once, SQLite's way (`?` placeholders): on PostgreSQL it goes through the
same translation the product uses (storage.postgres.to_postgres).
"""

import contextlib
import os
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from storage.postgres import PgConnection, PgRow, pg_rows, to_postgres
from tests.fakes.postgres import TEST_DSN, created_database, drop_database

# The PostgreSQL databases made for the running test, by its folder; dropped after it.
_MADE: dict[Path, str] = {}


def database_for(tmp_path: Path) -> str | Path:
    """The test's database: a SQLite file in its folder, or on PostgreSQL a fresh database of
    its own (the same one each time it is asked for in one test)."""
    if not TEST_DSN:
        return tmp_path / "minga.sqlite3"
    if tmp_path not in _MADE:
        _MADE[tmp_path] = created_database(TEST_DSN)
    return _MADE[tmp_path]


def drop_made() -> None:
    """Drop the PostgreSQL databases the test made (the conftest calls it after each test)."""
    while _MADE:
        _, url = _MADE.popitem()
        assert TEST_DSN
        drop_database(TEST_DSN, url)


class _PostgresLikeAiosqlite(PgConnection):
    """A PostgreSQL connection in autocommit, with aiosqlite's calls tests use."""

    row_factory: Any = None  # rows are read by name or position anyway

    async def commit(self) -> None:
        """Each statement committed already (autocommit)."""


@contextlib.asynccontextmanager
async def connect(target: str | Path) -> AsyncIterator[Any]:
    """A raw connection to the test's database, aiosqlite's or one with the same calls."""
    if isinstance(target, Path):
        async with aiosqlite.connect(target) as db:
            db.row_factory = aiosqlite.Row
            yield db
        return
    import psycopg

    connection = await psycopg.AsyncConnection.connect(target, autocommit=True)
    try:
        yield _PostgresLikeAiosqlite(connection)
    finally:
        await connection.close()


class _SyncResult:
    def __init__(self, rows: list[PgRow], rowcount: int) -> None:
        self.rowcount = rowcount
        self._rows = rows

    def fetchone(self) -> PgRow | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[PgRow]:
        return self._rows


class _SyncPostgres:
    """sqlite3's calls tests use, on a PostgreSQL connection in autocommit."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _SyncResult:
        cursor = self._connection.cursor(row_factory=pg_rows)
        cursor.execute(to_postgres(sql), parameters)
        rows = cursor.fetchall() if cursor.description is not None else []
        return _SyncResult(rows, cursor.rowcount)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> None:
        self._connection.cursor().executemany(to_postgres(sql), list(parameters))

    def commit(self) -> None:
        """Each statement committed already (autocommit)."""


@contextlib.contextmanager
def connect_sync(target: str | Path) -> Iterator[Any]:
    """A raw connection without an event loop: sqlite3's, or one with the same calls."""
    if isinstance(target, Path):
        import sqlite3

        with contextlib.closing(sqlite3.connect(target)) as db, db:
            yield db
        return
    import psycopg

    with psycopg.connect(target, autocommit=True) as connection:
        yield _SyncPostgres(connection)


# Where `minga` commands keep their data with the built-in settings, from the current folder.
CLI_DEFAULT = Path("data") / "minga.sqlite3"
CLI_VARIABLE = "MINGA_STORAGE__DATABASE"


def cli_in(tmp_path: Path, monkeypatch: Any) -> None:
    """`minga` commands run in the test's folder on the built-in settings: their database is
    data/minga.sqlite3 there, or on PostgreSQL the test's own (MINGA_STORAGE__DATABASE)."""
    monkeypatch.chdir(tmp_path)
    if TEST_DSN:
        monkeypatch.setenv(CLI_VARIABLE, str(database_for(tmp_path)))


def cli_database() -> str | Path:
    """The database `minga` commands use in this test (see cli_in)."""
    return os.environ.get(CLI_VARIABLE) or CLI_DEFAULT

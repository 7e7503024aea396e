"""The test's own database, on SQLite or (with MINGA_TEST_DATABASE, `make test-postgres`) on
PostgreSQL, and a raw connection to it for what a test puts in or checks behind Minga's back.

Tests write their SQL once, SQLite's way (`?` placeholders): on PostgreSQL it goes through the
same translation the product uses (storage.postgres.to_postgres).
"""

import asyncio
import contextlib
import os
import queue
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiosqlite

from storage.database import Database
from storage.postgres import PgConnection, PgRow, connection_options, pg_rows, to_postgres
from tests.fakes.postgres import TEST_DSN, created_database, database_url, drop_database

# The PostgreSQL databases made for the running test, by its folder; dropped after it.
_MADE: dict[Path, str] = {}


# A database migrated once, which each test's database is copied from (PostgreSQL only).
_TEMPLATE: list[str] = []
# Copies made ahead by a thread while tests run: a copy takes 0.1-0.8 s, mostly waiting on the
# server, which the running test's own waits then hide.
AHEAD = 2
_READY: "queue.Queue[str]" = queue.Queue(maxsize=AHEAD)
_STOP = threading.Event()
_COPIER: list[threading.Thread] = []


def database_for(tmp_path: Path) -> str | Path:
    """The test's database: a SQLite file in its folder, or on PostgreSQL a fresh database of
    its own, at the latest schema (the same one each time it is asked for in one test)."""
    if not TEST_DSN:
        return tmp_path / "minga.sqlite3"
    if tmp_path not in _MADE:
        _start(TEST_DSN)
        _MADE[tmp_path] = _READY.get(timeout=120)
    return _MADE[tmp_path]


def _start(dsn: str) -> None:
    """Migrate the template and start the thread that copies it, on first use."""
    if _TEMPLATE:
        return
    url = created_database(dsn)
    # On a thread of its own: a test's event loop may be running in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _migrate(url)).result()
    _TEMPLATE.append(url.rsplit("/", 1)[1])
    copier = threading.Thread(target=_copy_ahead, args=(dsn, _TEMPLATE[0]), daemon=True)
    copier.start()
    _COPIER.append(copier)


def _copy_ahead(dsn: str, template: str) -> None:
    while not _STOP.is_set():
        url = created_database(dsn, template=template)
        while not _STOP.is_set():
            try:
                _READY.put(url, timeout=0.2)
                break
            except queue.Full:
                continue
        else:
            drop_database(dsn, url)


async def _migrate(url: str) -> None:
    database = await Database.open(url)
    await database.close()  # a template must have no connection while it is copied


def drop_template() -> None:
    """Stop copying, drop the copies nobody took and the template (at the session's end)."""
    if not (_TEMPLATE and TEST_DSN):
        return
    _STOP.set()
    _COPIER.pop().join()  # its last copy is queued or dropped
    while not _READY.empty():
        drop_database(TEST_DSN, _READY.get_nowait())
    drop_database(TEST_DSN, database_url(TEST_DSN, _TEMPLATE.pop()))


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

    connection = await psycopg.AsyncConnection.connect(target, **connection_options())
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

    with psycopg.connect(target, autocommit=True, cursor_factory=psycopg.RawCursor) as connection:
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

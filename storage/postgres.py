"""Minga's storage on PostgreSQL (psycopg 3, async, on a connection pool): the same repositories
and the same SQL as on SQLite, through an adapter that speaks `storage.sql.Db`.

The driver was chosen by measurement (bench/pg_driver_bench.py, docs/workers.md).
Values are stored as on SQLite (ISO text times, 0/1 flags, JSON as text), so that repositories
read and write the same Python values on both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Literal

from storage.conversations import ConversationRepository
from storage.inbound import InboundRepository
from storage.migrations import Migration, postgres_migrations
from storage.models import Resident
from storage.pending import ADD_REPLIES, InboundQueueRepository, PendingReplyRepository
from storage.repositories import Repositories
from storage.residents import ResidentRepository
from storage.timefmt import to_db

# psycopg is imported only where PostgreSQL is used (about 70 ms): its types for the checker.
if TYPE_CHECKING:
    from psycopg import AsyncConnection, AsyncCursor
    from psycopg.abc import Buffer
    from psycopg.adapt import Dumper
    from psycopg.rows import RowMaker
    from psycopg_pool import AsyncConnectionPool

    Pool = AsyncConnectionPool[AsyncConnection[Any]]

log = logging.getLogger(__name__)

# How long the first connection may take before the server counts as unreachable.
CONNECT_TIMEOUT_S = 10
# Connections a worker keeps open at most (turns, readers and units of work together).
POOL_SIZE = 16
# Conversations a worker handles at once on PostgreSQL: each holds a connection for its lock,
# from their own pool, while its turn runs and its replies are sent (a queue beyond).
LOCK_POOL_SIZE = 16
# Any number fixed for Minga: the key of the advisory lock that lets one worker migrate at once.
MIGRATION_LOCK = 0x4D494E4741  # "MINGA"
# The first key of the advisory locks of conversations (the second: a hash of channel and user
# key), a space of its own beside the migration lock's single key.
CONVERSATION_LOCKS = 0x4D49  # "MI"
# psycopg prepares a statement the second time a connection runs it (its default is 5): the
# turn's few statements repeat on every turn, and PgBouncer users turn this off anyway.
PREPARE_THRESHOLD = 2

_PLACEHOLDER = re.compile(r"\?(\d*)")
_EMPTY_NOT_IN = re.compile(r"\s+NOT\s+IN\s*\(\s*\)", re.IGNORECASE)
_EMPTY_IN = re.compile(r"\s+IN\s*\(\s*\)", re.IGNORECASE)


class DatabaseUnreachable(Exception):
    """The PostgreSQL server refused or did not answer; the message is one line for the
    operator, without the password."""


def is_postgres_url(target: object) -> bool:
    """Whether `[storage] database` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def without_password(url: str) -> str:
    """The URL as it may be shown or logged: any password replaced by ***."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


@lru_cache(maxsize=2048)
def to_postgres(sql: str) -> str:
    """SQLite's placeholders as PostgreSQL's own, for psycopg's raw cursors: each `?` the next
    `$n`, and `?NNN` (a parameter used twice) `$NNN`. A literal `%` (LIKE 'voice%') stays as it
    is, since raw cursors give `%` no meaning. Cached: the same statements run on every turn.

    No statement of Minga has a `?` inside a string literal; a parameter carries such text."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(1):
            return f"${match.group(1)}"
        count += 1
        return f"${count}"

    translated = _PLACEHOLDER.sub(number, sql)
    # SQLite takes an empty list (`x IN ()` is false, `x NOT IN ()` true); PostgreSQL's syntax
    # does not, and an empty array says the same.
    translated = _EMPTY_NOT_IN.sub(" <> ALL ('{}')", translated)
    return _EMPTY_IN.sub(" = ANY ('{}')", translated)


class PgRow:
    """A row read by column name or position, as sqlite3.Row is (the first column of a name
    wins, as there)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values, strict=False))!r})"


def pg_rows(cursor: AsyncCursor[Any]) -> RowMaker[PgRow]:
    """psycopg's row factory for PgRow: the column index is built once per result."""
    index: dict[str, int] = {}
    for position, column in enumerate(cursor.description or ()):
        index.setdefault(column.name, position)

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(values, index)

    return make


@cache
def _bool_as_integer() -> type[Dumper]:
    """A dumper that sends Python's True/False as 1/0: flags are INTEGER columns, as on SQLite.
    (Made on first use: psycopg is imported only where PostgreSQL is used.)"""
    from psycopg.adapt import Dumper

    class BoolAsInteger(Dumper):
        oid = 20  # int8

        def dump(self, obj: Any) -> Buffer:
            return b"1" if obj else b"0"

    return BoolAsInteger


class PgResult:
    """A statement's outcome, read at once: the rows it returned (if any) and how many rows it
    changed. Reading at once frees the connection for the next statement."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[PgRow], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    async def fetchall(self) -> list[PgRow]:
        return self._rows

    async def fetchone(self) -> PgRow | None:
        return self._rows[0] if self._rows else None


class PgConnection:
    """One psycopg connection as a `storage.sql.Db`."""

    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, connection: AsyncConnection[Any]) -> None:
        self.connection = connection

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> PgResult:
        cursor = self.connection.cursor(row_factory=pg_rows)
        await cursor.execute(to_postgres(sql), parameters)
        rows = await cursor.fetchall() if cursor.description is not None else []
        return PgResult(rows, cursor.rowcount)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> PgResult:
        cursor = self.connection.cursor(row_factory=pg_rows)
        await cursor.executemany(to_postgres(sql), list(parameters))
        return PgResult([], cursor.rowcount)

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[PgRow]:
        cursor = self.connection.cursor(row_factory=pg_rows)
        await cursor.execute(to_postgres(sql), parameters)
        return await cursor.fetchall()


class PgPooled:
    """A `storage.sql.Db` that runs each statement on its own connection from the pool, in
    autocommit: single reads outside any unit of work (`PostgresDatabase.reader`)."""

    dialect = "postgresql"

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> PgResult:
        async with self._pool.connection() as connection:
            return await PgConnection(connection).execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> PgResult:
        async with self._pool.connection() as connection, connection.transaction():
            return await PgConnection(connection).executemany(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[PgRow]:
        async with self._pool.connection() as connection:
            return await PgConnection(connection).execute_fetchall(sql, parameters)


class PgTurnConnection(PgConnection):
    """A turn's connection (a `storage.sql.Db`), as storage.turns.TurnConnection on SQLite: reads
    see committed data until the first write, which begins the turn's transaction; from then on
    reads run inside it and see the turn's own writes."""

    def __init__(self, connection: AsyncConnection[Any]) -> None:
        super().__init__(connection)
        self.began = False
        self.wrote = False  # the turn's repositories wrote (rows beyond the common write)

    async def begin(self) -> None:
        """Begin the turn's transaction, unless it began already."""
        if not self.began:
            await self.connection.execute("BEGIN")
            self.began = True

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> PgResult:
        """A write, inside the turn's transaction."""
        await self.begin()
        self.wrote = True
        return await super().execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> PgResult:
        """Writes, inside the turn's transaction."""
        await self.begin()
        self.wrote = True
        return await super().executemany(sql, parameters)

    async def end(self, statement: Literal["COMMIT", "ROLLBACK"]) -> None:
        if self.began:
            self.began = False
            await self.connection.execute(statement)


class PgTurnWork:
    """What a turn writes with on PostgreSQL (storage.turns.TurnWork's twin): repositories, and
    `finish` for its last, common write. It holds one pooled connection for the whole turn."""

    def __init__(self, connection: AsyncConnection[Any]) -> None:
        self._transaction = PgTurnConnection(connection)
        self.repos = Repositories.on(self._transaction)

    async def create_resident(self, channel: str, user_key: str, now: datetime) -> Resident:
        """The resident for a channel identity, made on first contact (one statement)."""
        plain = PgConnection(self._transaction.connection)  # in the turn's transaction, if any
        return await ResidentRepository(plain).get_or_create(channel, user_key, now)

    async def finish(
        self, *, channel: str, external_id: str, resident: Resident, step: str, draft: str,
        now: datetime, chat: str | None = None, replies: str | None = None,
        sent: Sequence[int] = (), handled: Sequence[tuple[str, str]] = (),
        worker: str | None = None,
    ) -> int | None:  # fmt: skip
        """Record the message as handled, save the conversation and the resident's own fields,
        and commit them with whatever the turn wrote before: all of it, or (on a failure) none.
        The replies, `sent` and `handled` as in storage.turns.TurnWork.finish.

        In pipeline mode: BEGIN (unless a write began it), the writes and COMMIT go to the
        server together; the replies' row id is the one answer waited for."""
        connection = self._transaction.connection
        owed: int | None = None
        try:
            async with connection.pipeline():
                await self._transaction.begin()
                plain = _Pipelined(connection)
                await InboundRepository(plain).record(channel, external_id, now)
                await ConversationRepository(plain).save(resident.id, step, draft, now)
                await ResidentRepository(plain).save_turn(resident)
                await PendingReplyRepository(plain).sent(sent)
                await InboundQueueRepository(plain).done_all(handled)
                if replies is not None:  # its id read in the pipeline (a sync before COMMIT)
                    cursor = await connection.execute(to_postgres(ADD_REPLIES), (
                        channel, resident.user_key, chat or resident.user_key, replies, to_db(now),
                        worker,
                    ))  # fmt: skip
                    row = await cursor.fetchone()
                    assert row is not None
                    owed = int(row[0])
                await self._transaction.end("COMMIT")
        except BaseException:
            self._transaction.began = True  # whatever began must end
            await self.abandon()
            raise
        return owed

    @property
    def wrote_rows(self) -> bool:
        """Whether the turn wrote more than its conversation (an idea, an RSVP, outbox rows)."""
        return self._transaction.wrote

    async def abandon(self) -> None:
        await _rollback(self._transaction)


async def _rollback(transaction: PgTurnConnection) -> None:
    """Roll back what the turn began, if the connection can still say anything."""
    if transaction.began and not transaction.connection.closed:
        await transaction.end("ROLLBACK")
    transaction.began = False


class _Pipelined(PgConnection):
    """The turn's common writes inside a pipeline: sent without waiting for each answer.

    Their outcome (rows, counts) is not read: `finish` does not use it. Errors still surface,
    at the pipeline's sync (the COMMIT) at the latest."""

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> PgResult:
        await self.connection.execute(to_postgres(sql), parameters)
        return PgResult([], -1)


async def lock_conversation(
    connection: AsyncConnection[Any], channel: str, user_key: str, *, wait: bool
) -> bool:
    """Take a conversation's advisory lock for the connection's transaction (waiting for it, or
    not: False when another holds it). Two conversations may share a hash: they then only wait
    for each other, never mix."""
    key = (CONVERSATION_LOCKS, f"{channel}:{user_key}")
    if wait:
        await connection.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", key)
        return True
    cursor = await connection.execute("SELECT pg_try_advisory_xact_lock($1, hashtext($2))", key)
    row = await cursor.fetchone()
    return row is not None and row[0] is True


async def open_pool(url: str, *, prepared_statements: bool, size: int, least: int = 1) -> Pool:
    """A pool of up to `size` connections to the server at `url`, in autocommit (units of work
    begin their own transactions); `prepared_statements=False` for PgBouncer in transaction
    mode (a server-side prepared statement would outlive its connection)."""
    from psycopg import AsyncConnection, OperationalError
    from psycopg_pool import AsyncConnectionPool

    # One connection first: the pool would retry for 30 s and then say only that it timed out.
    try:
        first = await AsyncConnection.connect(url, connect_timeout=CONNECT_TIMEOUT_S)
    except OperationalError as error:
        # psycopg's message spans lines (the server's words, then a hint): one line here.
        reason = " ".join(str(error).split()) or type(error).__name__
        shown = without_password(url)
        raise DatabaseUnreachable(f"cannot reach the database at {shown}: {reason}") from None
    await first.close()
    pool: Pool = AsyncConnectionPool(
        url, min_size=least, max_size=size, open=False, configure=_configure,
        kwargs=connection_options(prepared_statements=prepared_statements),
    )  # fmt: skip
    await pool.open(wait=True)
    return pool


def connection_options(*, prepared_statements: bool = True) -> dict[str, Any]:
    """How each connection is made: autocommit (units of work begin their own transactions),
    PostgreSQL's own placeholders (raw cursors: see to_postgres), prepared statements or not."""
    from psycopg import AsyncRawCursor

    threshold = PREPARE_THRESHOLD if prepared_statements else None
    return {"autocommit": True, "cursor_factory": AsyncRawCursor, "prepare_threshold": threshold}


async def upgrade(pool: Pool) -> tuple[int, int]:
    """Apply pending migrations; returns (version before, version after). Each migration is one
    transaction, under an advisory lock so that two workers starting together do not both
    apply it."""
    migrations = postgres_migrations()
    latest = migrations[-1].version if migrations else 0
    before = await schema_version(pool)
    if before > latest:
        raise RuntimeError(
            f"the database is at schema version {before}, newer than this Minga ({latest}); "
            "upgrade Minga before using this database"
        )
    for migration in migrations:
        if migration.version > before:
            await _apply(pool, migration)
    return before, await schema_version(pool)


async def _apply(pool: Pool, migration: Migration) -> None:
    async with pool.connection() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", (MIGRATION_LOCK,))
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
        )
        if await _version(connection) >= migration.version:
            return  # another worker applied it meanwhile
        await connection.execute(migration.sql.encode())  # several statements: no parameters
        await connection.execute("DELETE FROM schema_version")
        await connection.execute(
            "INSERT INTO schema_version (version) VALUES ($1)", (migration.version,)
        )


async def schema_version(pool: Pool) -> int:
    async with pool.connection() as connection:
        return await _version(connection)


async def _configure(connection: AsyncConnection[Any]) -> None:
    """Each new pooled connection: flags as integers, times in UTC (the values are ISO text, but
    the server's own now() and logs should agree with them)."""
    connection.adapters.register_dumper(bool, _bool_as_integer())
    await connection.execute("SET TIME ZONE 'UTC'")


async def _version(connection: AsyncConnection[Any]) -> int:
    exists = await connection.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    found = await exists.fetchone()
    if not found or not found[0]:
        return 0
    cursor = await connection.execute("SELECT max(version) FROM schema_version")
    row = await cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0

"""`minga db copy`: a SQLite deployment moved into an empty PostgreSQL database, every row as it
is (ids kept), in one transaction on the target, then verified by counting each table.

Nothing here names a table: tables and columns are read from both databases' catalogues and
copied in the order of PostgreSQL's foreign keys, so a migration that adds a table or a column
is copied without a change here. The source is only read (query_only, in one snapshot): after
a copy, or a refused or failed one, the SQLite file is as it was.

Why an older file is refused rather than upgraded here: the file is the way back to SQLite
and the backup the operator just made; the copy leaves it exactly as it was, and the upgrade,
which changes it, stays the explicit step `minga db upgrade` that says what it did.
"""

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import sql

from storage import postgres
from storage.migrations import available_migrations, postgres_migrations
from storage.postgres import without_password

# Rows read from SQLite at a time (memory stays flat for a million ideas).
BATCH = 5_000
# maintenance_work_mem while the indexes are built again after the copy.
INDEX_MEMORY = "256MB"
# Minga's own bookkeeping on PostgreSQL (the schema version), written by the migrations.
BOOKKEEPING = frozenset({"schema_version"})

Row = tuple[Any, ...]


class Progress(Protocol):
    """Told what the copy does, for a progress bar."""

    def begin(self, tables: Sequence["Table"]) -> None:
        """The tables about to be copied, in order, with their row counts."""

    def advance(self, table: str, rows: int) -> None:
        """`rows` more rows of `table` were copied."""

    def finishing(self, what: str) -> None:
        """The rows are in; now `what` (building the indexes, counting)."""


class CopyRefused(Exception):
    """The copy was not started, for a reason said in one line; nothing was changed."""


class CopyFailed(Exception):
    """The copy started and failed; its transaction was rolled back, the target is as before."""


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: int  # in the source's snapshot


@dataclass(frozen=True, slots=True)
class Copied:
    """What a finished copy moved: each table's rows, counted again on the target."""

    version: int
    tables: tuple[Table, ...]

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


async def copy_sqlite_to_postgres(path: Path, url: str, progress: Progress | None = None) -> Copied:
    """Copy the SQLite file at `path` into the empty PostgreSQL database at `url`: refused
    (CopyRefused) before anything changes, or done and verified, or rolled back (CopyFailed)."""
    with open_source(path) as source:
        version = check_source_version(source, path)
        names = list(source_tables(source))
        try:
            with psycopg.connect(url, autocommit=True, prepare_threshold=None) as target:
                check_target_empty(target, names)  # before the migrations touch it
        except psycopg.OperationalError as error:
            raise CopyRefused(f"cannot connect to {without_password(url)}: "
                              f"{_first_line(error)}") from None  # fmt: skip
        reached = await migrate_target(url)
        if reached != version:
            raise CopyRefused(f"the PostgreSQL database reached schema version {reached}, the "
                              f"SQLite file is at {version}: they must be the same")  # fmt: skip
        return copy_all(source, url, version, progress)


def latest_versions() -> tuple[int, int]:
    """The schema version this Minga's migrations reach on SQLite and on PostgreSQL."""
    sqlite_latest = available_migrations()[-1].version
    found = postgres_migrations()
    return sqlite_latest, found[-1].version if found else 0


@contextmanager
def open_source(path: Path) -> Iterator[sqlite3.Connection]:
    """The SQLite file, read only, in one read transaction: a consistent snapshot, and a file
    left as it was (it is the way back)."""
    if not path.is_file():
        raise CopyRefused(f"{path}: no such SQLite file")
    # query_only rather than a read-only open: it writes nothing either, and on closing it
    # removes the -wal and -shm files that a read-only connection would leave behind.
    connection = sqlite3.connect(path, isolation_level=None)
    with closing(connection):
        try:
            connection.execute("PRAGMA query_only = ON")
            connection.execute("BEGIN")
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise CopyRefused(f"{path}: not a SQLite database Minga can read ({error})") from None
        yield connection


def check_source_version(source: sqlite3.Connection, path: Path) -> int:
    """The source's schema version, refused unless it is this Minga's latest."""
    version = int(source.execute("PRAGMA user_version").fetchone()[0])
    sqlite_latest, postgres_latest = latest_versions()
    if sqlite_latest != postgres_latest:
        raise CopyRefused(
            f"this Minga's migrations reach schema version {sqlite_latest} on SQLite and "
            f"{postgres_latest} on PostgreSQL: it cannot copy (install a released version)"
        )
    if version < sqlite_latest:
        raise CopyRefused(
            f"{path} is at schema version {version}, this Minga's is {sqlite_latest}: run "
            f"`minga db upgrade` on it first (with [storage] database still naming it), then "
            "copy again"
        )
    if version > sqlite_latest:
        raise CopyRefused(
            f"{path} is at schema version {version}, newer than this Minga ({sqlite_latest}): "
            "upgrade Minga first"
        )
    return version


def source_tables(source: sqlite3.Connection) -> dict[str, Table]:
    """Every table of the SQLite file with its columns (in their order) and row count."""
    names = [row[0] for row in source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )]  # fmt: skip
    tables = {}
    for name in names:
        quoted = _quoted(name)
        columns = tuple(row[1] for row in source.execute(f"PRAGMA table_info({quoted})"))
        rows = int(source.execute(_select(name, "count(*)")).fetchone()[0])
        tables[name] = Table(name, columns, rows)
    return tables


def _select(table: str, what: str = "*") -> str:
    """A SELECT of a whole SQLite table (its name, from the file's catalogue, quoted)."""
    return f"SELECT {what} FROM {_quoted(table)}"  # noqa: S608


def _quoted(name: str) -> str:
    """A SQLite identifier, quoted (names come from the file's own catalogue)."""
    return '"' + name.replace('"', '""') + '"'


def seed_rows() -> dict[str, set[Row]]:
    """The rows the migrations themselves write (the privacy policy's version), by table: a
    database holding only these is as empty as a freshly migrated one."""
    with closing(sqlite3.connect(":memory:")) as fresh:
        for migration in available_migrations():
            fresh.executescript(migration.sql)
        seeds = {}
        for table in source_tables(fresh).values():
            if table.rows:
                seeds[table.name] = set(fresh.execute(_select(table.name)))
        return seeds


def check_target_empty(target: psycopg.Connection[Any], names: Sequence[str]) -> None:
    """Refuse a target holding any row in any of Minga's tables (beyond the migrations' own),
    and one whose schema is newer than this Minga's."""
    seeds = seed_rows()
    found = []
    for name in names:
        if not _exists(target, name):
            continue
        query = sql.SQL("SELECT * FROM {} LIMIT {}").format(
            sql.Identifier(name), sql.Literal(len(seeds.get(name, ())) + 1)
        )
        rows = {tuple(row) for row in target.execute(query)}
        if not rows <= seeds.get(name, set()):
            found.append(name)
    if found:
        raise CopyRefused(
            f"the PostgreSQL database already holds Minga data (in {', '.join(found)}): "
            "copy only into a new, empty database; nothing was changed"
        )
    version = _target_version(target)
    latest = latest_versions()[1]
    if version > latest:
        raise CopyRefused(
            f"the PostgreSQL database is at schema version {version}, newer than this Minga "
            f"({latest}): upgrade Minga first"
        )


def _exists(target: psycopg.Connection[Any], name: str) -> bool:
    row = target.execute("SELECT to_regclass(quote_ident(%s)) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def _target_version(target: psycopg.Connection[Any]) -> int:
    if not _exists(target, "schema_version"):
        return 0
    row = target.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def migrate_target(url: str) -> int:
    """Bring the PostgreSQL database to this Minga's schema (as `minga db upgrade` would)."""
    pool = await postgres.open_pool(url, prepared_statements=False, size=1)
    try:
        return (await postgres.upgrade(pool))[1]
    finally:
        await pool.close()


def target_columns(target: psycopg.Connection[Any]) -> dict[str, set[str]]:
    """Each table of the target's schema (Minga's bookkeeping aside) with its columns."""
    columns: dict[str, set[str]] = {}
    for table, column in target.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    ):
        if table not in BOOKKEEPING:
            columns.setdefault(table, set()).add(column)
    return columns


def matching_tables(found: dict[str, Table], target: dict[str, set[str]]) -> None:
    """Fail unless both databases have the same tables with the same columns (the schema test
    holds the migrations to that; a hand-made change to either database would break it)."""
    differences = []
    for name in sorted(found.keys() | target.keys()):
        if name not in target or name not in found:
            where = "PostgreSQL" if name not in target else "SQLite"
            differences.append(f"table {name} missing on {where}")
        elif set(found[name].columns) != target[name]:
            odd = sorted(set(found[name].columns) ^ target[name])
            differences.append(f"{name} differs in {', '.join(odd)}")
    if differences:
        raise CopyRefused("the two schemas differ, nothing was copied: " + "; ".join(differences))


def foreign_key_order(target: psycopg.Connection[Any], names: Sequence[str]) -> list[str]:
    """The tables with each after the tables its foreign keys point at: the order the rows go
    in (a table pointing at itself, ideas.duplicate_of, needs no place of its own)."""
    after: dict[str, set[str]] = {name: set() for name in names}
    for child, parent in target.execute(
        "SELECT c.relname, p.relname FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid "
        "WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace"
    ):
        if child in after and parent in after and child != parent:
            after[child].add(parent)
    order: list[str] = []
    while after:
        ready = sorted(name for name, parents in after.items() if parents <= set(order))
        if not ready:
            raise CopyRefused(f"foreign keys go round in a circle among {sorted(after)}")
        order.extend(ready)
        for name in ready:
            del after[name]
    return order


def copy_all(
    source: sqlite3.Connection, url: str, version: int, progress: Progress | None = None
) -> Copied:
    """Copy every table in one transaction on the target, with the tables locked against
    writers and their triggers off (the rows they would add are copied from the source), then
    compare each table's count with the source's; any difference rolls everything back."""
    found = source_tables(source)
    # One transaction, committed at the end of the block. No prepared statements: behind
    # PgBouncer in transaction mode, one would not outlive its transaction's server connection.
    with psycopg.connect(url, prepare_threshold=None) as target:
        try:
            tables = [found[name] for name in _prepare(target, found)]
            if progress is not None:
                progress.begin(tables)
            _copy_rows(source, target, tables, progress)
            names = [table.name for table in tables]
            _restart_identities(target, names)
            _enable_triggers(target, names)
            if progress is not None:
                progress.finishing("counting")
            _verify(target, tables)
        except psycopg.Error as error:
            raise CopyFailed(_first_line(error)) from error
    return Copied(version, tuple(tables))


def _copy_rows(
    source: sqlite3.Connection, target: psycopg.Connection[Any], tables: Sequence[Table],
    progress: Progress | None,
) -> None:  # fmt: skip
    """Each table's rows, with the foreign keys and the plain indexes set aside meanwhile:
    built and checked once over all rows afterwards, they cost a third of what keeping them
    up to date row by row does (bench/copy_bench.py)."""
    names = [table.name for table in tables]
    # Room to sort each index in memory (the server's default, 64 MB, spills to disk for a
    # million ideas); for this transaction only.
    target.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(
        sql.Literal(INDEX_MEMORY)))  # fmt: skip
    foreign_keys, indexes = _drop_foreign_keys(target, names), _drop_indexes(target, names)
    for table in tables:
        _copy_table(source, target, table, progress)
    if progress is not None:
        progress.finishing("indexes and keys")
    for definition in indexes:
        target.execute(sql.SQL(definition))  # PostgreSQL's own text of the index
    _add_foreign_keys(target, foreign_keys)


def _prepare(target: psycopg.Connection[Any], found: dict[str, Table]) -> list[str]:
    """Check the target again inside the copy's transaction, lock it, turn its triggers off
    and clear the migrations' own rows (the source has its own, maybe changed since)."""
    columns = target_columns(target)
    matching_tables(found, columns)
    order = foreign_key_order(target, list(found))
    identifiers = sql.SQL(", ").join(sql.Identifier(name) for name in order)
    # Writers wait until the copy commits; readers still read (an empty database).
    target.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(identifiers))
    check_target_empty(target, order)
    for name in _with_triggers(target, order):
        target.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(name)))
    for name in reversed(order):
        target.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(name)))
    return order


def _drop_foreign_keys(
    target: psycopg.Connection[Any], names: Sequence[str]
) -> list[tuple[str, str, str]]:
    """Drop the foreign keys for the copy, returning (table, name, definition) of each: adding
    them back checks all rows in one query per key, several times faster than checking each
    row as it arrives. Inside the transaction, nobody sees the tables without them."""
    keys = target.execute(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid "
        "WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace "
        "AND c.relname = ANY(%s) ORDER BY c.relname, k.conname",
        (list(names),),
    ).fetchall()
    for table, name, _ in keys:
        target.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(table), sql.Identifier(name)))  # fmt: skip
    return keys


def _drop_indexes(target: psycopg.Connection[Any], names: Sequence[str]) -> list[str]:
    """Drop the indexes no constraint stands on, returning how to create each again: built
    once over all rows, an index costs less than kept up to date row by row."""
    indexes = target.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE i.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) "
        "ORDER BY i.relname",
        (list(names),),
    ).fetchall()
    for name, _ in indexes:
        target.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return [definition for _, definition in indexes]


def _add_foreign_keys(target: psycopg.Connection[Any], keys: list[tuple[str, str, str]]) -> None:
    """Add the foreign keys back as they were (PostgreSQL's own text of each), checking every
    copied row against them."""
    for table, name, definition in keys:
        try:
            target.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)))  # fmt: skip
        except psycopg.Error as error:
            raise CopyFailed(f"table {table}: {_first_line(error)}") from error


def _with_triggers(target: psycopg.Connection[Any], names: Sequence[str]) -> list[str]:
    """The tables that have triggers of their own (foreign keys' internal ones stay on)."""
    rows = target.execute(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
    ).fetchall()
    return [name for (name,) in rows if name in names]


def _enable_triggers(target: psycopg.Connection[Any], names: Sequence[str]) -> None:
    for name in _with_triggers(target, names):
        target.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(name)))


def _copy_table(
    source: sqlite3.Connection, target: psycopg.Connection[Any], table: Table,
    progress: Progress | None,
) -> None:  # fmt: skip
    """One table's rows through COPY, read from SQLite in batches."""
    rows = source.execute(_select(table.name, ", ".join(map(_quoted, table.columns))))
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns))
    )
    try:
        with target.cursor().copy(statement) as copy:
            while batch := rows.fetchmany(BATCH):
                for row in batch:
                    copy.write_row(row)
                if progress is not None:
                    progress.advance(table.name, len(batch))
    except psycopg.Error as error:
        # PostgreSQL's line names the row (COPY ideas, line 2) where the first line does not.
        where = f" ({error.diag.context.strip()})" if error.diag.context else ""
        raise CopyFailed(f"table {table.name}: {_first_line(error)}{where}") from error


def _restart_identities(target: psycopg.Connection[Any], names: Sequence[str]) -> None:
    """Move each identity column's sequence past the largest id copied, so that the next
    resident, idea or outbox row gets a new id."""
    for table, column in target.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall():
        if table not in names:
            continue
        query = sql.SQL(
            "SELECT setval(pg_get_serial_sequence({}, {}), coalesce(max({}), 0) + 1, false) "
            "FROM {}"
        ).format(
            sql.Literal(sql.Identifier(table).as_string(target)), sql.Literal(column),
            sql.Identifier(column), sql.Identifier(table),
        )  # fmt: skip
        target.execute(query)


def _verify(target: psycopg.Connection[Any], tables: Sequence[Table]) -> None:
    """Count each table on the target (inside the transaction) against the source's count."""
    wrong = []
    for table in tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name))
        row = target.execute(query).fetchone()
        count = int(row[0]) if row else -1
        if count != table.rows:
            wrong.append(f"{table.name}: {table.rows} in SQLite, {count} copied")
    if wrong:
        raise CopyFailed("counts differ, nothing was kept: " + "; ".join(wrong))


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]

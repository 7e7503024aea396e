"""SQLite's and PostgreSQL's schemas hold the same tables, columns and constraints (issue 19):
read back from each database, not from the migration files, so a migration written for one
and forgotten for the other fails here."""

import re
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.database import Database
from storage.migrations import available_migrations, postgres_migrations

psycopg = pytest.importorskip("psycopg", reason="psycopg is missing: make install")

# SQLite's declared type -> what PostgreSQL's column must be (ids are BIGINT, see the baseline).
TYPES = {
    "INTEGER": {"integer", "bigint"},
    "TEXT": {"text"},
    "REAL": {"double precision"},
    "BLOB": {"bytea"},
}
ON_DELETE = {"a": "NO ACTION", "c": "CASCADE", "r": "RESTRICT", "n": "SET NULL", "d": "SET DEFAULT"}

Table = dict[str, Any]
EXPRESSION = "(expression)"  # an index key that is no column, e.g. lower(location_text)


@pytest.fixture
def postgres(postgres_dsn: str) -> Iterator[Any]:
    """A fresh database on the test server, with PostgreSQL's migrations applied."""
    name = f"minga_test_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(postgres_dsn.rsplit("/", 1)[0] + f"/{name}") as connection:
            for migration in postgres_migrations():
                connection.execute(migration.sql)
            connection.commit()
            yield connection
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
async def sqlite(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = tmp_path / "minga.sqlite3"
    database = await Database.open(path)
    await database.close()
    connection = sqlite3.connect(path)
    yield connection
    connection.close()


def _sqlite_checks(sql: str, columns: list[str]) -> Counter[frozenset[str]]:
    """The columns each CHECK of a CREATE TABLE names (SQLite keeps no other record of them)."""
    found: Counter[frozenset[str]] = Counter()
    for start in (m.end() for m in re.finditer(r"\bCHECK\s*\(", sql, re.IGNORECASE)):
        depth, end = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        expression = re.sub(r"'[^']*'", "''", sql[start : end - 1])  # 'note' is no column
        found[frozenset(c for c in columns if re.search(rf"\b{c}\b", expression))] += 1
    return found


def sqlite_schema(db: sqlite3.Connection) -> dict[str, Table]:
    """Each table's columns, primary key, unique keys, foreign keys, checks and indexes."""
    tables = {}
    for name, sql in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        info = db.execute(f"PRAGMA table_info({name})").fetchall()
        columns = {
            c[1]: {"type": c[2].upper(), "not_null": bool(c[3] or c[5]), "default": c[4]}
            for c in info
        }
        primary = tuple(c[1] for c in sorted(info, key=lambda c: c[5]) if c[5])
        unique, indexes = set(), set()
        for _, index, is_unique, origin, partial in db.execute(f"PRAGMA index_list({name})"):
            keys = tuple(r[2] or EXPRESSION for r in db.execute(f"PRAGMA index_info({index})"))
            if origin == "u":
                unique.add(keys)
            elif origin == "c":
                indexes.add((index, keys, bool(is_unique), bool(partial)))
        foreign = {(f[3], f[2], f[4], f[6]) for f in db.execute(f"PRAGMA foreign_key_list({name})")}
        tables[name] = {
            "columns": columns, "primary": primary, "unique": unique, "foreign": foreign,
            "checks": _sqlite_checks(sql, list(columns)), "indexes": indexes,
        }  # fmt: skip
    return tables


def _postgres_columns(db: Any, table: str) -> dict[str, dict[str, Any]]:
    columns = {}
    for name, data_type, nullable, default in db.execute(
        "SELECT column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
        (table,),
    ):
        if default is not None:  # '{}'::text -> '{}', as SQLite gives it
            default = re.sub(r"::[a-z ]+$", "", default)
        columns[name] = {"type": data_type, "not_null": nullable == "NO", "default": default}
    return columns


def _names(db: Any, table: str, numbers: list[int]) -> tuple[str, ...]:
    """Column names of a table by their attribute numbers, in the order given."""
    rows = dict(
        db.execute(
            "SELECT attnum, attname FROM pg_attribute WHERE attrelid = %s::regclass",
            (table,),
        ).fetchall()
    )
    return tuple(rows[n] if n else EXPRESSION for n in numbers)  # 0: an expression's key


def postgres_schema(db: Any) -> dict[str, Table]:
    """The same record as `sqlite_schema`, read from pg_catalog and information_schema."""
    tables = {}
    for (name,) in db.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    ).fetchall():
        table: Table = {
            "columns": _postgres_columns(db, name), "primary": (), "unique": set(),
            "foreign": set(), "checks": Counter(), "indexes": set(),
        }  # fmt: skip
        for kind, keys, target, target_keys, on_delete in db.execute(
            "SELECT contype, conkey, confrelid::regclass::text, confkey, confdeltype "
            "FROM pg_constraint WHERE conrelid = %s::regclass",
            (name,),
        ).fetchall():
            columns = _names(db, name, keys)
            if kind == "p":
                table["primary"] = columns
            elif kind == "u":
                table["unique"].add(columns)
            elif kind == "c":
                table["checks"][frozenset(columns)] += 1
            elif kind == "f":
                (to,) = _names(db, target, target_keys)
                (source,) = columns
                table["foreign"].add((source, target, to, ON_DELETE[on_delete]))
        for index, keys, is_unique, predicate in db.execute(
            "SELECT c.relname, i.indkey::int[], i.indisunique, i.indpred IS NOT NULL "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            (name,),
        ).fetchall():
            table["indexes"].add((index, _names(db, name, list(keys)), is_unique, predicate))
        tables[name] = table
    return tables


def test_postgres_migrations_reach_sqlite_s_version() -> None:
    assert postgres_migrations()[-1].version == available_migrations()[-1].version
    sqlite_names = {m.version: m.name for m in available_migrations()}
    for later in postgres_migrations()[1:]:  # after the baseline, one for one
        assert later.name == sqlite_names[later.version]


def test_the_two_schemas_hold_the_same_tables_columns_and_constraints(
    sqlite: sqlite3.Connection, postgres: Any
) -> None:
    lite, pg = sqlite_schema(sqlite), postgres_schema(postgres)
    assert sorted(pg) == sorted(lite)
    for name, table in lite.items():
        other = pg[name]
        assert other["columns"].keys() == table["columns"].keys(), name
        for column, shape in table["columns"].items():
            theirs = other["columns"][column]
            assert theirs["type"] in TYPES[shape["type"]], (name, column, theirs["type"])
            assert theirs["not_null"] == shape["not_null"], (name, column)
            assert theirs["default"] == shape["default"], (name, column)
        for key in ("primary", "unique", "foreign", "checks", "indexes"):
            assert other[key] == table[key], (name, key)


def test_the_two_schemas_have_the_same_triggers(sqlite: sqlite3.Connection, postgres: Any) -> None:
    """The status history and the consent log are written by triggers: the same on both."""
    lite = {r[0] for r in sqlite.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    pg = {
        r[0]
        for r in postgres.execute(
            "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = 'public'"
        ).fetchall()
    }
    assert pg == lite


def test_the_comparison_sees_a_difference(sqlite: sqlite3.Connection) -> None:
    """What the check above reads changes when a schema does (it could not pass on anything)."""
    before = sqlite_schema(sqlite)
    sqlite.executescript(
        "ALTER TABLE ideas ADD COLUMN votes INTEGER CHECK (votes >= 0);"
        "CREATE INDEX ideas_by_votes ON ideas (votes) WHERE votes > 0;"
    )
    after = sqlite_schema(sqlite)
    assert "votes" in after["ideas"]["columns"]
    assert after["ideas"]["checks"][frozenset({"votes"})] == 1
    assert after["ideas"]["indexes"] - before["ideas"]["indexes"] == {
        ("ideas_by_votes", ("votes",), False, True)
    }

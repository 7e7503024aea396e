"""Numbered SQL migrations (NNNN_name.sql), tracked with PRAGMA user_version on SQLite (on
PostgreSQL in a schema_version table: storage/postgres.py).

postgres/ holds PostgreSQL's: a baseline numbered as the SQLite migration whose schema it
builds in one piece (no PostgreSQL deployment existed before it), then one file for each later
SQLite migration, with the same number and name.
"""

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import aiosqlite

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with the package, in order; numbers must run 1, 2, 3, ..."""
    found = _read(resources.files(__package__))
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise RuntimeError(
            f"migrations are not numbered 1..{len(found)}: {[m.name for m in found]}"
        )
    return found


def latest_version() -> int:
    """The schema version this code needs."""
    migrations = available_migrations()
    return migrations[-1].version if migrations else 0


def postgres_migrations() -> list[Migration]:
    """PostgreSQL's migrations in order: the baseline, then numbers that run on from it."""
    found = _read(resources.files(__package__) / "postgres")
    if not found:
        return found
    expected = list(range(found[0].version, found[0].version + len(found)))
    if [m.version for m in found] != expected:
        raise RuntimeError(f"PostgreSQL migrations skip a number: {[m.name for m in found]}")
    return found


def _read(folder: Traversable) -> list[Migration]:
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    return found


async def current_version(connection: aiosqlite.Connection) -> int:
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def apply_migrations(
    connection: aiosqlite.Connection, *, target: int | None = None
) -> tuple[int, int]:
    """Bring the schema up to `target` (default: latest); each migration is one transaction."""
    before = await current_version(connection)
    migrations = available_migrations()
    latest = migrations[-1].version if migrations else 0
    target = latest if target is None else target
    if before > latest:
        raise RuntimeError(
            f"the database is at schema version {before}, newer than this Minga ({latest}); "
            "upgrade Minga before using this database"
        )
    for migration in migrations:
        if before < migration.version <= target:
            # executescript commits before it runs, so BEGIN/COMMIT here make the step atomic.
            script = f"BEGIN;\n{migration.sql}\nPRAGMA user_version = {migration.version};\nCOMMIT;"
            try:
                await connection.executescript(script)
            except Exception:
                if connection.in_transaction:
                    await connection.execute("ROLLBACK")
                raise
    return before, await current_version(connection)

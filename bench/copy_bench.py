"""How long `minga db copy` takes for a large deployment: N ideas (default 100,000) with their
status history, a photo on every third, residents (one per 5 ideas) with a conversation and a
consent each, and an outbox row per resident, copied from SQLite into a new database on a
throwaway PostgreSQL (tests/fakes/postgres.py; or MINGA_TEST_DATABASE's server).

Baseline in the same run: reading every row of the file with plain sqlite3 (what the copy
cannot go below without writing anything). Not a test; nothing asserts a time.

`python -m bench.copy_bench [--ideas N]`
"""

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.staff_bench import NOW, fill
from storage.database import Database
from storage.sqlite_to_postgres import copy_sqlite_to_postgres, source_tables
from storage.timefmt import to_db


def build(path: Path, ideas: int) -> None:
    """The deployment's file: the staff benchmark's ideas, plus the rows around them."""
    asyncio.run(_migrate(path))
    fill(path, ideas)  # residents and ideas; SQLite's trigger writes each idea's history
    at = to_db(NOW)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO idea_media (idea_id, position, kind, path) "
            "SELECT id, 0, 'photo', 'photos/' || id || '.jpg' FROM ideas WHERE id % 3 = 0"
        )
        connection.execute(
            "INSERT INTO conversations (resident_id, step, draft, updated_at) "
            "SELECT id, 'problem', '{\"role\": \"resident\"}', ? FROM residents",
            (at,),
        )
        # Setting the consent fires the consent log's trigger: one proof row per resident.
        connection.execute(
            "UPDATE residents SET consent_version = '2026-08', consent_at = ?", (at,)
        )
        connection.execute(
            "INSERT INTO outbox (kind, subject, recipient_id, payload, status, not_before, "
            "created_at) SELECT 'status', 'idea:' || id, id, '{}', 'sent', ?, ? FROM residents",
            (at, at),
        )
    connection.close()


async def _migrate(path: Path) -> None:
    await (await Database.open(path)).close()


def read_everything(path: Path) -> float:
    """Seconds to read every row of every table with plain sqlite3 (the baseline)."""
    started = time.perf_counter()
    with sqlite3.connect(path) as connection:
        for name in source_tables(connection):
            for _ in connection.execute(f'SELECT * FROM "{name}"'):  # noqa: S608
                pass
    connection.close()
    return time.perf_counter() - started


def measure(ideas: int, dsn: str) -> None:
    from tests.fakes.postgres import fresh_database

    with tempfile.TemporaryDirectory(prefix="minga-copy-") as folder:
        path = Path(folder) / "minga.sqlite3"
        started = time.perf_counter()
        build(path, ideas)
        print(f"built {path.stat().st_size / 1e6:.0f} MB of SQLite in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        baseline = read_everything(path)
        with fresh_database(dsn) as url:
            started = time.perf_counter()
            copied = asyncio.run(copy_sqlite_to_postgres(path, url))
            seconds = time.perf_counter() - started
    print(f"{ideas:,} ideas, {copied.rows:,} rows in {len(copied.tables)} tables: copied and "
          f"verified in {seconds:.1f} s, {copied.rows / seconds:,.0f} rows/s "
          f"({ideas / seconds:,.0f} ideas/s)")  # fmt: skip
    print(f"baseline: reading every row with sqlite3 took {baseline:.1f} s")
    for table in copied.tables:
        print(f"  {table.name:<20} {table.rows:>10,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=100_000)
    args = parser.parse_args()
    dsn = os.environ.get("MINGA_TEST_DATABASE")
    if dsn:
        measure(args.ideas, dsn)
        return
    from tests.fakes.postgres import throwaway_postgres

    with throwaway_postgres() as server:
        measure(args.ideas, server.dsn)


if __name__ == "__main__":
    main()

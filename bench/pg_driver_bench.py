"""Which PostgreSQL driver for Minga: asyncpg against psycopg 3 (async), in the same run, on a
throwaway server (tests/fakes/postgres.py), doing what a conversation turn does:

- read: a SELECT of one row by key (the resident's conversation);
- upsert: INSERT ... ON CONFLICT DO UPDATE (saving the conversation);
- turn: a transaction of 3 writes (handled message id, conversation, resident's fields);
- pipelined turn (psycopg only: asyncpg has no pipeline mode for parameterised statements):
  the same transaction sent in one round trip.

Each with the driver's prepared statements on (its default) and off (what PgBouncer in
transaction mode needs: asyncpg statement_cache_size=0, psycopg prepare_threshold=None), and
aiosqlite on a WAL file for reference. Operations per second (wall) and client CPU per
operation (what one worker spends; the server runs beside it on the same 2 cores). Rounds
alternate the candidates so that a busy moment of the machine hits all of them alike; the
median round is reported.

`python -m bench.pg_driver_bench [--ops N] [--rounds R]` (or with MINGA_TEST_DATABASE set, on
that server).
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

SCHEMA = [
    "DROP TABLE IF EXISTS bench_conversations, bench_inbound, bench_residents",
    "CREATE TABLE bench_residents (id BIGINT PRIMARY KEY, channel TEXT NOT NULL, "
    "user_key TEXT NOT NULL, language TEXT, role TEXT, consent_at TEXT, unreachable_at TEXT, "
    "UNIQUE (channel, user_key))",
    "CREATE TABLE bench_conversations (resident_id BIGINT PRIMARY KEY "
    "REFERENCES bench_residents (id), step TEXT NOT NULL, draft TEXT NOT NULL, "
    "updated_at TEXT NOT NULL)",
    "CREATE TABLE bench_inbound (channel TEXT NOT NULL, external_id TEXT NOT NULL, "
    "received_at TEXT NOT NULL, PRIMARY KEY (channel, external_id))",
]
RESIDENTS = 1000
DRAFT = '{"problem": "Huecos en la vía principal", "idea": "Una minga", "category": "mobility"}'
AT = "2026-11-21T05:41:03.000000Z"

# PostgreSQL's placeholders ($1); SQLite's are ? (translated below).
READ = "SELECT resident_id, step, draft, updated_at FROM bench_conversations WHERE resident_id = $1"
UPSERT = (
    "INSERT INTO bench_conversations (resident_id, step, draft, updated_at) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (resident_id) DO UPDATE SET "
    "step = excluded.step, draft = excluded.draft, updated_at = excluded.updated_at"
)
INBOUND = (
    "INSERT INTO bench_inbound (channel, external_id, received_at) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING"
)
RESIDENT = (
    "UPDATE bench_residents SET language = $1, role = $2, consent_at = $3, "
    "unreachable_at = NULL WHERE id = $4"
)

KINDS = ("read", "upsert", "turn", "turn_pipelined")
Op = Callable[[int], Awaitable[Any]]


class Candidate:
    """One driver and setting: connect, the three operations, close."""

    name = ""

    async def connect(self, dsn: str) -> None: ...
    async def execute(self, sql: str, *args: Any) -> None: ...
    async def read(self, i: int) -> Any: ...
    async def upsert(self, i: int) -> None: ...
    async def turn(self, i: int) -> None: ...
    async def close(self) -> None: ...


class Asyncpg(Candidate):
    def __init__(self, prepared: bool) -> None:
        self.prepared = prepared
        self.name = f"asyncpg, prepared {'on' if prepared else 'off'}"

    async def connect(self, dsn: str) -> None:
        import asyncpg

        cache = 100 if self.prepared else 0  # 100 is asyncpg's default
        self.c = await asyncpg.connect(dsn, statement_cache_size=cache)

    async def execute(self, sql: str, *args: Any) -> None:
        await self.c.execute(sql, *args)

    async def read(self, i: int) -> Any:
        row = await self.c.fetchrow(READ, i % RESIDENTS + 1)
        return row["draft"]

    async def upsert(self, i: int) -> None:
        await self.c.execute(UPSERT, i % RESIDENTS + 1, f"step{i % 7}", DRAFT, AT)

    async def turn(self, i: int) -> None:
        key = i % RESIDENTS + 1
        async with self.c.transaction():
            await self.c.execute(INBOUND, "telegram", f"m{i}-{self.name}", AT)
            await self.c.execute(UPSERT, key, f"step{i % 7}", DRAFT, AT)
            await self.c.execute(RESIDENT, "es", "resident", AT, key)

    async def close(self) -> None:
        await self.c.close()


class Psycopg(Candidate):
    def __init__(self, prepared: bool) -> None:
        self.prepared = prepared
        self.name = f"psycopg 3, prepared {'on' if prepared else 'off'}"

    async def connect(self, dsn: str) -> None:
        import psycopg
        from psycopg.rows import dict_row

        self.c = await psycopg.AsyncConnection.connect(dsn, autocommit=True, row_factory=dict_row)
        # psycopg's default prepares a statement on its 5th use; None never prepares.
        self.c.prepare_threshold = 5 if self.prepared else None

    @staticmethod
    def _sql(sql: str) -> str:
        for n in range(9, 0, -1):
            sql = sql.replace(f"${n}", "%s")
        return sql

    async def execute(self, sql: str, *args: Any) -> None:
        await self.c.execute(self._sql(sql), args)

    async def read(self, i: int) -> Any:
        cursor = await self.c.execute(self._read, (i % RESIDENTS + 1,))
        row = await cursor.fetchone()
        return row["draft"] if row else None

    async def upsert(self, i: int) -> None:
        await self.c.execute(self._upsert, (i % RESIDENTS + 1, f"step{i % 7}", DRAFT, AT))

    async def turn(self, i: int) -> None:
        key = i % RESIDENTS + 1
        async with self.c.transaction():
            await self.c.execute(self._inbound, ("telegram", f"m{i}-{self.name}", AT))
            await self.c.execute(self._upsert, (key, f"step{i % 7}", DRAFT, AT))
            await self.c.execute(self._resident, ("es", "resident", AT, key))

    _read = _sql(READ)
    _upsert = _sql(UPSERT)
    _inbound = _sql(INBOUND)
    _resident = _sql(RESIDENT)

    async def turn_pipelined(self, i: int) -> None:
        """The same turn in pipeline mode: BEGIN, 3 writes and COMMIT in one round trip."""
        key = i % RESIDENTS + 1
        async with self.c.pipeline(), self.c.transaction():
            await self.c.execute(self._inbound, ("telegram", f"m{i}-{self.name}-p", AT))
            await self.c.execute(self._upsert, (key, f"step{i % 7}", DRAFT, AT))
            await self.c.execute(self._resident, ("es", "resident", AT, key))

    async def close(self) -> None:
        await self.c.close()


class Sqlite(Candidate):
    """aiosqlite on a WAL file, as storage/database.py opens it: for reference."""

    name = "aiosqlite (WAL file), reference"

    async def connect(self, dsn: str) -> None:
        import aiosqlite

        self.folder = tempfile.TemporaryDirectory()
        self.c = await aiosqlite.connect(Path(self.folder.name) / "b.sqlite3", isolation_level=None)
        self.c.row_factory = aiosqlite.Row
        await self.c.execute("PRAGMA journal_mode = WAL")
        await self.c.execute("PRAGMA synchronous = NORMAL")

    @staticmethod
    def _sql(sql: str) -> str:
        for n in range(9, 0, -1):
            sql = sql.replace(f"${n}", "?")
        return sql.replace("BIGINT", "INTEGER")

    async def execute(self, sql: str, *args: Any) -> None:
        if sql.startswith("DROP TABLE"):
            return
        await self.c.execute(self._sql(sql), args)

    async def read(self, i: int) -> Any:
        rows = list(await self.c.execute_fetchall(self._read, (i % RESIDENTS + 1,)))
        return rows[0]["draft"] if rows else None

    async def upsert(self, i: int) -> None:
        await self.c.execute(self._upsert, (i % RESIDENTS + 1, f"step{i % 7}", DRAFT, AT))

    async def turn(self, i: int) -> None:
        key = i % RESIDENTS + 1
        await self.c.execute("BEGIN IMMEDIATE")
        await self.c.execute(self._inbound, ("telegram", f"m{i}-{self.name}", AT))
        await self.c.execute(self._upsert, (key, f"step{i % 7}", DRAFT, AT))
        await self.c.execute(self._resident, ("es", "resident", AT, key))
        await self.c.execute("COMMIT")

    _read = _sql(READ)
    _upsert = _sql(UPSERT)
    _inbound = _sql(INBOUND)
    _resident = _sql(RESIDENT)

    async def close(self) -> None:
        await self.c.close()
        self.folder.cleanup()


async def _prepare(candidate: Candidate) -> None:
    for statement in SCHEMA:
        await candidate.execute(statement)
    for key in range(1, RESIDENTS + 1):
        await candidate.execute(
            "INSERT INTO bench_residents (id, channel, user_key) VALUES ($1, $2, $3)",
            key, "telegram", str(key),
        )  # fmt: skip
        await candidate.execute(
            "INSERT INTO bench_conversations (resident_id, step, draft, updated_at) "
            "VALUES ($1, $2, $3, $4)",
            key, "start", DRAFT, AT,
        )  # fmt: skip


async def _measure(op: Op, ops: int, offset: int) -> tuple[float, float]:
    """(operations per second, client CPU microseconds per operation)."""
    for i in range(50):  # warm-up: caches, prepared statements
        await op(offset + i)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(ops):
        await op(offset + 50 + i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return ops / wall, cpu / ops * 1e6


async def run(dsn: str, ops: int, rounds: int) -> dict[str, dict[str, list[tuple[float, float]]]]:
    candidates: list[Candidate] = [
        Asyncpg(prepared=True), Psycopg(prepared=True),
        Asyncpg(prepared=False), Psycopg(prepared=False), Sqlite(),
    ]  # fmt: skip
    results: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for number, candidate in enumerate(candidates):
        await candidate.connect(dsn)
        if number < 2 or isinstance(candidate, Sqlite):  # one schema per database
            await _prepare(candidate)
        results[candidate.name] = {kind: [] for kind in KINDS if hasattr(candidate, kind)}
    try:
        for r in range(rounds):
            for kind in KINDS:
                for candidate in candidates:
                    op = getattr(candidate, kind, None)
                    if op is None:
                        continue
                    results[candidate.name][kind].append(await _measure(op, ops, r * 10 * ops))
    finally:
        for candidate in candidates:
            await candidate.close()
    return results


def table(results: dict[str, dict[str, list[tuple[float, float]]]]) -> str:
    lines = [
        "| candidate | read/s | read µs CPU | upsert/s | upsert µs CPU | turn (3 writes)/s "
        "| turn µs CPU | pipelined turn/s | pipelined turn µs CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, kinds in results.items():
        cells = []
        for kind in KINDS:
            if kind not in kinds:
                cells += ["—", "—"]
                continue
            rate = statistics.median(r for r, _ in kinds[kind])
            cpu = statistics.median(c for _, c in kinds[kind])
            cells += [f"{rate:,.0f}", f"{cpu:,.0f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000, help="operations per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dsn = os.environ.get("MINGA_TEST_DATABASE")
    if dsn:
        print(table(asyncio.run(run(dsn, args.ops, args.rounds))))
        return
    from tests.fakes.postgres import throwaway_postgres

    with throwaway_postgres() as server:
        print(table(asyncio.run(run(server.dsn, args.ops, args.rounds))))


if __name__ == "__main__":
    main()

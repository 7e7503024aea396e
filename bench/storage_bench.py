"""Storage at scale: idea inserts through the repository, and the two reads that must stay
fast with 1,000,000 ideas (a resident's "my ideas", and the last 24 hours for a digest)."""

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.database import Database
from storage.models import Focus, NewIdea, Role
from storage.timefmt import to_db

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SPAN_DAYS = 730  # the stored ideas are spread over two years
PER_RESIDENT = 5  # ideas per resident on average


def _idea(resident_id: int) -> NewIdea:
    return NewIdea(
        resident_id=resident_id, role=Role.RESIDENT, language="es",
        problem="Huecos en la vía principal del barrio que hacen caer a los ciclistas",
        idea="Tapar los huecos con una minga de la comunidad", category="mobility",
        focus=Focus.EXTERNAL, location_text="La Flora", anonymous=True,
    )  # fmt: skip


def _fill(path: Path, ideas: int) -> None:
    """Bulk-load residents and ideas with plain sqlite3 (this part is set-up, not measured)."""
    residents = max(1, ideas // PER_RESIDENT)
    connection = sqlite3.connect(path)
    start = NOW - timedelta(days=SPAN_DAYS)
    with connection:
        connection.executemany(
            "INSERT INTO residents (id, channel, user_key, language, role, created_at) "
            "VALUES (?, 'telegram', ?, 'es', 'resident', ?)",
            ((i, str(1_000_000 + i), to_db(start)) for i in range(1, residents + 1)),
        )
        step = SPAN_DAYS * 86_400 / ideas
        rng = random.Random(7)
        connection.executemany(
            "INSERT INTO ideas (reference, resident_id, role, language, problem, idea, category, "
            "focus, location_text, anonymous, status, created_at, updated_at) "
            "VALUES (?, ?, 'resident', 'es', ?, ?, 'mobility', 'external', 'La Flora', 1, "
            "'received', ?, ?)",
            (
                (f"OLD-{n:07d}", rng.randint(1, residents), "Huecos en la vía principal",
                 "Tapar los huecos", to_db(start + timedelta(seconds=n * step)),
                 to_db(start + timedelta(seconds=n * step)))
                for n in range(ideas)
            ),
        )  # fmt: skip
    connection.close()


async def _median_ms(action: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


async def measure(ideas: int, inserts: int = 2000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="minga-storage-") as folder:
        path = Path(folder) / "minga.sqlite3"
        database = await Database.open(path)
        await database.close()
        started = time.perf_counter()
        _fill(path, ideas)
        fill_seconds = time.perf_counter() - started
        database = await Database.open(path)
        try:
            reads = database.reader()
            # Baseline: the cheapest possible round trip through aiosqlite, in this same run.
            select_one = await _median_ms(lambda: reads.inbound.seen("x", "y"), 500)
            residents = max(1, ideas // PER_RESIDENT)
            rng = random.Random(11)
            mine = await _median_ms(
                lambda: reads.ideas.for_resident(rng.randint(1, residents)), 500
            )
            day = await _median_ms(
                lambda: reads.ideas.created_between(NOW - timedelta(hours=24), NOW), 30
            )
            day_rows = len(await reads.ideas.created_between(NOW - timedelta(hours=24), NOW))
            started = time.perf_counter()
            for n in range(inserts):
                async with database.transaction() as repos:
                    await repos.ideas.create(
                        _idea(1 + n % residents), prefix="MNG", year=2026,
                        now=NOW + timedelta(seconds=n),
                    )  # fmt: skip
            insert_rate = inserts / (time.perf_counter() - started)
        finally:
            await database.close()
        started = time.perf_counter()
        raw = sqlite3.connect(path, isolation_level=None)
        for n in range(inserts):  # baseline: the same insert with stdlib sqlite3, same file
            raw.execute("BEGIN IMMEDIATE")
            raw.execute(
                "INSERT INTO ideas (reference, resident_id, role, language, problem, category, "
                "focus, anonymous, status, created_at, updated_at) VALUES (?, 1, 'resident', "
                "'es', 'p', 'mobility', 'external', 1, 'received', ?, ?)",
                (f"RAW-{n}", to_db(NOW), to_db(NOW)),
            )
            raw.execute("COMMIT")
        raw_rate = inserts / (time.perf_counter() - started)
        raw.close()
    return {
        "ideas": ideas, "fill_seconds": fill_seconds, "select_one_ms": select_one,
        "my_ideas_ms": mine, "last_24h_ms": day, "last_24h_rows": day_rows,
        "inserts_per_second": insert_rate, "raw_sqlite_inserts_per_second": raw_rate,
    }  # fmt: skip


def run(ideas: int) -> dict[str, Any]:
    return asyncio.run(measure(ideas))

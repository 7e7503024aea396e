"""The staff side at scale, with 1,000,000 ideas stored: the daily digest built end to end
(queries, text, chart) and full CSV and XLSX exports (time and peak memory, each in its own
process, as `minga export ideas` runs). Baseline in the same run: a bare `SELECT count(*)`
of the ideas, and for the exports, a process that only imports Minga and opens the database."""

import asyncio
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.database import Database
from storage.models import IdeaFilter
from storage.timefmt import to_db

NOW = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)  # 08:00 in Bogotá, digest time
SPAN_DAYS = 730
PER_RESIDENT = 5
CATEGORIES = ("mobility", "safety", "environment", "public_space", "health", "education",
              "work", "digital", "other")  # fmt: skip
PLACES = ("Alfonso López", "Comuneros", "Danubio", "Gran Yomasa", "La Flora", "Ciudad Usme", None)
STATUSES = ("received", "in_review", "selected", "in_progress", "implemented", "not_selected")
PROBLEM = ("Los huecos de la vía principal del barrio hacen caer a los ciclistas y a las "
           "personas mayores cuando llueve; nadie los ha tapado en meses.")  # fmt: skip
IDEA = "Tapar los huecos con una minga de la comunidad y materiales de la alcaldía."
REPEAT = 7


def fill(path: Path, ideas: int) -> None:
    """Bulk-load residents and varied ideas with plain sqlite3 (set-up, not measured)."""
    residents = max(1, ideas // PER_RESIDENT)
    start = NOW - timedelta(days=SPAN_DAYS)
    step = SPAN_DAYS * 86_400 / ideas
    rng = random.Random(7)
    connection = sqlite3.connect(path)
    with connection:
        connection.executemany(
            "INSERT INTO residents (id, channel, user_key, language, role, created_at) "
            "VALUES (?, 'telegram', ?, 'es', 'resident', ?)",
            ((i, str(1_000_000 + i), to_db(start)) for i in range(1, residents + 1)),
        )

        def rows():
            for n in range(ideas):
                at = to_db(start + timedelta(seconds=n * step))
                named = rng.random() < 0.4
                pin = rng.random() < 0.5
                yield (f"MNG-{n:07d}", rng.randint(1, residents), PROBLEM, IDEA,
                       rng.choice(CATEGORIES), rng.choice(("external", "internal")),
                       rng.choice(PLACES), 4.4 + rng.random() / 10 if pin else None,
                       -74.1 - rng.random() / 10 if pin else None, 0 if named else 1,
                       "Ana María Rojas" if named else None,
                       "ana.rojas@example.org" if named else None,
                       rng.choice(STATUSES), at, at,
                       rng.choice(("no", "text", "photos")))  # fmt: skip

        connection.executemany(
            "INSERT INTO ideas (reference, resident_id, role, language, problem, idea, category, "
            "focus, location_text, latitude, longitude, anonymous, contact_name, contact, status,"
            " created_at, updated_at, publish) VALUES (?, ?, 'resident', 'es', ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
    connection.close()


async def _digests(path: Path) -> dict[str, Any]:
    from handlers.engine.catalog import Catalog
    from handlers.engine.settings import LabSettings
    from handlers.events.cards import Voice
    from handlers.staff.digest import build

    database = await Database.open(path)
    try:
        reader, lab = database.reader(), LabSettings()
        voice = Voice(Catalog.load().translator("es"), "es", lab)
        since = NOW - timedelta(days=1)
        times, baseline = [], []
        for _ in range(REPEAT):
            started = time.perf_counter()
            replies = await build(reader, voice, since, NOW, NOW)
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            await reader.idea_search.count(IdeaFilter())
            baseline.append(time.perf_counter() - started)
        listed = replies[0].text.count("MNG-")
        chart_bytes = len(replies[1].picture.content or b"") if replies[1].picture else 0
    finally:
        await database.close()
    return {"digest_seconds": times, "count_all_seconds": baseline, "listed": listed,
            "chart_bytes": chart_bytes}  # fmt: skip


def _process(folder: Path, argv: list[str]) -> dict[str, Any]:
    """Run `python -m bench.export_one ...` and read its time and peak RSS."""
    root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-m", "bench.export_one", *argv], cwd=folder,
                            env=environment, capture_output=True, text=True,
                            check=True)  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(ideas: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="minga-staff-") as name:
        folder = Path(name)
        path = folder / "data" / "minga.sqlite3"
        asyncio.run(_open_and_close(path))
        started = time.perf_counter()
        fill(path, ideas)
        fill_seconds = time.perf_counter() - started
        digest = asyncio.run(_digests(path))
        baseline = _process(folder, ["none"])
        exports = {fmt: _process(folder, [fmt]) for fmt in ("csv", "xlsx")}
    return {"ideas": ideas, "fill_seconds": fill_seconds, **digest,
            "digest_median_s": statistics.median(digest["digest_seconds"]),
            "baseline_process": baseline, "exports": exports}  # fmt: skip


async def _open_and_close(path: Path) -> None:
    database = await Database.open(path)
    await database.close()


def run(ideas: int) -> dict[str, Any]:
    return measure(ideas)

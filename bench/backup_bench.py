"""How long `minga db backup` and `minga db restore` take for a large deployment, and how big
the archive is: N ideas (default 1,000,000) with their status history, residents with a
conversation, a consent and an outbox row each (bench/copy_bench.py builds the same file),
and a media folder of M photos (default 1,000 of 100 KB, random bytes: a JPEG does not
compress either).

On SQLite, and on PostgreSQL too when pg_dump is installed (the same rows copied there with
`minga db copy`'s code, on a throwaway server or MINGA_TEST_DATABASE's). Baseline in the same
run: copying the database file and the media folder with plain file copies (what a backup
that neither compresses nor checks anything costs). Not a test; nothing asserts a time.

`python -m bench backup [--ideas N]`, or `python -m bench.backup_bench [--ideas N] [--photos M]`
"""

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.copy_bench import build
from bench.report import save
from bot.backup import find_program, take_backup
from bot.restore import restore_backup

PHOTO_BYTES = 100_000
PHOTOS = 1_000


def photos(media: Path, count: int) -> int:
    """`count` photo files of random bytes; their total size."""
    for number in range(count):
        folder = media / f"{number % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number}.jpg").write_bytes(os.urandom(PHOTO_BYTES))
    return count * PHOTO_BYTES


def _timed(work: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work(*args, **kwargs)
    return result, time.perf_counter() - started


def plain_copy(database: Path, media: Path, target: Path) -> float:
    """Seconds to copy the file and the folder as they are (the baseline)."""
    started = time.perf_counter()
    target.mkdir()
    shutil.copyfile(database, target / database.name)
    shutil.copytree(media, target / "media")
    return time.perf_counter() - started


def measure_sqlite(folder: Path, database: Path, media: Path) -> dict[str, Any]:
    """Back up, restore into a fresh folder; and the plain copy, in the same run."""
    archive = folder / "backup.tar.gz"
    manifest, backup_s = _timed(take_backup, database, media, archive, datetime.now(UTC))
    fresh = folder / "fresh"
    _, restore_s = _timed(restore_backup, archive, fresh / "minga.sqlite3", fresh / "media",
                          datetime.now(UTC))  # fmt: skip
    baseline = plain_copy(database, media, folder / "plain")
    return {"database": "sqlite", "rows": manifest.rows, "backup_s": backup_s,
            "restore_s": restore_s, "archive_bytes": archive.stat().st_size,
            "database_bytes": database.stat().st_size, "plain_copy_s": baseline}  # fmt: skip


def measure_postgres(folder: Path, database: Path, media: Path, dsn: str) -> dict[str, Any]:
    """The same rows in PostgreSQL: back up through pg_dump, restore into another database."""
    from storage.sqlite_to_postgres import copy_sqlite_to_postgres
    from tests.fakes.postgres import fresh_database

    with fresh_database(dsn) as source, fresh_database(dsn) as target:
        asyncio.run(copy_sqlite_to_postgres(database, source))
        archive = folder / "backup-pg.tar.gz"
        manifest, backup_s = _timed(take_backup, source, media, archive, datetime.now(UTC))
        _, restore_s = _timed(restore_backup, archive, target, folder / "pg-media",
                              datetime.now(UTC))  # fmt: skip
    return {"database": "postgresql", "rows": manifest.rows, "backup_s": backup_s,
            "restore_s": restore_s, "archive_bytes": archive.stat().st_size,
            "database_bytes": None, "plain_copy_s": None}  # fmt: skip


@contextmanager
def postgres_server() -> Iterator[str | None]:
    """MINGA_TEST_DATABASE's server, else a throwaway one, else None (no PostgreSQL here)."""
    from tests.fakes.postgres import find_bindir, throwaway_postgres

    dsn = os.environ.get("MINGA_TEST_DATABASE")
    if dsn or find_bindir() is None or find_program("pg_dump") is None:
        yield dsn if find_program("pg_dump") else None
        return
    with throwaway_postgres() as server:
        yield server.dsn


def run(ideas: int, count: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="minga-backup-bench-") as name:
        folder = Path(name)
        database, media = folder / "lab" / "minga.sqlite3", folder / "lab" / "media"
        database.parent.mkdir()
        (_, built_s) = _timed(build, database, ideas)
        media_bytes = photos(media, count)
        size = database.stat().st_size / 1e6
        print(f"built {size:.0f} MB of SQLite ({ideas:,} ideas) in {built_s:.0f} s, and "
              f"{count:,} photos ({media_bytes / 1e6:.0f} MB)", flush=True)  # fmt: skip
        results = [measure_sqlite(folder, database, media)]
        with postgres_server() as dsn:
            if dsn is None:
                print("PostgreSQL part skipped: no PostgreSQL server or no pg_dump here")
            else:
                results.append(measure_postgres(folder, database, media, dsn))
    for result in results:
        result.update(ideas=ideas, photos=count, media_bytes=media_bytes)
    return results


def report(results: list[dict[str, Any]]) -> None:
    rows = [[r["database"], r["ideas"], r["rows"], r["photos"], round(r["backup_s"], 1),
             round(r["archive_bytes"] / 1e6), round(r["restore_s"], 1),
             "" if r["plain_copy_s"] is None else round(r["plain_copy_s"], 1)]
            for r in results]  # fmt: skip
    media_mb = results[0]["media_bytes"] / 1e6
    save(
        "backup",
        f"minga db backup and restore with {results[0]['ideas']:,} ideas and "
        f"{results[0]['photos']:,} photos ({media_mb:.0f} MB); baseline: a plain copy of the "
        "database file and the media folder",
        ["database", "ideas", "rows", "photos", "backup s", "archive MB", "restore s",
         "plain copy s"],
        rows,
        results,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=1_000_000)
    parser.add_argument("--photos", type=int, default=PHOTOS)
    args = parser.parse_args(argv)
    report(run(args.ideas, args.photos))


if __name__ == "__main__":
    main()

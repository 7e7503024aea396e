"""`python -m bench backup` still works end to end on a small deployment (no timings are
checked here)."""

from pathlib import Path

from bench.backup_bench import measure_sqlite, photos
from bench.copy_bench import build


def test_the_backup_benchmark_backs_up_and_restores_every_row_and_photo(tmp_path: Path) -> None:
    database, media = tmp_path / "lab" / "minga.sqlite3", tmp_path / "lab" / "media"
    database.parent.mkdir()
    build(database, 50)
    photos(media, 3)
    result = measure_sqlite(tmp_path, database, media)
    assert result["rows"] > 50 and result["archive_bytes"] > 0
    restored = sorted(p.name for p in (tmp_path / "fresh" / "media").rglob("*.jpg"))
    assert restored == ["0.jpg", "1.jpg", "2.jpg"]

"""`minga db backup [DEST]` and `minga db restore ARCHIVE`, as the operator runs them: on the
suite's database (SQLite, or PostgreSQL with `make test-postgres`), and on PostgreSQL through
pg_dump where it is installed."""

import asyncio
import gzip
import hashlib
import io
import json
import stat
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import backup
from bot.backup import find_program
from bot.cli.main import main
from storage.database import Database
from storage.models import Focus, NewIdea, Role
from storage.postgres import is_postgres_url
from storage.supports import NewSupport
from tests.fakes.postgres import fresh_database
from tests.fakes.sql import connect, database_for

PHOTO = b"\xff\xd8\xff\xe0 a photo of the broken bench"
NOW = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)


async def _minga(arguments: list[str]) -> int:
    """The `minga` command, from a test that runs its own event loop (minga runs another)."""
    return await asyncio.to_thread(main, arguments)


def _config(folder: Path, database: str | Path, *extra: str) -> Path:
    """A lab's config file: its database, its media folder in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    lines = ["[storage]", f'database = "{database}"', f'media_dir = "{folder / "media"}"', *extra]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


async def _seed(database: str | Path, media: Path, residents: int = 3) -> None:
    """Residents, two ideas (the second joined by a third resident with a photo, and noted as
    a possible duplicate of the first) and the photo, as a lab that has run a while has them."""
    db = await Database.open(database)
    try:
        async with db.transaction() as repos:
            people = [await repos.residents.get_or_create("telegram", str(1000 + number), NOW)
                      for number in range(residents)]  # fmt: skip
            ideas = []
            for author in people[:2]:
                idea_id, _ = await repos.ideas.create(
                    NewIdea(resident_id=author.id, role=Role.RESIDENT, language="es",
                            problem="Huecos en la calle 80", idea=None, category="mobility",
                            focus=Focus.EXTERNAL, anonymous=True),
                    prefix="MNG", year=2026, now=NOW,
                )  # fmt: skip
                ideas.append(idea_id)
            await repos.supports.add(NewSupport(ideas[1], people[2].id,
                                                photo_path="2026/08/photo.jpg"), NOW)  # fmt: skip
            await repos.similar.note_possible_duplicates(ideas[1], [(ideas[0], 0.9)], NOW)
    finally:
        await db.close()
    (media / "2026" / "08").mkdir(parents=True)
    (media / "2026" / "08" / "photo.jpg").write_bytes(PHOTO)


async def _counts(database: str | Path) -> dict[str, int]:
    async with connect(database) as db:
        [(residents,)] = await db.execute_fetchall("SELECT count(*) FROM residents")
        [(leases,)] = await db.execute_fetchall("SELECT count(*) FROM leases")
        [(supports,)] = await db.execute_fetchall("SELECT count(*) FROM idea_supports")
        [(pairs,)] = await db.execute_fetchall("SELECT count(*) FROM possible_duplicates")
    return {"residents": residents, "leases": leases, "idea_supports": supports,
            "possible_duplicates": pairs}  # fmt: skip


def _archive_of(folder: Path) -> Path:
    [archive] = folder.glob("minga-backup-*.tar.gz")
    return archive


@pytest.fixture
async def lab(tmp_path: Path, database_target: str | Path) -> Path:
    """A running lab's config, its database and media with data in them."""
    config = _config(tmp_path / "lab", database_target, "[backup]",
                     f'folder = "{tmp_path / "backups"}"')  # fmt: skip
    await _seed(database_target, tmp_path / "lab" / "media")
    return config


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """Another machine's config: an empty data folder, and an empty database."""
    return _config(tmp_path / "fresh", database_for(tmp_path / "fresh"))


def _needs_pg_tools(database: str | Path) -> None:
    if is_postgres_url(database) and (find_program("pg_dump") is None
                                      or find_program("pg_restore") is None):  # fmt: skip
        pytest.skip("pg_dump or pg_restore is not installed: apt-get install postgresql-client")


async def test_a_backup_goes_to_the_backup_folder_and_restores_into_an_empty_place(
    lab: Path, fresh: Path, tmp_path: Path, database_target: str | Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _needs_pg_tools(database_target)
    assert await _minga(["db", "backup", "--config", str(lab)]) == 0
    archive = _archive_of(tmp_path / "backups")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds residents' data
    assert str(archive) in capsys.readouterr().out
    manifest = _manifest(archive)
    assert manifest["tables"]["residents"] == 3 and manifest["schema_version"] > 0
    tables = manifest["tables"]
    assert isinstance(tables, dict)
    assert (tables["idea_supports"], tables["possible_duplicates"]) == (1, 1)  # issue 21's
    assert manifest["database"] == ("postgresql" if is_postgres_url(database_target) else "sqlite")

    assert await _minga(["db", "restore", str(archive), "--config", str(fresh)]) == 0
    assert "verified" in capsys.readouterr().out
    restored = database_for(tmp_path / "fresh")
    counts = await _counts(restored)
    assert (counts["residents"], counts["idea_supports"], counts["possible_duplicates"]) == (
        3, 1, 1,
    )  # fmt: skip
    photo = tmp_path / "fresh" / "media" / "2026" / "08" / "photo.jpg"
    assert photo.read_bytes() == PHOTO and stat.S_IMODE(photo.stat().st_mode) == 0o600


def _manifest(archive: Path) -> dict[str, object]:
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest: dict[str, object] = json.load(member)
        return manifest


async def test_restoring_over_data_is_refused_in_one_line_unless_forced(
    lab: Path, tmp_path: Path, database_target: str | Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _needs_pg_tools(database_target)
    assert await _minga(["db", "backup", "--config", str(lab)]) == 0
    archive = _archive_of(tmp_path / "backups")
    await _add_resident(database_target)  # the lab went on after the backup
    capsys.readouterr()

    assert await _minga(["db", "restore", str(archive), "--config", str(lab)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "--force" in line and "nothing was changed" in line
    assert (await _counts(database_target))["residents"] == 4  # untouched

    assert await _minga(["db", "restore", str(archive), "--force", "--config", str(lab)]) == 0
    assert (await _counts(database_target))["residents"] == 3  # as in the backup


async def _still_empty(database: str | Path) -> None:
    """No SQLite file was made; the PostgreSQL database holds no resident."""
    if is_postgres_url(database):
        assert (await _counts(database))["residents"] == 0
    else:
        assert _no_file(Path(database))


def _no_file(path: Path) -> bool:
    return not path.exists()


async def _add_resident(database: str | Path) -> None:
    db = await Database.open(database)
    try:
        async with db.transaction() as repos:
            await repos.residents.get_or_create("telegram", "99999", NOW)
    finally:
        await db.close()


async def test_a_running_bot_s_database_is_not_replaced_even_with_force(
    lab: Path, tmp_path: Path, database_target: str | Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _needs_pg_tools(database_target)
    assert await _minga(["db", "backup", "--config", str(lab)]) == 0
    db = await Database.open(database_target)
    try:
        async with db.transaction() as repos:  # what a `minga run` holds while it runs
            await repos.leases.take("scheduler", "lab-1 pid 42 abcdef", datetime.now(UTC),
                                    timedelta(seconds=30))  # fmt: skip
    finally:
        await db.close()
    capsys.readouterr()
    archive = _archive_of(tmp_path / "backups")
    assert await _minga(["db", "restore", str(archive), "--force", "--config", str(lab)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "minga run" in line and "stop" in line


def _rewritten(archive: Path, target: Path, change: dict[str, bytes]) -> Path:
    """The archive with some members' bytes changed, its manifest left as it was: what a
    damaged disk or a bad copy gives."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source.getmembers():
            extracted = source.extractfile(member)
            assert extracted is not None
            data = change.get(member.name, extracted.read())
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return target


async def test_a_damaged_archive_is_refused_and_nothing_is_restored(
    lab: Path, fresh: Path, tmp_path: Path, database_target: str | Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _needs_pg_tools(database_target)
    assert await _minga(["db", "backup", "--config", str(lab)]) == 0
    archive = _archive_of(tmp_path / "backups")
    damaged = _rewritten(archive, tmp_path / "damaged.tar.gz",
                         {"media/2026/08/photo.jpg": PHOTO[:-1] + b"X"})  # fmt: skip
    capsys.readouterr()
    assert await _minga(["db", "restore", str(damaged), "--config", str(fresh)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "checksum" in line and "photo.jpg" in line
    assert not (tmp_path / "fresh" / "media").exists()
    await _still_empty(database_for(tmp_path / "fresh"))

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert await _minga(["db", "restore", str(truncated), "--config", str(fresh)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "damaged" in line and "Traceback" not in line
    assert list((tmp_path / "fresh").glob(".minga-restore-*")) == []  # no leftovers


async def test_a_sqlite_copy_that_fails_its_integrity_check_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = _config(tmp_path / "lab", tmp_path / "lab" / "minga.sqlite3", "[backup]",
                  f'folder = "{tmp_path / "backups"}"')  # fmt: skip
    await _seed(tmp_path / "lab" / "minga.sqlite3", tmp_path / "lab" / "media")
    assert await _minga(["db", "backup", "--config", str(lab)]) == 0
    archive = _archive_of(tmp_path / "backups")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("database/minga.sqlite3")
        assert member is not None
        data = bytearray(member.read())
    data[4096 * 2 : 4096 * 2 + 64] = b"\x00" * 64  # a page overwritten
    broken = _rewritten(archive, tmp_path / "broken.tar.gz",
                        {"database/minga.sqlite3": bytes(data)})  # fmt: skip
    manifest = _manifest(broken)
    # A manifest made for the broken file: only the database's own check can catch it.
    files = manifest["files"]
    assert isinstance(files, dict)
    files["database/minga.sqlite3"]["sha256"] = hashlib.sha256(data).hexdigest()
    _rewritten(broken, tmp_path / "broken2.tar.gz",
               {"manifest.json": json.dumps(manifest).encode()})  # fmt: skip
    fresh = _config(tmp_path / "fresh", tmp_path / "fresh" / "minga.sqlite3")
    capsys.readouterr()
    assert (
        await _minga(["db", "restore", str(tmp_path / "broken2.tar.gz"), "--config", str(fresh)])
        == 1
    )
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "integrity" in line or "rows" in line
    assert not (tmp_path / "fresh" / "minga.sqlite3").exists()


def test_without_pg_dump_the_backup_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on the PATH
    monkeypatch.setattr(backup, "DEBIAN_PROGRAMS", tmp_path / "none")  # nor where Debian puts it
    config = _config(tmp_path, "postgresql://minga@127.0.0.1:1/minga")
    assert main(["db", "backup", str(tmp_path / "b.tar.gz"), "--config", str(config)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "pg_dump" in line and "apt-get install postgresql-client" in line
    assert not (tmp_path / "b.tar.gz").exists()


async def test_postgresql_backup_and_restore_through_pg_dump(
    postgres_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if find_program("pg_dump") is None or find_program("pg_restore") is None:
        pytest.skip("pg_dump or pg_restore is not installed: apt-get install postgresql-client")
    with fresh_database(postgres_dsn) as source, fresh_database(postgres_dsn) as target:
        lab = _config(tmp_path / "lab", source)
        await _seed(source, tmp_path / "lab" / "media", residents=5)
        assert await _minga(["db", "backup", str(tmp_path), "--config", str(lab)]) == 0
        archive = _archive_of(tmp_path)
        assert "postgresql" in capsys.readouterr().out
        fresh = _config(tmp_path / "fresh", target)
        assert await _minga(["db", "restore", str(archive), "--config", str(fresh)]) == 0
        counts = await _counts(target)
        assert (counts["residents"], counts["idea_supports"], counts["possible_duplicates"]) == (
            5, 1, 1,
        )  # fmt: skip
        assert (
            await _minga(["db", "restore", str(archive), "--config", str(fresh)]) == 1
        )  # not empty


def test_a_backup_never_overwrites_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, tmp_path / "minga.sqlite3")
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    (tmp_path / "mine.tar.gz").write_bytes(b"precious")
    assert main(["db", "backup", str(tmp_path / "mine.tar.gz"), "--config", str(config)]) == 1
    assert (tmp_path / "mine.tar.gz").read_bytes() == b"precious"
    assert "already exists" in capsys.readouterr().err


def test_the_archive_is_a_plain_tar_gz(tmp_path: Path) -> None:
    """Anyone can look inside with tar and gzip: the manifest names every file."""
    config = _config(tmp_path, tmp_path / "minga.sqlite3")
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert main(["db", "backup", str(tmp_path / "b.tar.gz"), "--config", str(config)]) == 0
    with gzip.open(tmp_path / "b.tar.gz") as raw, tarfile.open(fileobj=raw) as tar:
        names = tar.getnames()
    assert names[-1] == "manifest.json" and "database/minga.sqlite3" in names


def test_a_backup_into_an_existing_folder_leaves_the_folder_s_mode(tmp_path: Path) -> None:
    """The operator's own folder (their home, a USB disk) is not made owner-only; a folder the
    backup makes is."""
    config = _config(tmp_path, tmp_path / "minga.sqlite3")
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    assert main(["db", "backup", str(shared), "--config", str(config)]) == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    made = tmp_path / "new" / "b.tar.gz"
    assert main(["db", "backup", str(made), "--config", str(config)]) == 0
    assert stat.S_IMODE(made.parent.stat().st_mode) == 0o700

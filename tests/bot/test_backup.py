"""The daily backup of [backup]: at its time in the lab's time zone (the clock moved by the
test), once a day, later the same day when the bot was down at that time, and the old ones
deleted so that an erasure is gone from every backup within `keep` days."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.backup import created_at, daily_backup, find_program, prune_backups
from bot.config import BackupSettings, Settings, StorageSettings
from bot.scheduler import Scheduler
from handlers.privacy.erase import erase
from storage.database import Database
from storage.postgres import is_postgres_url
from tests.fakes.clock import FakeClock
from tests.fakes.minga import Running, telegram_settings
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for

# The fake clock starts at 2026-08-16 19:00 UTC: 14:00 in Bogotá (the lab's zone, UTC-5).
START = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)
THREE_AM = datetime(2026, 8, 17, 8, 0, tzinfo=UTC)  # the next 03:00 in Bogotá


def _settings(tmp_path: Path, database: str | Path, *, keep: int = 3) -> Settings:
    folder = tmp_path / "backups"
    return Settings(
        storage=StorageSettings(database=database, media_dir=tmp_path / "media"),
        backup=BackupSettings(folder=folder, time="03:00", keep=keep),
    )


def _backups(settings: Settings) -> list[datetime]:
    folder = settings.backup.folder
    assert folder is not None
    return sorted(stamp for path in folder.iterdir() if (stamp := created_at(path)))


@pytest.fixture
def settings(tmp_path: Path, database_target: str | Path) -> Settings:
    if is_postgres_url(database_target) and find_program("pg_dump") is None:
        pytest.skip("pg_dump is not installed: apt-get install postgresql-client")
    return _settings(tmp_path, database_target)


def _scheduler(database: Database, settings: Settings, clock: FakeClock) -> Scheduler:
    return Scheduler(database, settings.flow, clock, lambda: None,
                     backup=daily_backup(settings, clock))  # fmt: skip


async def test_the_daily_backup_runs_once_a_day_at_its_time(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    scheduler = _scheduler(database, settings, clock)
    # Started at 14:00, after today's 03:00: today's backup is taken now.
    assert await scheduler.backup() is not None
    assert scheduler.backup_at == THREE_AM
    assert await scheduler.backup() is None  # once a day
    clock.advance(hours=12, minutes=59)  # 02:59 the next day
    assert await scheduler.backup() is None
    clock.advance(minutes=1)  # 03:00
    made = await scheduler.backup()
    assert made is not None and created_at(made) == THREE_AM
    assert scheduler.backup_at == THREE_AM + timedelta(days=1)
    assert _backups(settings) == [START, THREE_AM]
    # Another worker (or a restart) the same day sees it is done.
    assert await _scheduler(database, settings, clock).backup() is None


async def test_backups_past_the_retention_are_deleted_with_what_they_hold(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("telegram", "4242", clock.now())
    scheduler = _scheduler(database, settings, clock)
    await scheduler.backup()  # holds the resident
    erased_at = clock.now() + timedelta(minutes=5)
    async with database.transaction() as repos:  # /borrar, or `minga residents forget`
        await erase(repos, settings.flow, resident.id, withdraw_ideas=True, now=erased_at)
    clock.advance(hours=13)  # 03:00 the next day
    for _ in range(settings.backup.keep - 1):
        assert await scheduler.backup() is not None
        clock.advance(days=1)
    # Up to `keep` days after the erasure, the backup taken before it is still there...
    assert _backups(settings)[0] < erased_at and len(_backups(settings)) == 3
    assert await scheduler.backup() is not None
    # ... and with the next daily backup it is gone: every backup left was taken after.
    assert len(_backups(settings)) == settings.backup.keep
    assert all(stamp > erased_at for stamp in _backups(settings))


def test_pruning_keeps_the_newest_and_never_touches_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    days = [START - timedelta(days=n) for n in range(10)]
    for day in days:
        (folder / f"minga-backup-{day:%Y%m%dT%H%M%SZ}.tar.gz").write_bytes(b"x")
    (folder / "notes.txt").write_text("mine")
    (folder / "minga-backup-by-hand.tar.gz").write_bytes(b"mine")
    deleted = prune_backups(folder, 7, START)
    assert len(deleted) == 3
    assert sorted(created_at(p) for p in folder.iterdir() if created_at(p)) == sorted(days[:7])
    assert (folder / "notes.txt").exists() and (folder / "minga-backup-by-hand.tar.gz").exists()
    # After a long stop, backups older than `keep` days go as soon as a new one is made; the
    # newest is always kept.
    prune_backups(folder, 7, START + timedelta(days=30))
    assert [created_at(p) for p in folder.iterdir() if created_at(p)] == [START]


async def test_a_failed_backup_is_tried_again_in_an_hour(
    database: Database, tmp_path: Path, database_target: str | Path, clock: FakeClock
) -> None:
    settings = _settings(tmp_path, database_target)
    assert settings.backup.folder is not None
    settings.backup.folder.write_text("a file where the folder should be")
    scheduler = _scheduler(database, settings, clock)
    assert await scheduler.backup() is None
    assert scheduler.backup_at == clock.now() + timedelta(hours=1)


async def test_minga_run_takes_the_day_s_backup_when_it_starts_after_its_time(
    api: FakeBotApi, tmp_path: Path
) -> None:
    # 00:00 in the lab's zone has always passed when the bot starts: the day's backup is due.
    backups = BackupSettings(folder=tmp_path / "backups", time="00:00")
    settings = telegram_settings(api, tmp_path, backup=backups)
    if is_postgres_url(settings.storage.database) and find_program("pg_dump") is None:
        pytest.skip("pg_dump is not installed: apt-get install postgresql-client")
    async with Running(settings):
        await wait_for(
            lambda: len(list((tmp_path / "backups").glob("minga-backup-*.tar.gz"))) == 1, 30
        )

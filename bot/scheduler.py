"""The scheduler only wakes things up: the database says which reminders and digests are due.

APScheduler 3.x (the version python-telegram-bot's job-queue extra pins) holds four jobs in
memory, never in a job store: "remind" at the next due time (a reminder or the daily digest);
"replan", a regular look at the database for events added or moved by another process
(`minga events ...`); "retention", the retention rules every few hours; "watch", the
checks of the staff group's alerts ([alerts] check_seconds); and, with [backup] time
set, "backup" at the daily backup's time. At start-up
everything already due is queued at once (and the retention rules run): a bot that was down
sends late reminders, up to the event's start, and the day's digest if its hour passed
meanwhile."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.backup import BackupRefused, DailyBackup
from handlers.engine.clock import Clock
from handlers.engine.settings import FlowSettings
from handlers.engine.team import staff_group
from handlers.events.reminders import next_reminder_at, queue_due_reminders
from handlers.privacy.retention import Pruned, prune
from handlers.staff.digest import next_digest_at, queue_due_digest
from storage.database import Database
from storage.private import media_files

log = logging.getLogger(__name__)

REPLAN_SECONDS = 60  # how often to look for events changed by another process
RETENTION_SECONDS = 6 * 3600  # how often the retention rules run (and once at start-up)
BACKUP_RETRY = timedelta(hours=1)  # a daily backup that failed is tried again after this


class Scheduler:
    def __init__(
        self,
        database: Database,
        settings: FlowSettings,
        clock: Clock,
        on_queued: Callable[[], None],
        *,
        replan_seconds: float = REPLAN_SECONDS,
        discard_media: Callable[[list[str]], None] | None = None,
        media_dir: Path | None = None,
        backup: DailyBackup | None = None,
        watch: Callable[[], Awaitable[object]] | None = None,
        watch_seconds: float = 60,
    ) -> None:
        self._database = database
        self._settings = settings
        self._offsets = settings.events.offsets_seconds
        self._clock = clock
        self._on_queued = on_queued
        self._replan_seconds = replan_seconds
        self._discard_media = discard_media
        self._media_dir = media_dir  # swept for files nothing refers to any more
        self._backup = backup
        # The staff group's alerts (bot/watch.py): their checks, every watch_seconds.
        self._watch, self._watch_seconds = watch, watch_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self.next_at: datetime | None = None
        self.backup_at: datetime | None = None  # the daily backup's next run

    async def start(self) -> None:
        self._scheduler.start()
        # misfire_grace_time=None: a wake-up that comes late still runs (the default skips a
        # job more than 1 s late); coalesce: several missed runs are one.
        self._scheduler.add_job(
            self.wake, "interval", seconds=self._replan_seconds, id="replan",
            misfire_grace_time=None, coalesce=True,
        )  # fmt: skip
        self._scheduler.add_job(
            self.prune, "interval", seconds=RETENTION_SECONDS, id="retention",
            misfire_grace_time=None, coalesce=True,
        )  # fmt: skip
        if self._watch is not None:
            self._scheduler.add_job(
                self._watch, "interval", seconds=self._watch_seconds, id="watch",
                misfire_grace_time=None, coalesce=True,
            )  # fmt: skip
        await self.prune()
        await self.wake()
        if self._watch is not None:  # a condition that held while no worker watched
            await self._watch()
        if self._backup is not None:
            self._plan_backup(self._backup.next_at(self._clock.now()))

    async def backup(self) -> Path | None:
        """Take the daily backup if it is due (in a thread: the bot answers meanwhile), then
        plan the next; returns the archive written, if one was."""
        if self._backup is None:
            return None
        retry = None
        try:
            made = await asyncio.to_thread(self._backup.run_if_due)
        except BackupRefused as error:
            log.error("daily backup not taken: %s; next try in an hour", error)
            made, retry = None, self._clock.now() + BACKUP_RETRY
        except Exception:
            log.exception("daily backup failed; next try in an hour")
            made, retry = None, self._clock.now() + BACKUP_RETRY
        if made is not None:
            log.info("daily backup written: %s", made)
        self._plan_backup(retry or self._backup.next_at(self._clock.now()))
        return made

    def _plan_backup(self, at: datetime) -> None:
        self.backup_at = at
        self._scheduler.add_job(
            self.backup, "date", run_date=at, id="backup", replace_existing=True,
            misfire_grace_time=None, coalesce=True,
        )  # fmt: skip

    async def prune(self) -> Pruned | None:
        """Apply the retention rules ([retention]); files go after the rows are committed."""
        try:
            folder = self._media_dir
            on_disk = await asyncio.to_thread(media_files, folder) if folder else []
            async with self._database.transaction() as repos:
                pruned = await prune(repos, self._settings.retention, self._clock.now(), on_disk)
        except Exception:
            log.exception("retention run failed; the next is in %s s", RETENTION_SECONDS)
            return None
        if pruned.files and self._discard_media is not None:
            self._discard_media(pruned.files)
        log.info("retention: abandoned drafts %d, ideas' contact details %d, message ids %d, "
                 "unhandled bodies and unsent replies %d",
                 pruned.drafts, pruned.contacts, pruned.inbound, pruned.kept_messages)  # fmt: skip
        return pruned

    async def wake(self) -> int:
        """Queue what is due, then plan the next wake-up; returns how many were queued."""
        try:
            now = self._clock.now()
            async with self._database.transaction() as repos:
                queued = await queue_due_reminders(repos, self._offsets, now)
                digest = await queue_due_digest(repos, self._settings, now)
            if queued:
                log.info("reminders queued: %d", queued)
            if digest:
                log.info("queued the daily digest")
            if queued or digest:
                self._on_queued()
            reader = self._database.reader()
            last = await reader.digests.last()
            group = await staff_group(reader, self._settings.staff)  # linked meanwhile, maybe
            times = (
                await next_reminder_at(reader, self._offsets, now),
                next_digest_at(self._settings, now, last.day if last else None, group),
            )
            self._plan(min((t for t in times if t is not None), default=None))
            return queued + int(digest)
        except Exception:
            log.exception("reminder wake-up failed; the next look is in %s s",
                          self._replan_seconds)  # fmt: skip
            return 0

    def _plan(self, at: datetime | None) -> None:
        self.next_at = at
        if at is None:
            if self._scheduler.get_job("remind"):
                self._scheduler.remove_job("remind")
            return
        self._scheduler.add_job(
            self.wake, "date", run_date=at, id="remind", replace_existing=True,
            misfire_grace_time=None, coalesce=True,
        )  # fmt: skip

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

"""The watched conditions, measured for the staff group's alerts (handlers/staff/alerts.py
decides and words them): a platform unreachable, the outbox backing up, a broadcast that does
not move, the disk nearly full, errors above normal. `Watch.check` runs on the worker that
holds the scheduler's lease, every [alerts] check_seconds.

A platform is unreachable from the first try that met a server error or a time-out (a 5xx,
no connection) until the next try it answered: what this process's own sending saw. Errors
are this process's log records at ERROR and above, counted a minute over the last
[alerts] error_window_minutes: "above normal" is more than [alerts] errors_per_minute."""

import asyncio
import logging
import shutil
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from bot.config import Settings
from handlers.engine.clock import Clock
from handlers.staff.alerts import BROADCAST_ROW, Reading, watch
from storage.database import Database

log = logging.getLogger(__name__)

STAFF_CHANNEL = "telegram"  # the staff group is a Telegram group


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


DiskUse = Callable[[Path], DiskUsage]


def disk_usage(path: Path) -> DiskUsage:
    """The disk of `path`, or of its nearest folder that exists (the media folder may not yet)."""
    for folder in (path, *path.resolve().parents):
        if folder.exists():
            total, used, free = shutil.disk_usage(folder)
            return DiskUsage(total, used, free)
    total, used, free = shutil.disk_usage(Path.cwd())
    return DiskUsage(total, used, free)


class Reachability:
    """Since when each platform has not answered this process (a SendObserver)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._since: dict[str, datetime] = {}

    def answered(self, channel: str, lane: str, result: str) -> None:
        if result == "5xx":  # a server error, a time-out, no connection
            self._since.setdefault(channel, self._clock.now())
        elif channel in self._since:  # any answer of its own: it is reachable
            del self._since[channel]
            log.info("%s reachable again", channel)

    def unreachable_since(self, channel: str) -> datetime | None:
        return self._since.get(channel)


class ErrorCount(logging.Handler):
    """This process's log records at ERROR and above, by the clock's time, for a while."""

    def __init__(self, clock: Clock, keep: timedelta) -> None:
        super().__init__(logging.ERROR)
        self._clock = clock
        self._keep = keep
        self._times: deque[datetime] = deque()

    def emit(self, record: logging.LogRecord) -> None:
        self._times.append(self._clock.now())
        self._forget(self._times[-1])

    def per_minute(self, now: datetime) -> float:
        """Errors a minute over the window."""
        self._forget(now)
        return len(self._times) / (self._keep.total_seconds() / 60)

    def _forget(self, now: datetime) -> None:
        while self._times and self._times[0] <= now - self._keep:
            self._times.popleft()


class Watch:
    def __init__(
        self, database: Database, settings: Settings, clock: Clock, *,
        on_queued: Callable[[], None] = lambda: None, disk: DiskUse = disk_usage,
    ) -> None:  # fmt: skip
        self._database = database
        self._settings = settings
        self._alerts = settings.alerts
        self._clock = clock
        self._on_queued = on_queued
        self._disk = disk
        self.reachability = Reachability(clock)
        self.errors = ErrorCount(clock, timedelta(minutes=self._alerts.error_window_minutes))

    def channels(self) -> list[str]:
        """The platforms this deployment sends on."""
        channels = ["telegram"] if self._settings.telegram.token is not None else []
        return channels + (["whatsapp"] if self._settings.whatsapp.enabled else [])

    async def check(self) -> int:
        """Measure every condition and raise or end its alert; how many messages were
        queued. A failed check is logged and the next one tries again."""
        try:
            now = self._clock.now()
            readings = await self.readings(now)
            staff_down = self.reachability.unreachable_since(STAFF_CHANNEL) is not None
            async with self._database.transaction() as repos:
                queued = await watch(repos, self._settings.flow, readings, now,
                                     staff_reachable=not staff_down)  # fmt: skip
        except Exception:
            log.warning("the alerts' check failed; the next is in %s s",
                        self._alerts.check_seconds, exc_info=True)  # fmt: skip
            return 0
        if queued:
            self._on_queued()
        return queued

    async def readings(self, now: datetime) -> list[Reading]:
        """Each condition as it stands now."""
        alerts = self._alerts
        readings = [self._unreachable(channel, now) for channel in self.channels()]
        reader = self._database.reader()
        readings.append(Reading("backlog", "backlog", failing=True, growing=True,
                                value=await reader.outbox.due_backlog(now),
                                hold=timedelta(minutes=alerts.backlog_minutes)))  # fmt: skip
        stalled = timedelta(minutes=alerts.broadcast_stalled_minutes)
        for broadcast, left in (await reader.outbox.pending_by_broadcast(now)).items():
            readings.append(Reading(f"{BROADCAST_ROW}{broadcast}", "broadcast", failing=True,
                                    growing=True, value=left, subject=str(broadcast),
                                    hold=stalled))  # fmt: skip
        readings += [await self._disk_reading(), self._error_reading(now)]
        return readings

    def _unreachable(self, channel: str, now: datetime) -> Reading:
        since = self.reachability.unreachable_since(channel)
        return Reading(f"unreachable:{channel}", "unreachable", failing=since is not None,
                       since=since, subject=channel,
                       hold=timedelta(minutes=self._alerts.unreachable_minutes))  # fmt: skip

    async def _disk_reading(self) -> Reading:
        usage = await asyncio.to_thread(self._disk, self._settings.storage.media_dir)
        free = 100.0 * usage.free / usage.total if usage.total else 100.0
        return Reading("disk", "disk", failing=free < self._alerts.disk_free_percent,
                       value=int(free))  # fmt: skip

    def _error_reading(self, now: datetime) -> Reading:
        rate = self.errors.per_minute(now)
        return Reading("errors", "errors", failing=rate > self._alerts.errors_per_minute,
                       value=round(rate))  # fmt: skip

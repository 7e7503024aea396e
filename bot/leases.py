"""Work that one worker at a time does, among several `minga run` on one database: Telegram's
polling (Telegram answers two pollers with a conflict) and the scheduler's jobs (reminders,
digest, retention). The worker that holds the named lease (storage/leases.py) does it and
renews the lease while it does; the others ask again every so often and take over once the
holder's lease has expired (it died) or was released (it stopped)."""

import asyncio
import contextlib
import logging
import os
import re
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from handlers.engine.clock import Clock
from storage.database import Database

log = logging.getLogger(__name__)

POLLING = "telegram-polling"
SCHEDULER = "scheduler"

Work = Callable[[], Awaitable[None]]


_NAME = re.compile(r"(?P<host>\S+) pid (?P<pid>\d+) [0-9a-f]+")
_MINE: set[str] = set()  # the names this process gave out


def worker_name() -> str:
    """This process, as the leases table names it for the operator: host, pid, a random tag."""
    name = f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:6]}"
    _MINE.add(name)
    return name


def gone(holder: str) -> bool:
    """A worker of this machine whose process has ended: a `minga run` killed and started
    again need not wait for its own lease to expire. Elsewhere, or alive: False."""
    match = _NAME.fullmatch(holder)
    if match is None or match["host"] != socket.gethostname():
        return False
    pid = int(match["pid"])
    if pid == os.getpid():  # our pid but not one of our names: an earlier life (a container)
        return holder not in _MINE
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, run by someone else
        return False
    return False


class Lease:
    """One named lease this worker wants: `start` runs when it is gained, `stop` when it is
    lost (taken by another after this worker failed to renew it in time, or the database
    failed) or given back at the end. Asks every third of `ttl`, so a holder renews it twice
    before it expires, and a waiting worker takes over at most a third of `ttl` after that."""

    def __init__(
        self,
        database: Database,
        name: str,
        holder: str,
        clock: Clock,
        ttl: timedelta,
        *,
        start: Work,
        stop: Work,
    ) -> None:
        self._database = database
        self.name = name
        self._holder = holder
        self._clock = clock
        self._ttl = ttl
        self._start = start
        self._stop = stop
        self.held = False

    @property
    def every(self) -> float:
        """Seconds between two asks (renewals while held)."""
        return self._ttl.total_seconds() / 3

    async def step(self) -> bool:
        """Take or renew the lease, start or stop the work to match; True while held."""
        try:
            async with self._database.transaction() as repos:
                now = self._clock.now()
                held = await repos.leases.take(self.name, self._holder, now, self._ttl)
                previous = None if held else await repos.leases.holder(self.name, now)
                if previous is not None and gone(previous):
                    log.info("lease %s: its holder (%s) has ended", self.name, previous)
                    held = await repos.leases.take_from(self.name, self._holder, previous, now,
                                                        self._ttl)  # fmt: skip
        except Exception:  # the database is away: not sure to hold it any more, so stop
            log.warning("lease %s: the database did not answer", self.name, exc_info=True)
            held = False
        if held and not self.held:
            log.info("lease %s taken: this worker does it now", self.name)
            self.held = True
            try:
                await self._start()
            except Exception:
                log.exception("lease %s: could not start; letting another worker try", self.name)
                await self._lose(release=True)
        elif not held and self.held:
            log.warning("lease %s lost: another worker does it now", self.name)
            await self._lose(release=False)
        return self.held

    async def run(self, stop: asyncio.Event) -> None:
        """Ask until `stop` is set, then stop the work and give the lease back."""
        try:
            while not stop.is_set():
                await self.step()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.every)
        finally:
            if self.held:
                await self._lose(release=True)

    async def _lose(self, *, release: bool) -> None:
        try:
            await self._stop()
        finally:
            self.held = False  # after the stop: "not held" means the work has stopped
            if release:  # another worker takes over at once, not after the lease expires
                with contextlib.suppress(Exception):
                    async with self._database.transaction() as repos:
                        await repos.leases.release(self.name, self._holder)

"""Who the lab's team is right now: the staff members kept in the database (`minga staff`,
/equipo), the config's [staff] telegram_ids as a seed, and the staff group (linked with
/vincular, else the config's group_chat_id).

The database is the source of truth. An id in the config counts as staff while the database has
no row for it (each start writes those rows: `seed`); once it has one, the row decides: removing
a member keeps their row, so the config does not bring them back, and taking an id out of the
config removes nobody (use `minga staff remove`). Likewise a linked group wins over the config's.

Every turn asks the team; it is read again at most every FRESH (so a change made by another
process, `minga staff add` or another worker, is seen within FRESH), and at once after a change
made in this process."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from handlers.engine.clock import Clock
from handlers.engine.settings import StaffSettings
from storage.repositories import Repositories
from storage.staff import Role

FRESH = timedelta(seconds=3)
TELEGRAM = "telegram"


@dataclass(frozen=True, slots=True)
class Team:
    """The team as read at one moment: Telegram ids with their roles, and the staff group."""

    roles: Mapping[int, Role] = field(default_factory=dict)
    group: int | None = None
    # `minga chat --user NAME` users treated as staff (and as admins: the console is local).
    console_users: frozenset[str] = frozenset()

    def role(self, channel: str, user_key: str) -> Role | None:
        if channel == TELEGRAM and user_key.isdigit():
            return self.roles.get(int(user_key))
        if channel == "console" and user_key in self.console_users:
            return "admin"
        return None

    def includes(self, channel: str, user_key: str) -> bool:
        return self.role(channel, user_key) is not None

    def is_admin(self, channel: str, user_key: str) -> bool:
        return self.role(channel, user_key) == "admin"

    @property
    def telegram_ids(self) -> tuple[int, ...]:
        return tuple(sorted(self.roles))


async def read_team(repos: Repositories, staff: StaffSettings) -> Team:
    """The team as the database says now, with the config's seed (see the module's note)."""
    rows = await repos.staff.rows()
    kept = {row.telegram_id for row in rows}
    roles: dict[int, Role] = {i: "staff" for i in staff.telegram_ids if i not in kept}
    roles.update({row.telegram_id: row.role for row in rows if not row.removed})
    group = await repos.staff.group()
    return Team(roles, group if group is not None else staff.group_chat_id,
                frozenset(staff.console_users))  # fmt: skip


async def staff_group(repos: Repositories, staff: StaffSettings) -> int | None:
    """The staff group now: the one linked with /vincular, else the config's."""
    group = await repos.staff.group()
    return group if group is not None else staff.group_chat_id


async def seed(repos: Repositories, staff: StaffSettings, now: datetime) -> int:
    """Rows for the config's members who have none yet (at each start); how many were added."""
    return await repos.staff.seed(staff.telegram_ids, now)


class TeamCache:
    """The team, read again at most every FRESH; `forget` after a change made here."""

    def __init__(
        self, read: Callable[[], Awaitable[Team]], clock: Clock, fresh: timedelta = FRESH
    ) -> None:
        self._read = read
        self._clock = clock
        self._fresh = fresh
        self._team: Team | None = None
        self._read_at: datetime | None = None
        self._changes = 0  # a read begun before a change is not kept after it
        # The read under way: a crowd's messages arriving together wait for one read.
        self._reading: asyncio.Task[Team] | None = None

    async def current(self) -> Team:
        now = self._clock.now()
        team, read_at = self._team, self._read_at
        if team is not None and read_at is not None and timedelta(0) <= now - read_at < self._fresh:
            return team
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._fetch(now))
        # Shielded: one waiter cancelled (its message dropped) does not cancel the others' read.
        return await asyncio.shield(self._reading)

    async def _fetch(self, now: datetime) -> Team:
        changes = self._changes
        try:
            team = await self._read()
        finally:
            if self._reading is asyncio.current_task():  # not a newer read, begun after forget
                self._reading = None
        if changes == self._changes:
            self._team, self._read_at = team, now
        return team

    @property
    def last(self) -> Team | None:
        """The team as last read (None before the first read), for what cannot wait."""
        return self._team

    def forget(self) -> None:
        """A change made here has committed: the next message reads the team afresh."""
        self._team, self._reading = None, None
        self._changes += 1

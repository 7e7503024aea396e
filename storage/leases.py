"""Named leases: work that one worker at a time may do, among several sharing the database.

A lease is taken when it is free or expired, renewed by its holder, and released on a clean
stop. Each change is one statement, so that two workers asking at once cannot both win: on
SQLite the writer lock orders them, on PostgreSQL the row lock of ON CONFLICT (which looks at
the row again once the other's write is committed). The SQL is the same on both. Times come
from the caller's clock; times are ISO text in UTC, which compares in order (timefmt).
"""

from datetime import datetime, timedelta

from storage.sql import Db, fetch_all, fetch_one, write_returning_one
from storage.timefmt import from_db, to_db


class LeaseRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def take(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Hold `name` until now + ttl, if it is free, expired, or held by `holder` already
        (then this renews it); False when another worker holds it."""
        row = await write_returning_one(
            self._db,
            "INSERT INTO leases (name, holder, renewed_at, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "renewed_at = excluded.renewed_at, expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.renewed_at "
            "RETURNING holder",
            (name, holder, to_db(now), to_db(now + ttl)),
        )
        return row is not None

    async def renew(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Hold `name` until now + ttl if `holder` still holds it (even expired: nobody took
        it meanwhile); False when another worker took it."""
        row = await write_returning_one(
            self._db,
            "UPDATE leases SET renewed_at = ?, expires_at = ? WHERE name = ? AND holder = ? "
            "RETURNING holder",
            (to_db(now), to_db(now + ttl), name, holder),
        )
        return row is not None

    async def take_from(
        self, name: str, holder: str, previous: str, now: datetime, ttl: timedelta
    ) -> bool:
        """Hold `name` until now + ttl if `previous` still holds it (whom the caller knows to
        be dead); False when someone else took it meanwhile."""
        row = await write_returning_one(
            self._db,
            "UPDATE leases SET holder = ?, renewed_at = ?, expires_at = ? WHERE name = ? "
            "AND holder = ? RETURNING holder",
            (holder, to_db(now), to_db(now + ttl), name, previous),
        )
        return row is not None

    async def release(self, name: str, holder: str) -> bool:
        """Let go of `name` (a clean stop), so that another worker takes it at once."""
        row = await write_returning_one(
            self._db,
            "DELETE FROM leases WHERE name = ? AND holder = ? RETURNING holder",
            (name, holder),
        )
        return row is not None

    async def holder(self, name: str, now: datetime) -> str | None:
        """Who holds `name` now (None: nobody, or its lease has expired)."""
        row = await fetch_one(
            self._db,
            "SELECT holder FROM leases WHERE name = ? AND expires_at > ?",
            (name, to_db(now)),
        )
        return None if row is None else str(row["holder"])

    async def beat(self, names: list[str], holder: str, now: datetime, ttl: timedelta) -> None:
        """A heartbeat, shared not exclusive: "`holder` is alive and does `names`" (the last
        worker to beat is named)."""
        await self._db.executemany(
            "INSERT INTO leases (name, holder, renewed_at, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "renewed_at = excluded.renewed_at, expires_at = excluded.expires_at",
            [(name, holder, to_db(now), to_db(now + ttl)) for name in names],
        )

    async def release_all(self, names: list[str], holder: str) -> None:
        """Release each of `names` that `holder` holds."""
        await self._db.executemany(
            "DELETE FROM leases WHERE name = ? AND holder = ?", [(name, holder) for name in names]
        )

    async def renewed(self, prefix: str) -> dict[str, datetime]:
        """When each lease whose name starts with `prefix` was last renewed, by its name
        without the prefix."""
        rows = await fetch_all(
            self._db,
            "SELECT name, renewed_at FROM leases WHERE substr(name, 1, ?) = ?",
            (len(prefix), prefix),
        )
        return {str(row["name"])[len(prefix) :]: from_db(row["renewed_at"]) for row in rows}

    async def live(self, prefix: str, now: datetime) -> int:
        """How many leases whose name starts with `prefix` have not expired."""
        row = await fetch_one(
            self._db,
            "SELECT count(*) FROM leases WHERE substr(name, 1, ?) = ? AND expires_at > ?",
            (len(prefix), prefix, to_db(now)),
        )
        return 0 if row is None else int(row[0])

    async def forget_expired(self, prefix: str, now: datetime) -> None:
        """Delete the expired leases whose name starts with `prefix` (rows of workers that
        died: each start names its worker anew)."""
        await self._db.execute(
            "DELETE FROM leases WHERE substr(name, 1, ?) = ? AND expires_at <= ?",
            (len(prefix), prefix, to_db(now)),
        )

    async def holders(self, prefix: str, now: datetime) -> list[str]:
        """Who holds the live leases whose name starts with `prefix`."""
        rows = await fetch_all(
            self._db,
            "SELECT holder FROM leases WHERE substr(name, 1, ?) = ? AND expires_at > ?",
            (len(prefix), prefix, to_db(now)),
        )
        return [str(row["holder"]) for row in rows]

    async def release_holder(self, prefix: str, holder: str) -> None:
        """Delete the leases `holder` holds whose name starts with `prefix` (it is gone)."""
        await self._db.execute(
            "DELETE FROM leases WHERE substr(name, 1, ?) = ? AND holder = ?",
            (len(prefix), prefix, holder),
        )

"""The watched conditions' state (`watch_alerts`): one row a condition, so that its alert is
raised once and its recovery told once, across restarts and workers."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from storage.sql import Db, Row, fetch_all
from storage.timefmt import from_db_optional, to_db, to_db_optional


class Watched(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    since: datetime | None = None  # the condition holds since (None: it does not)
    value: int = 0  # what the last check measured
    raised_at: datetime | None = None  # an alert (None: none)
    told_at: datetime | None = None  # its message queued (None: not yet)


def _watched(row: Row) -> Watched:
    return Watched(
        name=row["name"], since=from_db_optional(row["since"]), value=row["value"],
        raised_at=from_db_optional(row["raised_at"]), told_at=from_db_optional(row["told_at"]),
    )  # fmt: skip


class WatchRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def all(self) -> dict[str, Watched]:
        rows = await fetch_all(self._db, "SELECT * FROM watch_alerts")
        return {row["name"]: _watched(row) for row in rows}

    async def save(self, watched: Watched, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO watch_alerts (name, since, value, raised_at, told_at, checked_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET since = excluded.since, "
            "value = excluded.value, raised_at = excluded.raised_at, "
            "told_at = excluded.told_at, checked_at = excluded.checked_at",
            (watched.name, to_db_optional(watched.since), watched.value,
             to_db_optional(watched.raised_at), to_db_optional(watched.told_at), to_db(now)),
        )  # fmt: skip

    async def forget(self, name: str) -> None:
        await self._db.execute("DELETE FROM watch_alerts WHERE name = ?", (name,))

"""Which event reminders were handled already, for which start time."""

from datetime import datetime

from storage.sql import Db, fetch_all
from storage.timefmt import to_db


class ReminderRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def handled(self, event_id: int, starts_at: datetime) -> set[int]:
        """Offsets (in seconds) already queued or skipped for this start time."""
        rows = await fetch_all(
            self._db,
            "SELECT offset_s FROM reminders WHERE event_id = ? AND starts_at = ?",
            (event_id, to_db(starts_at)),
        )
        return {int(row["offset_s"]) for row in rows}

    async def record(
        self, event_id: int, offset_s: int, starts_at: datetime, outcome: str, now: datetime
    ) -> bool:
        """Mark the reminder handled; False when it already was (a second wake-up)."""
        cursor = await self._db.execute(
            "INSERT INTO reminders (event_id, offset_s, starts_at, outcome, handled_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (event_id, offset_s, to_db(starts_at), outcome, to_db(now)),
        )
        return cursor.rowcount == 1

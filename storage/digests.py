"""The daily digests: one row per day of the lab's calendar, written when it is queued."""

from datetime import datetime

from storage.models import Digest
from storage.sql import Db, Row, fetch_one, write_returning_one
from storage.timefmt import from_db, to_db


def _digest(row: Row) -> Digest:
    return Digest(
        day=row["day"],
        covers_from=from_db(row["covers_from"]),
        covers_until=from_db(row["covers_until"]),
        ideas=row["ideas"],
        outcome=row["outcome"],
        created_at=from_db(row["created_at"]),
    )


class DigestRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def get(self, day: str) -> Digest | None:
        row = await fetch_one(self._db, "SELECT * FROM digests WHERE day = ?", (day,))
        return None if row is None else _digest(row)

    async def last(self) -> Digest | None:
        row = await fetch_one(self._db, "SELECT * FROM digests ORDER BY day DESC LIMIT 1")
        return None if row is None else _digest(row)

    async def record(
        self, day: str, covers_from: datetime, covers_until: datetime, ideas: int, outcome: str,
        now: datetime,
    ) -> bool:  # fmt: skip
        """False when that day's digest was recorded already (a second wake-up, a restart)."""
        row = await write_returning_one(
            self._db,
            "INSERT INTO digests (day, covers_from, covers_until, ideas, outcome, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day) DO NOTHING RETURNING day",
            (day, to_db(covers_from), to_db(covers_until), ideas, outcome, to_db(now)),
        )
        return row is not None

"""Inbound message ids already handled, so that a retried or replayed message is dropped."""

from datetime import datetime

from storage.sql import Db, fetch_one
from storage.timefmt import to_db


class InboundRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def record(self, channel: str, external_id: str, now: datetime) -> bool:
        """Remember the id; False when it was already there (a duplicate)."""
        cursor = await self._db.execute(
            "INSERT INTO inbound_messages (channel, external_id, received_at) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (channel, external_id, to_db(now)),
        )
        return cursor.rowcount == 1

    async def seen(self, channel: str, external_id: str) -> bool:
        row = await fetch_one(
            self._db,
            "SELECT 1 FROM inbound_messages WHERE channel = ? AND external_id = ?",
            (channel, external_id),
        )
        return row is not None

"""Conversations: the step a resident is at and the draft of their idea, as JSON."""

from datetime import datetime

import aiosqlite

from storage.models import ConversationRecord
from storage.timefmt import from_db, to_db


class ConversationRepository:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def get(self, resident_id: int) -> ConversationRecord | None:
        async with self._db.execute(
            "SELECT step, draft, updated_at FROM conversations WHERE resident_id = ?",
            (resident_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return ConversationRecord(
            step=row["step"], draft=row["draft"], updated_at=from_db(row["updated_at"])
        )

    async def save(self, resident_id: int, step: str, draft: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO conversations (resident_id, step, draft, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (resident_id) DO UPDATE SET "
            "step = excluded.step, draft = excluded.draft, updated_at = excluded.updated_at",
            (resident_id, step, draft, to_db(now)),
        )

    async def delete(self, resident_id: int) -> None:
        await self._db.execute("DELETE FROM conversations WHERE resident_id = ?", (resident_id,))

"""Conversations: the step a resident is at and the draft of their idea, as JSON."""

from datetime import datetime

from storage.models import ConversationRecord, Resident
from storage.residents import resident_from_row
from storage.sql import Db, fetch_one
from storage.timefmt import from_db, to_db


class ConversationRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def get(self, resident_id: int) -> ConversationRecord | None:
        row = await fetch_one(
            self._db,
            "SELECT step, draft, updated_at FROM conversations WHERE resident_id = ?",
            (resident_id,),
        )
        if row is None:
            return None
        return ConversationRecord(
            step=row["step"], draft=row["draft"], updated_at=from_db(row["updated_at"])
        )

    async def load_turn(
        self, channel: str, user_key: str, external_id: str
    ) -> tuple[bool, Resident | None, ConversationRecord | None]:
        """Everything a turn starts from, in one round trip: whether the message was handled
        already, the resident (None if new) and their conversation (None if none yet)."""
        row = await fetch_one(
            self._db,
            "SELECT EXISTS (SELECT 1 FROM inbound_messages WHERE channel = ? AND external_id = ?)"
            " AS seen, r.*, c.step, c.draft, c.updated_at "
            "FROM (SELECT 1) AS one LEFT JOIN residents AS r ON r.channel = ? AND r.user_key = ? "
            "LEFT JOIN conversations AS c ON c.resident_id = r.id",
            (channel, external_id, channel, user_key),
        )
        assert row is not None
        if row["id"] is None:
            return bool(row["seen"]), None, None
        record = None
        if row["step"] is not None:
            record = ConversationRecord(
                step=row["step"], draft=row["draft"], updated_at=from_db(row["updated_at"])
            )
        return bool(row["seen"]), resident_from_row(row), record

    async def save(self, resident_id: int, step: str, draft: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO conversations (resident_id, step, draft, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (resident_id) DO UPDATE SET "
            "step = excluded.step, draft = excluded.draft, updated_at = excluded.updated_at",
            (resident_id, step, draft, to_db(now)),
        )

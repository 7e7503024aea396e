"""Broadcasts: a text (and an optional event) for an audience, queued as outbox rows."""

from datetime import datetime
from typing import Any

from storage.models import Broadcast
from storage.outbox import REACHABLE
from storage.outbox_kinds import BroadcastPayload, OutboxKind
from storage.sql import Db, Row, fetch_all, fetch_one, write_returning, write_returning_one
from storage.timefmt import from_db, from_db_optional, to_db

# Who an audience is, as a condition on residents `r` with one parameter (or none).
AUDIENCES: dict[str, str] = {
    "all": "1 = 1",
    "neighbourhood": "EXISTS (SELECT 1 FROM ideas AS i WHERE i.resident_id = r.id "
    "AND lower(i.location_text) = lower(?))",
    "category": "EXISTS (SELECT 1 FROM ideas AS i WHERE i.resident_id = r.id AND i.category = ?)",
    "event": "EXISTS (SELECT 1 FROM rsvps AS v WHERE v.resident_id = r.id AND v.event_id = ? "
    "AND v.status = 'going')",
}


def _broadcast(row: Row) -> Broadcast:
    return Broadcast(
        id=row["id"],
        text=row["text"],
        event_id=row["event_id"],
        audience=row["audience"],
        created_by=row["created_by"],
        reporter_id=row["reporter_id"],
        recipients=row["recipients"],
        created_at=from_db(row["created_at"]),
        finished_at=from_db_optional(row["finished_at"]),
    )


def _condition(kind: str, value: str | None) -> tuple[str, tuple[Any, ...]]:
    condition = AUDIENCES[kind]
    return condition, (() if kind == "all" else (value,))


class BroadcastRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def count_audience(self, kind: str, value: str | None) -> int:
        condition, values = _condition(kind, value)
        row = await fetch_one(
            self._db,
            f"SELECT count(*) FROM residents AS r WHERE {REACHABLE} AND {condition}",  # noqa: S608
            values,
        )
        return int(row[0]) if row else 0

    async def create(
        self,
        *,
        text: str,
        event_id: int | None,
        audience: str,
        kind: str,
        value: str | None,
        created_by: str,
        reporter_id: int | None,
        now: datetime,
    ) -> Broadcast:
        """The broadcast and one outbox row per recipient, in one statement each."""
        row = await write_returning_one(
            self._db,
            "INSERT INTO broadcasts (text, event_id, audience, created_by, reporter_id, "
            "recipients, created_at) VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING id",
            (text, event_id, audience, created_by, reporter_id, to_db(now)),
        )
        assert row is not None
        broadcast_id = int(row[0])
        condition, values = _condition(kind, value)
        cursor = await self._db.execute(
            "INSERT INTO outbox (kind, subject, recipient_id, payload, priority, "  # noqa: S608
            "not_before, broadcast_id, created_at) "
            f"SELECT ?, ?, r.id, ?, ?, ?, ?, ? FROM residents AS r "
            f"WHERE {REACHABLE} AND {condition} ORDER BY r.id ON CONFLICT DO NOTHING",
            (OutboxKind.BROADCAST.value, str(broadcast_id), BroadcastPayload().stored(),
             OutboxKind.BROADCAST.priority, to_db(now), broadcast_id, to_db(now), *values),
        )  # fmt: skip
        recipients = cursor.rowcount
        row = await write_returning_one(
            self._db,
            "UPDATE broadcasts SET recipients = ? WHERE id = ? RETURNING *",
            (recipients, broadcast_id),
        )
        assert row is not None
        return _broadcast(row)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await fetch_one(self._db, "SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return None if row is None else _broadcast(row)

    async def recent(self, limit: int = 20) -> list[Broadcast]:
        rows = await fetch_all(
            self._db, "SELECT * FROM broadcasts ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [_broadcast(row) for row in rows]

    async def in_progress(self) -> int:
        """Broadcasts started and not finished."""
        row = await fetch_one(self._db, "SELECT count(*) FROM broadcasts WHERE finished_at IS NULL")
        return int(row[0]) if row else 0

    async def finish_done(self, now: datetime) -> list[Broadcast]:
        """Mark broadcasts with nothing left pending as finished; returns those just finished."""
        rows = await write_returning(
            self._db,
            "UPDATE broadcasts SET finished_at = ? WHERE finished_at IS NULL AND NOT EXISTS ("
            "SELECT 1 FROM outbox WHERE broadcast_id = broadcasts.id AND status = 'pending') "
            "RETURNING *",
            (to_db(now),),
        )
        return [_broadcast(row) for row in rows]

"""Residents: one row per person per channel identity."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiosqlite

from storage.models import Resident
from storage.sql import fetch_one
from storage.timefmt import from_db, from_db_optional, to_db, to_db_optional


def resident_from_row(row: Mapping[str, Any]) -> Resident:
    return Resident(
        id=row["id"],
        channel=row["channel"],
        user_key=row["user_key"],
        language=row["language"],
        role=row["role"],
        consent_version=row["consent_version"],
        consent_at=from_db_optional(row["consent_at"]),
        consent_refused_at=from_db_optional(row["consent_refused_at"]),
        announcements_at=from_db_optional(row["announcements_at"]),
        unreachable_at=from_db_optional(row["unreachable_at"]),
        updates_off_at=from_db_optional(row["updates_off_at"]),
        created_at=from_db(row["created_at"]),
    )


class ResidentRepository:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def get_or_create(self, channel: str, user_key: str, now: datetime) -> Resident:
        # The no-op update makes RETURNING give the row whether it was just made or not.
        row = await fetch_one(
            self._db,
            "INSERT INTO residents (channel, user_key, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (channel, user_key) DO UPDATE SET channel = excluded.channel "
            "RETURNING *",
            (channel, user_key, to_db(now)),
        )
        assert row is not None
        return resident_from_row(row)

    async def get(self, resident_id: int) -> Resident | None:
        row = await fetch_one(self._db, "SELECT * FROM residents WHERE id = ?", (resident_id,))
        return None if row is None else resident_from_row(row)

    async def set_updates(self, resident_id: int, off_since: datetime | None) -> None:
        """Stop (a time) or resume (None) news about their ideas."""
        await self._db.execute(
            "UPDATE residents SET updates_off_at = ? WHERE id = ?",
            (to_db_optional(off_since), resident_id),
        )

    async def find(self, channel: str, user_key: str) -> Resident | None:
        row = await fetch_one(
            self._db,
            "SELECT * FROM residents WHERE channel = ? AND user_key = ?",
            (channel, user_key),
        )
        return None if row is None else resident_from_row(row)

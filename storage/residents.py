"""Residents: one row per person per channel identity."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiosqlite

from storage.models import Resident, Role
from storage.sql import fetch_one
from storage.timefmt import from_db, from_db_optional, to_db


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

    async def find(self, channel: str, user_key: str) -> Resident | None:
        row = await fetch_one(
            self._db,
            "SELECT * FROM residents WHERE channel = ? AND user_key = ?",
            (channel, user_key),
        )
        return None if row is None else resident_from_row(row)

    async def set_language(self, resident_id: int, language: str) -> None:
        await self._db.execute(
            "UPDATE residents SET language = ? WHERE id = ?", (language, resident_id)
        )

    async def set_role(self, resident_id: int, role: Role) -> None:
        await self._db.execute(
            "UPDATE residents SET role = ? WHERE id = ?", (role.value, resident_id)
        )

    async def record_consent(self, resident_id: int, version: str, now: datetime) -> None:
        await self._db.execute(
            "UPDATE residents SET consent_version = ?, consent_at = ?, consent_refused_at = NULL "
            "WHERE id = ?",
            (version, to_db(now), resident_id),
        )

    async def record_refusal(self, resident_id: int, now: datetime) -> None:
        """Keep only the refusal: the role and any earlier consent are forgotten."""
        await self._db.execute(
            "UPDATE residents SET role = NULL, consent_version = NULL, consent_at = NULL, "
            "consent_refused_at = ? WHERE id = ?",
            (to_db(now), resident_id),
        )

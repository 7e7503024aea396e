"""Ideas, their photos and their status history."""

from datetime import datetime

import aiosqlite

from storage.models import IdeaStatus, IdeaSummary, NewIdea
from storage.sql import fetch_all, fetch_one
from storage.timefmt import from_db, to_db


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


class IdeaRepository:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    async def _next_number(self, year: int) -> int:
        row = await fetch_one(
            self._db,
            "INSERT INTO reference_counters (year, last) VALUES (?, 1) "
            "ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            (year,),
        )
        assert row is not None
        return int(row[0])

    async def create(
        self, new: NewIdea, *, prefix: str, year: int, now: datetime
    ) -> tuple[int, str]:
        """Store an idea and its media (the first status event is a trigger's); returns (id,
        reference)."""
        reference = format_reference(prefix, year, await self._next_number(year))
        stamp = to_db(now)
        row = await fetch_one(
            self._db,
            "INSERT INTO ideas (reference, resident_id, role, language, problem, idea, category, "
            "focus, location_text, latitude, longitude, anonymous, contact_name, contact, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (
                reference,
                new.resident_id,
                new.role.value,
                new.language,
                new.problem,
                new.idea,
                new.category,
                new.focus.value,
                new.location_text,
                new.latitude,
                new.longitude,
                int(new.anonymous),
                new.contact_name,
                new.contact,
                IdeaStatus.RECEIVED.value,
                stamp,
                stamp,
            ),
        )
        assert row is not None
        idea_id = int(row[0])
        if new.media:
            await self._db.executemany(
                "INSERT INTO idea_media (idea_id, position, kind, path, platform_ref) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (idea_id, position, m.kind, m.path, m.platform_ref)
                    for position, m in enumerate(new.media, start=1)
                ],
            )
        return idea_id, reference

    async def for_resident(self, resident_id: int, *, limit: int = 10) -> list[IdeaSummary]:
        """A resident's newest ideas first."""
        rows = await fetch_all(
            self._db,
            "SELECT id, reference, status, category, created_at FROM ideas "
            "WHERE resident_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (resident_id, limit),
        )
        return [_summary(row) for row in rows]

    async def count_for_resident(self, resident_id: int) -> int:
        row = await fetch_one(
            self._db, "SELECT count(*) FROM ideas WHERE resident_id = ?", (resident_id,)
        )
        return int(row[0]) if row else 0

    async def created_between(self, start: datetime, end: datetime) -> list[IdeaSummary]:
        """Ideas created in [start, end), oldest first: what a daily digest reads."""
        rows = await fetch_all(
            self._db,
            "SELECT id, reference, status, category, created_at FROM ideas "
            "WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id",
            (to_db(start), to_db(end)),
        )
        return [_summary(row) for row in rows]

    async def media_paths(self, idea_id: int) -> list[str]:
        rows = await fetch_all(
            self._db, "SELECT path FROM idea_media WHERE idea_id = ? ORDER BY position", (idea_id,)
        )
        return [row["path"] for row in rows]


def _summary(row: aiosqlite.Row) -> IdeaSummary:
    return IdeaSummary(
        id=row["id"],
        reference=row["reference"],
        status=row["status"],
        category=row["category"],
        created_at=from_db(row["created_at"]),
    )

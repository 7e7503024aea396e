"""Residents who joined an earlier idea as "the same problem" (migration 0017, issue 21)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.sql import Db, fetch_all, fetch_one
from storage.timefmt import to_db


@dataclass(frozen=True, slots=True)
class NewSupport:
    """A resident's support of an idea, with what they added to it (all optional)."""

    idea_id: int
    resident_id: int
    detail: str | None = None
    photo_path: str | None = None
    photo_ref: str | None = None


class SupportRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def add(self, support: NewSupport, now: datetime) -> bool:
        """Record the support; False (and nothing changed) if they already support the idea."""
        cursor = await self._db.execute(
            "INSERT INTO idea_supports (idea_id, resident_id, detail, photo_path, photo_ref, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (idea_id, resident_id) DO NOTHING",
            (support.idea_id, support.resident_id, support.detail, support.photo_path,
             support.photo_ref, to_db(now)),
        )  # fmt: skip
        return cursor.rowcount == 1

    async def supports(self, idea_id: int, resident_id: int) -> bool:
        """Whether the resident already supports the idea."""
        row = await fetch_one(
            self._db,
            "SELECT 1 FROM idea_supports WHERE idea_id = ? AND resident_id = ?",
            (idea_id, resident_id),
        )
        return row is not None

    async def count(self, idea_id: int) -> int:
        """How many residents joined the idea (its author not counted)."""
        row = await fetch_one(
            self._db, "SELECT count(*) FROM idea_supports WHERE idea_id = ?", (idea_id,)
        )
        return int(row[0]) if row else 0

    async def counts(self, idea_ids: Iterable[int]) -> dict[int, int]:
        """How many joined each of these ideas (absent: none)."""
        ids = list(dict.fromkeys(idea_ids))
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = await fetch_all(
            self._db,
            f"SELECT idea_id, count(*) FROM idea_supports WHERE idea_id IN ({marks}) "  # noqa: S608
            "GROUP BY idea_id",
            ids,
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def supporters(self, idea_id: int) -> list[int]:
        """The residents who joined the idea, oldest first."""
        rows = await fetch_all(
            self._db,
            "SELECT resident_id FROM idea_supports WHERE idea_id = ? ORDER BY created_at, "
            "resident_id",
            (idea_id,),
        )
        return [int(row[0]) for row in rows]

    async def heard_as_supporters(self, idea_id: int) -> set[int]:
        """Who hears of the idea as a supporter: they joined it, or joined an idea marked a
        duplicate of it, and wrote no duplicate of it themselves (then they hear of it as the
        author of a duplicate, "the idea yours was joined to")."""
        rows = await fetch_all(
            self._db,
            "SELECT resident_id FROM idea_supports WHERE idea_id = ? OR idea_id IN "
            "(SELECT id FROM ideas WHERE duplicate_of = ?) "
            "EXCEPT SELECT resident_id FROM ideas WHERE duplicate_of = ?",
            (idea_id, idea_id, idea_id),
        )
        return {int(row[0]) for row in rows}

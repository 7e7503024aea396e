"""Calls for ideas (convocatorias): their categories, deadline, closing and results."""

import json
from collections.abc import Sequence
from datetime import datetime

from storage.idea_search import record_from_row, select_ideas
from storage.models import Call, CallCategory, IdeaRecord
from storage.sql import Db, Row, fetch_all, fetch_one, write_returning_one
from storage.timefmt import from_db, from_db_optional, to_db


def _call(row: Row) -> Call:
    return Call(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        categories=tuple(CallCategory(**c) for c in json.loads(row["categories"])),
        deadline=from_db(row["deadline"]),
        closed_at=from_db_optional(row["closed_at"]),
        results_at=from_db_optional(row["results_at"]),
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),
    )


class CallRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def create(
        self, *, title: str, description: str, categories: Sequence[CallCategory],
        deadline: datetime, created_by: str, now: datetime,
    ) -> Call:  # fmt: skip
        row = await write_returning_one(
            self._db,
            "INSERT INTO calls (title, description, categories, deadline, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            (
                title,
                description,
                json.dumps([c.model_dump(mode="json") for c in categories]),
                to_db(deadline),
                created_by,
                to_db(now),
            ),
        )
        assert row is not None
        return _call(row)

    async def get(self, call_id: int) -> Call | None:
        row = await fetch_one(self._db, "SELECT * FROM calls WHERE id = ?", (call_id,))
        return None if row is None else _call(row)

    async def all(self) -> list[Call]:
        """Newest first."""
        rows = await fetch_all(self._db, "SELECT * FROM calls ORDER BY created_at DESC, id DESC")
        return [_call(row) for row in rows]

    async def open_at(self, now: datetime) -> list[Call]:
        """Calls taking ideas now, the soonest deadline first."""
        rows = await fetch_all(
            self._db,
            "SELECT * FROM calls WHERE closed_at IS NULL AND deadline > ? ORDER BY deadline, id",
            (to_db(now),),
        )
        return [_call(row) for row in rows]

    async def close(self, call_id: int, now: datetime) -> bool:
        """Close before the deadline; False when it was closed already (or is unknown)."""
        row = await write_returning_one(
            self._db,
            "UPDATE calls SET closed_at = ? WHERE id = ? AND closed_at IS NULL RETURNING id",
            (to_db(now), call_id),
        )
        return row is not None

    async def mark_results(self, call_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE calls SET results_at = ? WHERE id = ?", (to_db(now), call_id)
        )

    async def entries(self, call_id: int) -> dict[str | None, int]:
        """How many ideas the call received, per call category."""
        rows = await fetch_all(
            self._db,
            "SELECT call_category, count(*) FROM ideas WHERE call_id = ? GROUP BY call_category",
            (call_id,),
        )
        return {row[0]: int(row[1]) for row in rows}

    async def awarded(self, call_id: int) -> list[IdeaRecord]:
        """Shortlisted ideas and winners, by category, winners first."""
        rows = await fetch_all(
            self._db,
            f"{select_ideas(self._db)} WHERE i.call_id = ? AND i.award IS NOT NULL "
            "ORDER BY i.call_category, i.award = 'winner' DESC, i.created_at",
            (call_id,),
        )
        return [record_from_row(row) for row in rows]

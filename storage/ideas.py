"""Ideas, their photos and their status history."""

from datetime import datetime

from storage.models import Award, IdeaStatus, IdeaSummary, NewIdea
from storage.sql import Db, Row, fetch_all, fetch_one, write_returning_one
from storage.timefmt import from_db, to_db

# Who may hear of an idea's progress: agreed to it under the privacy policy in force, and not
# known to block the bot.
WANTS_UPDATES = (
    "r.updates_at IS NOT NULL AND r.unreachable_at IS NULL "
    "AND r.updates_version = (SELECT version FROM privacy_policy)"
)


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


class IdeaRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def _next_number(self, year: int) -> int:
        row = await write_returning_one(
            self._db,
            "INSERT INTO reference_counters (year, last) VALUES (?, 1) "
            "ON CONFLICT (year) DO UPDATE SET last = reference_counters.last + 1 RETURNING last",
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
        row = await write_returning_one(
            self._db,
            "INSERT INTO ideas (reference, resident_id, role, language, problem, idea, category, "
            "focus, location_text, latitude, longitude, anonymous, contact_name, contact, status, "
            "created_at, updated_at, publish, call_id, call_category) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
                new.publish.value,
                new.call_id,
                new.call_category,
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
            "SELECT id, reference, status, category, created_at, problem FROM ideas "
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
            "SELECT id, reference, status, category, created_at, problem FROM ideas "
            "WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id",
            (to_db(start), to_db(end)),
        )
        return [_summary(row) for row in rows]

    async def set_status(
        self,
        idea_id: int,
        status: IdeaStatus,
        *,
        actor: str,
        reason: str | None,
        now: datetime,
        duplicate_of: int | None = None,
    ) -> int | None:
        """Set the status; the history line (with who and why) is a trigger's. Returns the
        history line's id, or None when the status was already that."""
        row = await write_returning_one(
            self._db,
            "UPDATE ideas SET status = ?, status_by = ?, status_reason = ?, duplicate_of = ?, "
            "updated_at = ? WHERE id = ? AND status <> ? RETURNING id",
            (status.value, actor, reason, duplicate_of, to_db(now), idea_id, status.value),
        )
        if row is None:
            return None
        last = await fetch_one(
            self._db,
            "SELECT max(id) FROM idea_events WHERE idea_id = ? AND kind = 'status'",
            (idea_id,),
        )
        assert last is not None
        return int(last[0])

    async def add_event(
        self, idea_id: int, kind: str, *, actor: str, now: datetime, note: str | None = None,
        status: str | None = None,
    ) -> int:  # fmt: skip
        """A staff note, a reply to the resident or an award, in the idea's history."""
        row = await write_returning_one(
            self._db,
            "INSERT INTO idea_events (idea_id, at, kind, status, note, actor) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (idea_id, to_db(now), kind, status, note, actor),
        )
        assert row is not None
        return int(row[0])

    async def set_award(self, idea_id: int, award: Award | None, now: datetime) -> None:
        await self._db.execute(
            "UPDATE ideas SET award = ?, updated_at = ? WHERE id = ?",
            (None if award is None else award.value, to_db(now), idea_id),
        )

    async def follow(self, idea_id: int, resident_id: int, now: datetime) -> None:
        """The resident hears of this idea's progress too (they wrote a duplicate of it)."""
        await self._db.execute(
            "INSERT INTO idea_followers (idea_id, resident_id, since) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (idea_id, resident_id, to_db(now)),
        )

    async def unfollow(self, idea_id: int, resident_id: int) -> None:
        await self._db.execute(
            "DELETE FROM idea_followers WHERE idea_id = ? AND resident_id = ?",
            (idea_id, resident_id),
        )

    async def followers(self, idea_id: int) -> list[int]:
        rows = await fetch_all(
            self._db, "SELECT resident_id FROM idea_followers WHERE idea_id = ?", (idea_id,)
        )
        return [int(row[0]) for row in rows]

    async def audience(self, idea_id: int) -> list[tuple[int, bool]]:
        """Who hears of an idea's progress: (resident id, is the author), the author first,
        then its followers and supporters, each once; those who agreed to news about their
        ideas (under the policy in force) and have not blocked the bot."""
        rows = await fetch_all(
            self._db,
            "SELECT r.id, 1 AS author FROM ideas AS i JOIN residents AS r ON r.id = i.resident_id "  # noqa: S608
            f"WHERE i.id = ? AND {WANTS_UPDATES} "
            "UNION SELECT r.id, 0 FROM residents AS r WHERE r.id IN "
            "(SELECT resident_id FROM idea_followers WHERE idea_id = ? "
            "UNION SELECT resident_id FROM idea_supports WHERE idea_id = ?) "
            f"AND {WANTS_UPDATES} AND r.id NOT IN "
            "(SELECT resident_id FROM ideas WHERE id = ?) ORDER BY 2 DESC, 1",
            (idea_id, idea_id, idea_id, idea_id),
        )
        return [(int(row[0]), bool(row[1])) for row in rows]

    async def media_paths(self, idea_id: int) -> list[str]:
        rows = await fetch_all(
            self._db, "SELECT path FROM idea_media WHERE idea_id = ? ORDER BY position", (idea_id,)
        )
        return [row["path"] for row in rows]


def _summary(row: Row) -> IdeaSummary:
    return IdeaSummary(
        id=row["id"],
        reference=row["reference"],
        status=row["status"],
        category=row["category"],
        created_at=from_db(row["created_at"]),
        problem=row["problem"],
    )

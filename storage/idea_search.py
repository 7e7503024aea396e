"""What staff read about ideas: one record, filtered pages, totals, and every idea in a stream
(exports: a million ideas never sit in memory at once)."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import IdeaEvent, IdeaFilter, IdeaOrder, IdeaRecord
from storage.sql import Db, Dialect, Row, dialect, fetch_all, fetch_one
from storage.timefmt import from_db, to_db

# Columns that totals may group by (never user input in SQL: a name from this table).
GROUPS: dict[str, str] = {
    "status": "i.status",
    "category": "i.category",
    "neighbourhood": "i.location_text",
    "focus": "i.focus",
    "channel": "r.channel",
    "call": "i.call_id",
    "role": "i.role",
}
STREAM_BATCH = 500
# How staff name an idea, in chat and on the command line alike: its reference
# (MNG-2026-000004), its year and number (2026-000004) or its number alone (4, 000004, #4).
_NAME = re.compile(
    r"^(?:(?P<prefix>[A-Z]{2,6})[\s-]*)?(?:(?P<year>\d{4})[\s-]+)?(?:#|N[.º°O]{0,2}\s*)?"
    r"(?P<number>\d{1,9})$"
)


@dataclass(frozen=True, slots=True)
class IdeaName:
    """An idea as staff named it: the number, and the year and prefix when given."""

    number: int
    year: int | None = None
    prefix: str | None = None

    def reference_end(self) -> str:
        """The end every reference of this name has: "-2026-000004", or "-000004"."""
        tail = f"-{self.number:06d}"
        return tail if self.year is None else f"-{self.year}{tail}"


@dataclass(frozen=True, slots=True)
class SupportNote:
    """What one supporter added when joining an idea: never who they are."""

    at: datetime
    detail: str | None
    photo_path: str | None  # under the media folder; None if only the platform's id is kept
    photo: bool


@dataclass(frozen=True, slots=True)
class SupportTotals:
    """How many joined an idea, how many of them added something (words or a photo), and how
    many a photo."""

    supporters: int = 0
    added: int = 0
    photos: int = 0


def idea_name(text: str) -> IdeaName | None:
    """ "MNG-2026-000004", "mng 2026 4", "2026-000004", "000004", "#4" or "4" -> IdeaName;
    None when the text names no idea."""
    match = _NAME.match(" ".join(text.strip().upper().split()))
    if match is None or (match["prefix"] and not match["year"]):
        return None
    year = int(match["year"]) if match["year"] else None
    return IdeaName(int(match["number"]), year, match["prefix"])


# The ideas with their media paths (one per line), the reference of what they duplicate and
# how many residents joined them (a count on idea_supports' primary key: an index seek each).
# SQLite's group_concat is string_agg on PostgreSQL (SQLite has string_agg only from 3.44).
SELECT_IDEAS: dict[Dialect, str] = {
    "sqlite": (
        "SELECT i.*, r.channel, (SELECT group_concat(m.path, char(10)) FROM "
        "(SELECT path FROM idea_media WHERE idea_id = i.id AND kind = 'photo' ORDER BY position) "
        "AS m) AS media, (SELECT group_concat(v.path, char(10)) FROM (SELECT path FROM idea_media "
        "WHERE idea_id = i.id AND kind LIKE 'voice%' ORDER BY position) AS v) AS voices, "
        "(SELECT reference FROM ideas AS d WHERE d.id = i.duplicate_of) AS duplicate_of_reference, "
        "(SELECT count(*) FROM idea_supports AS s WHERE s.idea_id = i.id) AS supporters "
        "FROM ideas AS i JOIN residents AS r ON r.id = i.resident_id"
    ),
    "postgresql": (
        "SELECT i.*, r.channel, (SELECT string_agg(path, chr(10) ORDER BY position) "
        "FROM idea_media WHERE idea_id = i.id AND kind = 'photo') AS media, "
        "(SELECT string_agg(path, chr(10) ORDER BY position) FROM idea_media "
        "WHERE idea_id = i.id AND kind LIKE 'voice%') AS voices, "
        "(SELECT reference FROM ideas AS d WHERE d.id = i.duplicate_of) AS duplicate_of_reference, "
        "(SELECT count(*) FROM idea_supports AS s WHERE s.idea_id = i.id) AS supporters "
        "FROM ideas AS i JOIN residents AS r ON r.id = i.resident_id"
    ),
}


def select_ideas(db: Db) -> str:
    """SELECT_IDEAS in the connection's dialect."""
    return SELECT_IDEAS[dialect(db)]


def record_from_row(row: Row) -> IdeaRecord:
    media = row["media"]
    return IdeaRecord(
        id=row["id"],
        reference=row["reference"],
        resident_id=row["resident_id"],
        channel=row["channel"],
        role=row["role"],
        language=row["language"],
        problem=row["problem"],
        idea=row["idea"],
        category=row["category"],
        focus=row["focus"],
        location_text=row["location_text"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        anonymous=bool(row["anonymous"]),
        contact_name=row["contact_name"],
        contact=row["contact"],
        status=row["status"],
        status_reason=row["status_reason"],
        duplicate_of=row["duplicate_of"],
        duplicate_of_reference=row["duplicate_of_reference"],
        call_id=row["call_id"],
        call_category=row["call_category"],
        award=row["award"],
        publish=row["publish"],
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        media=tuple(media.split("\n")) if media else (),
        voices=tuple(row["voices"].split("\n")) if row["voices"] else (),
        supporters=int(row["supporters"]),
    )


def where(chosen: IdeaFilter) -> tuple[str, list[Any]]:
    """The filter as a WHERE clause on `ideas AS i`, with its parameters."""
    conditions: list[str] = ["1 = 1"]
    values: list[Any] = []
    if chosen.status is not None:
        conditions.append("i.status = ?")
        values.append(chosen.status.value)
    if chosen.category is not None:
        conditions.append("i.category = ?")
        values.append(chosen.category)
    if chosen.neighbourhood is not None:
        conditions.append("lower(i.location_text) = lower(?)")
        values.append(chosen.neighbourhood)
    if chosen.call_id is not None:
        conditions.append("i.call_id = ?")
        values.append(chosen.call_id)
    if chosen.since is not None:
        conditions.append("i.created_at >= ?")
        values.append(to_db(chosen.since))
    if chosen.until is not None:
        conditions.append("i.created_at < ?")
        values.append(to_db(chosen.until))
    if chosen.call_category is not None:
        conditions.append("i.call_category = ?")
        values.append(chosen.call_category)
    if chosen.general:
        conditions.append("i.call_id IS NULL")
    if chosen.published:
        conditions.append("i.publish != 'no' AND i.status != 'duplicate'")
    return " AND ".join(conditions), values


class IdeaSearch:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def get(self, idea_id: int) -> IdeaRecord | None:
        row = await fetch_one(self._db, f"{select_ideas(self._db)} WHERE i.id = ?", (idea_id,))
        return None if row is None else record_from_row(row)

    async def by_reference(self, reference: str) -> IdeaRecord | None:
        row = await fetch_one(
            self._db,
            f"{select_ideas(self._db)} WHERE i.reference = ?",
            (reference.strip().upper(),),
        )
        return None if row is None else record_from_row(row)

    async def by_name(self, text: str) -> IdeaRecord | None:
        """The idea staff named (see idea_name); a number alone is the newest idea with that
        number (numbers start again each year: in January, "4" is this year's 4 once it
        exists, last year's until then)."""
        name = idea_name(text)
        if name is None:
            return None
        if name.prefix is not None and name.year is not None:
            return await self.by_reference(f"{name.prefix}-{name.year}-{name.number:06d}")
        row = await fetch_one(
            self._db,
            # The newest by the reference's year (PREFIX-YYYY-NNNNNN), not by when it was
            # stored: ideas imported from earlier years come in after this year's.
            f"{select_ideas(self._db)} WHERE upper(i.reference) LIKE upper(?) "
            "ORDER BY substr(i.reference, length(i.reference) - 10, 4) DESC, i.id DESC LIMIT 1",
            (f"%{name.reference_end()}",),
        )
        return None if row is None else record_from_row(row)

    async def page(
        self, chosen: IdeaFilter, *, offset: int, limit: int, order: IdeaOrder = IdeaOrder.NEWEST
    ) -> list[IdeaRecord]:
        """Newest first, or the most supporters first (ties: the newer number first, so that
        pages neither skip nor repeat an idea)."""
        condition, values = where(chosen)
        if order is IdeaOrder.SUPPORTERS:
            # The page's ids first, from the ideas alone with a count per idea on
            # idea_supports' primary key; then the full records of those 8 only (sorting
            # the full records would build media lists for every idea in the filter).
            sql = (
                f"{select_ideas(self._db)} JOIN (SELECT i.id, "  # noqa: S608
                "(SELECT count(*) FROM idea_supports AS s WHERE s.idea_id = i.id) AS n "
                f"FROM ideas AS i WHERE {condition} ORDER BY n DESC, i.id DESC "
                "LIMIT ? OFFSET ?) AS p ON p.id = i.id ORDER BY p.n DESC, i.id DESC"
            )
        else:
            sql = (
                f"{select_ideas(self._db)} WHERE {condition} "
                "ORDER BY i.created_at DESC, i.id DESC LIMIT ? OFFSET ?"
            )
        rows = await fetch_all(self._db, sql, (*values, limit, offset))
        return [record_from_row(row) for row in rows]

    async def count(self, chosen: IdeaFilter) -> int:
        condition, values = where(chosen)
        row = await fetch_one(
            self._db,
            f"SELECT count(*) FROM ideas AS i WHERE {condition}",  # noqa: S608
            values,
        )
        return int(row[0]) if row else 0

    async def totals(self, group: str, chosen: IdeaFilter | None = None) -> list[tuple[Any, int]]:
        """How many ideas per value of `group` (a key of GROUPS), the largest first."""
        column = GROUPS[group]
        condition, values = where(chosen or IdeaFilter())
        join = "JOIN residents AS r ON r.id = i.resident_id " if group == "channel" else ""
        rows = await fetch_all(
            self._db,
            f"SELECT {column} AS value, count(*) AS n FROM ideas AS i {join}"  # noqa: S608
            f"WHERE {condition} GROUP BY {column} "
            f"ORDER BY n DESC, {column} IS NOT NULL, value",  # NULLs first on both
            values,
        )
        return [(row["value"], int(row["n"])) for row in rows]

    async def hourly_by_category(
        self, since: datetime, until: datetime
    ) -> list[tuple[datetime, str, int]]:
        """Ideas per UTC hour and category in [since, until): small enough to bucket into the
        lab's local days in Python (which SQLite's dates cannot do with time zones)."""
        rows = await fetch_all(
            self._db,
            "SELECT substr(created_at, 1, 13) AS hour, category, count(*) AS n FROM ideas "
            "WHERE created_at >= ? AND created_at < ? GROUP BY hour, category",
            (to_db(since), to_db(until)),
        )
        return [
            (from_db(f"{row['hour']}:00:00+00:00"), row["category"], int(row["n"])) for row in rows
        ]

    async def history(self, idea_id: int) -> list[IdeaEvent]:
        rows = await fetch_all(
            self._db,
            "SELECT id, at, kind, status, note, actor FROM idea_events WHERE idea_id = ? "
            "ORDER BY at, id",
            (idea_id,),
        )
        return [
            IdeaEvent(
                id=row["id"],
                at=from_db(row["at"]),
                kind=row["kind"],
                status=row["status"],
                note=row["note"],
                actor=row["actor"],
            )
            for row in rows
        ]

    async def support_totals(self, idea_id: int) -> SupportTotals:
        row = await fetch_one(
            self._db,
            "SELECT count(*), count(CASE WHEN detail IS NOT NULL OR photo_path IS NOT NULL "
            "OR photo_ref IS NOT NULL THEN 1 END), "
            "count(CASE WHEN photo_path IS NOT NULL OR photo_ref IS NOT NULL THEN 1 END) "
            "FROM idea_supports WHERE idea_id = ?",
            (idea_id,),
        )
        return SupportTotals(*(int(value) for value in row)) if row else SupportTotals()

    async def support_notes(self, idea_id: int, *, limit: int) -> list[SupportNote]:
        """The newest `limit` supports that added a detail or a photo, oldest first."""
        rows = await fetch_all(
            self._db,
            "SELECT created_at, detail, photo_path, photo_ref FROM idea_supports "
            "WHERE idea_id = ? AND (detail IS NOT NULL OR photo_path IS NOT NULL "
            "OR photo_ref IS NOT NULL) ORDER BY created_at DESC, resident_id DESC LIMIT ?",
            (idea_id, limit),
        )
        notes = [
            SupportNote(at=from_db(row["created_at"]), detail=row["detail"],
                        photo_path=row["photo_path"],
                        photo=row["photo_path"] is not None or row["photo_ref"] is not None)
            for row in rows
        ]  # fmt: skip
        return notes[::-1]

    async def joined(self, since: datetime, until: datetime) -> int:
        """How many supports were added in [since, until)."""
        row = await fetch_one(
            self._db,
            "SELECT count(*) FROM idea_supports WHERE created_at >= ? AND created_at < ?",
            (to_db(since), to_db(until)),
        )
        return int(row[0]) if row else 0

    async def most_joined(
        self, since: datetime, until: datetime, *, limit: int
    ) -> list[tuple[IdeaRecord, int]]:
        """The ideas most residents joined in [since, until), with how many joined then (ties:
        more supporters in all, then the newer number)."""
        rows = await fetch_all(
            self._db,
            "SELECT j.idea_id, j.n FROM (SELECT idea_id, count(*) AS n FROM idea_supports "
            "WHERE created_at >= ? AND created_at < ? GROUP BY idea_id) AS j "
            "ORDER BY j.n DESC, (SELECT count(*) FROM idea_supports AS s "
            "WHERE s.idea_id = j.idea_id) DESC, j.idea_id DESC LIMIT ?",
            (to_db(since), to_db(until), limit),
        )
        found = []
        for row in rows:
            idea = await self.get(int(row["idea_id"]))
            if idea is not None:
                found.append((idea, int(row["n"])))
        return found

    async def stream(
        self, chosen: IdeaFilter, *, batch: int = STREAM_BATCH
    ) -> AsyncIterator[IdeaRecord]:
        """Every idea the filter lets through, oldest first, read in batches by id (a keyset
        walk: each batch is an index seek, and memory holds one batch)."""
        condition, values = where(chosen)
        after = 0
        while True:
            rows = list(
                await fetch_all(
                    self._db,
                    f"{select_ideas(self._db)} WHERE i.id > ? AND {condition} "
                    "ORDER BY i.id LIMIT ?",
                    (after, *values, batch),
                )
            )
            for row in rows:
                yield record_from_row(row)
            if len(rows) < batch:
                return
            after = rows[-1]["id"]

"""The lab's events and the residents' answers to them (RSVPs, with capacity and a waitlist)."""

from datetime import datetime
from typing import Any

from storage.models import Event, EventCounts, EventFields, EventStatus, RsvpStatus
from storage.sql import Db, Row, fetch_all, fetch_one, write_returning, write_returning_one
from storage.timefmt import from_db, to_db

_FIELDS = ("title", "description", "starts_at", "ends_at", "venue", "address", "latitude",
           "longitude", "capacity")  # fmt: skip


def event_from_row(row: Row) -> Event:
    return Event(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        starts_at=from_db(row["starts_at"]),
        ends_at=from_db(row["ends_at"]),
        venue=row["venue"],
        address=row["address"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        capacity=row["capacity"],
        status=row["status"],
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
    )


def _values(fields: EventFields) -> list[Any]:
    values = fields.model_dump(include=set(_FIELDS))
    values["starts_at"] = to_db(fields.starts_at)
    values["ends_at"] = to_db(fields.ends_at)
    return [values[name] for name in _FIELDS]


class EventRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def create(self, fields: EventFields, *, created_by: str, now: datetime) -> Event:
        row = await write_returning_one(
            self._db,
            f"INSERT INTO events ({', '.join(_FIELDS)}, created_by, created_at, updated_at) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(_FIELDS))}, ?, ?, ?) RETURNING *",
            (*_values(fields), created_by, to_db(now), to_db(now)),
        )
        assert row is not None
        return event_from_row(row)

    async def get(self, event_id: int) -> Event | None:
        row = await fetch_one(self._db, "SELECT * FROM events WHERE id = ?", (event_id,))
        return None if row is None else event_from_row(row)

    async def update(
        self, event_id: int, fields: EventFields, status: EventStatus, now: datetime
    ) -> Event:
        assignments = ", ".join(f"{name} = ?" for name in _FIELDS)
        row = await write_returning_one(
            self._db,
            f"UPDATE events SET {assignments}, status = ?, updated_at = ? "  # noqa: S608
            "WHERE id = ? RETURNING *",
            (*_values(fields), status.value, to_db(now), event_id),
        )
        assert row is not None
        return event_from_row(row)

    async def upcoming(
        self, now: datetime, *, limit: int | None = None, after: Event | None = None
    ) -> list[Event]:
        """Events not cancelled that have not ended, soonest first: all of them, or the first
        `limit` (after `after` when it is given: the next page of a list)."""
        start, after_id = (to_db(after.starts_at), after.id) if after else ("", 0)
        sql = (
            "SELECT * FROM events WHERE status != 'cancelled' AND ends_at > ? "
            "AND (starts_at, id) > (?, ?) ORDER BY starts_at, id"
        )
        values: tuple[object, ...] = (to_db(now), start, after_id)
        if limit is not None:  # (SQLite's LIMIT -1 for "all" is refused by PostgreSQL)
            sql, values = sql + " LIMIT ?", (*values, limit)
        rows = await fetch_all(self._db, sql, values)
        return [event_from_row(row) for row in rows]

    async def count_upcoming(self, now: datetime, *, through: Event | None = None) -> int:
        """How many events `upcoming` lists (up to and with `through`, when it is given)."""
        sql = "SELECT count(*) FROM events WHERE status != 'cancelled' AND ends_at > ?"
        values: tuple[object, ...] = (to_db(now),)
        if through is not None:
            sql += " AND (starts_at, id) <= (?, ?)"
            values += (to_db(through.starts_at), through.id)
        row = await fetch_one(self._db, sql, values)
        return int(row[0]) if row else 0

    async def all(self, *, since: datetime | None = None) -> list[Event]:
        rows = await fetch_all(
            self._db,
            "SELECT * FROM events WHERE ends_at > ? ORDER BY starts_at, id",
            (to_db(since) if since else "",),
        )
        return [event_from_row(row) for row in rows]


class RsvpRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def status(self, event_id: int, resident_id: int) -> RsvpStatus | None:
        row = await fetch_one(
            self._db,
            "SELECT status FROM rsvps WHERE event_id = ? AND resident_id = ?",
            (event_id, resident_id),
        )
        return None if row is None else RsvpStatus(row["status"])

    async def say_yes(self, event_id: int, resident_id: int, now: datetime) -> RsvpStatus:
        """A place if one is free, else the end of the waitlist; a "yes" already given stays
        as it is. One statement, so two residents taking the last place cannot both get it."""
        row = await write_returning_one(
            self._db,
            "INSERT INTO rsvps (event_id, resident_id, status, answered_at) "
            "SELECT e.id, ?, CASE WHEN e.capacity IS NULL OR (SELECT count(*) FROM rsvps "
            "WHERE event_id = e.id AND status = 'going') < e.capacity "
            "THEN 'going' ELSE 'waitlist' END, ? FROM events AS e WHERE e.id = ? "
            "ON CONFLICT (event_id, resident_id) DO UPDATE SET status = excluded.status, "
            "answered_at = excluded.answered_at WHERE rsvps.status = 'declined' "
            "RETURNING status",
            (resident_id, to_db(now), event_id),
        )
        if row is not None:
            return RsvpStatus(row["status"])
        current = await self.status(event_id, resident_id)
        assert current is not None
        return current

    async def say_no(self, event_id: int, resident_id: int, now: datetime) -> RsvpStatus | None:
        """Record "I can't"; returns what they had said before (None: nothing)."""
        before = await self.status(event_id, resident_id)
        await self._db.execute(
            "INSERT INTO rsvps (event_id, resident_id, status, answered_at) "
            "VALUES (?, ?, 'declined', ?) ON CONFLICT (event_id, resident_id) DO UPDATE SET "
            "status = 'declined', answered_at = excluded.answered_at",
            (event_id, resident_id, to_db(now)),
        )
        return before

    async def fill_places(self, event_id: int) -> list[int]:
        """Give free places to the waitlist, first come first served; returns who moved up.

        One statement that tops the event up to its capacity, so it is right whenever it runs
        (after a "no", or when the capacity grows)."""
        rows = await write_returning(
            self._db,
            "UPDATE rsvps SET status = 'going' WHERE event_id = ?1 AND resident_id IN ("
            " SELECT resident_id FROM rsvps WHERE event_id = ?1 AND status = 'waitlist'"
            " ORDER BY answered_at, resident_id LIMIT max(0, ("
            "  SELECT coalesce(capacity, 1 << 40) FROM events WHERE id = ?1) - ("
            "  SELECT count(*) FROM rsvps WHERE event_id = ?1 AND status = 'going'))"
            ") RETURNING resident_id",
            (event_id,),
        )
        return [int(row["resident_id"]) for row in rows]

    async def counts(self, event_id: int) -> EventCounts:
        rows = await fetch_all(
            self._db,
            "SELECT status, count(*) AS n FROM rsvps WHERE event_id = ? GROUP BY status",
            (event_id,),
        )
        return EventCounts(**{row["status"]: row["n"] for row in rows})

    async def residents(self, event_id: int, statuses: tuple[RsvpStatus, ...]) -> list[int]:
        marks = ", ".join("?" * len(statuses))
        rows = await fetch_all(
            self._db,
            f"SELECT resident_id FROM rsvps WHERE event_id = ? AND status IN ({marks}) "  # noqa: S608
            "ORDER BY answered_at, resident_id",
            (event_id, *(status.value for status in statuses)),
        )
        return [int(row["resident_id"]) for row in rows]

    async def waitlist_position(self, event_id: int, resident_id: int) -> int:
        row = await fetch_one(
            self._db,
            "SELECT count(*) FROM rsvps AS other, rsvps AS mine WHERE mine.event_id = ?1 "
            "AND mine.resident_id = ?2 AND other.event_id = ?1 AND other.status = 'waitlist' "
            "AND (other.answered_at, other.resident_id) <= (mine.answered_at, mine.resident_id)",
            (event_id, resident_id),
        )
        return int(row[0]) if row else 0

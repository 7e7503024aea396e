"""Ideas brought in from a file (`minga ideas import`): their placeholder author, which of them
are already here, and the writes, in bulk so that 100,000 rows take seconds."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from storage.models import Award, Focus, IdeaStatus, Publish, Role
from storage.sql import Db, fetch_all, write_returning_one
from storage.timefmt import to_db

# The author of every imported idea: one resident on a channel no sender serves, marked
# unreachable, with no consent to anything. Nothing is ever sent to them (news of an idea's
# progress needs consent and reachability; a staff reply skips the unreachable).
IMPORT_CHANNEL = "import"
IMPORT_USER = "import"
IMPORT_ACTOR = "import"  # who set an imported idea's status, in its history

# Parameters per IN (...) query: well under SQLite's and PostgreSQL's limits.
CHUNK = 500

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ImportedIdea:
    """One row to store, checked; `reference` is final (kept or newly numbered)."""

    external_id: str
    reference: str
    role: Role
    language: str
    problem: str
    idea: str | None
    category: str
    focus: Focus
    location_text: str | None
    latitude: float | None
    longitude: float | None
    anonymous: bool
    contact_name: str | None
    contact: str | None
    status: IdeaStatus
    status_reason: str | None
    created_at: datetime
    updated_at: datetime
    publish: Publish
    call_id: int | None
    call_category: str | None
    award: Award | None
    photos: tuple[str, ...]


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class IdeaImports:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def author(self, now: datetime) -> int:
        """The placeholder resident imported ideas belong to (made on first use)."""
        row = await write_returning_one(
            self._db,
            "INSERT INTO residents (channel, user_key, created_at, unreachable_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (channel, user_key) "
            "DO UPDATE SET unreachable_at = excluded.unreachable_at RETURNING id",
            (IMPORT_CHANNEL, IMPORT_USER, to_db(now), to_db(now)),
        )
        assert row is not None
        return int(row[0])

    async def known_external_ids(self, keys: Sequence[str]) -> set[str]:
        """Which of these external ids an idea already carries."""
        found: set[str] = set()
        for part in _chunks(keys):
            rows = await fetch_all(
                self._db,
                f"SELECT external_id FROM ideas WHERE external_id IN ({_marks(len(part))})",  # noqa: S608
                tuple(part),
            )
            found.update(row[0] for row in rows)
        return found

    async def problems_by_reference(self, references: Sequence[str]) -> dict[str, str]:
        """The ideas stored under these references: reference -> problem."""
        found: dict[str, str] = {}
        for part in _chunks(references):
            rows = await fetch_all(
                self._db,
                f"SELECT reference, problem FROM ideas WHERE reference IN ({_marks(len(part))})",  # noqa: S608
                tuple(part),
            )
            found.update((row[0], row[1]) for row in rows)
        return found

    async def ids_by_reference(self, references: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in _chunks(references):
            rows = await fetch_all(
                self._db,
                f"SELECT reference, id FROM ideas WHERE reference IN ({_marks(len(part))})",  # noqa: S608
                tuple(part),
            )
            found.update((row[0], int(row[1])) for row in rows)
        return found

    async def ids_by_external_id(self, keys: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in _chunks(keys):
            rows = await fetch_all(
                self._db,
                f"SELECT external_id, id FROM ideas WHERE external_id IN ({_marks(len(part))})",  # noqa: S608
                tuple(part),
            )
            found.update((row[0], int(row[1])) for row in rows)
        return found

    async def call_ids(self) -> set[int]:
        return {int(row[0]) for row in await fetch_all(self._db, "SELECT id FROM calls")}

    async def keep_numbers_above(self, year: int, number: int) -> None:
        """A kept reference's number is taken: the year's counter goes on after it."""
        await self._db.execute(
            "INSERT INTO reference_counters (year, last) VALUES (?, ?) ON CONFLICT (year) DO "
            "UPDATE SET last = CASE WHEN excluded.last > reference_counters.last "
            "THEN excluded.last ELSE reference_counters.last END",
            (year, number),
        )

    async def take_numbers(self, year: int, count: int) -> int:
        """Reserve `count` consecutive reference numbers of a year; returns the first."""
        row = await write_returning_one(
            self._db,
            "INSERT INTO reference_counters (year, last) VALUES (?, ?) ON CONFLICT (year) "
            "DO UPDATE SET last = reference_counters.last + excluded.last RETURNING last",
            (year, count),
        )
        assert row is not None
        return int(row[0]) - count + 1

    async def insert(self, author_id: int, ideas: Sequence[ImportedIdea]) -> list[int]:
        """Store the ideas and their photos; returns their ids, in order. The first status
        line of each idea's history is the trigger's, dated its updated_at, by "import"."""
        await self._db.executemany(
            "INSERT INTO ideas (reference, resident_id, role, language, problem, idea, category, "
            "focus, location_text, latitude, longitude, anonymous, contact_name, contact, status, "
            "status_by, status_reason, created_at, updated_at, publish, call_id, call_category, "
            "award, external_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_values(author_id, idea) for idea in ideas],
        )
        ids = await self.ids_by_external_id([idea.external_id for idea in ideas])
        media = [
            (ids[idea.external_id], position, "photo", path)
            for idea in ideas
            for position, path in enumerate(idea.photos, start=1)
        ]
        if media:
            await self._db.executemany(
                "INSERT INTO idea_media (idea_id, position, kind, path) VALUES (?, ?, ?, ?)", media
            )
        return [ids[idea.external_id] for idea in ideas]

    async def mark_duplicates(self, pairs: Sequence[tuple[int, int]]) -> None:
        """(idea id, original id): the status is already "duplicate"; this links the original."""
        if pairs:
            await self._db.executemany(
                "UPDATE ideas SET duplicate_of = ? WHERE id = ?",
                [(original, idea) for idea, original in pairs],
            )


def _values(author_id: int, idea: ImportedIdea) -> tuple[object, ...]:
    return (
        idea.reference,
        author_id,
        idea.role.value,
        idea.language,
        idea.problem,
        idea.idea,
        idea.category,
        idea.focus.value,
        idea.location_text,
        idea.latitude,
        idea.longitude,
        int(idea.anonymous),
        idea.contact_name,
        idea.contact,
        idea.status.value,
        IMPORT_ACTOR,
        idea.status_reason,
        to_db(idea.created_at),
        to_db(idea.updated_at),
        idea.publish.value,
        idea.call_id,
        idea.call_category,
        None if idea.award is None else idea.award.value,
        idea.external_id,
    )

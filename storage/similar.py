"""The vectors of ideas (migration 0014) and the ideas a similar-ideas lookup may offer.

An idea's vector is stored per model (`idea_vectors(idea_id, model, vector)`): a new model
means new vectors, and the old ones are simply not read. The lookup narrows in SQL (category,
a box around the point or the neighbourhood, statuses that may be shown) and leaves the exact
distance and the meaning to handlers/similar."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import IdeaStatus
from storage.sql import Db, fetch_all, fetch_one
from storage.timefmt import to_db

# Never offered to a resident as "the same problem": not viable, or itself a duplicate (its
# original is offered instead). Withdrawn ideas are deleted; erased authors' ideas are left out
# below (erased_at).
HIDDEN_STATUSES = (IdeaStatus.NOT_SELECTED, IdeaStatus.DUPLICATE)
METERS_PER_DEGREE = 111_320.0
# The newest ideas a lookup compares at most. Near a point there are tens (a city of 1,000,000
# ideas has about 40 of a category within 400 m); a neighbourhood given without a point can
# hold thousands, and reading and ranking 2,400 of them took 60-100 ms at p50 and over 200 ms
# at p99 (bench/similar_scale.py), against a 50 ms budget for the whole lookup. The newest are
# the ones most likely still open, and the ones a resident would recognise.
MOST_CANDIDATES = 500


@dataclass(frozen=True, slots=True)
class Place:
    """Where an idea's problem is: a shared point, a neighbourhood from the lab's list (or
    typed), or both (imported ideas may carry both)."""

    latitude: float | None = None
    longitude: float | None = None
    neighbourhood: str | None = None

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier idea a lookup may offer, with what the resident may be shown of it."""

    idea_id: int
    reference: str
    category: str
    place: Place
    status: IdeaStatus
    problem: str
    publish: str  # storage.models.Publish's value: "no" means describe it without its words
    created_at: str
    vector: bytes  # handlers.similar.pack's bytes


@dataclass(frozen=True, slots=True)
class PairIdea:
    """One side of a possible duplicate, as the digest shows it to staff."""

    idea_id: int
    reference: str
    problem: str
    created_at: str


@dataclass(frozen=True, slots=True)
class PossibleDuplicate:
    """An idea filed as "mine is different" (`idea`) and an earlier one it was offered
    (`other`), still open (migration 0018)."""

    idea: PairIdea
    other: PairIdea
    score: float
    created_at: str

    @property
    def newer_and_older(self) -> tuple[PairIdea, PairIdea]:
        """(newer, older) by filing time (imported ideas may be older than their number)."""
        a, b = self.idea, self.other
        return (a, b) if (a.created_at, a.idea_id) > (b.created_at, b.idea_id) else (b, a)


def box(latitude: float, longitude: float, radius_meters: float) -> tuple[float, ...]:
    """(south, north, west, east) of a square around the point, a little larger than the circle
    (the exact distance is checked afterwards)."""
    dlat = radius_meters / METERS_PER_DEGREE
    dlon = radius_meters / (METERS_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
    return (latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon)


def _where_place(place: Place, radius_meters: float) -> tuple[str, list[Any]]:
    """Near the point (a box) or in the same neighbourhood: the two ways `near` accepts."""
    parts: list[str] = []
    values: list[Any] = []
    if place.has_point:
        assert place.latitude is not None and place.longitude is not None
        parts.append("(i.latitude BETWEEN ? AND ? AND i.longitude BETWEEN ? AND ?)")
        values.extend(box(place.latitude, place.longitude, radius_meters))
    if place.neighbourhood:
        parts.append("lower(i.location_text) = lower(?)")
        values.append(place.neighbourhood.strip())
    return "(" + " OR ".join(parts or ["1 = 0"]) + ")", values


_COLUMNS = (
    "SELECT i.id, i.reference, i.category, i.latitude, i.longitude, i.location_text, "
    "i.status, i.problem, i.publish, i.created_at, v.vector "
)
_JOINS = (
    "JOIN idea_vectors AS v ON v.idea_id = i.id AND v.model = ? "
    "JOIN residents AS r ON r.id = i.resident_id "
)


def _candidates_query(
    model: str, conditions: list[str], values: list[Any], limit: int | None, most: int
) -> tuple[str, list[Any]]:
    """The candidates' SQL (conditions are this module's own, values are parameters)."""
    hidden = ", ".join("?" for _ in HIDDEN_STATUSES)
    statuses = [s.value for s in HIDDEN_STATUSES]
    extra = "".join(f" AND {condition}" for condition in conditions)
    if limit is None:
        # The newest first, and their vector and author joined only after the limit: of a
        # busy neighbourhood's thousands, only `most` are read whole.
        sql = (
            f"{_COLUMNS}FROM (SELECT i.id FROM ideas AS i WHERE i.status NOT IN ({hidden})"  # noqa: S608
            f"{extra} ORDER BY i.id DESC LIMIT ?) AS newest JOIN ideas AS i ON "
            f"i.id = newest.id {_JOINS}WHERE r.erased_at IS NULL ORDER BY i.id DESC"
        )
        return sql, [*statuses, *values, most, model]
    sql = (
        f"{_COLUMNS}FROM ideas AS i {_JOINS}WHERE i.status NOT IN ({hidden}) "
        f"AND r.erased_at IS NULL{extra} ORDER BY i.id DESC LIMIT ?"
    )
    return sql, [model, *statuses, *values, limit]


class SimilarRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def save_vector(self, idea_id: int, model: str, vector: bytes) -> None:
        """Store (or replace) an idea's vector for a model; nothing if the idea is gone."""
        await self._db.execute(
            "INSERT INTO idea_vectors (idea_id, model, vector) "
            "SELECT id, ?, ? FROM ideas WHERE id = ? "
            "ON CONFLICT (idea_id, model) DO UPDATE SET vector = excluded.vector",
            (model, vector, idea_id),
        )

    async def candidates(
        self, model: str, category: str | None, place: Place | None, radius_meters: float,
        *, exclude_resident: int | None = None, before_id: int | None = None,
        limit: int | None = None, most: int = MOST_CANDIDATES,
    ) -> list[Candidate]:  # fmt: skip
        """The ideas that may be shown, with their vector, newest first: of the category (None:
        any) near the place (None: anywhere); `exclude_resident`: not that resident's own.
        A lookup (no `limit`) reads the newest `most` there, those whose author has not
        erased their data and whose vector is computed; `before_id` and `limit` are one page
        of a walk through many instead (`minga ideas similar` without a place)."""
        conditions: list[str] = []
        values: list[Any] = []
        if category is not None:
            conditions.append("i.category = ?")
            values.append(category)
        if place is not None:
            where, near = _where_place(place, radius_meters)
            conditions.append(where)
            values.extend(near)
        if exclude_resident is not None:
            conditions.append("i.resident_id <> ?")
            values.append(exclude_resident)
        if before_id is not None:
            conditions.append("i.id < ?")
            values.append(before_id)
        sql, parameters = _candidates_query(model, conditions, values, limit, most)
        rows = await fetch_all(self._db, sql, parameters)
        return [_candidate(row) for row in rows]

    async def note_possible_duplicates(
        self, idea_id: int, others: Sequence[tuple[int, float]], now: datetime
    ) -> None:
        """The new idea was filed as "different" from these (other id, score) it was offered:
        kept for the digest's "possible duplicates" (migration 0018)."""
        if not others:
            return
        await self._db.executemany(
            "INSERT INTO possible_duplicates (idea_id, other_id, score, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (idea_id, other_id) DO NOTHING",
            [(idea_id, other, float(score), to_db(now)) for other, score in others],
        )

    async def open_duplicates(self, limit: int) -> list[PossibleDuplicate]:
        """The open possible duplicates, oldest first: not resolved, and neither idea merged
        another way since (a duplicate already; a deleted idea takes its pairs with it)."""
        rows = await fetch_all(self._db, f"{_PAIRS} ORDER BY p.created_at, p.idea_id, "
                               "p.other_id LIMIT ?", (*_MERGED, limit))  # fmt: skip
        return [_pair(row) for row in rows]

    async def count_open_duplicates(self) -> int:
        row = await fetch_one(
            self._db,
            "SELECT count(*) FROM possible_duplicates AS p JOIN ideas AS a ON a.id = p.idea_id "
            "JOIN ideas AS b ON b.id = p.other_id WHERE p.resolved_at IS NULL "
            "AND a.status <> ? AND b.status <> ?",
            _MERGED,
        )
        return int(row[0]) if row else 0

    async def open_duplicate(self, idea_id: int, other_id: int) -> PossibleDuplicate | None:
        """One open pair (as open_duplicates lists it), or None when it is not open."""
        row = await fetch_one(self._db, f"{_PAIRS} AND p.idea_id = ? AND p.other_id = ?",
                              (*_MERGED, idea_id, other_id))  # fmt: skip
        return _pair(row) if row else None

    async def resolve_duplicate(self, idea_id: int, other_id: int, now: datetime) -> bool:
        """Close a pair (merged from the digest, or dismissed); False if it was not open."""
        cursor = await self._db.execute(
            "UPDATE possible_duplicates SET resolved_at = ? WHERE idea_id = ? AND other_id = ? "
            "AND resolved_at IS NULL",
            (to_db(now), idea_id, other_id),
        )
        return cursor.rowcount == 1

    async def without_vector(self, model: str, limit: int) -> list[tuple[int, str]]:
        """(id, problem) of ideas with no vector for the model yet, oldest first (backfill)."""
        rows = await fetch_all(
            self._db,
            "SELECT i.id, i.problem FROM ideas AS i WHERE NOT EXISTS (SELECT 1 FROM "
            "idea_vectors AS v WHERE v.idea_id = i.id AND v.model = ?) ORDER BY i.id LIMIT ?",
            (model, limit),
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    async def count_without_vector(self, model: str) -> int:
        row = await fetch_one(
            self._db,
            "SELECT count(*) FROM ideas AS i WHERE NOT EXISTS (SELECT 1 FROM idea_vectors AS v "
            "WHERE v.idea_id = i.id AND v.model = ?)",
            (model,),
        )
        return int(row[0]) if row else 0

    async def count_vectors(self, model: str) -> int:
        row = await fetch_one(
            self._db, "SELECT count(*) FROM idea_vectors WHERE model = ?", (model,)
        )
        return int(row[0]) if row else 0


def _candidate(row: Any) -> Candidate:
    vector = row["vector"]
    return Candidate(
        idea_id=int(row["id"]),
        reference=str(row["reference"]),
        category=str(row["category"]),
        place=Place(row["latitude"], row["longitude"], row["location_text"]),
        status=IdeaStatus(row["status"]),
        problem=str(row["problem"]),
        publish=str(row["publish"]),
        created_at=str(row["created_at"]),
        vector=bytes(vector),
    )


# The open pairs, with both ideas; a pair one of whose ideas is a duplicate now was merged
# another way (from its record, or another pair) and is left out.
_PAIRS = (
    "SELECT p.idea_id, p.other_id, p.score, p.created_at, a.reference AS a_reference, "
    "a.problem AS a_problem, a.created_at AS a_created_at, b.reference AS b_reference, "
    "b.problem AS b_problem, b.created_at AS b_created_at FROM possible_duplicates AS p "
    "JOIN ideas AS a ON a.id = p.idea_id JOIN ideas AS b ON b.id = p.other_id "
    "WHERE p.resolved_at IS NULL AND a.status <> ? AND b.status <> ?"
)
_MERGED = (IdeaStatus.DUPLICATE.value, IdeaStatus.DUPLICATE.value)


def _pair(row: Any) -> PossibleDuplicate:
    def side(idea_id: Any, side: str) -> PairIdea:
        return PairIdea(int(idea_id), str(row[f"{side}_reference"]), str(row[f"{side}_problem"]),
                        str(row[f"{side}_created_at"]))  # fmt: skip

    return PossibleDuplicate(side(row["idea_id"], "a"), side(row["other_id"], "b"),
                             float(row["score"]), str(row["created_at"]))  # fmt: skip

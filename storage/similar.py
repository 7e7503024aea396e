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
        self, model: str, category: str, place: Place, radius_meters: float,
        *, exclude_resident: int | None = None, most: int = MOST_CANDIDATES,
    ) -> list[Candidate]:  # fmt: skip
        """The ideas of the category near the place that may be shown, with their vector:
        of the newest `most` there, those whose author has not erased their data and whose
        vector is computed (`exclude_resident`: not that resident's own ideas)."""
        where, values = _where_place(place, radius_meters)
        if exclude_resident is not None:
            where, values = f"{where} AND i.resident_id <> ?", [*values, exclude_resident]
        hidden = ", ".join("?" for _ in HIDDEN_STATUSES)
        # The newest first, and their vector and author joined only after the limit: of a busy
        # neighbourhood's thousands, only `most` are read whole.
        rows = await fetch_all(
            self._db,
            "SELECT i.id, i.reference, i.category, i.latitude, i.longitude, i.location_text, "  # noqa: S608
            "i.status, i.problem, i.publish, i.created_at, v.vector FROM (SELECT i.id FROM "
            f"ideas AS i WHERE i.category = ? AND i.status NOT IN ({hidden}) AND {where} "
            "ORDER BY i.id DESC LIMIT ?) AS newest JOIN ideas AS i ON i.id = newest.id "
            "JOIN idea_vectors AS v ON v.idea_id = i.id AND v.model = ? "
            "JOIN residents AS r ON r.id = i.resident_id "
            "WHERE r.erased_at IS NULL ORDER BY i.id DESC",
            (category, *(s.value for s in HIDDEN_STATUSES), *values, most, model),
        )
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

"""Filter and rank: which earlier ideas are near enough, in the same category, and close enough
in meaning to be offered as "probably the same problem"."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from handlers.engine.encoder import Encoder, EncoderBusy
from handlers.engine.settings import SimilarSettings
from handlers.similar.vectors import cosines
from storage.similar import Candidate, Place

EARTH_RADIUS_METERS = 6_371_000.0

__all__ = ["Encoder", "EncoderBusy", "Match", "best", "distance_meters", "near", "rank"]


@dataclass(frozen=True, slots=True)
class Match:
    """A candidate offered, with why: its score, and how far (None: same neighbourhood)."""

    candidate: Candidate
    score: float
    distance_meters: float | None


def distance_meters(a: Place, b: Place) -> float:
    """Great-circle distance between two points (haversine)."""
    assert a.latitude is not None and a.longitude is not None
    assert b.latitude is not None and b.longitude is not None
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_METERS * math.asin(min(1.0, math.sqrt(h)))


def _same_neighbourhood(a: Place, b: Place) -> bool:
    if not a.neighbourhood or not b.neighbourhood:
        return False
    return a.neighbourhood.strip().casefold() == b.neighbourhood.strip().casefold()


def near(a: Place, b: Place, radius_meters: float) -> tuple[bool, float | None]:
    """(near?, distance): within the radius when both have a point, else the same
    neighbourhood (then no distance)."""
    if a.has_point and b.has_point:
        distance = distance_meters(a, b)
        return distance <= radius_meters, distance
    return _same_neighbourhood(a, b), None


def rank(
    vector: Sequence[float],
    candidates: Iterable[Candidate],
    *,
    category: str | None,
    place: Place | None,
    settings: SimilarSettings,
) -> list[Match]:
    """The best `limit` candidates of the category (None: any), near the place (None:
    anywhere), scoring at least `min_score`, best first (ties: the newer idea). All kept
    candidates are scored in one matrix product (handlers/similar/vectors.cosines)."""
    kept: list[tuple[Candidate, float | None]] = []
    for candidate in candidates:
        if category is not None and candidate.category != category:
            continue
        distance = None
        if place is not None:
            close, distance = near(place, candidate.place, settings.radius_meters)
            if not close:
                continue
        kept.append((candidate, distance))
    scores = cosines(vector, [candidate.vector for candidate, _ in kept])
    found = [
        Match(candidate, score, distance)
        for (candidate, distance), score in zip(kept, scores, strict=True)
        if score >= settings.min_score
    ]
    return best(found, settings.limit)


def best(matches: Iterable[Match], limit: int) -> list[Match]:
    """The `limit` best matches, best first (ties: the newer idea)."""
    return sorted(matches, key=lambda m: (-m.score, -m.candidate.idea_id))[:limit]

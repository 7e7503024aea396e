"""handlers/similar: the place and category filter, the ranking, and the stored vectors."""

import math

from hypothesis import assume, given
from hypothesis import strategies as st

from handlers.engine.settings import SimilarSettings
from handlers.similar.match import distance_meters, near, rank
from handlers.similar.vectors import cosine, pack, unpack
from storage.models import IdeaStatus
from storage.similar import Candidate, Place

HERE = Place(4.6486, -74.0628)
SETTINGS = SimilarSettings(min_score=0.5, radius_meters=400, limit=3)
NORTH = (1.0, 0.0, 0.0)


def _unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def _at_meters(north: float) -> Place:
    """A point `north` meters north of HERE."""
    assert HERE.latitude is not None and HERE.longitude is not None
    return Place(HERE.latitude + north / 111_195, HERE.longitude)


def _candidate(
    idea_id: int, vector: tuple[float, ...] = NORTH, *, place: Place = HERE,
    category: str = "mobility",
) -> Candidate:  # fmt: skip
    vector_bytes = pack(_unit(*vector))
    return Candidate(idea_id, f"MNG-2026-{idea_id:06d}", category, place, IdeaStatus.RECEIVED,
                     "Hay un hueco", "no", "2026-12-01T00:00:00Z", vector_bytes)  # fmt: skip


def _ranked(candidates: list[Candidate], place: Place = HERE, **changes: float) -> list[int]:
    settings = SimilarSettings(**{**SETTINGS.model_dump(), **changes})
    found = rank(NORTH, candidates, category="mobility", place=place, settings=settings)
    return [m.candidate.idea_id for m in found]


def test_within_the_radius_when_both_have_a_point() -> None:
    assert round(distance_meters(HERE, _at_meters(390))) == 390
    assert _ranked(
        [_candidate(1, place=_at_meters(390)), _candidate(2, place=_at_meters(410))]
    ) == [1]
    assert _ranked([_candidate(2, place=_at_meters(410))], radius_meters=500) == [2]
    [match] = rank(NORTH, [_candidate(1, place=_at_meters(100))], category="mobility",
                   place=HERE, settings=SETTINGS)  # fmt: skip
    assert match.distance_meters is not None and round(match.distance_meters) == 100


def test_the_same_neighbourhood_otherwise_in_any_case() -> None:
    flora = Place(neighbourhood="La Flora")
    pinned_in_flora = Place(HERE.latitude, HERE.longitude, "la flora")
    candidates = [
        _candidate(1, place=Place(neighbourhood=" LA FLORA ")),
        _candidate(2, place=Place(neighbourhood="Danubio")),
        _candidate(3, place=HERE),  # a point, no neighbourhood: nothing to compare with
        _candidate(4, place=pinned_in_flora),
    ]
    assert _ranked(candidates, place=flora) == [4, 1]
    assert near(flora, Place(), 400) == (False, None)
    assert near(Place(), Place(), 400) == (False, None)  # two ideas with no place: not "near"
    # Both with a point: the distance decides, even in the same neighbourhood.
    far_in_flora = Place(HERE.latitude + 0.01, HERE.longitude, "La Flora")
    assert near(pinned_in_flora, far_in_flora, 400)[0] is False


def test_only_the_same_category() -> None:
    assert _ranked([_candidate(1, category="safety"), _candidate(2)]) == [2]


def test_best_first_above_min_score_at_most_limit() -> None:
    candidates = [
        _candidate(1, (1.0, 1.0, 0.0)),  # cosine 0.71
        _candidate(2, (1.0, 0.1, 0.0)),  # 0.99
        _candidate(3, (0.0, 1.0, 0.0)),  # 0: below min_score
        _candidate(4, (1.0, 0.5, 0.0)),  # 0.89
        _candidate(5, (1.0, 0.6, 0.0)),  # 0.86
    ]
    assert _ranked(candidates) == [2, 4, 5]
    assert _ranked(candidates, limit=5) == [2, 4, 5, 1]
    assert _ranked(candidates, min_score=0.9) == [2]
    assert _ranked([_candidate(7), _candidate(9), _candidate(8)]) == [9, 8, 7]  # ties: newest


def test_the_default_settings_are_the_measured_ones() -> None:
    assert SimilarSettings() == SimilarSettings(min_score=0.86, radius_meters=400, limit=3)


@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=2, max_size=64))
def test_packed_vectors_keep_their_cosine(raw: list[float]) -> None:
    """What the model gives: a unit-length vector."""
    norm = math.sqrt(sum(v * v for v in raw))
    assume(norm > 1e-3)
    values = [v / norm for v in raw]
    packed = pack(values)
    assert len(packed) == 4 + len(values)
    restored = unpack(packed)
    largest = max(abs(v) for v in values)
    assert all(abs(a - b) <= largest / 254 + 1e-6 for a, b in zip(values, restored, strict=True))
    assert cosine(values, restored) > 0.99

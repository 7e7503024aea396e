"""look_up without a place reads the store a page at a time and keeps the best across pages;
with the category and place (the intake's call) it reads once, as before."""

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from handlers.engine.settings import SimilarSettings
from handlers.similar import lookup
from handlers.similar.vectors import pack
from storage.database import Database
from storage.models import Focus, NewIdea, Role
from storage.similar import Place

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
HERE = Place(4.6486, -74.0628, "La Flora")
SETTINGS = SimilarSettings(min_score=0.5, radius_meters=400, limit=2)


class Fixed:
    """An encoder that says every text points north, and counts its calls."""

    model = "fixed"

    def __init__(self) -> None:
        self.calls = 0

    async def encode(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return [[1.0, 0.0] for _ in texts]


async def _store(
    database: Database, vectors: list[tuple[float, float]], category: str
) -> list[int]:
    ids = []
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("telegram", "1", NOW)
        for vector in vectors:
            idea_id, _ = await repos.ideas.create(
                NewIdea(resident_id=resident.id, role=Role.RESIDENT, language="es",
                        problem="Un hueco", idea=None, category=category, focus=Focus.EXTERNAL,
                        anonymous=True, latitude=HERE.latitude, longitude=HERE.longitude,
                        location_text=HERE.neighbourhood),
                prefix="MNG", year=2026, now=NOW,
            )  # fmt: skip
            await repos.similar.save_vector(idea_id, "fixed", pack(vector))
            ids.append(idea_id)
    return ids


async def test_the_best_are_kept_across_pages(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "PAGE", 2)
    # The best two are the oldest (the last page read) and one in the middle.
    ids = await _store(database, [(1.0, 0.0), (0.6, 0.8), (0.9, 0.1), (0.0, 1.0), (0.7, 0.7)],
                       "mobility")  # fmt: skip
    await _store(database, [(1.0, 0.01)], "safety")
    encoder = Fixed()
    found = await lookup.look_up(database.reader(), encoder, SETTINGS, "x")
    assert [m.candidate.category for m in found.matches] == ["mobility", "safety"]
    found = await lookup.look_up(database.reader(), encoder, SETTINGS, "x", category="mobility")
    assert [m.candidate.idea_id for m in found.matches] == [ids[0], ids[2]]
    assert all(m.distance_meters is None for m in found.matches)
    assert encoder.calls == 2  # once per lookup, not per page
    # The intake's call: the category near the place, with each one's distance.
    found = await lookup.look_up(database.reader(), encoder, SETTINGS, "x", category="mobility",
                                 place=Place(HERE.latitude, HERE.longitude))  # fmt: skip
    assert [m.candidate.idea_id for m in found.matches] == [ids[0], ids[2]]
    assert all(m.distance_meters is not None for m in found.matches)


async def test_nothing_stored_encodes_nothing(database: Database) -> None:
    encoder = Fixed()
    found = await lookup.look_up(database.reader(), encoder, SETTINGS, "x")
    assert (found.matches, found.vector, encoder.calls) == ([], None, 0)

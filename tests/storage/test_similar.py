"""The similar-ideas lookup's store (storage/similar.py, migration 0014), on both databases:
only ideas that may be shown, of the category, near the place, with the model's vector."""

from datetime import UTC, datetime

from storage.database import Database
from storage.models import Focus, IdeaStatus, NewIdea, Role
from storage.repositories import Repositories
from storage.similar import Place

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
MODEL = "test-model"
HERE = Place(4.6486, -74.0628)
NEAR = Place(4.6497, -74.0617)  # ~170 m away
FAR = Place(4.6280, -74.1510)  # ~10 km away


async def _file(
    repos: Repositories, problem: str = "Hay un hueco en la calle", *, user: str = "1",
    category: str = "mobility", place: Place = NEAR, vector: bytes | None = b"\x01\x02",
) -> int:  # fmt: skip
    resident = await repos.residents.get_or_create("telegram", user, NOW)
    idea_id, _ = await repos.ideas.create(
        NewIdea(
            resident_id=resident.id, role=Role.RESIDENT, language="es", problem=problem,
            idea=None, category=category, focus=Focus.EXTERNAL, anonymous=True,
            latitude=place.latitude, longitude=place.longitude,
            location_text=place.neighbourhood,
        ),
        prefix="MNG", year=2026, now=NOW,
    )  # fmt: skip
    if vector is not None:
        await repos.similar.save_vector(idea_id, MODEL, vector)
    return idea_id


async def _ids(database: Database, category: str = "mobility", place: Place = HERE) -> list[int]:
    found = await database.reader().similar.candidates(MODEL, category, place, 400)
    return [c.idea_id for c in found]


async def test_an_idea_near_of_the_category_is_a_candidate_with_its_vector(
    database: Database,
) -> None:
    async with database.transaction() as repos:
        idea = await _file(repos, vector=b"\x00\x00\x80?\x7f")
    [candidate] = await database.reader().similar.candidates(MODEL, "mobility", HERE, 400)
    assert (candidate.idea_id, candidate.vector) == (idea, b"\x00\x00\x80?\x7f")
    assert candidate.reference.startswith("MNG-2026-")
    assert candidate.status is IdeaStatus.RECEIVED
    assert candidate.place == NEAR
    assert candidate.problem == "Hay un hueco en la calle"


async def test_another_category_far_away_or_another_neighbourhood_is_not(
    database: Database,
) -> None:
    async with database.transaction() as repos:
        await _file(repos, category="safety")
        await _file(repos, place=FAR)
        await _file(repos, place=Place(neighbourhood="Danubio"))
        near = await _file(repos)
        same_neighbourhood = await _file(repos, place=Place(neighbourhood="La Flora"))
    assert await _ids(database) == [near]
    assert await _ids(database, place=Place(neighbourhood="la flora ")) == [same_neighbourhood]
    both = Place(HERE.latitude, HERE.longitude, "La Flora")  # an imported idea may carry both
    assert await _ids(database, place=both) == [same_neighbourhood, near]


async def test_hidden_ideas_are_never_candidates(database: Database) -> None:
    """Not viable, a duplicate, an erased author's idea, a withdrawn (deleted) one."""
    async with database.transaction() as repos:
        shown = await _file(repos)
        for status in (IdeaStatus.NOT_SELECTED, IdeaStatus.DUPLICATE):
            hidden = await _file(repos)
            await repos.ideas.set_status(hidden, status, actor="cli", reason=None,
                                         duplicate_of=shown, now=NOW)  # fmt: skip
        for status in (IdeaStatus.IN_REVIEW, IdeaStatus.SELECTED, IdeaStatus.IMPLEMENTED):
            await repos.ideas.set_status(await _file(repos), status, actor="cli", reason=None,
                                         duplicate_of=None, now=NOW)  # fmt: skip
        erased = await _file(repos, user="2")
        withdrawn = await _file(repos, user="3")
    async with database.transaction() as repos:
        author = await repos.residents.get_or_create("telegram", "2", NOW)
        await repos.privacy.erase_resident(author.id, NOW)
        leaving = await repos.residents.get_or_create("telegram", "3", NOW)
        await repos.privacy.withdraw_ideas(leaving.id)
    found = await _ids(database)
    assert shown in found and len(found) == 4
    assert erased not in found and withdrawn not in found


async def test_vectors_are_per_model_and_replaced(database: Database) -> None:
    async with database.transaction() as repos:
        idea = await _file(repos, vector=None)
        assert await repos.similar.without_vector(MODEL, 10) == [(idea, "Hay un hueco en la calle")]
        await repos.similar.save_vector(idea, "other-model", b"\x01")
        assert await _ids(database) == []  # no vector of this model yet
        await repos.similar.save_vector(idea, MODEL, b"\x01")
        await repos.similar.save_vector(idea, MODEL, b"\x02")
        assert await repos.similar.without_vector(MODEL, 10) == []
        assert await repos.similar.count_vectors(MODEL) == 1
        await repos.similar.save_vector(10_000, MODEL, b"\x03")  # gone: nothing stored
        assert await repos.similar.count_vectors(MODEL) == 1
    [candidate] = await database.reader().similar.candidates(MODEL, "mobility", HERE, 400)
    assert candidate.vector == b"\x02"


async def test_without_category_or_place_every_idea_that_may_be_shown_page_by_page(
    database: Database,
) -> None:
    """`minga ideas similar` without --category or a place: any category, anywhere, still
    never a hidden idea; read a page at a time (newest first)."""
    async with database.transaction() as repos:
        ideas = [
            await _file(repos),
            await _file(repos, category="safety"),
            await _file(repos, place=FAR),
            await _file(repos, place=Place(neighbourhood="Danubio")),
        ]
        hidden = await _file(repos)
        await repos.ideas.set_status(hidden, IdeaStatus.NOT_SELECTED, actor="cli", reason=None,
                                     duplicate_of=None, now=NOW)  # fmt: skip
    similar = database.reader().similar

    async def ids(category: str | None, **page: int) -> list[int]:
        return [c.idea_id for c in await similar.candidates(MODEL, category, None, 400, **page)]

    assert await ids(None) == ideas[::-1]
    assert await ids("safety") == [ideas[1]]
    assert await ids(None, limit=2) == [ideas[3], ideas[2]]
    assert await ids(None, limit=2, before_id=ideas[2]) == [ideas[1], ideas[0]]
    assert await ids(None, limit=2, before_id=ideas[0]) == []
    # Any category near the place.
    found = await similar.candidates(MODEL, None, HERE, 400)
    assert [c.idea_id for c in found] == [ideas[1], ideas[0]]


async def test_open_possible_duplicates_until_resolved_merged_or_withdrawn(
    database: Database,
) -> None:
    """The digest's pairs: open ones oldest first, with both ideas; a resolved pair, one whose
    idea became a duplicate another way, and one whose idea is gone are not listed."""
    later = NOW.replace(hour=16)
    async with database.transaction() as repos:
        a, b, c, d = [await _file(repos, f"Problema {n}", user=str(n)) for n in range(4)]
        await repos.similar.note_possible_duplicates(c, [(a, 0.9), (b, 0.87)], later)
        await repos.similar.note_possible_duplicates(b, [(a, 0.93)], NOW)
        await repos.similar.note_possible_duplicates(d, [(a, 0.88)], later)
    similar = database.reader().similar
    pairs = await similar.open_duplicates(10)
    assert [(p.idea.idea_id, p.other.idea_id) for p in pairs] == [(b, a), (c, a), (c, b), (d, a)]
    assert pairs[0].score == 0.93 and pairs[0].other.problem == "Problema 0"
    assert pairs[0].newer_and_older == (pairs[0].idea, pairs[0].other)
    assert await similar.count_open_duplicates() == 4
    assert len(await similar.open_duplicates(2)) == 2
    async with database.transaction() as repos:
        assert await repos.similar.resolve_duplicate(b, a, later)
        assert not await repos.similar.resolve_duplicate(b, a, later)  # once
        await repos.similar.note_possible_duplicates(b, [(a, 0.95)], later)  # stays resolved
        await repos.ideas.set_status(c, IdeaStatus.DUPLICATE, actor="cli", reason=None,
                                     duplicate_of=a, now=later)  # fmt: skip
        leaving = await repos.residents.get_or_create("telegram", "3", NOW)
        await repos.privacy.withdraw_ideas(leaving.id)  # d
    assert await similar.open_duplicates(10) == []
    assert await similar.count_open_duplicates() == 0
    assert await similar.open_duplicate(c, b) is None


async def test_a_busy_neighbourhood_gives_its_newest_ideas_that_may_be_shown(
    database: Database,
) -> None:
    """A neighbourhood without a point can hold thousands of ideas of a category: a lookup
    compares the newest (MOST_CANDIDATES), and hidden ideas do not take their places."""
    place = Place(neighbourhood="La Flora")
    async with database.transaction() as repos:
        filed = [await _file(repos, place=place) for _ in range(5)]
        hidden = await _file(repos, place=place)
        await repos.ideas.set_status(hidden, IdeaStatus.NOT_SELECTED, actor="cli", reason=None,
                                     duplicate_of=None, now=NOW)  # fmt: skip
    found = await database.reader().similar.candidates(MODEL, "mobility", place, 400, most=3)
    assert [c.idea_id for c in found] == filed[:-4:-1]
    assert await _ids(database, place=place) == filed[::-1]

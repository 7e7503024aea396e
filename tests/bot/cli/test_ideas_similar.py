"""`minga ideas similar`: what the matcher finds for a text, with the real model, on a few
stored ideas: best first, filtered by category and place only when asked, with why; one clear
line and exit 2 for a bad option; a store without vectors says to reindex."""

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.similar import MODEL, E5Encoder
from handlers.similar.vectors import pack
from handlers.staff.triage import change_status
from storage.database import Database
from storage.models import Focus, IdeaStatus, NewIdea, Role
from storage.repositories import Repositories
from storage.similar import Place
from tests.fakes.clock import FakeClock
from tests.fakes.sql import cli_database, cli_in

HERE = Place(4.6486, -74.0628, "La Flora")
NEAR = Place(4.6497, -74.0617, "La Flora")  # ~170 m away
FAR = Place(4.6280, -74.1510, "Danubio")  # ~10 km away
QUERY = "Hay un hueco en la calle que daña los carros"
# (problem, category, place)
IDEAS = [
    ("Hay un hueco enorme en la calle principal y los carros se dañan", "mobility", HERE),
    ("Un bache grande en la vía frente al colegio", "mobility", NEAR),
    ("La basura se acumula en el parque y huele mal", "environment", HERE),
    ("Hay un hueco en la calle del barrio", "mobility", FAR),
    ("Un hueco en la calle daña los carros de todos", "mobility", HERE),  # not viable
    ("Huecos en la calle que dañan los carros", "mobility", HERE),  # no vector yet
]
NOT_VIABLE, NO_VECTOR = 4, 5


async def _file(repos: Repositories, number: int, problem: str, category: str,
                place: Place, clock: FakeClock) -> int:  # fmt: skip
    resident = await repos.residents.get_or_create("telegram", f"{500 + number}", clock.now())
    idea_id, _ = await repos.ideas.create(
        NewIdea(
            resident_id=resident.id, role=Role.RESIDENT, language="es", problem=problem,
            idea=None, category=category, focus=Focus.EXTERNAL, anonymous=True,
            latitude=place.latitude, longitude=place.longitude,
            location_text=place.neighbourhood,
        ),
        prefix="MNG", year=2026, now=clock.now() + timedelta(minutes=number),
    )  # fmt: skip
    return idea_id


async def _store(*, vectors: bool) -> None:
    """The ideas above, with the real model's vectors (unless `vectors` is False)."""
    clock = FakeClock()
    database = await Database.open(cli_database())
    encoded = E5Encoder().encode_now([problem for problem, _, _ in IDEAS])
    try:
        async with database.transaction() as repos:
            for number, (problem, category, place) in enumerate(IDEAS):
                idea_id = await _file(repos, number, problem, category, place, clock)
                if vectors and number != NO_VECTOR:
                    await repos.similar.save_vector(idea_id, MODEL, pack(encoded[number]))
                if number == NOT_VIABLE:
                    idea = await repos.idea_search.get(idea_id)
                    assert idea is not None
                    await change_status(repos, idea, IdeaStatus.NOT_SELECTED, actor="cli",
                                        now=clock.now(), reason="En el plan de obras")  # fmt: skip
    finally:
        await database.close()


def _reference(number: int) -> str:
    return f"MNG-2026-{number + 1:06d}"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_in(tmp_path, monkeypatch)


@pytest.fixture
def stored() -> None:
    asyncio.run(_store(vectors=True))


def _json(capsys: pytest.CaptureFixture[str], *options: str) -> Any:
    assert main(["ideas", "similar", "--text", QUERY, *options, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.usefixtures("stored")
def test_near_ideas_of_the_category_best_first_with_their_distance(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = _json(capsys, "--category", "mobility", "--lat", "4.6486", "--lon", "-74.0628",
                  "--min-score", "0.5")  # fmt: skip
    # Not the other category, not the far one, never the one not viable.
    assert [f["reference"] for f in found] == [_reference(0), _reference(1)]
    assert found[0]["score"] > found[1]["score"] >= 0.5
    assert found[0]["distance_meters"] < 1 and 100 < found[1]["distance_meters"] < 250
    assert {f["category"] for f in found} == {"mobility"}
    assert found[0]["status"] == "received" and found[0]["problem"] == IDEAS[0][0]


@pytest.mark.usefixtures("stored")
def test_by_neighbourhood_the_same_neighbourhood_has_no_distance(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = _json(capsys, "--category", "mobility", "--neighbourhood", "la flora",
                  "--min-score", "0.5")  # fmt: skip
    # Both have a point, but only the neighbourhood was asked for.
    assert [f["reference"] for f in found] == [_reference(0), _reference(1)]
    assert [f["distance_meters"] for f in found] == [None, None]


@pytest.mark.usefixtures("stored")
def test_without_category_or_place_every_idea_that_may_be_shown_is_compared(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ideas", "similar", "--text", QUERY, "--min-score", "0", "--limit", "10",
                 "--json"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    found = json.loads(captured.out)
    # The idea without a vector yet is not compared, and stderr says how to add it.
    assert "minga ideas reindex" in captured.err
    assert {f["reference"] for f in found} == {_reference(n) for n in range(4)}
    assert found[0]["reference"] == _reference(0)  # the same problem in nearly the same words
    assert [f["score"] for f in found] == sorted((f["score"] for f in found), reverse=True)
    assert {f["category"] for f in found} == {"mobility", "environment"}
    assert _json(capsys, "--min-score", "0", "--limit", "2") == found[:2]
    # The threshold is [similar] min_score unless --min-score says otherwise.
    strict = _json(capsys, "--min-score", f"{found[0]['score'] - 0.0001}")
    assert [f["reference"] for f in strict] == [_reference(0)]


@pytest.mark.usefixtures("stored")
def test_the_table_and_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ideas", "similar", "--text", QUERY, "--min-score", "0.5", "--category",
                 "mobility", "--lat", "4.6486", "--lon", "-74.0628"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    first, second = out.index(_reference(0)), out.index(_reference(1))
    assert first < second and _reference(2) not in out
    assert "received" in out and "mobility" in out and IDEAS[1][0][:20] in out
    scores = [word for word in out.split() if word.startswith("0.") and len(word) == 5]
    assert len(scores) == 2  # three decimals: 0.859 no longer reads as 0.86
    assert main(["ideas", "similar", "--text", "Quiero un curso de música para los niños",
                 "--category", "safety"]) == 0  # fmt: skip
    assert "none" in capsys.readouterr().out
    assert _json(capsys, "--category", "safety") == []


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--lat", "4.6"], "--lon"),
        (["--lon", "-74.1"], "--lat"),
        (["--lat", "4.6", "--lon", "-74.1", "--neighbourhood", "La Flora"], "--neighbourhood"),
        (["--lat", "95", "--lon", "-74.1"], "--lat"),
        (["--lat", "4.6", "--lon", "-200"], "--lon"),
        (["--lat", "nan", "--lon", "-74.1"], "--lat"),
        (["--category", "parks"], "mobility"),  # the valid keys are listed
        (["--limit", "0"], "--limit"),
        (["--min-score", "1.5"], "--min-score"),
        (["--neighbourhood", "  "], "--neighbourhood"),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    assert main(["ideas", "similar", "--text", QUERY, *options]) == 2
    captured = capsys.readouterr()
    assert named in captured.err and captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1


def test_a_bad_number_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["ideas", "similar", "--text", QUERY, "--lat", "norte", "--lon", "-74.1"])
    assert stopped.value.code == 2 and "--lat" in capsys.readouterr().err


def test_without_vectors_it_says_to_reindex(capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_store(vectors=False))
    assert main(["ideas", "similar", "--text", QUERY]) == 1
    captured = capsys.readouterr()
    assert "minga ideas reindex" in captured.err and captured.out == ""
    # Once indexed, the same question is answered.
    assert main(["ideas", "reindex", "--json"]) == 0
    capsys.readouterr()
    found = _json(capsys, "--category", "mobility", "--neighbourhood", "La Flora", "--min-score",
                  "0.5")  # fmt: skip
    assert {_reference(0), _reference(NO_VECTOR)} <= {f["reference"] for f in found}


def test_an_empty_store_has_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ideas", "similar", "--text", QUERY]) == 0
    assert "none" in capsys.readouterr().out


def test_help_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["ideas", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "similar" in capsys.readouterr().out

"""Supporters in what leaves Minga: a `supporters` column in CSV and XLSX, a file exported
with it imports again (the column is accepted and ignored: supporters join in the chat), and
the public catalogue shows the count where there is one, never who (issue 21)."""

import csv
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers.engine.catalog import Catalog
from handlers.engine.settings import LabSettings
from handlers.exports.catalogue import Catalogue
from handlers.exports.export import export_ideas
from handlers.exports.importing import plan_import, read_rows, write_import
from storage.database import Database
from storage.models import IdeaFilter
from storage.supports import NewSupport
from tests.fakes.clock import FakeClock
from tests.fakes.sql import database_for
from tests.handlers.exports.helpers import PEOPLE, seed

LAB = LabSettings()
JOINED = {0: 3, 1: 1}  # supporters of the seeded ideas, by their place in PEOPLE


async def seed_with_supporters(database: Database, now: datetime) -> dict[str, int]:
    """The export tests' ideas, some of them joined: {reference: supporters}."""
    references = await seed(database, now)
    async with database.transaction() as repos:
        for index, people in JOINED.items():
            idea = await repos.idea_search.by_reference(references[index])
            assert idea is not None
            for k in range(people):
                resident = await repos.residents.get_or_create("telegram", f"s{index}-{k}", now)
                await repos.supports.add(NewSupport(idea.id, resident.id, "yo también"), now)
    return {ref: JOINED.get(index, 0) for index, ref in enumerate(references)}


async def test_csv_and_xlsx_carry_each_ideas_supporters(
    database: Database, tmp_path: Path, clock: FakeClock
) -> None:
    expected = await seed_with_supporters(database, clock.now())
    csv_path, xlsx_path = tmp_path / "ideas.csv", tmp_path / "ideas.xlsx"
    await export_ideas(database.reader(), LAB, format="csv", path=csv_path)
    await export_ideas(database.reader(), LAB, format="xlsx", path=xlsx_path)
    with csv_path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert {row["reference"]: int(row["supporters"]) for row in rows} == expected
    sheet = load_workbook(xlsx_path, read_only=True)["ideas"]
    header, *cells = list(sheet.iter_rows(values_only=True))
    at, column = header.index("reference"), header.index("supporters")
    assert {row[at]: row[column] for row in cells} == expected


@pytest.mark.parametrize("format", ["csv", "xlsx"])
async def test_a_file_exported_with_supporters_imports_again(
    database: Database, tmp_path: Path, clock: FakeClock, format: str
) -> None:
    expected = await seed_with_supporters(database, clock.now())
    path = tmp_path / f"ideas.{format}"
    await export_ideas(database.reader(), LAB, format=format, path=path)
    (tmp_path / "fresh").mkdir()
    fresh = await Database.open(database_for(tmp_path / "fresh"))
    later = clock.now() + timedelta(days=1)  # the seeded ideas are a few minutes ahead
    try:
        header, rows = read_rows(path)
        assert "supporters" in header
        async with fresh.transaction() as repos:
            plan = await plan_import(repos, rows, LAB, later, header=header)
            assert plan.bad == [] and plan.ignored_columns == ()
            result = await write_import(repos, plan, LAB, later)
        assert sorted(result.references) == sorted(expected)
        imported = [i async for i in fresh.reader().idea_search.stream(IdeaFilter())]
        # Nobody joined these in this chat: a number in a file makes no supporters.
        assert [i.supporters for i in imported] == [0] * len(PEOPLE)
    finally:
        await fresh.close()


async def test_the_catalogue_shows_the_count_where_people_joined(
    database: Database, catalog: Catalog, clock: FakeClock, tmp_path: Path
) -> None:
    expected = await seed_with_supporters(database, clock.now())
    out = tmp_path / "catalogue"
    out.mkdir()
    catalogue = Catalogue(database.reader(), LAB, catalog, tmp_path / "media", out, clock.now())
    await catalogue.write()
    page = (out / "index.html").read_text("utf-8")
    t = catalog.translator(LAB.default_language)
    articles = re.findall(r"<article.*?</article>", page, re.DOTALL)
    shown = 0
    for article in articles:
        [reference] = [ref for ref in expected if ref in article]
        count = expected[reference]
        found = re.findall(r'data-supporters="(\d+)"', article)
        assert found == ([str(count)] if count else []), reference
        if count:
            assert t("catalogue.supporters", count=count) in article
            shown += 1
    assert shown == len(JOINED)  # both joined ideas allowed publication
    assert "yo también" not in page  # what supporters added is for staff only

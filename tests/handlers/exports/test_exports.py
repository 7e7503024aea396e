"""Exports: the CSV round-trips, the XLSX opens with openpyxl and matches the database, the
GeoJSON and Open311 files validate against their formats, and contact details appear only
when asked for, in every format."""

import csv
import json
from pathlib import Path

import geojson
import jsonschema
import pytest
from openpyxl import load_workbook

from handlers.engine.settings import LabSettings
from handlers.exports.columns import COLUMNS, CONTACT_COLUMNS
from handlers.exports.export import FORMATS, export_ideas
from storage.database import Database
from storage.models import IdeaFilter, IdeaRecord
from tests.fakes.clock import FakeClock
from tests.handlers.exports.helpers import FORMULA, PEOPLE, seed

LAB = LabSettings()
SCHEMA = json.loads((Path(__file__).parent / "open311_request.schema.json").read_text())
NAMES = [p[0] for p in PEOPLE if p[0]]
CONTACTS = [p[1] for p in PEOPLE if p[1]]


async def stored(database: Database) -> list[IdeaRecord]:
    return [idea async for idea in database.reader().idea_search.stream(IdeaFilter())]


async def export(
    database: Database, tmp_path: Path, format: str, *, with_contact: bool = False,
    media_url: str | None = None,
) -> Path:  # fmt: skip
    path = tmp_path / f"ideas.{format}"
    count = await export_ideas(database.reader(), LAB, format=format, path=path,
                               with_contact=with_contact, media_url=media_url)  # fmt: skip
    assert count == len(PEOPLE)
    return path


def undo_defuse(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:2] in "=+-@\t\r" else text


async def test_the_csv_round_trips(database: Database, tmp_path: Path, clock: FakeClock) -> None:
    await seed(database, clock.now())
    path = await export(database, tmp_path, "csv", with_contact=True)
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == [c.name for c in COLUMNS + CONTACT_COLUMNS]
    for row, idea in zip(rows, await stored(database), strict=True):
        for column in COLUMNS + CONTACT_COLUMNS:
            value = column.value(idea, LAB)
            expected = "" if value is None else ("yes" if value else "no") if isinstance(
                value, bool) else str(value)  # fmt: skip
            assert undo_defuse(row[column.name]) == expected, column.name
    # Text that looks like a formula is kept as text, not run by a spreadsheet.
    assert rows[1]["problem"] == "'" + FORMULA


async def test_the_xlsx_opens_and_matches_the_database(
    database: Database, tmp_path: Path, clock: FakeClock
) -> None:
    await seed(database, clock.now())
    path = await export(database, tmp_path, "xlsx")
    sheet = load_workbook(path, read_only=True)["ideas"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [c.name for c in COLUMNS]
    ideas = await stored(database)
    assert len(rows) == len(ideas) + 1
    names = [c.name for c in COLUMNS]
    for row, idea in zip(rows[1:], ideas, strict=True):
        row = row + (None,) * (len(names) - len(row))  # empty cells at the end are not stored
        values = dict(zip(names, row, strict=True))
        assert values["reference"] == idea.reference
        assert values["problem"] == idea.problem  # the formula-looking one too, as text
        assert values["latitude"] == idea.latitude and values["status"] == idea.status.value
        assert values["created_at"] == idea.created_at.replace(tzinfo=None)
    formula_cells = load_workbook(path)["ideas"]["O3"]
    assert formula_cells.value == FORMULA and formula_cells.data_type == "s"


async def test_the_geojson_is_valid_and_places_pins_lon_lat(
    database: Database, tmp_path: Path, clock: FakeClock
) -> None:
    await seed(database, clock.now())
    path = await export(database, tmp_path, "geojson")
    collection = geojson.loads(path.read_text("utf-8"))
    assert collection.is_valid, collection.errors()
    features = collection["features"]
    assert len(features) == len(PEOPLE)
    assert features[0]["geometry"]["coordinates"] == [-74.1264, 4.4791]
    assert features[1]["geometry"] is None  # no pin: a feature without geometry (RFC 7946)


async def test_open311_requests_validate_and_carry_contact_only_when_asked(
    database: Database, tmp_path: Path, clock: FakeClock
) -> None:
    references = await seed(database, clock.now())
    path = await export(database, tmp_path, "open311", with_contact=True,
                        media_url="https://innova.example.org/media/")  # fmt: skip
    requests = json.loads(path.read_text("utf-8"))
    jsonschema.validate(requests, SCHEMA)
    first, second, anonymous, closed = requests
    assert first["service_request_id"] == references[0] and first["status"] == "open"
    assert (first["first_name"], first["last_name"]) == ("Ana", "María Rojas")
    assert first["email"] == "ana.rojas@example.org" and "phone" not in first
    assert first["lat"] == 4.4791 and first["long"] == -74.1264
    assert first["media_url"] == "https://innova.example.org/media/telegram/p0-0.jpg"
    assert second["phone"] == "+57 300 555 0101" and second["address_string"] == "Danubio"
    assert not {"first_name", "last_name", "email", "phone"} & set(anonymous)
    assert closed["status"] == "closed" and closed["status_notes"] == "Ya está en el plan de obras"
    assert first["service_name"] == "Ambiente y residuos"


@pytest.mark.parametrize("format", FORMATS)
async def test_no_contact_details_without_with_contact(
    database: Database, tmp_path: Path, clock: FakeClock, format: str
) -> None:
    await seed(database, clock.now())
    path = await export(database, tmp_path, format)
    if format == "xlsx":
        sheet = load_workbook(path, read_only=True)["ideas"]
        text = "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
    else:
        text = path.read_text("utf-8-sig")
    for secret in [*NAMES, *CONTACTS, "Rojas"]:
        assert secret not in text, (format, secret)

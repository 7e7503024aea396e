"""`minga ideas import FILE` (issue 21): ideas collected before Minga come in from the columns
`minga export ideas` writes; a dry run writes nothing, bad rows are named by line and refuse the
file unless --skip-bad-rows, a second import adds nothing, and an export brought into an empty
database gives the same ideas back (CSV and XLSX), on SQLite and PostgreSQL."""

import asyncio
import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.similar import MODEL
from storage.database import Database
from storage.models import IdeaFilter, IdeaRecord
from tests.fakes.clock import FakeClock
from tests.fakes.sql import CLI_VARIABLE, cli_database, cli_in, database_for
from tests.handlers.exports.helpers import PEOPLE, seed

HEADER = ["reference", "created_at", "status", "category", "place", "latitude", "longitude",
          "problem", "idea", "anonymous", "publish"]  # fmt: skip


@pytest.fixture(autouse=True)
def references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    cli_in(tmp_path, monkeypatch)

    async def fill() -> list[str]:
        database = await Database.open(cli_database())
        try:
            return await seed(database, FakeClock().now())
        finally:
            await database.close()

    return asyncio.run(fill())


def _run(capsys: pytest.CaptureFixture[str], *argv: str, status: int = 0) -> Any:
    assert main([*argv, "--json"]) == status, capsys.readouterr()
    return json.loads(capsys.readouterr().out)


def _ideas() -> list[IdeaRecord]:
    async def read() -> list[IdeaRecord]:
        database = await Database.open(cli_database())
        try:
            return [i async for i in database.reader().idea_search.stream(IdeaFilter())]
        finally:
            await database.close()

    return asyncio.run(read())


def _outbox() -> list[Any]:
    async def read() -> list[Any]:
        database = await Database.open(cli_database())
        try:
            db = database.reader().outbox._db
            rows = await db.execute_fetchall("SELECT kind, recipient_id FROM outbox ORDER BY id")
            return [tuple(row) for row in rows]
        finally:
            await database.close()

    return asyncio.run(read())


def _csv(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, `minga` commands use a new, empty database."""
    other = tmp_path / "empty"
    other.mkdir()
    monkeypatch.setenv(CLI_VARIABLE, str(database_for(other)))


def _same(idea: IdeaRecord) -> dict[str, Any]:
    """What an idea is, apart from where it is stored (ids) and its author's chat; its times
    apart (below)."""
    return idea.model_dump(
        exclude={"id", "resident_id", "channel", "duplicate_of", "created_at", "updated_at"}
    )


def _times(ideas: list[IdeaRecord]) -> dict[str, tuple[datetime, datetime]]:
    return {i.reference: (i.created_at, i.updated_at) for i in ideas}


GOOD = [
    ["", "2025-03-02", "received", "mobility", "La Flora", "4.48", "-74.12",
     "Hueco grande en la calle 5", "Taparlo con la JAC", "no", "text"],
    ["", "2025-03-03 10:30", "", "Ambiente y residuos", "Danubio", "", "",
     "Basura en el parque", "", "yes", ""],
]  # fmt: skip


def test_a_dry_run_reports_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = _ideas()
    file = _csv(tmp_path / "forms.csv", GOOD)
    done = _run(capsys, "ideas", "import", str(file), "--dry-run")
    assert (done["rows"], done["new"], done["already_there"], done["bad_rows"]) == (2, 2, 0, [])
    assert done["imported"] == [] and _ideas() == before
    assert main(["ideas", "import", str(file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "line 2" in out and "Hueco grande" in out  # the first rows are shown
    assert _ideas() == before


def test_imported_ideas_have_their_fields_and_a_second_import_adds_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = _csv(tmp_path / "forms.csv", GOOD)
    done = _run(capsys, "ideas", "import", str(file))
    assert done["new"] == 2 and len(done["imported"]) == 2
    found = {i.reference: i for i in _ideas()}
    first, second = (found[ref] for ref in done["imported"])
    assert first.reference.startswith("MNG-2025-")  # numbered in the year it was filed
    assert (first.category, first.location_text, first.latitude, first.longitude) == (
        "mobility", "La Flora", 4.48, -74.12)  # fmt: skip
    assert first.idea == "Taparlo con la JAC" and first.publish == "text" and not first.anonymous
    assert first.channel == "import" and first.status == "received"
    assert second.category == "environment" and second.anonymous and second.idea is None
    assert second.created_at.isoformat() == "2025-03-03T15:30:00+00:00"  # 10:30 in Bogotá
    assert _without_vector() == 0  # imported ideas are matched as similar ideas too
    again = _run(capsys, "ideas", "import", str(file))
    assert (again["new"], again["already_there"], again["imported"]) == (0, 2, [])
    assert len(_ideas()) == len(PEOPLE) + 2


def _without_vector() -> int:
    async def read() -> int:
        database = await Database.open(cli_database())
        try:
            return await database.reader().similar.count_without_vector(MODEL)
        finally:
            await database.close()

    return asyncio.run(read())


def test_bad_rows_are_named_and_refuse_the_file_unless_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [
        GOOD[0],
        ["", "2025-03-02", "", "mobility", "", "", "", "", "", "", ""],  # 3: no problem
        ["", "2025-03-02", "", "weather", "", "", "", "Llueve", "", "", ""],  # 4
        ["", "2025-03-02", "", "mobility", "", "95", "-74", "Bache", "", "", ""],  # 5
        ["", "ayer", "", "mobility", "", "", "", "Bache 2", "", "", ""],  # 6
        ["", "2025-03-02", "archived", "mobility", "", "", "", "Bache 3", "", "", ""],  # 7
        GOOD[0],  # 8: the same row as line 2
        GOOD[1],
    ]
    file = _csv(tmp_path / "forms.csv", rows)
    before = _ideas()
    assert main(["ideas", "import", str(file)]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "--skip-bad-rows" in err and "Traceback" not in err
    assert _ideas() == before  # nothing imported
    bad = _run(capsys, "ideas", "import", str(file), "--dry-run", status=2)["bad_rows"]
    reasons = {b["line"]: b["reason"] for b in bad}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    for line, word in ((3, "problem"), (4, "category"), (5, "latitude"), (6, "date"),
                       (7, "status"), (8, "line 2")):  # fmt: skip
        assert word in reasons[line] and f"line {line}: {reasons[line]}" in out
    done = _run(capsys, "ideas", "import", str(file), "--skip-bad-rows")
    assert done["new"] == 2 and len(done["bad_rows"]) == 6
    assert len(_ideas()) == len(before) + 2


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_an_export_comes_back_the_same_into_an_empty_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    format: str, references: list[str],
) -> None:  # fmt: skip
    _run(capsys, "ideas", "status", references[2], "duplicate", "--of", references[0])
    original = _ideas()
    assert any(i.duplicate_of_reference == references[0] for i in original)
    exported = tmp_path / f"ideas.{format}"
    _run(capsys, "export", "ideas", "--format", format, "--output", str(exported),
         "--with-contact")  # fmt: skip
    _empty_database(tmp_path, monkeypatch)
    done = _run(capsys, "ideas", "import", str(exported))
    assert done["new"] == len(PEOPLE) and done["bad_rows"] == []
    brought = _ideas()
    assert sorted(map(_same, brought), key=str) == sorted(map(_same, original), key=str)
    # An XLSX cell keeps a time to the millisecond (Excel's precision); CSV keeps it exactly.
    precision = timedelta(milliseconds=1 if format == "xlsx" else 0)
    before, after = _times(original), _times(brought)
    assert before.keys() == after.keys()
    for reference, times in before.items():
        assert all(abs(a - b) <= precision for a, b in zip(times, after[reference], strict=True))
    assert {i.channel for i in brought} == {"import"}
    again = _run(capsys, "ideas", "import", str(exported))
    assert (again["new"], again["already_there"]) == (0, len(PEOPLE))
    # The references were kept: the next number goes on after them.
    more = _run(capsys, "ideas", "import", str(_csv(tmp_path / "one.csv", [
        ["", "2026-08-20", "", "mobility", "", "", "", "Otro problema", "", "", ""]])))  # fmt: skip
    assert more["imported"] == [f"MNG-2026-{len(PEOPLE) + 1:06d}"]


def test_a_reference_already_taken_gets_a_new_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, references: list[str]
) -> None:
    """Another lab's export (same format, other ideas) merged into this database."""
    row = [references[0], "2026-01-05", "", "mobility", "", "", "", "Otra cosa", "", "", ""]
    done = _run(capsys, "ideas", "import", str(_csv(tmp_path / "other.csv", [row])))
    [reference] = done["imported"]
    assert reference != references[0] and reference.startswith("MNG-2026-")
    again = _run(capsys, "ideas", "import", str(_csv(tmp_path / "other.csv", [row])))
    assert (again["new"], again["already_there"]) == (0, 1)


def test_an_imported_idea_is_never_notified(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = _outbox()
    done = _run(capsys, "ideas", "import", str(_csv(tmp_path / "forms.csv", GOOD)))
    reference = done["imported"][0]
    assert _outbox() == before
    changed = _run(capsys, "ideas", "status", reference, "in_review")
    assert changed["told"] == 0
    assert _run(capsys, "ideas", "status", reference, "duplicate", "--of",
                done["imported"][1])["told"] == 0  # fmt: skip
    assert _outbox() == before


def test_an_imported_idea_has_no_resident_to_show_or_forget(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """All imported ideas share one placeholder author: erasing "its" data would take them all."""
    done = _run(capsys, "ideas", "import", str(_csv(tmp_path / "forms.csv", GOOD)))
    reference = done["imported"][0]
    for task in (["show"], ["forget", "--withdraw-ideas", "--yes"]):
        assert main(["residents", *task, "--idea", reference]) == 2
        err = capsys.readouterr().err
        assert reference in err and err.count("\n") == 1
    assert len(_ideas()) == len(PEOPLE) + 2


def test_a_spanish_spreadsheets_csv_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Excel in Spanish saves ";"-separated CSV in Windows-1252, with decimal commas; Spanish
    headers are understood, and a column the export does not have is named as ignored."""
    file = tmp_path / "planillas.csv"
    text = (
        "Problema;Categoría;Barrio;Latitude;Longitude;Notas\r\n"
        "Alumbrado dañado en la vía;Movilidad y vías;Comuneros;4,4791;-74,1264;ok\r\n"
    )
    file.write_bytes(text.encode("cp1252"))
    done = _run(capsys, "ideas", "import", str(file))
    assert done["new"] == 1 and done["ignored_columns"] == ["notas"]
    [idea] = [i for i in _ideas() if i.reference == done["imported"][0]]
    assert (idea.problem, idea.category, idea.location_text) == (
        "Alumbrado dañado en la vía", "mobility", "Comuneros")  # fmt: skip
    assert (idea.latitude, idea.longitude) == (4.4791, -74.1264)

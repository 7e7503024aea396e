"""Imported ideas (issue 21) are triaged like the others: staff find them in /ideas and open
them, exports carry them, and nothing staff do with them is ever sent to anyone."""

import csv
from pathlib import Path

import pytest

from handlers.engine.catalog import Catalog
from handlers.engine.settings import LabSettings
from handlers.exports.export import export_ideas
from handlers.exports.importing import _Bad, _category, plan_import, read_rows, write_import
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import button, make_staff_chat, staff_dispatcher

PROBLEM = "Las luminarias del parque de La Flora no prenden desde marzo"


async def _import(database: Database, tmp_path: Path, clock: FakeClock) -> str:
    file = tmp_path / "forms.csv"
    with file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "created_at", "category", "place", "problem", "contact"])
        writer.writerow(["form-17", "2025-05-02", "safety", "La Flora", PROBLEM, "3105550000"])
    header, rows = read_rows(file)
    lab = LabSettings()
    async with database.transaction() as repos:
        plan = await plan_import(repos, rows, lab, clock.now(), header=header)
        result = await write_import(repos, plan, lab, clock.now())
    [reference] = result.references
    return reference


async def test_staff_find_open_and_triage_an_imported_idea_and_nobody_is_told(
    database: Database, catalog: Catalog, clock: FakeClock, tmp_path: Path
) -> None:
    reference = await _import(database, tmp_path, clock)
    staff = make_staff_chat(staff_dispatcher(database, catalog, clock), catalog, clock)
    await staff.command("ideas")
    assert reference in staff.text
    await staff.send(choice=button(staff, reference))
    assert PROBLEM in staff.text and staff.t("channel_name.import") in staff.text
    await staff.send(choice=button(staff, "→ " + staff.t("status.in_review")))
    assert staff.t("triage.status_done", reference=reference, status="En revisión",
                   told=0) in staff.text  # fmt: skip
    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, staff.t("staff_idea.reply")))
    await staff.say("¿Sigue pasando?")
    assert staff.said("triage.reply_unreachable")
    assert await outbox_rows(database) == []


async def test_exports_carry_an_imported_idea(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    reference = await _import(database, tmp_path, clock)
    out = tmp_path / "ideas.csv"
    count = await export_ideas(database.reader(), LabSettings(), format="csv", path=out)
    assert count == 1
    [row] = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert (row["reference"], row["problem"], row["place"]) == (reference, PROBLEM, "La Flora")


def test_a_topic_is_known_by_its_id_its_name_or_one_word_of_it() -> None:
    """Staff type topics as they say them: "movilidad", "Ambiente", "seguridad y convivencia"."""
    lab = LabSettings()
    for given, expected in [
        ("mobility", "mobility"),
        ("Movilidad y vías", "mobility"),
        ("MOVILIDAD Y VIAS", "mobility"),
        ("movilidad", "mobility"),
        ("Ambiente", "environment"),
        ("seguridad", "safety"),
    ]:
        assert _category(given, None, lab) == expected, given
    with pytest.raises(_Bad, match="Movilidad y vías"):  # the names staff know are listed
        _category("baches", None, lab)

"""Calls for ideas: staff open one in chat; while it is open the intake asks whether the idea
is for it; after the deadline late answers get a kind word; winners are told; the results go
out as a broadcast. And `minga calls ...` on the server."""

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from bot.cli.main import main
from handlers.engine.catalog import Catalog
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import button, composed
from tests.handlers.walk import IDEA, answer_receipt, to_problem


async def open_default_call(staff: Chat) -> None:
    await staff.command("convocatoria")
    assert staff.t("calls.none") in staff.text
    await staff.send(choice=button(staff, staff.t("calls.new")))
    await staff.say("Ideas para el espacio público 2027")
    await staff.press("staff.skip")
    await staff.press("calls.default_categories")
    await staff.say("ayer")
    assert staff.said("call_error.deadline_past")
    await staff.say("2026-08-30")
    assert "Servicio a la ciudadanía · Productividad y eficiencia interna" in staff.text
    await staff.press("calls.create")
    assert staff.t("calls.created", id=1, title="Ideas para el espacio público 2027") in staff.text


async def to_call_question(chat: Chat) -> None:
    await to_problem(chat)
    await chat.say("Los huecos de la calle 80 hacen caer a los ciclistas")
    await chat.press_label("La Flora")
    await chat.send(choice="category:mobility")
    await chat.say(IDEA)


async def test_an_open_call_is_offered_and_its_ideas_are_counted(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    await open_default_call(staff)
    resident = make_chat(language="es", user="ana")
    await to_call_question(resident)
    assert resident.asked("call.ask", titles="«Ideas para el espacio público 2027»")
    await resident.press_label("Ideas para el espacio público…: Servicio a la ciudadanía")
    await resident.press("photos.skip")
    await resident.press("identity.anonymous")
    await resident.press("publish.text")
    assert "🏆 Convocatoria: «Ideas para el espacio público 2027» · Servicio a la ciudadanía" in (
        resident.text
    )
    await resident.press("summary.send")
    idea = await database.reader().idea_search.by_reference("MNG-2026-000001")
    assert idea is not None and (idea.call_id, idea.call_category) == (1, "service")
    assert idea.publish == "text"
    await staff.command("convocatoria")
    await staff.send(choice=button(staff, "#1 Ideas para el espacio público…"))
    assert "Servicio a la ciudadanía: 1 idea\n" in staff.text


async def test_after_the_deadline_a_late_answer_gets_a_kind_word(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    await open_default_call(staff)
    resident = make_chat(language="es", user="ana")
    await to_call_question(resident)
    clock.advance(days=30)  # past 30 August, 23:59
    await resident.press("call.none")  # the resume question first: the pause was long
    await resident.press("resume.continue")
    await resident.press_label("Ideas para el espacio público…: Servicio a la ciudadanía")
    assert "cerró el" in resident.text and "idea general" in resident.text
    assert resident.asked("photos.ask", max=3)
    await resident.press("photos.skip")
    await resident.press("identity.anonymous")
    await resident.press("publish.no")
    await resident.press("summary.send")
    idea = await database.reader().idea_search.by_reference("MNG-2026-000001")
    assert idea is not None and idea.call_id is None


async def test_a_call_closed_before_sending_sends_a_general_idea(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    await open_default_call(staff)
    resident = make_chat(language="es", user="ana")
    await to_call_question(resident)
    await resident.press_label("Ideas para el espacio público…: Servicio a la ciudadanía")
    await resident.press("photos.skip")
    await resident.press("identity.anonymous")
    await resident.press("publish.no")
    await staff.command("convocatoria")
    await staff.send(choice=button(staff, "#1 Ideas para el espacio público…"))
    await staff.send(choice=button(staff, staff.t("calls.close")))
    assert "quedó cerrada" in staff.text
    await resident.press("summary.send")
    assert "cerró el" in resident.text and "MNG-2026-000001" in resident.text
    idea = await database.reader().idea_search.by_reference("MNG-2026-000001")
    assert idea is not None and idea.call_id is None


async def test_winners_are_told_and_results_go_out_as_a_broadcast(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    await open_default_call(staff)
    resident = make_chat(language="en", user="ana")
    await to_call_question(resident)
    await resident.send(choice="call:1.efficiency")
    await resident.press("photos.skip")
    await resident.press("identity.anonymous")
    await resident.press("publish.no")
    await resident.press("summary.send")
    await answer_receipt(resident, updates=True, announcements=True)
    await staff.send(command="idea", argument="1")
    await staff.send(choice=button(staff, staff.t("staff_idea.make_shortlisted")))
    assert staff.t("triage.award_shortlisted", reference="MNG-2026-000001", told=0) in staff.text
    await staff.send(choice=button(staff, staff.t("staff_idea.make_winner")))
    [(who, text)] = await composed(database, catalog, clock.now(), "idea_award")
    assert who == "ana" and "Congratulations" in text and "Productivity and efficiency" in text
    clock.advance(days=15)  # the call has closed
    await staff.command("convocatoria")
    await staff.send(choice=button(staff, "#1 Ideas para el espacio público…"))
    assert "Ganadoras: MNG-2026-000001" in staff.text
    await staff.send(choice=button(staff, staff.t("calls.announce")))
    assert "Resultados de la convocatoria" in staff.text and "MNG-2026-000001" in staff.text
    await staff.send(choice=button(staff, staff.t("staff.send")))
    assert staff.t("staff.broadcast_queued", id=1, count=1) in staff.text
    [row] = await outbox_rows(database, "broadcast")
    broadcast = await database.reader().broadcasts.get(row["broadcast_id"])
    assert broadcast is not None and "MNG-2026-000001" in broadcast.text


def test_minga_calls_on_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> Any:  # JSON: the test reads it
        assert main([*argv, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    water = "agua:Agua y saneamiento:Water and sanitation:external"
    created = run("calls", "add", "--title", "Agua para todos", "--deadline", "2030-03-01",
                  "--category", water)  # fmt: skip
    assert created["id"] == 1 and created["categories"][0]["id"] == "agua"
    assert created["deadline"].startswith("2030-03-02T04:59")  # 23:59 in Bogotá, in UTC
    [listed] = run("calls", "list")
    assert listed["title"] == "Agua para todos"
    assert run("calls", "close", "1")["closed_at"] is not None
    assert main(["calls", "close", "1"]) == 2
    assert "already closed" in capsys.readouterr().err
    assert main(["calls", "add", "--title", "X", "--deadline", "2030-03-01"]) == 2
    assert main(["calls", "results", "1", "--announce"]) == 2
    assert "no winning ideas" in capsys.readouterr().err
    assert "(sin ganadora)" in run("calls", "results", "1")["results"]


@pytest.mark.parametrize(
    ("category", "focus"),
    [("Servicio a la ciudadanía", "external"), ("Productividad y eficiencia interna", "internal")],
)
async def test_a_call_category_gives_the_focus_which_is_asked_and_shown_once(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, category: str, focus: str
) -> None:
    await open_default_call(staff)
    official = make_chat(language="es", user="ana")
    await to_problem(official, "role.official")
    await official.say("Los huecos de la calle 80 hacen caer a los ciclistas")
    await official.press_label("La Flora")
    await official.send(choice="category:mobility")
    await official.say(IDEA)
    await official.press_label(f"Ideas para el espacio público…: {category}")
    await official.press("photos.skip")
    assert official.asked("identity.ask")  # not the focus again: the category said it
    await official.press("identity.anonymous")
    await official.press("publish.no")
    summary = official.replies[-1]
    assert category in summary.text
    assert not any(
        official.t("summary.focus", value=official.t(f"focus.{f}")) in summary.text
        for f in ("external", "internal")
    )
    await official.press("summary.change")
    assert "edit:focus" not in {c.id for c in official.choices}
    await official.press("edit.done")
    await official.press("summary.send")
    idea = await database.reader().idea_search.by_reference("MNG-2026-000001")
    assert idea is not None and idea.focus == focus


async def test_leaving_the_call_asks_the_focus_the_call_had_given(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    await open_default_call(staff)
    official = make_chat(language="es", user="ana")
    await to_problem(official, "role.official")
    await official.say("Los huecos de la calle 80 hacen caer a los ciclistas")
    await official.press_label("La Flora")
    await official.send(choice="category:mobility")
    await official.say(IDEA)
    await official.press_label("Ideas para el espacio público…: Productividad y eficiencia interna")
    await official.press("photos.skip")
    await official.press("identity.anonymous")
    await official.press("publish.no")
    await official.press("summary.change")
    await official.press("edit.call")
    await official.press("call.none")
    assert official.asked("focus.ask")  # no call now: the focus is theirs to say
    await official.press("focus.external")
    assert official.t("summary.focus", value=official.t("focus.external")) in official.text
    await official.press("summary.send")
    idea = await database.reader().idea_search.by_reference("MNG-2026-000001")
    assert idea is not None and (idea.call_id, idea.focus) == (None, "external")


async def test_a_resident_in_the_efficiency_category_sends_an_internal_idea(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    await open_default_call(staff)
    resident = make_chat(language="es", user="ana")
    await to_call_question(resident)
    await resident.press_label("Ideas para el espacio público…: Productividad y eficiencia interna")
    await resident.press("photos.skip")
    await resident.press("identity.anonymous")
    await resident.press("publish.no")
    await resident.press("summary.send")
    idea = await database.reader().idea_search.by_reference("MNG-2026-000001")
    assert idea is not None and (idea.call_category, idea.focus) == ("efficiency", "internal")


async def test_a_deadline_is_read_as_written_and_confirmed_in_full(staff: Chat) -> None:
    await staff.command("convocatoria")
    await staff.send(choice=button(staff, staff.t("calls.new")))
    await staff.say("Ideas para el agua")
    await staff.press("staff.skip")
    await staff.press("calls.default_categories")
    await staff.say("31 de marzo de 2027")
    preview = staff.text
    assert all(part in preview for part in ("miércoles", "31", "marzo", "2027", "23:59"))
    assert not re.search(r"\d:\d\d:\d\d", preview)  # never seconds
    await staff.press("calls.create")
    await staff.command("convocatoria")
    assert "2027" in staff.text and not re.search(r"\d:\d\d:\d\d", staff.text)


async def test_every_call_is_listed_and_any_opens_by_its_number(
    staff: Chat, database: Database, clock: FakeClock
) -> None:
    """Twelve calls: all are listed (not only the first eight), open ones first, and an old
    one without a button opens with /convocatoria and its number."""
    from datetime import timedelta

    from handlers.calls.intake import DEFAULT_CATEGORIES

    async with database.transaction() as repos:
        for n in range(12):
            open_ = n == 0  # the oldest is still open: it comes first all the same
            deadline = clock.now() + timedelta(days=30 if open_ else -1 - n)
            await repos.calls.create(title=f"Reto número {n + 1}", description="",
                                     categories=DEFAULT_CATEGORIES, deadline=deadline,
                                     created_by="test", now=clock.now())  # fmt: skip
    await staff.command("convocatoria")
    listed = staff.replies[-1].text
    assert all(f"Reto número {n + 1}" in listed for n in range(12))
    assert listed.index("Reto número 1 ") < listed.index("Reto número 12")
    assert staff.replies[-1].choices[0].label == "#1 Reto número 1"
    await staff.send(command="convocatoria", argument="2")
    assert staff.said("calls.head") and "Reto número 2" in staff.text
    await staff.send(command="convocatoria", argument="99")
    assert staff.t("call_error.no_call", id="99") in staff.text


async def test_a_call_closed_early_says_when_it_closed_not_its_old_deadline(
    staff: Chat, clock: FakeClock
) -> None:
    """Closed today, a call whose deadline was two weeks away reads "closed (today)" in the
    list and on its page, not "closed (30 Aug)", a date still to come."""
    await open_default_call(staff)
    await staff.command("convocatoria")
    await staff.send(choice=button(staff, "#1 Ideas para el espacio público…"))
    await staff.send(choice=button(staff, staff.t("calls.close")))
    zone = ZoneInfo("America/Bogota")
    today = format_date(clock.now().astimezone(zone), format="medium", locale="es")
    deadline_day = format_date(date(2026, 8, 30), format="medium", locale="es")
    await staff.command("convocatoria")
    assert today in staff.text and deadline_day not in staff.text
    await staff.send(choice=button(staff, "#1 Ideas para el espacio público…"))
    assert today in staff.text and deadline_day not in staff.text


async def test_every_open_call_can_be_joined_from_the_intake(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    """Four calls open at once: the intake offered the first three only."""
    from datetime import timedelta

    from handlers.calls.intake import DEFAULT_CATEGORIES

    async with database.transaction() as repos:
        for n in range(4):
            await repos.calls.create(title=f"Reto {n + 1}", description="",
                                     categories=DEFAULT_CATEGORIES,
                                     deadline=clock.now() + timedelta(days=10 + n),
                                     created_by="test", now=clock.now())  # fmt: skip
    resident = make_chat(language="es", user="ana")
    await to_call_question(resident)
    await resident.press_label("Reto 4: Servicio a la ciudadanía")
    await resident.press("photos.skip")
    await resident.press("identity.anonymous")
    await resident.press("publish.no")
    await resident.press("summary.send")
    idea = await database.reader().idea_search.by_reference("MNG-2026-000001")
    assert idea is not None and idea.call_id == 4

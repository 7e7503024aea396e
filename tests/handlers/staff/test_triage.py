"""Triage in chat: the list, the record, status buttons (the resident is told in their
language), a reason for "not selected", notes that stay with staff, replies, duplicates."""

import re
from collections.abc import Callable

import pytest

from handlers.engine.catalog import Catalog
from handlers.staff.triage import change_status
from storage.database import Database
from storage.models import Focus, IdeaStatus, NewIdea, Role
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import (
    STAFF,
    button,
    composed,
    idea,
    submit_idea,
)
from tests.handlers.walk import PROBLEM


async def test_staff_list_open_and_move_an_idea_and_the_resident_hears_in_english(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    resident = make_chat(language="en", user="ana")
    reference = await submit_idea(resident)
    await staff.command("ideas")
    assert reference in staff.text and "La Flora" in staff.text
    assert staff.t("staff_ideas.title", filters=staff.t("staff_ideas.no_filter"), first=1,
                   last=1, total=1) in staff.text  # fmt: skip
    await staff.send(choice=button(staff, reference))
    assert PROBLEM in staff.text and staff.t("staff_idea.anonymous") in staff.text
    await staff.send(choice=button(staff, "→ " + staff.t("status.in_review")))
    assert staff.t("triage.status_done", reference=reference, status="En revisión",
                   told=1) in staff.text  # fmt: skip
    stored = await idea(database, reference)
    assert stored.status == "in_review"
    history = await database.reader().idea_search.history(stored.id)
    assert [(e.status, e.actor) for e in history] == [
        ("received", None),
        ("in_review", f"telegram:{STAFF}"),
    ]
    told = await composed(database, catalog, clock.now(), "idea_status")
    assert told == [("ana", f'News about your idea {reference}: it is now "Under review".')]


async def test_not_selected_asks_a_reason_which_the_resident_is_told(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    reference = await submit_idea(make_chat(language="es", user="ana"))
    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, "→ " + staff.t("status.not_selected")))
    assert staff.asked("triage.ask_reason", reference=reference)
    assert (await idea(database, reference)).status == "received"  # not before the reason
    await staff.say("Ya existe un programa de la alcaldía para esa vía.")
    assert (await idea(database, reference)).status == "not_selected"
    [(who, text)] = await composed(database, catalog, clock.now(), "idea_status")
    assert who == "ana" and "Motivo: Ya existe un programa de la alcaldía" in text


async def test_a_note_stays_with_staff_and_a_reply_reaches_the_resident_in_one_message(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    reference = await submit_idea(make_chat(language="es", user="ana"))
    await staff.send(command="idea", argument=reference[-3:])  # only the number
    await staff.send(choice=button(staff, staff.t("staff_idea.add_note")))
    await staff.say("Llamar a la JAC de La Flora antes de decidir")
    assert staff.t("triage.note_saved", reference=reference) in staff.text
    assert await outbox_rows(database) == []  # a note is never sent
    await staff.send(command="idea", argument=reference)
    assert "Llamar a la JAC" in staff.text
    await staff.send(choice=button(staff, staff.t("staff_idea.reply")))
    await staff.say("¿Nos puede decir en qué cuadra están los huecos?")
    told = await composed(database, catalog, clock.now(), "idea_reply")
    assert len(told) == 1 and told[0][0] == "ana"
    assert reference in told[0][1] and "¿Nos puede decir en qué cuadra" in told[0][1]
    assert "Llamar a la JAC" not in told[0][1]


async def test_a_duplicates_author_follows_the_original(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    first = await submit_idea(make_chat(language="es", user="ana"))
    second = await submit_idea(make_chat(language="en", user="beto"))
    await staff.send(command="idea", argument=second)
    await staff.send(choice=button(staff, staff.t("staff_idea.mark_duplicate")))
    await staff.say(second)
    assert staff.t("triage_error.same_idea", reference=second) in staff.text
    await staff.say(first)
    assert staff.t("triage.duplicate_done", reference=second, original=first, told=1) in (
        staff.text
    )
    [(who, text)] = await composed(database, catalog, clock.now(), "idea_status")
    assert who == "beto" and first in text and second in text
    await staff.send(command="idea", argument=first)
    await staff.send(choice=button(staff, "→ " + staff.t("status.selected")))
    notices = await composed(database, catalog, clock.now(), "idea_status")
    told = {who: text for who, text in notices if "Selected" in text or "Seleccionada" in text}
    assert set(told) == {"ana", "beto"}
    expected = f'News about idea {first}, which yours was joined to: it is now "Selected".'
    assert told["beto"] == expected


async def test_a_resident_who_asked_for_no_updates_is_not_told(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    resident = make_chat(language="es", user="ana")
    reference = await submit_idea(resident)
    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, "→ " + staff.t("status.in_review")))
    await resident.send(choice="upd:off")
    assert resident.t("notice.updates_off") in resident.text
    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, "→ " + staff.t("status.selected")))
    assert staff.t("triage.status_done", reference=reference, status="Seleccionada",
                   told=0) in staff.text  # fmt: skip
    assert len(await outbox_rows(database, "idea_status")) == 1
    await resident.send(choice="upd:on")
    assert resident.t("notice.updates_on") in resident.text


async def test_list_filters_and_pages(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    references = [await submit_idea(make_chat(user=f"r{i}")) for i in range(10)]
    await staff.command("ideas")
    assert "1 a 8 de 10" in staff.text and references[-1] in staff.text
    await staff.send(choice=button(staff, staff.t("staff_ideas.next")))
    assert "9 a 10 de 10" in staff.text and references[0] in staff.text
    await staff.send(command="idea", argument=references[0])
    await staff.send(choice=button(staff, "→ " + staff.t("status.in_review")))
    await staff.command("ideas")
    await staff.send(choice=button(staff, staff.t("staff_ideas.filter_s")))
    await staff.send(choice=button(staff, staff.t("status.in_review")))
    assert "1 a 1 de 1" in staff.text and references[0] in staff.text
    await staff.send(choice=button(staff, staff.t("staff_ideas.filter_n")))
    await staff.send(choice=button(staff, "Danubio"))
    assert staff.t("staff_ideas.none", filters="En revisión · Danubio") in staff.text
    await staff.send(choice=button(staff, staff.t("staff_ideas.clear")))
    assert "de 10" in staff.text


async def test_a_staff_command_mid_intake_keeps_the_question_waiting(staff: Chat) -> None:
    await staff.command("start")
    await staff.press("role.official")
    await staff.command("ideas")
    # The list's buttons are the last shown; the intake's question still takes its answer.
    assert not staff.asked("consent.ask", policy_url=staff_policy(staff))
    await staff.send(choice="consent:yes")
    assert staff.asked("problem.ask")


def staff_policy(chat: Chat) -> str:
    return "https://www.gobiernobogota.gov.co/politica-de-privacidad"


async def test_stats_count_by_every_group(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    for i in range(3):
        await submit_idea(make_chat(user=f"r{i}", language="es"))
    await staff.command("estadisticas")
    assert staff.t("stats.title", total=3) in staff.text
    assert staff.t("stats.row", label="La Flora", count=3) in staff.text
    assert staff.t("stats.row", label="Movilidad y vías", count=3) in staff.text
    assert staff.t("stats.row", label="Recibida", count=3) in staff.text
    assert staff.t("stats.row", label=staff.t("stats.none_call"), count=3) in staff.text
    assert staff.t("stats.row", label="test", count=3) in staff.text  # the channel


@pytest.mark.parametrize("name", ["MNG-2026-000002", "mng 2026 000002", "2", "000002", "#2"])
async def test_an_idea_is_named_by_its_reference_or_its_short_number(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, name: str
) -> None:
    first = await submit_idea(make_chat(language="es", user="ana"))
    second = await submit_idea(make_chat(language="es", user="beto"))
    await staff.send(command="idea", argument=name)
    assert staff.t("staff_idea.head", reference=second,
                   status=staff.t("status.received")) in staff.text  # fmt: skip
    # The same names work where a flow asks for an idea: the original of a duplicate.
    await staff.send(command="idea", argument=first)
    await staff.send(choice=button(staff, staff.t("staff_idea.mark_duplicate")))
    await staff.say(name)
    assert (await idea(database, first)).duplicate_of_reference == second


async def test_a_short_number_is_this_years_even_after_an_import_of_earlier_years(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    """Ideas imported from 2024 come in after this year's: "/idea 1" is still this year's
    number 1 (staff closed the wrong idea before)."""
    this_year = await submit_idea(make_chat(language="es", user="ana"))
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("import", "lab", clock.now())
        earlier, _ = await repos.ideas.create(
            NewIdea(resident_id=resident.id, role=Role.RESIDENT, language="es",
                    problem="Un hueco de antes", idea=None, category="mobility",
                    focus=Focus.EXTERNAL, anonymous=True, location_text="Danubio"),
            prefix="MNG", year=2024, now=clock.now(),
        )  # fmt: skip
    assert earlier > 1
    await staff.send(command="idea", argument="1")
    assert staff.t("staff_idea.head", reference=this_year,
                   status=staff.t("status.received")) in staff.text  # fmt: skip
    await staff.send(command="idea", argument="MNG-2024-000001")  # the full name still works
    assert "Un hueco de antes" in staff.text


async def test_an_unknown_idea_name_says_so(staff: Chat) -> None:
    await staff.send(command="idea", argument="#77")
    assert staff.t("triage_error.no_idea", reference="#77") in staff.text


async def test_the_list_names_each_idea_once_by_its_reference(
    staff: Chat, make_chat: Callable[..., Chat]
) -> None:
    references = [await submit_idea(make_chat(user=f"r{n}")) for n in range(3)]
    await staff.command("ideas")
    labels = [choice.label for choice in staff.choices]
    assert all(reference in labels for reference in references)
    # No list position beside the reference: the console and WhatsApp number options
    # themselves ("1. 1. 000003" before).
    assert not any(re.match(r"\d+\.", label) for label in labels)
    assert not re.search(r"^\d+\. MNG-", staff.text, re.MULTILINE)


@pytest.mark.parametrize("typed", ["in_review", "En revisión", "en revision", "Under review"])
async def test_ideas_takes_a_status_by_its_id_or_its_name(
    staff: Chat, make_chat: Callable[..., Chat], typed: str
) -> None:
    reference = await submit_idea(make_chat(user="ana"))
    await staff.send(command="ideas", argument=typed)
    filters = staff.t("status.in_review")
    assert staff.t("staff_ideas.none", filters=filters) in staff.text
    assert reference not in staff.text


async def test_an_unknown_filter_names_the_filters_that_exist_and_lists_nothing(
    staff: Chat, make_chat: Callable[..., Chat]
) -> None:
    reference = await submit_idea(make_chat(user="ana"))
    await staff.send(command="ideas", argument="revision")
    assert staff.said("staff_ideas.unknown_filter")
    assert all(staff.t(f"status.{s}") in staff.text for s in ("received", "in_review"))
    assert reference not in staff.text  # not everything, as if it were filtered
    labels = [choice.label for choice in staff.choices]
    assert staff.t("status.in_review") in labels  # one tap to a filter that exists


@pytest.mark.parametrize("command", ["resumen", "estadisticas", "exportar"])
async def test_words_after_a_command_that_takes_none_are_not_silently_dropped(
    staff: Chat, command: str
) -> None:
    await staff.send(command=command, argument="ayer")
    assert staff.t("staff.no_argument", given="ayer") in staff.text


def _resident_menu_shown(chat: Chat) -> bool:
    labels = {choice.label for reply in chat.replies for choice in reply.choices}
    return chat.said("greeting.menu") or chat.t("menu.new") in labels


@pytest.mark.parametrize(
    ("button_key", "answer"),
    [
        ("status.not_selected", "Ya existe un programa de la alcaldía para esa vía."),
        ("staff_idea.add_note", "Llamar a la JAC"),
        ("staff_idea.reply", "Gracias, la revisamos esta semana."),
        ("staff_idea.mark_duplicate", "#1"),
        ("status.not_selected", None),  # given up with «Cancelar»
    ],
)
async def test_after_a_triage_answer_staff_land_back_on_the_idea(
    staff: Chat, make_chat: Callable[..., Chat], button_key: str, answer: str | None
) -> None:
    await submit_idea(make_chat(user="ana"))
    reference = await submit_idea(make_chat(user="beto"))
    await staff.send(command="idea", argument=reference)
    label = staff.t(button_key)
    if button_key.startswith("status."):
        label = "→ " + label
    await staff.send(choice=button(staff, label))
    if answer is None:
        await staff.press("staff.quit")
    else:
        await staff.say(answer)
    assert not _resident_menu_shown(staff)
    # The idea's record with its triage buttons, ready for the next step.
    assert reference in staff.replies[-1].text
    assert staff.t("staff_idea.add_note") in [c.label for c in staff.replies[-1].choices]


async def test_the_record_says_who_and_where_in_words(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    """The record and /estadisticas name the channel as people call it, and the history says
    who made each change (the person who sent it, a team member, a server command), never a
    stored "telegram:4242" or "-"."""
    reference = await submit_idea(make_chat(language="es", user="ana", channel="whatsapp"))
    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, "→ " + staff.t("status.in_review")))
    async with database.transaction() as repos:
        await change_status(repos, await idea(database, reference), IdeaStatus.SELECTED,
                            actor="cli", now=clock.now())  # fmt: skip
    await staff.send(command="idea", argument=reference)
    card = staff.text
    whatsapp = staff.t("channel_name.whatsapp")
    role = staff.t("role.resident")
    received = staff.t("staff_idea.received", when="\0", channel=whatsapp, role=role)
    assert received.split("\0")[1] in card  # "· WhatsApp · 🏠 Habitante"
    assert staff.t("staff_idea.by_person") in card
    telegram = staff.t("channel_name.telegram")
    assert staff.t("staff_idea.by_staff", channel=telegram, user=STAFF) in card
    assert staff.t("staff_idea.by_server") in card
    assert f"telegram:{STAFF}" not in card and " · -" not in card
    await staff.command("estadisticas")
    assert staff.t("stats.row", label=whatsapp, count=1) in staff.text


async def test_joining_a_duplicate_names_the_idea_it_was_really_joined_to(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    """Staff type an idea that is itself a duplicate: the new one joins the first of the chain,
    and staff are told that one (as its author is), not the reference they typed."""
    first = await submit_idea(make_chat(language="es", user="ana"))
    second = await submit_idea(make_chat(language="es", user="beto"))
    third = await submit_idea(make_chat(language="es", user="carla"))
    for duplicate, original in ((second, first), (third, second)):
        await staff.send(command="idea", argument=duplicate)
        await staff.send(choice=button(staff, staff.t("staff_idea.mark_duplicate")))
        await staff.say(original)
    assert (await idea(database, third)).duplicate_of == (await idea(database, first)).id
    done = staff.t("triage.duplicate_done", reference=third, original=first, told=1)
    assert done in staff.text
    told = dict(await composed(database, catalog, clock.now(), "idea_status"))
    assert first in told["carla"] and second not in told["carla"]

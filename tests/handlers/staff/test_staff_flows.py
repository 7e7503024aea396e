"""Staff in chat: /nuevo_evento and /difundir, guided; nobody else can use them."""

from collections.abc import Callable

import pytest

from handlers.dispatcher import Dispatcher
from handlers.settings import FlowSettings, StaffSettings
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import add_event, outbox_rows
from tests.handlers.walk import answer_receipt, to_summary

STAFF = "4242"


@pytest.fixture
def staff_chat(database: Database, catalog, clock: FakeClock) -> Chat:
    settings = FlowSettings(staff=StaffSettings(telegram_ids=(int(STAFF),)))
    dispatcher = Dispatcher(database, settings, catalog, clock)
    return Chat(dispatcher, catalog, clock, language="es", user=STAFF, channel="telegram")


@pytest.mark.parametrize("command", ["nuevo_evento", "new_event", "difundir", "broadcast"])
async def test_a_resident_is_refused_politely_and_keeps_their_place(
    chat: Chat, command: str
) -> None:
    await chat.command("start")
    await chat.command(command)
    assert chat.t("staff.only") in chat.text
    assert chat.asked("role.ask")


async def test_a_forged_staff_button_from_a_resident_does_nothing(chat: Chat) -> None:
    await chat.command("start")
    await chat.send(choice="ne_preview:create")
    assert chat.t("input.stale_button") in chat.text
    await chat.send(choice="bc_preview:send")
    assert chat.t("input.stale_button") in chat.text


async def test_staff_create_an_event_step_by_step(staff_chat: Chat, database: Database) -> None:
    chat = staff_chat
    await chat.command("nuevo_evento")
    assert chat.asked("staff.event_title")
    await chat.say("x")
    assert chat.t("event_error.title", min=3, max=100, count=100) in chat.text
    await chat.say("Feria de ideas del barrio")
    await chat.say("mañana a las 10")
    assert chat.t("staff.bad_date") in chat.text
    await chat.say("2026-12-05 10:00")
    await chat.press("staff.two_hours")
    await chat.say("Salón comunal La Flora")
    await chat.press("staff.skip")  # no address
    await chat.location(4.49, -74.11)
    await chat.say("2")  # two places: a number here is the answer, not a button
    await chat.press("staff.skip")  # no description
    assert chat.t("staff.event_preview") in chat.text
    assert "Feria de ideas del barrio" in chat.text and "5 de diciembre" in chat.text
    await chat.press("staff.create")
    event = await database.reader().events.get(1)
    assert event is not None and event.capacity == 2 and event.latitude == 4.49
    assert event.created_by == f"telegram:{STAFF}"
    assert chat.t("staff.event_created", id=1) in chat.text


async def test_staff_can_give_up_an_event_midway(staff_chat: Chat, database: Database) -> None:
    await staff_chat.command("new_event")
    await staff_chat.say("Feria de ideas del barrio")
    await staff_chat.press("staff.quit")
    assert staff_chat.t("staff.cancelled") in staff_chat.text
    assert await database.reader().events.get(1) is None


async def test_staff_broadcast_with_an_event_reaches_the_audience_and_reports(
    staff_chat: Chat, make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now())
    for name in ("ana", "beto"):
        person = make_chat(language="es", user=name)
        await to_summary(person)
        await person.press("summary.send")
        await answer_receipt(person, updates=True, announcements=True)
    chat = staff_chat
    await chat.command("difundir")
    await chat.say("¡Les esperamos en el lanzamiento!")
    await chat.press_label(event.title)
    await chat.press("staff.audience_all")
    assert "¡Les esperamos en el lanzamiento!" in chat.text and event.title in chat.text
    assert chat.replies[-1].text == chat.t("staff.broadcast_confirm", count=2)
    await chat.press("staff.send")
    assert chat.t("staff.broadcast_queued", id=1, count=2) in chat.text
    rows = await outbox_rows(database, "broadcast")
    assert len(rows) == 2
    broadcast = await database.reader().broadcasts.get(1)
    staff = await database.reader().residents.find("telegram", STAFF)
    assert broadcast is not None and staff is not None and broadcast.reporter_id == staff.id
    assert broadcast.event_id == event.id and broadcast.audience == "all"


async def test_staff_broadcast_by_neighbourhood(
    staff_chat: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    person = make_chat(language="es", user="ana")
    await to_summary(person)  # her idea is in La Flora
    await person.press("summary.send")
    await answer_receipt(person, updates=True, announcements=True)
    await staff_chat.command("broadcast")
    await staff_chat.say("Reunión de vecinos de La Flora el jueves")
    await staff_chat.press("staff.no_event")
    await staff_chat.press("staff.audience_neighbourhood")
    await staff_chat.press_label("La Flora")
    assert staff_chat.replies[-1].text == staff_chat.t("staff.broadcast_confirm", count=1)

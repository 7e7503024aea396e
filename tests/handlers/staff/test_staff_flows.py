"""Staff in chat: /nuevo_evento and /difundir, guided; nobody else can use them."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.engine.dates import example_text, full_when
from handlers.engine.settings import FlowSettings, StaffSettings
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock

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
    await chat.say("pronto")
    assert chat.said("staff.bad_date")
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


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("16 Aug 2 p.m.", (2027, 8, 16, 14)),
        ("16/08/2027 2 pm", (2027, 8, 16, 14)),
        ("mañana a las 3", (2026, 8, 17, 15)),
        ("16 de agosto de 2027 a las 10 a. m.", (2027, 8, 16, 10)),
    ],
)
async def test_a_new_event_takes_dates_as_people_write_them(
    staff_chat: Chat, database: Database, typed: str, expected: tuple[int, int, int, int]
) -> None:
    chat = staff_chat  # the clock: 16 August 2026, 2 p.m. in Bogotá
    await chat.command("nuevo_evento")
    await chat.say("Lanzamiento de Usme Innova")
    await chat.say(typed)
    assert chat.replies[-1].choices and chat.choice_id("staff.two_hours")  # on to the end
    await chat.press("staff.two_hours")
    await chat.say("Auditorio de la Alcaldía Local")
    await chat.press("staff.skip")  # no address
    await chat.press("staff.skip")  # no pin
    await chat.press("staff.no_limit")
    await chat.press("staff.skip")  # no description
    bogota = ZoneInfo("America/Bogota")
    year, month, day, hour = expected
    start = datetime(year, month, day, hour, tzinfo=bogota)
    # The preview confirms the full date: weekday, day, month, year and time.
    shown = full_when(start, bogota, "es")
    assert chat.t("staff.event_dates", start=shown,
                  end=full_when(start + timedelta(hours=2), bogota, "es")) in chat.text  # fmt: skip
    await chat.press("staff.create")
    event = await database.reader().events.get(1)
    assert event is not None and event.starts_at == start


async def test_a_past_or_timeless_start_is_refused_kindly_and_asked_again(
    staff_chat: Chat, clock: FakeClock
) -> None:
    chat = staff_chat
    await chat.command("nuevo_evento")
    # The question's example is a date still to come, whatever the day.
    example = example_text(clock.now(), ZoneInfo("America/Bogota"), "es")
    await chat.say("Lanzamiento de Usme Innova")
    assert chat.asked("staff.event_starts", zone="America/Bogota", example=example)
    assert datetime.strptime(example, "%d/%m/%Y %H:%M").replace(
        tzinfo=ZoneInfo("America/Bogota")) > clock.now()  # fmt: skip
    await chat.say("16/08/2026 8:00")  # this morning: past
    assert chat.said("staff.date_past") and "2026" in chat.text
    assert chat.asked("staff.event_starts", zone="America/Bogota", example=example)
    await chat.say("16 de septiembre")
    assert chat.said("staff.date_no_time")
    await chat.say("16 de septiembre 6 pm")
    assert chat.asked("staff.event_ends", example="16/09/2026 20:00")


def _resident_menu_shown(chat: Chat) -> bool:
    labels = {choice.label for reply in chat.replies for choice in reply.choices}
    return chat.said("greeting.menu") or chat.t("menu.new") in labels


async def test_every_staff_flow_ends_in_a_staff_place_not_the_resident_menu(
    staff_chat: Chat,
) -> None:
    chat = staff_chat
    ends: list[tuple[str, list[str]]] = [
        ("nuevo_evento", ["staff.quit"]),
        ("difundir", ["staff.quit"]),
    ]
    for command, presses in ends:
        await chat.command(command)
        for key in presses:
            await chat.press(key)
        assert chat.t("staff.cancelled") in chat.text and not _resident_menu_shown(chat)
    # A new event, created: the confirmation, not the menu.
    await chat.command("nuevo_evento")
    await chat.say("Feria de ideas del barrio")
    await chat.say("mañana a las 10")
    await chat.press("staff.two_hours")
    await chat.say("Salón comunal La Flora")
    for key in ("staff.skip", "staff.skip", "staff.no_limit", "staff.skip", "staff.create"):
        await chat.press(key)
    assert chat.t("staff.event_created", id=1) in chat.text and not _resident_menu_shown(chat)
    # A broadcast, queued (to nobody yet): the report, not the menu.
    await chat.command("difundir")
    await chat.say("Hola a todos")
    await chat.press("staff.no_event")
    await chat.press("staff.audience_all")
    await chat.press("staff.send")
    assert chat.said("staff.broadcast_queued") and not _resident_menu_shown(chat)


async def test_a_new_call_lands_on_its_record_and_a_given_up_one_on_the_calls(
    staff_chat: Chat,
) -> None:
    chat = staff_chat
    await chat.command("convocatoria")
    await chat.press("calls.new")
    await chat.press("staff.quit")
    assert not _resident_menu_shown(chat)
    assert chat.choice_id("calls.new")  # back on the calls, where it began
    await chat.press("calls.new")
    await chat.say("Ideas para el agua")
    await chat.press("staff.skip")
    await chat.press("calls.default_categories")
    await chat.say("31 de diciembre")
    await chat.press("calls.create")
    assert not _resident_menu_shown(chat)
    assert chat.choice_id("calls.close")  # the call's own record, with its buttons


def test_every_staff_form_makes_its_cancel_button_in_one_place() -> None:
    """staff/common.quit_button makes it and quit_if_asked answers it: a form with its own
    copy could drift from what the answer expects."""
    handlers = Path(__file__).parents[3] / "handlers"
    copy = re.compile(r"""["']quit["']\s*,\s*["']staff\.quit["']""")
    found = [
        path.relative_to(handlers).as_posix()
        for path in sorted(handlers.rglob("*.py"))
        if path.name != "common.py" and copy.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, "use handlers.staff.common.quit_button:\n" + "\n".join(found)

"""/difundir (/broadcast) in chat: staff write an announcement, attach an event, choose who
gets it, see it as residents will, and confirm; old buttons in their chats still work."""

from collections.abc import Callable

import pytest

from handlers.engine.catalog import Catalog
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import add_event, outbox_rows
from tests.handlers.staff.helpers import REORDERED, STAFF, button, staff_with
from tests.handlers.walk import answer_receipt, to_summary

# As main made them before stable values (6d61e9e), for the default config:
OLD_BROADCAST_LA_FLORA = "bc_filter:neighbourhood:4"
OLD_BROADCAST_PAST_THE_END = "bc_filter:neighbourhood:9"


async def test_staff_broadcast_with_an_event_reaches_the_audience_and_reports(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now())
    for name in ("ana", "beto"):
        person = make_chat(language="es", user=name)
        await to_summary(person)
        await person.press("summary.send")
        await answer_receipt(person, updates=True, announcements=True)
    await staff.command("difundir")
    await staff.say("¡Les esperamos en el lanzamiento!")
    await staff.press_label(event.title)
    await staff.press("staff.audience_all")
    assert "¡Les esperamos en el lanzamiento!" in staff.text and event.title in staff.text
    assert staff.replies[-1].text == staff.t("staff.broadcast_confirm", count=2)
    await staff.press("staff.send")
    assert staff.t("staff.broadcast_queued", id=1, count=2) in staff.text
    rows = await outbox_rows(database, "broadcast")
    assert len(rows) == 2
    broadcast = await database.reader().broadcasts.get(1)
    sender = await database.reader().residents.find("telegram", STAFF)
    assert broadcast is not None and sender is not None and broadcast.reporter_id == sender.id
    assert broadcast.event_id == event.id and broadcast.audience == "all"


async def test_staff_broadcast_by_neighbourhood(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    person = make_chat(language="es", user="ana")
    await to_summary(person)  # her idea is in La Flora
    await person.press("summary.send")
    await answer_receipt(person, updates=True, announcements=True)
    await staff.command("broadcast")
    await staff.say("Reunión de vecinos de La Flora el jueves")
    await staff.press("staff.no_event")
    await staff.press("staff.audience_neighbourhood")
    await staff.press_label("La Flora")
    assert staff.replies[-1].text == staff.t("staff.broadcast_confirm", count=1)


async def test_staff_can_attach_any_upcoming_event_to_a_broadcast(
    staff: Chat, database: Database, clock: FakeClock
) -> None:
    """Not only the soonest few: "more events" pages on to the last one."""
    events = [await add_event(database, clock.now(), days=1 + n, title=f"Sesión número {n}")
              for n in range(20)]  # fmt: skip
    await staff.command("difundir")
    await staff.say("¡Les esperamos!")
    seen: set[str] = set()
    while events[-1].title not in (labels := [c.label for c in staff.choices]):
        seen.update(labels)
        assert len(staff.choices) <= 10  # a WhatsApp list's rows
        await staff.press("staff.more_events")
    seen.update(labels)
    assert {event.title for event in events} <= seen
    await staff.press_label(events[-1].title)
    assert len(staff.choices) <= 10
    await staff.press_label(staff.t("staff.audience_event", title=events[-1].title))
    assert events[-1].title in staff.text  # the preview carries the event's card
    await staff.press("staff.send")
    broadcast = await database.reader().broadcasts.get(1)
    assert broadcast is not None and broadcast.event_id == events[-1].id
    assert broadcast.audience == f"event:{events[-1].id}"


async def _to_neighbourhoods(chat: Chat) -> None:
    await chat.command("difundir")
    await chat.say("Reunión de vecinos el jueves")
    await chat.press("staff.no_event")
    await chat.press("staff.audience_neighbourhood")


@pytest.fixture
async def neighbour(make_chat: Callable[..., Chat]) -> None:
    """Ana, whose idea is in La Flora, takes announcements: the one in that audience."""
    person = make_chat(language="es", user="ana")
    await to_summary(person)
    await person.press("summary.send")
    await answer_receipt(person, updates=True, announcements=True)


async def test_an_old_broadcast_neighbourhood_button_still_names_its_place(
    staff: Chat, neighbour: None
) -> None:
    await _to_neighbourhoods(staff)
    await staff.send(choice=OLD_BROADCAST_PAST_THE_END)
    assert staff.said("input.stale_button") and staff.asked("staff.broadcast_filter")
    await staff.send(choice=OLD_BROADCAST_LA_FLORA)
    assert staff.replies[-1].text == staff.t("staff.broadcast_confirm", count=1)


async def test_a_broadcast_neighbourhood_keeps_its_place_when_the_list_is_reordered(
    staff: Chat, neighbour: None, database: Database, catalog: Catalog, clock: FakeClock
) -> None:
    await _to_neighbourhoods(staff)
    la_flora = button(staff, "La Flora")
    after = staff_with(REORDERED, database, catalog, clock)
    await after.send(choice=la_flora)
    assert after.replies[-1].text == after.t("staff.broadcast_confirm", count=1)
    await after.press("staff.send")
    stored = await database.reader().broadcasts.get(1)
    assert stored is not None and stored.audience == "neighbourhood:La Flora"

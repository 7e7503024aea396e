"""/eventos reaches every upcoming event: a compact list whose buttons open each card, in
messages a WhatsApp list can hold, with "more" past what one answer sends."""

from collections.abc import Callable

import pytest

from bot.channels.telegram import render as telegram_render
from bot.channels.whatsapp import render as whatsapp
from handlers.engine.catalog import Catalog
from handlers.engine.messages import Choice
from handlers.events.listing import PAGE, PAGES_AT_ONCE
from handlers.events.service import cancel_event, edit_event
from storage.database import Database
from storage.models import Event, EventFields, RsvpStatus
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import OFFSETS, add_event, outbox_rows
from tests.handlers.walk import to_summary

LONG_TITLE = "Taller de compostaje y huertas urbanas para las familias del barrio La Flora"


async def _events(database: Database, clock: FakeClock, count: int) -> list[Event]:
    """`count` events, some with the same title (a workshop series), one a long title."""
    titles = ["Taller de co-creación", LONG_TITLE, "Lanzamiento de Usme Innova"]
    return [await add_event(database, clock.now(), days=1 + n / 2, title=titles[n % 3])
            for n in range(count)]  # fmt: skip


async def _resident(chat: Chat) -> None:
    """A resident who has sent an idea (so has consented) and is at rest."""
    await to_summary(chat)
    await chat.press("summary.send")


def _buttons(chat: Chat) -> list[Choice]:
    return [choice for reply in chat.replies for choice in reply.choices]


def _opens(chat: Chat) -> dict[str, str]:
    """The event buttons of the last answer: id -> label."""
    return {c.id: c.label for c in _buttons(chat) if c.id.endswith(":show")}


@pytest.mark.parametrize("count", [5, 25])
async def test_every_event_is_two_taps_from_the_list(
    chat: Chat, database: Database, clock: FakeClock, count: int
) -> None:
    events = await _events(database, clock, count)
    await _resident(chat)
    for event in events:
        await chat.command("eventos")
        assert f"ev:{event.id}:show" in _opens(chat)  # listed, with its own button
        await chat.send(choice=f"ev:{event.id}:show")  # tap 1: its card
        assert event.title in chat.text
        assert f"ev:{event.id}:yes" in [c.id for c in chat.choices]
        await chat.send(choice=f"ev:{event.id}:yes")  # tap 2: "I'll come"
        assert chat.t("events.going") in chat.text
    reader = database.reader()
    for event in events:
        assert await reader.rsvps.status(event.id, 1) is RsvpStatus.GOING


@pytest.mark.parametrize("count", [5, 25])
async def test_the_list_fits_whatsapp_and_telegram(
    chat: Chat, catalog: Catalog, database: Database, clock: FakeClock, count: int
) -> None:
    events = await _events(database, clock, count)
    await chat.command("eventos")
    wanted = {f"ev:{event.id}:show" for event in events}
    t = catalog.translator(chat.language)
    words = whatsapp.Words(choose=t("whatsapp.choose"), numbered_hint=t("whatsapp.numbered_hint"),
                           or_choose=t("whatsapp.or_choose"))  # fmt: skip
    lists = [m.body["interactive"] for m in whatsapp.render_all(chat.replies, words)
             if m.kind == "interactive"]  # fmt: skip
    rows = [row for li in lists for section in li["action"]["sections"] for row in section["rows"]]
    assert {row["id"] for row in rows} >= wanted  # every event is a row: none is numbered text
    for listed in lists:
        assert listed["type"] == "list" and len(listed["body"]["text"]) <= 1024
        assert len(listed["action"]["button"]) <= whatsapp.MAX_LIST_BUTTON
        assert sum(len(s["rows"]) for s in listed["action"]["sections"]) <= whatsapp.MAX_LIST_ROWS
    for row in rows:
        assert len(row["title"]) <= whatsapp.MAX_ROW_TITLE
        assert len(row.get("description", "")) <= whatsapp.MAX_ROW_DESCRIPTION
    # Same titles on different days: each row says its day.
    described = [row.get("description", "") for row in rows if row["id"] in wanted]
    assert len(set(described)) == len(described)
    keyboards = [m.markup for m in telegram_render.render_all(chat.replies) if m.markup]
    data = [b.callback_data for k in keyboards for line in k.inline_keyboard for b in line]
    assert set(data) >= wanted and all(len(d.encode()) <= 64 for d in data)


async def test_past_one_answer_more_brings_the_rest(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    at_once = PAGE * PAGES_AT_ONCE
    events = await _events(database, clock, at_once + 5)
    await chat.command("events")
    assert set(_opens(chat)) == {f"ev:{e.id}:show" for e in events[:at_once]}
    more = [c.id for c in _buttons(chat) if c.label == chat.t("events.list_more")]
    assert more == [f"ev:more:{events[at_once - 1].id}"]
    await chat.send(choice=more[0])
    assert set(_opens(chat)) == {f"ev:{e.id}:show" for e in events[at_once:]}
    assert chat.t("events.list_more") not in [c.label for c in _buttons(chat)]


async def test_a_more_button_after_the_list_changed_shows_it_as_it_is_now(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    at_once = PAGE * PAGES_AT_ONCE
    events = await _events(database, clock, at_once + 2)
    await chat.command("events")
    more = f"ev:more:{events[at_once - 1].id}"
    async with database.transaction() as repos:  # the last event listed is cancelled
        await cancel_event(repos, events[at_once - 1], clock.now())
    await chat.send(choice=more)
    assert chat.t("events.list_changed") in chat.text
    assert f"ev:{events[0].id}:show" in _opens(chat)  # the list from its start
    clock.advance(days=30)  # all over: nothing left to list
    await chat.send(choice=more)
    assert chat.t("events.none") in chat.text
    await chat.send(choice="ev:more:x")
    assert chat.t("events.none") in chat.text


async def test_the_resident_of_the_fifth_event_hears_when_it_moves_or_is_cancelled(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    events = await _events(database, clock, 5)
    fifth = events[4]
    ana = make_chat(language="es", user="ana")
    await _resident(ana)
    await ana.command("eventos")
    await ana.send(choice=f"ev:{fifth.id}:show")
    await ana.send(choice=f"ev:{fifth.id}:yes")
    ana_id = (await database.reader().residents.find("test", "ana")).id
    moved = EventFields(**{**fifth.model_dump(include=set(EventFields.model_fields)),
                           "venue": "Casa de la Cultura"})  # fmt: skip
    async with database.transaction() as repos:
        fifth, _ = await edit_event(repos, fifth, moved, offsets=OFFSETS, now=clock.now())
        await cancel_event(repos, fifth, clock.now())
    for kind in ("event_changed", "event_cancelled"):
        [notice] = await outbox_rows(database, kind)
        assert notice["recipient_id"] == ana_id


async def test_cards_and_buttons_already_in_chats_keep_working(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    [event] = await _events(database, clock, 1)
    await _resident(chat)
    await chat.send(choice=f"ev:{event.id}:show")
    assert event.title in chat.text
    await chat.send(choice=f"ev:{event.id}:no")
    assert chat.t("events.declined") in chat.text

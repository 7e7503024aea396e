"""A reply WhatsApp sends as two messages (its location request, then the other answers as a
list or buttons): the second says what it is for, since a person may see it alone."""

from bot.channels.whatsapp.render import Words, render_all
from handlers.engine.catalog import Catalog
from handlers.engine.messages import Choice, Reply
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.staff.helpers import STAFF, staff_settings
from tests.handlers.walk import PROBLEM, to_problem


def _words(catalog: Catalog, language: str) -> Words:
    t = catalog.translator(language)
    return Words(choose=t("whatsapp.choose"), numbered_hint=t("whatsapp.numbered_hint"),
                 or_choose=t("whatsapp.or_choose"))  # fmt: skip


def _bodies(chat: Chat, catalog: Catalog) -> list[tuple[str, str]]:
    """(type, body) of each interactive message the last answer becomes on WhatsApp."""
    messages = render_all(chat.replies, _words(catalog, chat.language))
    return [(m.body["interactive"]["type"], m.body["interactive"]["body"]["text"])
            for m in messages if m.kind == "interactive"]  # fmt: skip


async def test_the_neighbourhood_list_asks_where_it_happens(chat: Chat, catalog: Catalog) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    [(first, _), (second, body)] = _bodies(chat, catalog)
    assert first == "location_request_message" and second == "list"
    assert body == chat.t("location.or_choose")


async def test_the_staff_pin_question_says_what_its_buttons_are_for(
    database: Database, catalog: Catalog, clock: FakeClock
) -> None:
    dispatcher = Dispatcher(database, staff_settings(), catalog, clock)
    staff = Chat(dispatcher, catalog, clock, language="es", user=STAFF, channel="telegram")
    await staff.command("nuevo_evento")
    await staff.say("Feria de ideas del barrio")
    await staff.say("2026-12-05 10:00")
    await staff.press("staff.two_hours")
    await staff.say("Salón comunal La Flora")
    await staff.press("staff.skip")  # no address: now the pin
    [(first, _), (_, body)] = _bodies(staff, catalog)
    assert first == "location_request_message"
    assert body == staff.t("staff.event_pin_or")


def test_without_its_own_words_the_second_message_repeats_the_question() -> None:
    words = Words()
    reply = Reply("¿Dónde está el lugar?\nComparta la ubicación.",
                  (Choice("s:skip", "Omitir"), Choice("s:quit", "Salir")),
                  location_button="📍 Ubicación")  # fmt: skip
    [_, rest] = render_all([reply], words)
    body = rest.body["interactive"]["body"]["text"]
    assert body != words.or_choose and body.startswith("¿Dónde está el lugar?")
    [only] = render_all([Reply("", (Choice("s:a", "A"), Choice("s:b", "B")))], words)
    assert only.body["interactive"]["body"]["text"]  # an empty text still gets a body

"""Residents and events: the list, RSVP with consent, capacity and the waitlist, deep links."""

from collections.abc import Callable

from icalendar import Calendar

from handlers.engine.settings import LabSettings
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import add_event, outbox_rows
from tests.handlers.walk import to_summary

PRIVACY_URL = LabSettings().privacy_policy_url


async def _idle_with_consent(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.send")


async def test_events_lists_upcoming_events_with_buttons_file_and_pin(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), capacity=30)
    await chat.command("eventos" if chat.language == "es" else "events")
    hello, *_, listed = chat.replies  # someone new is greeted first
    assert hello.text.startswith(chat.t("greeting.hello", lab="Usme Innova"))
    assert chat.t("events.list_head", count=1) in listed.text
    assert [c.id for c in listed.choices] == [f"ev:{event.id}:show"]
    await chat.send(choice=f"ev:{event.id}:show")
    [card] = chat.replies
    assert event.title in card.text and "Auditorio" in card.text
    assert chat.t("events.places_left", free=30, capacity=30) in card.text
    assert [c.id for c in card.choices] == [f"ev:{event.id}:yes", f"ev:{event.id}:no"]
    assert card.venue is not None and (card.venue.latitude, card.venue.longitude) == (
        4.4791, -74.1264,
    )  # fmt: skip
    assert card.document is not None and card.document.filename.endswith(".ics")
    # The date is shown in the lab's time zone, in the resident's language.
    expected = {"es": "miércoles 19 de agosto, 2:00 p. m. a 4:00 p. m.",
                "en": "Wednesday, August 19, 2:00 PM to 4:00 PM"}[chat.language]  # fmt: skip
    assert expected in card.text.replace("\u202f", " ")


async def test_no_events_is_said_kindly(chat: Chat) -> None:
    await chat.command("events")
    assert chat.t("events.none") in chat.text


async def test_no_events_promises_news_only_to_whom_will_get_them(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    """ "We'll tell you when there is one" is said only to someone who gets announcements;
    anyone else is asked whether they want to be told, and then is told when there is one."""
    policy = "https://www.gobiernobogota.gov.co/politica-de-privacidad"
    await chat.command("events")
    assert chat.t("events.none") in chat.text
    assert chat.t("events.none_subscribed") not in chat.text
    assert chat.asked("subscribe.ask", lab="Usme Innova", policy_url=policy)
    await chat.say("sí")  # typed, as a resident would
    assert chat.t("subscribe.done") in chat.text
    await chat.command("events")
    assert chat.t("events.none_subscribed") in chat.text
    assert chat.replies[-1].choices == ()  # nothing asked again
    await chat.say("BAJA")
    await chat.command("events")  # said no since: told how, not asked again
    assert chat.t("events.none_how") in chat.text
    assert chat.t("events.none_subscribed") not in chat.text
    await chat.command("start")  # in the middle of an idea: its question stays the last
    await chat.command("events")
    assert chat.t("events.none_how") in chat.text
    assert chat.asked("role.ask")


async def test_the_calendar_file_opens_with_the_right_time_zone(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now())
    await chat.command("events")
    await chat.send(choice=f"ev:{event.id}:show")
    document = chat.replies[-1].document
    assert document is not None
    calendar = Calendar.from_ical(document.content)
    [entry] = calendar.walk("VEVENT")
    start = entry.decoded("dtstart")
    assert str(start.tzinfo) == "America/Bogota"
    assert start == event.starts_at
    assert entry.decoded("dtend") == event.ends_at
    assert str(entry["summary"]) == event.title
    assert "Calle 137 Sur" in str(entry["location"])
    assert calendar.walk("VTIMEZONE")  # calendar apps get the zone's rules too


async def test_a_first_rsvp_asks_for_consent_then_records_it(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now())
    await chat.command("start")  # greeted, asked their role: no consent yet
    await chat.send(choice=f"ev:{event.id}:yes")
    assert chat.asked("events.consent_ask", policy_url=PRIVACY_URL)
    await chat.press("consent.accept")
    assert chat.t("events.going") in chat.text
    assert chat.asked("role.ask")  # and back to the question they were at
    assert await database.reader().rsvps.status(event.id, 1) == "going"


async def test_declining_consent_keeps_no_answer(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now())
    await chat.command("start")
    await chat.send(choice=f"ev:{event.id}:yes")
    await chat.press("consent.decline")
    assert chat.t("events.consent_declined") in chat.text
    assert await database.reader().rsvps.counts(event.id) == await database.reader().rsvps.counts(0)


async def test_capacity_waitlist_and_promotion_in_order(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), capacity=1)
    ana, beto, caro = (make_chat(language="es", user=name) for name in ("ana", "beto", "caro"))
    for person in (ana, beto, caro):
        await _idle_with_consent(person)
        await person.send(choice=f"ev:{event.id}:yes")
        clock.advance(seconds=1)
    assert ana.t("events.going") in ana.text
    assert beto.t("events.waitlisted", position=1) in beto.text
    assert caro.t("events.waitlisted", position=2) in caro.text
    assert not await outbox_rows(database, "promoted")
    await ana.send(choice=f"ev:{event.id}:no")
    assert ana.t("events.declined") in ana.text
    [promotion] = await outbox_rows(database, "promoted")
    beto_id = (await database.reader().residents.find("test", "beto")).id
    assert promotion["recipient_id"] == beto_id
    counts = await database.reader().rsvps.counts(event.id)
    assert (counts.going, counts.waitlist, counts.declined) == (1, 1, 1)


async def test_saying_yes_twice_keeps_the_place(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), capacity=5)
    await _idle_with_consent(chat)
    await chat.send(choice=f"ev:{event.id}:yes")
    await chat.send(choice=f"ev:{event.id}:yes")
    assert (await database.reader().rsvps.counts(event.id)).going == 1


async def test_a_started_or_cancelled_event_takes_no_answers(
    chat: Chat, database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), days=1)
    await _idle_with_consent(chat)
    clock.advance(days=1, minutes=1)
    await chat.send(choice=f"ev:{event.id}:yes")
    assert chat.t("events.already_started") in chat.text


async def test_a_forged_event_button_is_answered_kindly(chat: Chat) -> None:
    await _idle_with_consent(chat)
    await chat.send(choice="ev:abc:yes")
    assert chat.t("input.stale_button") in chat.text
    await chat.send(choice="ev:999:show")
    assert chat.t("events.not_found") in chat.text


async def test_a_deep_link_shows_the_event_to_a_new_user_and_an_rsvp_asks_consent(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, language: str
) -> None:
    event = await add_event(database, clock.now())
    newcomer = make_chat(language=language, user="new")
    await newcomer.send(command="start", argument=f"ev{event.id}")
    card = next(r for r in newcomer.replies if r.document is not None)
    assert event.title in card.text  # seeing it keeps nothing: no consent asked
    assert newcomer.t("consent.accept") not in [c.label for c in newcomer.choices]
    await newcomer.send(choice=f"ev:{event.id}:yes")
    assert newcomer.asked("events.consent_ask", policy_url=PRIVACY_URL)
    await newcomer.press("consent.accept")
    assert newcomer.t("events.going") in newcomer.text


async def test_a_deep_link_survives_the_language_question(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now())
    newcomer = make_chat(language="fr", user="nouveau")  # a language we do not speak
    await newcomer.send(command="start", argument=f"ev{event.id}")
    newcomer.language = "en"
    await newcomer.send(choice="language:en")
    assert any(event.title in r.text for r in newcomer.replies)

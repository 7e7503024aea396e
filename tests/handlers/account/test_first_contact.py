"""A new person's first message is answered for what it asked, after the language question
when we must ask it; role and consent to keep an idea are asked only by the idea intake."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from handlers.engine.catalog import Catalog
from handlers.engine.settings import LabSettings
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import add_event
from tests.handlers.walk import to_problem

INTAKE_QUESTIONS = ("role.ask", "consent.ask", "problem.ask")
UNKNOWN_LANGUAGE = "pt"  # a platform language we do not speak: the language is asked


async def _resident(database: Database, user: str):
    resident = await database.reader().residents.find("test", user)
    assert resident is not None
    return resident


async def _step(database: Database, user: str) -> str:
    _, _, record = await database.reader().conversations.load_turn("test", user, "-")
    assert record is not None
    return record.step


def _said(chat: Chat, key: str, **values: object) -> bool:
    text = chat.t(key, **values)
    return any(text in reply.text for reply in chat.history)


def _never_in_intake(chat: Chat) -> None:
    for key in INTAKE_QUESTIONS:
        assert not _said(chat, key, policy_url=_policy()), f"{key} was asked"


async def _first_message(
    make_chat: Callable[..., Chat], language: str, known: bool, **payload: object
) -> Chat:
    """A new person's first message; if their platform's language is not ours, they choose."""
    chat = make_chat(language=language if known else UNKNOWN_LANGUAGE, user=f"new-{language}")
    await chat.send(**payload)
    if not known:
        assert chat.replies[-1].text == chat.catalog.text("es", "language.ask")
        _never_asked_before_language(chat)
        chat.language = language
        await chat.send(choice=f"language:{language}")
        assert chat.t("language.set") in chat.text
    assert _said(chat, "greeting.hello", lab="Usme Innova")
    return chat


def _never_asked_before_language(chat: Chat) -> None:
    assert all(reply.text != chat.catalog.text("es", "role.ask") for reply in chat.history)


@dataclass(frozen=True)
class Env:
    database: Database
    clock: FakeClock
    catalog: Catalog


Check = Callable[[Chat, Env], Awaitable[None]]


def _name(language: str, spanish: str, english: str) -> str:
    return spanish if language == "es" else english


async def _subscribe(chat: Chat, env: Env) -> None:
    # Asked for their consent to announcements only, with the policy; then confirmed.
    assert chat.asked("subscribe.ask", lab="Usme Innova", policy_url=_policy())
    await chat.press("subscribe.yes")
    assert chat.t("subscribe.done") in chat.text
    assert chat.asked("greeting.menu")
    resident = await _resident(env.database, chat.user)
    assert resident.announcements_at is not None and resident.consent_at is None


async def _events(chat: Chat, env: Env) -> None:
    listed = [r for r in chat.history if any(c.id.endswith(":show") for c in r.choices)]
    assert listed and "Lanzamiento" in listed[-1].text
    assert not _said(chat, "events.consent_ask", policy_url=_policy())


async def _card(chat: Chat, env: Env) -> None:
    card = next(reply for reply in chat.history if reply.document is not None)
    assert "Lanzamiento" in card.text
    assert [c.label for c in card.choices] == [chat.t("events.yes"), chat.t("events.no")]


async def _my_data(chat: Chat, env: Env) -> None:
    assert any(reply.document is not None for reply in chat.history)
    assert chat.asked("greeting.menu")


async def _help(chat: Chat, env: Env) -> None:
    assert any("/" in reply.text and reply.text.startswith(chat.t("help.intro"))
               for reply in chat.history)  # fmt: skip
    assert chat.asked("greeting.menu")


async def _my_ideas(chat: Chat, env: Env) -> None:
    assert _said(chat, "mine.empty")
    assert chat.asked("greeting.menu")


async def _not_subscribed(chat: Chat, env: Env) -> None:
    assert _said(chat, "subscribe.not_subscribed")
    assert chat.asked("greeting.menu")


async def _unknown_command(chat: Chat, env: Env) -> None:
    assert _said(chat, "input.unknown_command", command="/hacer_magia")
    assert chat.asked("greeting.menu")


async def _subscribed_now(chat: Chat, env: Env) -> None:
    assert chat.t("subscribe.done") in chat.text
    assert (await _resident(env.database, chat.user)).announcements_at is not None


def _policy() -> str:
    return LabSettings().privacy_policy_url


# (what they send first, given the language, and what they must get back)
REQUESTS: dict[str, tuple[Callable[[str, int], dict[str, object]], Check]] = {
    "subscribe": (
        lambda lang, ev: {"command": _name(lang, "suscribirme", "subscribe")},
        _subscribe,
    ),
    "events": (lambda lang, ev: {"command": _name(lang, "eventos", "events")}, _events),
    "my_data": (lambda lang, ev: {"command": _name(lang, "mis_datos", "my_data")}, _my_data),
    "deep_link": (lambda lang, ev: {"command": "start", "argument": f"ev{ev}"}, _card),
    "help": (lambda lang, ev: {"command": _name(lang, "ayuda", "help")}, _help),
    "my_ideas": (lambda lang, ev: {"command": _name(lang, "mis_ideas", "my_ideas")}, _my_ideas),
    "unsubscribe": (
        lambda lang, ev: {"command": _name(lang, "baja", "unsubscribe")},
        _not_subscribed,
    ),
    "opt_out_word": (lambda lang, ev: {"text": "BAJA"}, _not_subscribed),
    "unknown_command": (lambda lang, ev: {"command": "hacer_magia"}, _unknown_command),
    # Buttons as a first message: a WhatsApp template's quick reply, a forwarded card.
    "subscribe_button": (lambda lang, ev: {"choice": "sub:yes"}, _subscribed_now),
    "event_button": (lambda lang, ev: {"choice": f"ev:{ev}:show"}, _card),
    "menu_button": (lambda lang, ev: {"choice": "menu:events"}, _events),
}


@pytest.mark.parametrize("known", [True, False], ids=["language_known", "language_asked"])
@pytest.mark.parametrize("kind", list(REQUESTS))
async def test_a_first_request_is_answered_and_not_turned_into_an_idea(
    make_chat: Callable[..., Chat],
    database: Database,
    clock: FakeClock,
    catalog: Catalog,
    language: str,
    known: bool,
    kind: str,
) -> None:
    event = await add_event(database, clock.now())
    payload, check = REQUESTS[kind]
    chat = await _first_message(make_chat, language, known, **payload(language, event.id))
    await check(chat, Env(database, clock, catalog))
    _never_in_intake(chat)
    assert await _step(database, chat.user) == "idle"
    assert (await _resident(database, chat.user)).language == language


@pytest.mark.parametrize("known", [True, False], ids=["language_known", "language_asked"])
@pytest.mark.parametrize("first", [{"command": "start"}, {"text": "Hay un hueco enorme"}])
async def test_start_or_words_begin_the_idea_intake(
    make_chat: Callable[..., Chat], database: Database, language: str, known: bool, first: dict
) -> None:
    chat = await _first_message(make_chat, language, known, **first)
    assert chat.asked("role.ask")
    await chat.press("role.resident")
    await chat.press("consent.accept")
    assert chat.asked("problem.ask")


async def test_an_rsvp_after_the_list_still_asks_consent(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, language: str
) -> None:
    event = await add_event(database, clock.now())
    chat = await _first_message(make_chat, language, False, command="eventos")
    await chat.send(choice=f"ev:{event.id}:yes")
    assert chat.asked("events.consent_ask", policy_url=_policy())
    await chat.press("consent.accept")
    assert chat.t("events.going") in chat.text
    _never_in_intake(chat)


async def test_requests_sent_while_the_language_is_asked_are_all_answered(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    await add_event(database, clock.now())
    chat = make_chat(language=UNKNOWN_LANGUAGE, user="impatient")
    await chat.send(command="suscribirme")
    await chat.send(command="eventos")  # before choosing a language
    assert chat.replies[-1].text == chat.catalog.text("es", "language.ask")
    chat.language = "es"
    await chat.send(choice="language:es")
    assert chat.t("subscribe.ask", lab="Usme Innova", policy_url=_policy()) in chat.text
    assert chat.t("events.list_head", count=1) in chat.text
    await chat.press("subscribe.yes")
    assert chat.t("subscribe.done") in chat.text
    _never_in_intake(chat)


async def test_a_subscriber_who_knows_the_policy_is_confirmed_at_once(
    chat: Chat, database: Database
) -> None:
    await to_problem(chat)  # consent to keep an idea, under the policy in force
    await chat.command("suscribirme")
    assert chat.t("subscribe.done") in chat.text
    assert chat.asked("problem.ask")


async def test_an_old_event_link_waiting_at_the_language_question_is_opened(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    """A conversation stored by the previous version, at the language question with the
    event of its link in `pending_event`."""
    event = await add_event(database, clock.now())
    chat = make_chat(language=UNKNOWN_LANGUAGE, user="before-upgrade")
    await chat.say("hola")
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("test", chat.user, clock.now())
        draft = f'{{"pending_event": "{event.id}:show"}}'
        await repos.conversations.save(resident.id, "language", draft, clock.now())
    chat.language = "en"
    await chat.send(choice="language:en")
    await _card(chat, Env(database, clock, chat.catalog))
    _never_in_intake(chat)


@pytest.mark.parametrize("tap", ("button", "number", "words"))
async def test_an_idea_begun_from_the_menu_is_not_greeted_twice(chat: Chat, tap: str) -> None:
    """The console opens with the greeting and the menu: "Contar una idea" (tapped, its
    number or its words) asks the first question, without the greeting again."""
    await chat.send()  # the chat opens: the greeting and the menu
    assert _said(chat, "greeting.hello", lab="Usme Innova")
    if tap == "button":
        await chat.press("menu.new")
    else:
        await chat.say("1" if tap == "number" else chat.t("menu.new"))
    assert chat.asked("role.ask")
    assert chat.t("greeting.hello", lab="Usme Innova") not in chat.text
    await chat.command("cancelar")
    await chat.press("cancel.yes")
    await chat.command("start")  # asked for by name, later: greeted, as /start always is
    assert chat.t("greeting.hello", lab="Usme Innova") in chat.text
    assert chat.asked("role.ask")


TOLD = {
    "es": "Buenas tardes, en mi barrio la basura se acumula en la esquina del parque",
    "en": "Good afternoon, in my neighbourhood the rubbish piles up at the park corner",
}


async def test_a_first_message_that_tells_the_problem_is_not_asked_again(chat: Chat) -> None:
    """ "Hola, en mi barrio la basura…" as a first message: kept as the problem, said so,
    and the intake goes on without "¿Cuál es el problema?"."""
    told = TOLD[chat.language]
    await chat.say(told)
    assert chat.t("problem.kept", problem=told) in chat.text
    assert chat.asked("role.ask")
    await chat.press("role.resident")
    await chat.press("consent.accept")
    assert chat.asked("location.ask")
    assert not _said(chat, "problem.ask")
    await chat.press_label("La Flora")
    await chat.send(choice="category:environment")
    await chat.press("idea.none")
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    assert told in chat.text  # the summary, with their words


@pytest.mark.parametrize("greeting", ("hola", "Buenas tardes, ¿cómo está?", "Hello, how are you?"))
async def test_a_greeting_is_not_taken_for_the_problem(chat: Chat, greeting: str) -> None:
    await chat.say(greeting)
    await chat.press("role.resident")
    await chat.press("consent.accept")
    assert chat.asked("problem.ask")


async def test_a_problem_told_at_rest_begins_an_idea_with_it(chat: Chat) -> None:
    """Someone back at the menu who writes their problem: an idea begins with it."""
    told = TOLD[chat.language]
    await chat.command("ayuda")
    await chat.say("gracias")  # words that tell nothing: the menu
    assert chat.asked("greeting.menu")
    await chat.say(told)
    assert chat.t("problem.kept", problem=told) in chat.text
    await chat.press("role.resident")
    await chat.press("consent.accept")
    assert chat.asked("location.ask")

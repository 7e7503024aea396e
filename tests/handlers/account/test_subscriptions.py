"""Opting in to announcements (offered after a first idea, or /suscribirme) and out again."""

import pytest

from handlers.engine.settings import LabSettings
from storage.database import Database
from tests.fakes.chat import Chat
from tests.handlers.walk import PROBLEM, category_to_summary, to_summary

POLICY = LabSettings().privacy_policy_url


async def _announced(database: Database, user: str) -> bool:
    resident = await database.reader().residents.find("test", user)
    assert resident is not None
    return resident.announcements_at is not None


async def test_news_and_announcements_are_asked_after_the_first_idea_only(
    chat: Chat, database: Database
) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    assert chat.asked("consent.updates_ask")
    # The receipt, then the question's buttons only; the menu follows the answers.
    assert [c.label for r in chat.replies for c in r.choices] == [
        chat.t("consent.updates_yes"),
        chat.t("consent.updates_no"),
    ]
    await chat.press("consent.updates_yes")
    # Their first yes: nothing says "again".
    assert chat.t("notice.updates_first") in chat.text
    assert chat.t("notice.updates_on") not in chat.text
    assert chat.asked("subscribe.offer", lab="Usme Innova")
    await chat.press("subscribe.yes")
    assert chat.t("subscribe.done") in chat.text
    assert chat.t("menu.new") in [c.label for c in chat.replies[-1].choices]
    assert await _announced(database, chat.user)
    await chat.command("start")  # a second idea: nothing asked again
    await chat.say(PROBLEM)
    await chat.press_label("La Flora")
    await category_to_summary(chat)
    await chat.press("summary.send")
    assert chat.t("receipt.next", lab="Usme Innova") in chat.text
    assert chat.t("subscribe.offer", lab="Usme Innova") not in chat.text
    assert chat.t("consent.updates_ask") not in chat.text
    assert chat.t("menu.new") in [c.label for c in chat.replies[-1].choices]


async def test_no_thanks_keeps_them_out(chat: Chat, database: Database) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    await chat.press("consent.updates_no")
    assert chat.t("consent.updates_declined") in chat.text
    await chat.press("subscribe.no")
    assert chat.t("subscribe.declined") in chat.text
    assert chat.t("menu.new") in [c.label for c in chat.replies[-1].choices]
    assert not await _announced(database, chat.user)
    resident = await database.reader().residents.find("test", chat.user)
    assert resident.updates_at is None and resident.updates_off_at is not None


async def test_subscribe_command_and_unsubscribe_command(chat: Chat, database: Database) -> None:
    await chat.command("start")
    await chat.command("suscribirme")  # not agreed to the privacy policy yet: asked, with it
    assert chat.asked("subscribe.ask", lab="Usme Innova", policy_url=POLICY)
    await chat.press("subscribe.yes")
    assert chat.t("subscribe.done") in chat.text
    assert chat.asked("role.ask")  # the question they were at comes again
    await chat.command("subscribe")
    assert chat.t("subscribe.already") in chat.text
    await chat.command("baja")
    assert chat.t("subscribe.stopped") in chat.text
    assert not await _announced(database, chat.user)


@pytest.mark.parametrize("word", ["BAJA", "stop", "Parar", "  unsubscribe  ", "Stop!"])
async def test_every_opt_out_word_works_at_any_step(
    make_chat, database: Database, word: str
) -> None:
    chat = make_chat(language="es")
    await to_summary(chat)
    await chat.command("suscribirme")
    assert await _announced(database, chat.user)
    await chat.say(word)
    assert chat.t("subscribe.stopped") in chat.text
    assert "/suscribirme" in chat.t("subscribe.stopped")
    assert chat.replies[-1].choices[0].id == "summary:send"  # the draft is still there
    assert not await _announced(database, chat.user)


async def test_a_word_inside_a_sentence_is_not_an_opt_out(make_chat, database: Database) -> None:
    chat = make_chat(language="es")
    await chat.command("start")
    await chat.press("role.resident")
    await chat.press("consent.accept")
    await chat.command("suscribirme")
    await chat.say("No hay un pare ni un stop en la esquina del colegio")
    assert chat.asked("location.ask")
    assert await _announced(database, chat.user)

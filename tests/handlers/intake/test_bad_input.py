"""Bad input gets a short, kind answer that repeats what is expected, and the draft stays."""

import asyncio
import logging

import pytest

from storage.database import Database
from tests.fakes.chat import Chat
from tests.handlers.walk import PROBLEM, category_to_summary, to_identity, to_problem, to_summary


@pytest.mark.parametrize(
    "kind", ["sticker", "voice", "document", "contact", "video", "animation", "something_new"]
)
async def test_media_where_text_is_expected(chat: Chat, kind: str) -> None:
    await to_problem(chat)
    await chat.send(unsupported=kind)
    what_key = f"media.{kind}" if kind != "something_new" else "media.other"
    assert chat.replies[0].text == chat.t("input.not_text", what=chat.t(what_key))
    assert chat.asked("problem.ask")


async def test_media_where_a_button_is_expected(chat: Chat) -> None:
    await to_identity(chat)
    await chat.send(unsupported="sticker")
    assert chat.replies[0].text == chat.t("input.not_here", what=chat.t("media.sticker"))
    assert chat.asked("identity.ask")
    await chat.photo()
    assert chat.replies[0].text == chat.t("input.not_here", what=chat.t("media.photo"))


async def test_text_that_matches_no_button(chat: Chat) -> None:
    await to_identity(chat)
    await chat.say("quizás")
    assert chat.replies[0].text == chat.t("input.choose")
    assert chat.asked("identity.ask")


@pytest.mark.parametrize(
    ("text", "key", "values"),
    [
        ("", "input.empty", {}),
        ("   \n ", "input.empty", {}),
        ("😡😡😡🚧🚧", "input.emoji_only", {}),
        ("¡¿...?!", "input.emoji_only", {}),
        ("Huecos", "input.too_short", {"count": 6, "min": 10}),
        ("x" * 10_000, "input.too_long", {"count": 10_000, "max": 1500}),
    ],
)
async def test_text_outside_the_limits(chat: Chat, text: str, key: str, values: dict) -> None:
    await to_problem(chat)
    await chat.say(text)
    assert chat.replies[0].text == chat.t(key, **values)
    assert chat.asked("problem.ask")


async def test_markup_characters_are_kept_literally(chat: Chat, database: Database) -> None:
    problem = "<b>Huecos</b> & *charcos* en la _vía_ [aquí](http://x) `code`"
    await to_problem(chat)
    await chat.say(problem)
    await chat.press_label("La Flora")
    await category_to_summary(chat)
    assert chat.t("summary.problem", value=problem) in chat.text
    await chat.press("summary.send")
    async with database.transaction() as repos:
        cursor = await repos.ideas._db.execute("SELECT problem FROM ideas")
        assert (await cursor.fetchone())[0] == problem


async def test_a_button_from_an_old_message(chat: Chat) -> None:
    await to_problem(chat)
    await chat.send(choice="role:official")
    assert chat.replies[0].text == chat.t("input.stale_button")
    assert chat.asked("problem.ask")


async def test_a_double_tap_on_send_files_one_idea(chat: Chat, database: Database) -> None:
    await to_summary(chat)
    await chat.send(choice="summary:send")
    await chat.send(choice="summary:send")
    assert chat.replies[0].text == chat.t("input.stale_button")
    async with database.transaction() as repos:
        cursor = await repos.ideas._db.execute("SELECT count(*) FROM ideas")
        assert (await cursor.fetchone())[0] == 1


async def test_a_button_id_we_never_made(chat: Chat) -> None:
    await to_summary(chat)
    await chat.send(choice="summary:explode")
    assert chat.replies[0].text == chat.t("input.choose")
    await chat.send(choice="menu:explode")
    assert chat.replies[0].text == chat.t("input.stale_button")
    await chat.send(choice="garbage")
    assert chat.replies[0].text == chat.t("input.stale_button")


@pytest.mark.parametrize(("latitude", "longitude"), [(200, 0), (0, -181), (float("nan"), 1)])
async def test_impossible_coordinates(chat: Chat, latitude: float, longitude: float) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.location(latitude, longitude)
    assert chat.replies[0].text == chat.t("input.bad_location")
    assert chat.asked("location.ask")


async def test_a_location_where_text_is_expected(chat: Chat) -> None:
    await to_problem(chat)
    await chat.location(4.5, -74.1)
    assert chat.replies[0].text == chat.t("input.not_text", what=chat.t("media.location"))


async def test_a_photo_that_could_not_be_downloaded(chat: Chat) -> None:
    await to_identity(chat)
    await chat.press("nav.back")
    await chat.send(unsupported="photo_failed")
    assert chat.replies[0].text == chat.t("photos.failed")


async def test_two_messages_at_once_are_answered_in_turn(chat: Chat) -> None:
    await to_problem(chat)
    answers: list[list] = []

    async def send(payload: dict) -> None:
        replies: list = []

        async def deliver(r):
            replies.extend(r)

        await chat.dispatcher.handle(chat.inbound(**payload), deliver)
        answers.append(replies)

    await asyncio.gather(send({"text": PROBLEM}), send({"text": "Barrio La Flora, calle 3"}))
    assert answers[0][-1].text == chat.t("location.ask")
    assert answers[1][-1].text == chat.t("category.ask")


async def test_logs_carry_ids_never_what_people_wrote(chat: Chat, caplog) -> None:
    caplog.set_level(logging.INFO)
    await to_problem(chat)
    await chat.say("Mi vecina Rosa Gómez del 3001234567 tiene problemas")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Rosa" not in logged and "3001234567" not in logged
    assert "resident-1" not in logged  # the platform's user id is not logged either
    assert "resident=" in logged

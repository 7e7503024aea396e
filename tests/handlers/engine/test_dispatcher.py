"""The dispatcher: duplicates dropped, one transaction per turn, failures contained, restarts."""

from pathlib import Path

import pytest

from handlers.engine.catalog import Catalog
from handlers.engine.dispatcher import KeyedLocks
from handlers.engine.settings import FlowSettings
from handlers.engine.state import Step
from handlers.flows import Dispatcher, routes
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.sql import database_for
from tests.handlers.walk import PROBLEM, category_to_summary, to_problem


async def test_a_repeated_message_id_is_dropped(chat: Chat) -> None:
    await to_problem(chat)
    assert await chat.send(external_id="tg-1", text=PROBLEM)
    assert chat.asked("location.ask")
    assert await chat.send(external_id="tg-1", text=PROBLEM) == []
    await chat.send(choice="location:n4")
    assert chat.asked("category.ask")


async def test_a_failing_turn_apologises_and_keeps_the_draft(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await to_problem(chat)
    answers = routes().answers  # the tables the dispatcher was given
    original = answers[Step.PROBLEM]

    async def broken(turn, value):
        turn.state.draft.problem = "half-written"
        raise RuntimeError("bug")

    monkeypatch.setitem(answers, Step.PROBLEM, broken)
    await chat.send(external_id="x-1", text=PROBLEM)
    assert chat.text == chat.t("error.internal")
    assert await chat.send(external_id="x-1", text=PROBLEM) == []  # a retry is not run again
    monkeypatch.setitem(answers, Step.PROBLEM, original)
    await chat.say(PROBLEM)
    assert chat.asked("location.ask")
    await chat.command("help")
    assert "half-written" not in chat.text


async def test_the_conversation_continues_after_a_restart(tmp_path: Path, catalog: Catalog) -> None:
    clock, settings = FakeClock(), FlowSettings()
    path = database_for(tmp_path)
    first = await Database.open(path)
    chat = Chat(Dispatcher(first, settings, catalog, clock), catalog, clock)
    await to_problem(chat)
    await chat.say(PROBLEM)
    await first.close()

    second = await Database.open(path)
    again = Chat(Dispatcher(second, settings, catalog, clock), catalog, clock)
    await again.say("La Flora")  # typed: the new process has shown no buttons yet
    assert again.asked("category.ask")
    await category_to_summary(again)
    assert chat.t("summary.problem", value=PROBLEM) in again.text
    await second.close()


async def test_an_unreadable_stored_state_starts_over(
    chat: Chat, database: Database, clock
) -> None:
    await to_problem(chat)
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("test", chat.user, clock.now())
        await repos.conversations.save(resident.id, "a_step_from_the_future", "{", clock.now())
    await chat.say("hola")
    assert chat.asked("greeting.menu")


async def test_locks_are_released_after_use() -> None:
    locks = KeyedLocks()
    async with locks.hold("a"), locks.hold("b"):
        assert len(locks) == 2
    assert len(locks) == 0

"""A turn's replies are committed with it: a process that dies between the commit and the
send leaves them to the next start, which sends them once more, before anything new."""

from collections.abc import Sequence
from pathlib import Path

import pytest

from handlers.engine.catalog import Catalog
from handlers.engine.messages import Reply
from handlers.engine.settings import FlowSettings
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.walk import PROBLEM, to_problem


class Died(BaseException):
    """The process dies here (a SIGKILL): nothing after it runs, not even `except Exception`."""


async def _dies_sending(replies: Sequence[Reply]) -> None:
    raise Died


async def _start(path: Path, catalog: Catalog, clock: FakeClock) -> tuple[Database, Chat]:
    database = await Database.open(path)
    return database, Chat(Dispatcher(database, FlowSettings(), catalog, clock), catalog, clock)


async def test_replies_committed_but_not_sent_are_sent_by_the_next_start_once(
    tmp_path: Path, catalog: Catalog
) -> None:
    clock, path = FakeClock(), tmp_path / "minga.sqlite3"
    first, chat = await _start(path, catalog, clock)
    await to_problem(chat)
    with pytest.raises(Died):  # the turn committed; the process died before sending
        await chat.dispatcher.handle(chat.inbound(text=PROBLEM), _dies_sending)
    await first.close()

    second, again = await _start(path, catalog, clock)
    sent: list[tuple[str, list[Reply]]] = []

    async def send(to: str, replies: Sequence[Reply]) -> None:
        sent.append((to, list(replies)))

    assert await again.dispatcher.resend_unsent({"test": send}) == 1
    await again.dispatcher.stop()
    assert [to for to, _ in sent] == [chat.user]
    texts = [reply.text for reply in sent[0][1]]
    assert any(chat.t("location.ask") in text for text in texts)  # the answer to the problem
    await again.say("La Flora")  # and the conversation goes on from there
    assert again.asked("category.ask")
    await second.close()

    third, last = await _start(path, catalog, clock)  # sent once more, never twice more
    assert await last.dispatcher.resend_unsent({"test": send}) == 0
    await third.close()


async def test_replies_sent_again_come_before_the_next_message_is_answered(
    tmp_path: Path, catalog: Catalog
) -> None:
    clock, path = FakeClock(), tmp_path / "minga.sqlite3"
    first, chat = await _start(path, catalog, clock)
    await to_problem(chat)
    with pytest.raises(Died):
        await chat.dispatcher.handle(chat.inbound(text=PROBLEM), _dies_sending)
    await first.close()

    second, again = await _start(path, catalog, clock)
    order: list[str] = []

    async def send(to: str, replies: Sequence[Reply]) -> None:
        order.append("left unsent")

    await again.dispatcher.resend_unsent({"test": send})
    await again.say("La Flora")
    order.append("next answer")
    assert order == ["left unsent", "next answer"]
    await again.dispatcher.stop()
    await second.close()


async def test_sent_replies_are_not_kept(tmp_path: Path, catalog: Catalog) -> None:
    clock, path = FakeClock(), tmp_path / "minga.sqlite3"
    database, chat = await _start(path, catalog, clock)
    await to_problem(chat)
    await chat.say(PROBLEM)
    assert await database.reader().pending_replies.unsent() == []
    await database.close()


async def test_a_channel_not_running_keeps_its_replies_for_later(
    tmp_path: Path, catalog: Catalog
) -> None:
    clock, path = FakeClock(), tmp_path / "minga.sqlite3"
    first, chat = await _start(path, catalog, clock)
    with pytest.raises(Died):
        await chat.dispatcher.handle(chat.inbound(command="start"), _dies_sending)
    await first.close()
    second, again = await _start(path, catalog, clock)
    assert await again.dispatcher.resend_unsent({}) == 0
    assert len(await second.reader().pending_replies.unsent()) == 1
    await second.close()


async def test_a_handled_body_is_forgotten_with_the_next_turns_write(
    make_chat, dispatcher: Dispatcher, database: Database, clock: FakeClock
) -> None:
    """A kept webhook body, handled while other turns are under way, costs no transaction of
    its own: the next turn's write deletes it; when nothing is under way it goes at once."""
    async with database.transaction() as repos:
        await repos.inbound_queue.put("test", "busy", "{}", clock.now())
        await repos.inbound_queue.put("test", "idle", "{}", clock.now())
    async with dispatcher._locks.hold(("test", "someone else")):  # a turn under way
        await dispatcher.body_handled("test", "busy")
    assert [b.key for b in await database.reader().inbound_queue.waiting("test")] == [
        "busy", "idle"]  # fmt: skip
    await make_chat(user="next").say("hola")
    assert [b.key for b in await database.reader().inbound_queue.waiting("test")] == ["idle"]
    await dispatcher.body_handled("test", "idle")
    assert await database.reader().inbound_queue.waiting("test") == []

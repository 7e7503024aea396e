"""Reminders with a moved clock: due on time, late after a restart but never after the start,
never twice, moved with the event, none for a cancelled event."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from handlers.events.reminders import next_reminder_at, queue_due_reminders
from handlers.events.service import cancel_event, edit_event
from storage.database import Database
from storage.reminders import ReminderRepository
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import OFFSETS, add_event, outbox_rows
from tests.handlers.walk import to_summary


async def _going(make_chat: Callable[..., Chat], event_id: int, *names: str) -> None:
    for name in names:
        person = make_chat(language="es", user=name)
        await to_summary(person)
        await person.press("summary.send")
        await person.send(choice=f"ev:{event_id}:yes")


async def _wake(database: Database, clock: FakeClock) -> int:
    async with database.transaction() as repos:
        return await queue_due_reminders(repos, OFFSETS, clock.now())


async def test_reminders_fall_due_one_day_and_two_hours_before(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), days=3)
    await _going(make_chat, event.id, "ana", "beto")
    assert await _wake(database, clock) == 0
    assert await next_reminder_at(database.reader(), OFFSETS, clock.now()) == (
        event.starts_at - timedelta(days=1)
    )
    clock.advance(days=2)  # exactly one day before
    assert await _wake(database, clock) == 2
    assert await _wake(database, clock) == 0  # a second wake-up queues nothing
    assert await next_reminder_at(database.reader(), OFFSETS, clock.now()) == (
        event.starts_at - timedelta(hours=2)
    )
    clock.advance(hours=22)
    assert await _wake(database, clock) == 2
    rows = await outbox_rows(database, "reminder")
    assert len(rows) == 4 and all(row["expires_at"] for row in rows)
    assert await next_reminder_at(database.reader(), OFFSETS, clock.now()) is None


async def test_a_bot_down_at_the_time_sends_one_late_reminder_before_the_start(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), days=3)
    await _going(make_chat, event.id, "ana")
    clock.advance(days=2, hours=23)  # both were due while the bot was down
    assert await _wake(database, clock) == 1  # only the nearest one: not two at once
    [row] = await outbox_rows(database, "reminder")
    assert row["subject"].endswith(":7200")


async def test_no_reminder_after_the_start(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), days=3)
    await _going(make_chat, event.id, "ana")
    clock.advance(days=3, minutes=1)  # the bot came back after the start
    assert await _wake(database, clock) == 0
    assert await outbox_rows(database, "reminder") == []


async def test_reminders_already_due_when_an_event_is_created_are_not_sent(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), days=0.5)  # in 12 hours: "1d" is past
    await _going(make_chat, event.id, "ana")
    assert await _wake(database, clock) == 0
    clock.advance(hours=10)
    assert await _wake(database, clock) == 1  # the two-hour one


async def test_a_moved_event_moves_its_reminders(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), days=3)
    await _going(make_chat, event.id, "ana")
    clock.advance(days=2)
    assert await _wake(database, clock) == 1  # the one-day reminder went out
    later = event.starts_at + timedelta(days=7)
    async with database.transaction() as repos:
        fields = event.model_copy(
            update={"starts_at": later, "ends_at": later + timedelta(hours=2)}
        )
        moved, told = await edit_event(repos, event, fields, offsets=OFFSETS, now=clock.now())
    assert told == 1 and moved.status == "moved"
    assert len(await outbox_rows(database, "event_changed")) == 1
    clock.advance(hours=22)  # the old two-hour time: nothing
    assert await _wake(database, clock) == 0
    clock.advance(days=6, hours=2)  # one day before the new start
    assert await _wake(database, clock) == 1
    assert len(await outbox_rows(database, "reminder")) == 2


async def test_a_cancelled_event_sends_no_reminders_and_tells_those_coming(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now(), days=3)
    await _going(make_chat, event.id, "ana", "beto")
    clock.advance(days=2)
    assert await _wake(database, clock) == 2
    async with database.transaction() as repos:
        _, told = await cancel_event(repos, event, clock.now())
    assert told == 2
    statuses = {row["status"] for row in await outbox_rows(database, "reminder")}
    assert statuses == {"skipped"}  # queued but not yet sent: dropped
    clock.advance(hours=22)
    assert await _wake(database, clock) == 0
    assert len(await outbox_rows(database, "event_cancelled")) == 2


async def test_a_busy_week_does_not_hide_an_event_s_reminder(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    """Reminders look at every upcoming event, not the first 50 (a launch week's many
    sessions once kept a later event's reminder from being queued)."""
    for n in range(50):  # fifty sessions that start before it and have not ended when it is due
        await add_event(database, clock.now(), days=2.5 + n / 1000, title=f"Sesión {n}")
    event = await add_event(database, clock.now(), days=3, title="Cierre de la semana")
    await _going(make_chat, event.id, "ana")
    clock.advance(days=2)  # one day before it
    assert await _wake(database, clock) == 1


async def test_two_workers_waking_at_once_queue_a_reminder_once(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Worker b read which reminders were handled before worker a's record was committed (on
    PostgreSQL, two transactions at once): its own record is refused, and it queues nothing."""
    event = await add_event(database, clock.now(), days=3)
    await _going(make_chat, event.id, "ana", "beto")
    clock.advance(days=2)
    assert await _wake(database, clock) == 2  # worker a
    monkeypatch.setattr(ReminderRepository, "handled", _nothing_handled_yet)
    assert await _wake(database, clock) == 0  # worker b, with what it read before a's commit
    assert len(await outbox_rows(database, "reminder")) == 2


async def _nothing_handled_yet(
    self: ReminderRepository, event_id: int, starts_at: object
) -> set[int]:
    return set()

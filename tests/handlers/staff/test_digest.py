"""The daily digest: its content and chart, its time (with a moved clock), once per day across
restarts, the empty-day rule, /resumen on demand, and alerts for each new idea."""

import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.scheduler import Scheduler
from handlers.engine.catalog import Catalog
from handlers.events.cards import Voice
from handlers.flows import Dispatcher
from handlers.staff.digest import build, queue_due_digest
from storage.database import Database
from storage.digests import DigestRepository
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.sql import database_for
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import (
    GROUP,
    make_staff_chat,
    staff_dispatcher,
    staff_settings,
    submit_idea,
)

# 07:00 in Bogotá (UTC-5) on Saturday 21 November 2026: an hour before the digest.
MORNING = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MORNING - timedelta(hours=20))


def voice(catalog: Catalog, language: str = "es") -> Voice:
    return Voice(catalog.translator(language), language, staff_settings().lab)


async def queue(database: Database, now: datetime, **changes: object) -> bool:
    async with database.transaction() as repos:
        return await queue_due_digest(repos, staff_settings(**changes), now)


async def test_the_digest_lists_new_ideas_with_totals_buttons_and_a_png_chart(
    make_chat: Callable[..., Chat], database: Database, catalog: Catalog, clock: FakeClock
) -> None:
    references = [await submit_idea(make_chat(user=f"r{i}", language="es")) for i in range(3)]
    clock.advance(hours=21)  # 08:00 in Bogotá
    assert await queue(database, clock.now())
    [row] = await outbox_rows(database, "digest")
    group = await database.reader().residents.get(row["recipient_id"])
    assert group is not None and group.user_key == GROUP
    payload = json.loads(row["payload"])
    since, until = (
        datetime.fromisoformat(payload["since"]),
        datetime.fromisoformat(payload["until"]),
    )
    text_reply, chart_reply = await build(database.reader(), voice(catalog), since, until,
                                          clock.now())  # fmt: skip
    text = text_reply.text
    assert "sábado, 21 de noviembre de 2026" in text
    assert all(reference in text for reference in references)
    assert "Ideas nuevas desde" in text and ": 3" in text
    es = catalog.translator("es")
    assert (
        es("digest.by_category", values=es("digest.total_part", name="Movilidad y vías", count=3))
        in text
    )
    assert (
        es("digest.by_neighbourhood", values=es("digest.total_part", name="La Flora", count=3))
        in text
    )
    assert "Por enfoque: " in text and "Sin revisar todavía" in text and "3" in text
    assert [c.id for c in text_reply.choices] == ["st:v:3", "st:v:2", "st:v:1"][::-1]
    assert chart_reply.picture is not None and chart_reply.picture.content is not None
    image = Image.open(io.BytesIO(chart_reply.picture.content))
    assert image.format == "PNG" and image.size == (800, 450)


async def test_once_a_day_at_its_time_with_a_moved_clock_and_across_restarts(
    make_chat: Callable[..., Chat], tmp_path: Path, catalog: Catalog, clock: FakeClock
) -> None:
    path = database_for(tmp_path)
    database = await Database.open(path)
    chat = Chat(Dispatcher(database, staff_settings(), catalog, clock), catalog, clock)
    await submit_idea(chat)
    clock.advance(hours=20, minutes=59)  # 07:59 in Bogotá
    scheduler = Scheduler(database, staff_settings(), clock, lambda: None)
    assert await scheduler.wake() == 0
    assert scheduler.next_at == MORNING + timedelta(hours=1)  # planned for 08:00
    clock.advance(minutes=1)
    assert await scheduler.wake() == 1
    assert await scheduler.wake() == 0  # a second wake-up the same day
    await database.close()
    database = await Database.open(path)  # the bot restarts at 11:00 the same day
    clock.advance(hours=3)
    assert await Scheduler(database, staff_settings(), clock, lambda: None).wake() == 0
    assert len(await outbox_rows(database, "digest")) == 1
    # The next day's digest covers from where the first one ended.
    chat = Chat(Dispatcher(database, staff_settings(), catalog, clock), catalog, clock,
                user="later")  # fmt: skip
    await submit_idea(chat)
    clock.advance(hours=21)
    assert await Scheduler(database, staff_settings(), clock, lambda: None).wake() == 1
    first, second = await outbox_rows(database, "digest")
    assert json.loads(second["payload"])["since"] == json.loads(first["payload"])["until"]
    await database.close()


async def test_a_bot_down_at_the_hour_sends_it_when_back_the_same_day(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock
) -> None:
    await submit_idea(make_chat(user="ana", language="es"))
    clock.advance(hours=20 + 9)  # 17:00 in Bogotá: started late
    assert await queue(database, clock.now())


async def test_no_new_ideas_no_digest_unless_asked(database: Database, clock: FakeClock) -> None:
    clock.advance(hours=21)
    assert not await queue(database, clock.now())
    assert await outbox_rows(database, "digest") == []
    clock.advance(days=1)
    assert await queue(database, clock.now(), digest_when_empty=True)


async def test_no_group_no_digest(make_chat: Callable[..., Chat], database: Database,
                                  clock: FakeClock) -> None:  # fmt: skip
    await submit_idea(make_chat(user="ana", language="es"))
    clock.advance(hours=21)
    assert not await queue(database, clock.now(), group_chat_id=None)


async def test_resumen_on_demand_does_not_change_what_the_next_digest_covers(
    dispatcher: Dispatcher, make_chat: Callable[..., Chat], database: Database,
    catalog: Catalog, clock: FakeClock,
) -> None:  # fmt: skip
    reference = await submit_idea(make_chat(user="ana", language="es"))
    staff = make_staff_chat(dispatcher, catalog, clock, group=True)
    clock.advance(minutes=1)
    await staff.command("resumen")
    assert reference in staff.text
    assert any(reply.picture is not None for reply in staff.replies)
    clock.advance(hours=21)
    assert await queue(database, clock.now())
    [row] = await outbox_rows(database, "digest")
    assert json.loads(row["payload"])["since"] < row["created_at"]
    last = await database.reader().digests.last()
    assert last is not None and last.ideas == 1  # only the scheduled one counted


async def test_each_new_idea_goes_to_the_group_when_asked(
    database: Database, catalog: Catalog, clock: FakeClock
) -> None:
    dispatcher = staff_dispatcher(database, catalog, clock, alert_each_idea=True)
    reference = await submit_idea(Chat(dispatcher, catalog, clock, user="ana"))
    [row] = await outbox_rows(database, "idea_alert")
    assert row["subject"] == reference


@pytest.mark.parametrize("language", ["es", "en"])
async def test_the_digest_says_since_when_with_the_month_in_words(
    make_chat: Callable[..., Chat], database: Database, catalog: Catalog, clock: FakeClock,
    language: str,
) -> None:  # fmt: skip
    """ "New ideas since 11/20/26" is 20 November in English and nothing in Spanish: the
    digest names the month, as the idea's record does."""
    await submit_idea(make_chat(user="r1", language="es"))
    clock.advance(hours=21)
    since = MORNING - timedelta(days=1, hours=1)  # 20 November, 6:00 in Bogotá
    [text_reply, _] = await build(database.reader(), voice(catalog, language), since,
                                  clock.now(), clock.now())  # fmt: skip
    start = catalog.text(language, "digest.new", since="\0", count=1).split("\0")[0]
    [line] = [line for line in text_reply.text.splitlines() if line.startswith(start)]
    assert re.search(r"\d+/\d+/\d+", line) is None
    assert ("nov" if language == "es" else "Nov") in line


async def test_two_workers_waking_at_once_queue_the_digest_once(
    make_chat: Callable[..., Chat], tmp_path: Path, catalog: Catalog, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Worker b looked for today's digest before worker a's was committed (on PostgreSQL, two
    transactions at once): the day's row is the claim, b's insert is refused, b sends none."""
    database = await Database.open(tmp_path / "minga.sqlite3")
    try:
        chat = Chat(Dispatcher(database, staff_settings(), catalog, clock), catalog, clock)
        await submit_idea(chat)
        clock.advance(hours=21)  # 09:00 in Bogotá
        assert await Scheduler(database, staff_settings(), clock, lambda: None).wake() == 1
        monkeypatch.setattr(DigestRepository, "get", _none_yet)
        assert await Scheduler(database, staff_settings(), clock, lambda: None).wake() == 0
        assert len(await outbox_rows(database, "digest")) == 1
    finally:
        await database.close()


async def _none_yet(self: DigestRepository, day: str) -> None:
    return None

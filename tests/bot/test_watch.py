"""Alerts to the staff group (issue 20, "Watch it"): each condition raised once when it has held
long enough, not repeated, and its end told once; the state in the database, so a restart (a
new Watch, as another worker or process would be) does not repeat it. The clock is moved by
hand; the disk and the platforms' answers are given."""

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from babel.dates import format_datetime
from pydantic import SecretStr

from bot.config import AlertSettings, Settings, StorageSettings, TelegramSettings
from bot.watch import DiskUsage, Watch
from handlers.engine.catalog import Catalog
from handlers.engine.settings import StaffSettings
from handlers.outbound.compose import compose
from storage.database import Database
from storage.models import NewOutbox
from storage.outbox_kinds import (
    BroadcastPayload,
    IdeaAlertPayload,
    OutboxKind,
    WatchAlertPayload,
)
from tests.fakes import minga
from tests.fakes.clock import FakeClock
from tests.fakes.minga import Running
from tests.fakes.sql import connect, database_for
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for

GROUP = -100555
catalog = Catalog.load()


class Disk:
    """A disk whose free share the test sets."""

    def __init__(self) -> None:
        self.free_percent = 50

    def __call__(self, path: Path) -> DiskUsage:
        return DiskUsage(100, 100 - self.free_percent, self.free_percent)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        telegram=TelegramSettings(token=SecretStr("123456:" + "A" * 30)),
        storage=StorageSettings(database=database_for(tmp_path), media_dir=tmp_path / "media"),
        staff=StaffSettings(group_chat_id=GROUP),
        alerts=AlertSettings(unreachable_minutes=5, backlog_minutes=15,
                             broadcast_stalled_minutes=10, disk_free_percent=10,
                             errors_per_minute=5, error_window_minutes=5),
    )  # fmt: skip


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = await Database.open(settings.storage.database)
    yield database
    await database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def disk() -> Disk:
    return Disk()


@pytest.fixture
def watch(database: Database, settings: Settings, clock: FakeClock, disk: Disk) -> Watch:
    return Watch(database, settings, clock, disk=disk)


async def alerts(settings: Settings) -> list[WatchAlertPayload]:
    """The alerts queued for the staff group, oldest first."""
    async with connect(settings.storage.database) as db:
        rows = await db.execute_fetchall(
            "SELECT payload FROM outbox WHERE kind = ? ORDER BY id", (OutboxKind.WATCH_ALERT.value,)
        )
    return [WatchAlertPayload.model_validate_json(row[0]) for row in rows]


def told(payloads: list[WatchAlertPayload]) -> list[tuple[str, str]]:
    return [(p.condition, p.state) for p in payloads]


async def composed(database: Database, clock: FakeClock, settings: Settings) -> list[str]:
    """The alerts' texts as the staff group reads them (its language: the lab's, Spanish)."""
    now = clock.now()
    async with database.transaction() as repos:
        items = await repos.outbox.claim(now, holder="test", until=now, channels=["telegram"],
                                         limit=100)  # fmt: skip
    texts = []
    for item in items:
        if item.kind == OutboxKind.WATCH_ALERT:
            replies = await compose(item, database.reader(), settings.flow, catalog, now)
            assert replies is not None
            texts.append(replies[0].text)
    return texts


def at(moment: datetime, settings: Settings) -> str:
    """A time as the alerts show it (the lab's zone)."""
    es = catalog.translator("es")
    local = moment.astimezone(settings.lab.zone)
    return format_datetime(local, es("events.time_format"), locale="es")


async def test_an_unreachable_staff_platform_is_told_once_it_is_back_with_its_end(
    watch: Watch, settings: Settings, clock: FakeClock, database: Database
) -> None:
    """Telegram (the staff group's platform) stops answering: nothing can reach the staff,
    so the alert waits; once Telegram answers again one message says both, once."""
    began = clock.now()
    watch.reachability.answered("telegram", "reply", "5xx")
    clock.advance(minutes=3)
    assert await watch.check() == 0  # not yet [alerts] unreachable_minutes
    clock.advance(minutes=3)
    assert await watch.check() == 0  # raised, but it could not reach the staff group
    clock.advance(minutes=5)
    watch.reachability.answered("telegram", "bulk", "5xx")  # still down
    assert await watch.check() == 0
    watch.reachability.answered("telegram", "reply", "ok")
    back = clock.now()
    assert await watch.check() == 1
    clock.advance(minutes=1)
    assert await watch.check() == 0
    assert told(await alerts(settings)) == [("unreachable", "both")]
    es = catalog.translator("es")
    values = {"channel": "Telegram", "since": at(began, settings), "at": at(back, settings)}
    assert await composed(database, clock, settings) == [
        es("watch_alert.unreachable", **values) + "\n\n" + es("watch_alert.unreachable_over",
                                                                **values)
    ]  # fmt: skip


async def test_a_growing_backlog_is_raised_once_even_across_a_restart_and_its_end_told_once(
    watch: Watch, settings: Settings, clock: FakeClock, database: Database, disk: Disk
) -> None:
    started = clock.now()
    await queue_idea_alerts(database, clock.now(), range(3))
    assert await watch.check() == 0  # something waits: watched from now
    clock.advance(minutes=10)
    await queue_idea_alerts(database, clock.now(), range(3, 4))
    assert await watch.check() == 0  # growing, not for [alerts] backlog_minutes yet
    clock.advance(minutes=6)
    assert await watch.check() == 1
    assert told(await alerts(settings)) == [("backlog", "raised")]
    assert (await alerts(settings))[0].since == started
    clock.advance(minutes=1)
    again = Watch(database, settings, clock, disk=disk)  # a restart, or another worker
    assert await again.check() == 0
    assert await watch.check() == 0
    await send_everything(database, clock.now())
    clock.advance(minutes=1)
    assert await again.check() == 1
    clock.advance(minutes=1)
    assert await again.check() == 0
    assert told(await alerts(settings)) == [("backlog", "raised"), ("backlog", "recovered")]


async def test_a_backlog_going_down_is_no_alert(
    watch: Watch, settings: Settings, clock: FakeClock, database: Database
) -> None:
    await queue_idea_alerts(database, clock.now(), range(30))
    for _ in range(40):  # a big queue, going down a little at every check
        clock.advance(minutes=1)
        await send_everything(database, clock.now(), limit=1)
        assert await watch.check() == 0
    assert await alerts(settings) == []


async def test_a_broadcast_that_does_not_move_is_raised_once_and_its_end_told(
    watch: Watch, settings: Settings, clock: FakeClock, database: Database
) -> None:
    broadcast = await stuck_broadcast(database, clock.now(), recipients=3)
    assert await watch.check() == 0
    clock.advance(minutes=11)
    assert await watch.check() == 1  # [alerts] broadcast_stalled_minutes (the backlog: later)
    assert ("broadcast", "raised") in told(await alerts(settings))
    clock.advance(minutes=1)
    assert await watch.check() == 0
    await send_everything(database, clock.now())
    clock.advance(minutes=1)
    await watch.check()
    payloads = [p for p in await alerts(settings) if p.condition == "broadcast"]
    assert told(payloads) == [("broadcast", "raised"), ("broadcast", "recovered")]
    assert {p.subject for p in payloads} == {str(broadcast)}


async def test_a_nearly_full_disk_is_raised_at_once_and_its_end_told_once(
    watch: Watch, settings: Settings, clock: FakeClock, disk: Disk
) -> None:
    disk.free_percent = 4
    assert await watch.check() == 1
    clock.advance(minutes=1)
    assert await watch.check() == 0
    disk.free_percent = 40
    clock.advance(minutes=1)
    assert await watch.check() == 1
    clock.advance(minutes=1)
    assert await watch.check() == 0
    assert told(await alerts(settings)) == [("disk", "raised"), ("disk", "recovered")]
    assert (await alerts(settings))[0].value == 4


async def test_errors_above_the_rate_are_raised_and_their_end_told(
    watch: Watch, settings: Settings, clock: FakeClock
) -> None:
    """More than [alerts] errors_per_minute over the window (5 a minute over 5 minutes)."""
    failing = logging.getLogger("tests.watch.failing")
    failing.addHandler(watch.errors)
    try:
        for _ in range(20):
            failing.error("a turn failed")
        assert await watch.check() == 0  # 4 a minute: within normal
        for _ in range(10):
            failing.error("a turn failed")
        assert await watch.check() == 1  # 6 a minute
        clock.advance(minutes=1)
        assert await watch.check() == 0
        clock.advance(minutes=5)  # the window went by without errors
        assert await watch.check() == 1
    finally:
        failing.removeHandler(watch.errors)
    assert told(await alerts(settings)) == [("errors", "raised"), ("errors", "recovered")]


async def test_without_a_staff_group_an_alert_is_only_logged(
    database: Database, settings: Settings, clock: FakeClock, disk: Disk,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    alone = settings.model_copy(update={"staff": StaffSettings()})
    disk.free_percent = 1
    assert await Watch(database, alone, clock, disk=disk).check() == 0
    assert await alerts(settings) == []
    assert any("staff alert raised: disk" in record.getMessage() for record in caplog.records)


async def queue_idea_alerts(database: Database, now: datetime, ideas: range) -> None:
    """Messages to the staff group that wait to be sent."""
    async with database.transaction() as repos:
        group = await repos.residents.get_or_create("telegram", str(GROUP), now)
        await repos.outbox.add(
            [NewOutbox(kind=OutboxKind.IDEA_ALERT, subject=f"idea:{n}", recipient_id=group.id,
                       payload=IdeaAlertPayload(idea_id=n), not_before=now) for n in ideas],
            now,
        )  # fmt: skip


async def stuck_broadcast(database: Database, now: datetime, *, recipients: int) -> int:
    """A broadcast whose messages wait and do not go (its channel is down)."""
    async with database.transaction() as repos:
        broadcast = await repos.broadcasts.create(
            text="Taller de huertas", event_id=None, audience="nobody yet", kind="all",
            value=None, created_by="staff:1", reporter_id=None, now=now,
        )  # fmt: skip
        people = [await repos.residents.get_or_create("telegram", str(9000 + n), now)
                  for n in range(recipients)]  # fmt: skip
        await repos.outbox.add(
            [NewOutbox(kind=OutboxKind.BROADCAST, subject=str(broadcast.id), recipient_id=p.id,
                       payload=BroadcastPayload(), not_before=now, broadcast_id=broadcast.id)
             for p in people],
            now,
        )  # fmt: skip
    return broadcast.id


async def send_everything(database: Database, now: datetime, limit: int = 10_000) -> None:
    """The outbox worker caught up (up to `limit` messages)."""
    async with database.transaction() as repos:
        items = await repos.outbox.claim(now, holder="test", until=now, channels=["telegram"],
                                         limit=limit)  # fmt: skip
        await repos.outbox.mark_sent([i.id for i in items], [1] * len(items), now)


async def test_minga_run_watches_on_the_scheduler_s_worker(api: FakeBotApi, tmp_path: Path) -> None:
    """`minga run` runs the checks where the scheduler runs (its lease): at its start, then
    every [alerts] check_seconds; their state is in the database."""
    settings = minga.telegram_settings(api, tmp_path, staff=StaffSettings(group_chat_id=GROUP))

    async def watched() -> bool:
        async with connect(settings.storage.database) as db:
            rows = await db.execute_fetchall("SELECT name FROM watch_alerts")
        return {"backlog", "disk", "errors", "unreachable:telegram"} <= {r[0] for r in rows}

    async with Running(settings) as running:
        await running.caught_up()  # started: its database made
        await wait_for(watched)

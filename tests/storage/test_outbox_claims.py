"""Outbox claims (issue 19): several workers on one database, each due row claimed by one of
them; a claim whose worker died lapses and the row is claimed again; rows queued before the
claims existed are claimed like any other.

Each test runs on SQLite and on PostgreSQL, every worker with its own `Database` (its own
connections, as separate processes have), the clock given by the test."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage.database import Database, PostgresDatabase
from storage.migrations import apply_migrations, postgres_migrations
from storage.models import NewOutbox
from storage.outbox_kinds import ChannelAlertPayload, OutboxKind
from tests.fakes.postgres import fresh_database

NOW = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)
CLAIM = timedelta(seconds=20)
CHANNELS = ("telegram",)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """One database that several workers open."""
    if request.param == "sqlite":
        yield tmp_path / "minga.sqlite3"
        return
    dsn: str = request.getfixturevalue("postgres_dsn")
    with fresh_database(dsn) as url:
        yield url


@pytest.fixture
async def workers(target: str | Path) -> AsyncIterator[list[Database]]:
    """Three workers' databases on the same target (the first one migrates it)."""
    async with AsyncExitStack() as stack:
        opened = []
        for _ in range(3):
            database = await Database.open(target)
            stack.push_async_callback(database.close)
            opened.append(database)
        yield opened


async def _queue(database: Database, count: int, *, channel: str = "telegram") -> list[int]:
    """`count` due rows, each to a resident of its own; their ids."""
    async with database.transaction() as repos:
        items = []
        for number in range(count):
            resident = await repos.residents.get_or_create(channel, f"{channel}{number}", NOW)
            items.append(_row(resident.id, f"a{number}"))
        await repos.outbox.add(items, NOW)
    rows = await database.reader().outbox._db.execute_fetchall("SELECT id FROM outbox")
    return sorted(int(row[0]) for row in rows)


def _row(resident_id: int, subject: str) -> NewOutbox:
    payload = ChannelAlertPayload(channel="x", reason="y")
    return NewOutbox(kind=OutboxKind.CHANNEL_ALERT, subject=subject, recipient_id=resident_id,
                     not_before=NOW, payload=payload)  # fmt: skip


async def _claim(
    database: Database, holder: str, *, limit: int, at: datetime = NOW,
    skip: tuple[int, ...] = (), gap: dict[str, timedelta] | None = None,
) -> list[int]:  # fmt: skip
    async with database.transaction() as repos:
        items = await repos.outbox.claim(at, holder=holder, until=at + CLAIM, channels=CHANNELS,
                                         limit=limit, skip=skip, chat_gap=gap)  # fmt: skip
    return [item.id for item in items]


async def test_workers_claiming_at_once_never_get_the_same_row(workers: list[Database]) -> None:
    ids = await _queue(workers[0], 60)
    claimed: dict[str, list[int]] = {f"w{n}": [] for n in range(len(workers))}

    async def drain(database: Database, holder: str) -> None:
        while got := await _claim(database, holder, limit=4):
            claimed[holder].extend(got)

    await asyncio.gather(*(drain(db, f"w{n}") for n, db in enumerate(workers)))
    every = [row for rows in claimed.values() for row in rows]
    assert sorted(every) == ids  # each row claimed, and by one worker only


async def test_a_claim_being_made_is_passed_over_not_waited_for(
    workers: list[Database],
) -> None:
    """While one worker's claim is not yet committed, another claims other rows at once."""
    ids = await _queue(workers[0], 6)
    async with workers[0].transaction() as repos:
        first = await repos.outbox.claim(NOW, holder="a", until=NOW + CLAIM, channels=CHANNELS,
                                         limit=3)  # fmt: skip
        if isinstance(workers[0], PostgresDatabase):  # SQLite's second writer would wait
            async with asyncio.timeout(5):
                second = await _claim(workers[1], "b", limit=6)
            assert sorted([item.id for item in first] + second) == ids
    assert await _claim(workers[2], "c", limit=6) == ([] if isinstance(workers[0],
                                                      PostgresDatabase) else ids[3:])  # fmt: skip


async def test_the_claim_of_a_worker_that_died_lapses_and_the_rows_are_claimed_again(
    workers: list[Database],
) -> None:
    ids = await _queue(workers[0], 3)
    assert await _claim(workers[0], "dead", limit=10) == ids
    # Within the claim: nobody else gets them.
    assert await _claim(workers[1], "alive", limit=10, at=NOW + CLAIM / 2) == []
    # It lapsed (the worker stopped renewing it): due again, for another worker.
    assert await _claim(workers[1], "alive", limit=10, at=NOW + CLAIM) == ids
    assert await _claim(workers[2], "third", limit=10, at=NOW + CLAIM) == []


async def test_a_renewed_claim_holds_and_a_row_sent_is_not_claimed(
    workers: list[Database],
) -> None:
    ids = await _queue(workers[0], 2)
    assert await _claim(workers[0], "a", limit=10) == ids
    async with workers[0].transaction() as repos:
        assert await repos.outbox.renew_claims(ids, "a", NOW + 2 * CLAIM) == 2
        assert await repos.outbox.renew_claims(ids, "b", NOW + 3 * CLAIM) == 0  # not theirs
        await repos.outbox.mark_sent([ids[0]], [1], NOW)
    assert await _claim(workers[1], "b", limit=10, at=NOW + CLAIM) == []
    assert await _claim(workers[1], "b", limit=10, at=NOW + 2 * CLAIM) == [ids[1]]


async def test_a_row_queued_again_is_free_at_its_new_time(workers: list[Database]) -> None:
    [row] = await _queue(workers[0], 1)
    assert await _claim(workers[0], "a", limit=10) == [row]
    async with workers[0].transaction() as repos:  # e.g. a channel halted for a minute
        await repos.outbox.requeue(row, NOW + timedelta(seconds=5), error="try later")
    assert await _claim(workers[1], "b", limit=10, at=NOW + timedelta(seconds=5)) == [row]


async def test_one_resident_is_in_one_workers_hands_at_a_time(workers: list[Database]) -> None:
    """Two rows for the same person (an invitation and its reminder): while one worker sends
    one, no other worker takes the other (the per-chat spacing is kept by one sender)."""
    async with workers[0].transaction() as repos:
        resident = await repos.residents.get_or_create("telegram", "ana", NOW)
        await repos.outbox.add([_row(resident.id, "first"), _row(resident.id, "second")], NOW)
    [first] = await _claim(workers[0], "a", limit=1)
    assert await _claim(workers[1], "b", limit=10) == []
    [second] = await _claim(workers[0], "a", limit=10, skip=(first,))  # its own: it spaces them
    assert second != first


async def test_another_worker_keeps_the_chats_spacing_after_a_message_went(
    workers: list[Database],
) -> None:
    """The invitation went (worker a) a moment ago: worker b sends its reminder only once the
    channel's spacing per chat has passed."""
    async with workers[0].transaction() as repos:
        resident = await repos.residents.get_or_create("telegram", "ana", NOW)
        await repos.outbox.add([_row(resident.id, "first"), _row(resident.id, "second")], NOW)
    [first] = await _claim(workers[0], "a", limit=1)
    async with workers[0].transaction() as repos:
        await repos.outbox.mark_sent([first], [1], NOW)
    gap = {"telegram": timedelta(seconds=1)}
    soon, later = NOW + timedelta(seconds=0.5), NOW + timedelta(seconds=1)
    assert await _claim(workers[1], "b", limit=10, at=soon, gap=gap) == []
    # Another channel's spacing does not hold a Telegram chat.
    [second] = await _claim(workers[1], "b", limit=10, at=soon, gap={"whatsapp": gap["telegram"]})
    async with workers[1].transaction() as repos:  # let go of it again, for the next look
        await repos.outbox.requeue(second, NOW)
    assert await _claim(workers[1], "b", limit=10, at=later, gap=gap) == [second]


async def test_rows_queued_before_the_upgrade_are_claimed_and_sent(
    target: str | Path,
) -> None:
    """A database at schema 10 (no claims) with rows waiting: after the upgrade they are due."""
    await _at_schema_10_with_a_waiting_row(target)
    database = await Database.open(target)
    try:
        assert await database.schema_version() >= 11
        [item] = await _items(database)
        assert item.recipient.user_key == "7001" and item.subject == "old"
    finally:
        await database.close()


async def _items(database: Database) -> list[object]:
    async with database.transaction() as repos:
        return list(await repos.outbox.claim(NOW, holder="new", until=NOW + CLAIM,
                                             channels=CHANNELS, limit=10))  # fmt: skip


OLD_ROWS = (
    "INSERT INTO residents (id, channel, user_key, language, created_at) "
    "VALUES (1, 'telegram', '7001', 'es', '2026-08-16T18:00:00+00:00')",
    "INSERT INTO outbox (kind, subject, recipient_id, payload, priority, status, not_before, "
    'created_at) VALUES (\'channel_alert\', \'old\', 1, \'{"channel": "x", "reason": "y"}\', '
    "1, 'pending', '2026-08-16T18:00:00+00:00', '2026-08-16T18:00:00+00:00')",
)


async def _at_schema_10_with_a_waiting_row(target: str | Path) -> None:
    """The schema as migration 0010 left it, and an outbox row written then."""
    if isinstance(target, Path):
        async with aiosqlite.connect(target) as connection:
            await connection.execute("PRAGMA foreign_keys = ON")
            await apply_migrations(connection, target=10)
            for statement in OLD_ROWS:
                await connection.execute(statement)
            await connection.commit()
        return
    import psycopg

    async with await psycopg.AsyncConnection.connect(target) as connection:
        for migration in postgres_migrations():
            if migration.version <= 10:
                await connection.execute(migration.sql.encode())
        await connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        await connection.execute("INSERT INTO schema_version (version) VALUES (10)")
        for statement in OLD_ROWS:
            await connection.execute(statement.encode())
        await connection.commit()

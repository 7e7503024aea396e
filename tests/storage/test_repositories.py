"""Repositories: residents, conversations, inbound dedup and ideas."""

from datetime import UTC, datetime, timedelta

import pytest

from storage.database import Database
from storage.models import Focus, IdeaStatus, NewIdea, NewMedia, Role
from storage.pending import Kept
from storage.timefmt import from_db, to_db

NOW = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)


def _idea(resident_id: int, **changes: object) -> NewIdea:
    values = {
        "resident_id": resident_id,
        "role": Role.RESIDENT,
        "language": "es",
        "problem": "Huecos en la vía principal",
        "idea": None,
        "category": "mobility",
        "focus": Focus.EXTERNAL,
        "anonymous": True,
    }
    return NewIdea(**{**values, **changes})


async def test_a_resident_is_made_once_per_channel_identity(database: Database) -> None:
    async with database.transaction() as repos:
        first = await repos.residents.get_or_create("telegram", "42", NOW)
        again = await repos.residents.get_or_create("telegram", "42", NOW + timedelta(days=1))
        other = await repos.residents.get_or_create("whatsapp", "42", NOW)
    assert first == again
    assert other.id != first.id


async def test_inbound_ids_are_recorded_once(database: Database) -> None:
    async with database.transaction() as repos:
        assert await repos.inbound.record("telegram", "1001", NOW)
        assert not await repos.inbound.record("telegram", "1001", NOW)
        assert await repos.inbound.record("whatsapp", "1001", NOW)
        assert await repos.inbound.seen("telegram", "1001")


async def test_a_failed_unit_of_work_leaves_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as repos:
            await repos.inbound.record("telegram", "7", NOW)
            raise RuntimeError("boom")
    async with database.transaction() as repos:
        assert not await repos.inbound.seen("telegram", "7")


async def test_conversation_state_round_trips(database: Database) -> None:
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("telegram", "42", NOW)
        assert await repos.conversations.get(resident.id) is None
        await repos.conversations.save(resident.id, "problem", '{"role":"resident"}', NOW)
        record = await repos.conversations.get(resident.id)
    assert record is not None
    assert (record.step, record.draft, record.updated_at) == ("problem", '{"role":"resident"}', NOW)


async def test_ideas_with_media_history_and_references(database: Database) -> None:
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("telegram", "42", NOW)
        media = (NewMedia(kind="photo", path="telegram/a.jpg", platform_ref="a"),)
        first_id, first = await repos.ideas.create(
            _idea(resident.id, media=media), prefix="MNG", year=2026, now=NOW
        )
        _, second = await repos.ideas.create(
            _idea(resident.id), prefix="MNG", year=2026, now=NOW + timedelta(minutes=1)
        )
        assert (first, second) == ("MNG-2026-000001", "MNG-2026-000002")
        assert await repos.ideas.media_paths(first_id) == ["telegram/a.jpg"]
        mine = await repos.ideas.for_resident(resident.id)
        assert [i.reference for i in mine] == [second, first]
        assert mine[0].status is IdeaStatus.RECEIVED
        assert await repos.ideas.count_for_resident(resident.id) == 2
        day = await repos.ideas.created_between(NOW, NOW + timedelta(seconds=30))
        assert [i.reference for i in day] == [first]
        cursor = await repos.ideas._db.execute("SELECT kind, status FROM idea_events")
        assert [tuple(r) for r in await cursor.fetchall()] == [("status", "received")] * 2


async def test_the_database_refuses_impossible_coordinates(database: Database) -> None:
    import sqlite3

    import psycopg

    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        async with database.transaction() as repos:
            resident = await repos.residents.get_or_create("telegram", "42", NOW)
            await repos.ideas.create(
                _idea(resident.id, latitude=200.0, longitude=0.0), prefix="MNG", year=2026, now=NOW
            )


def test_times_are_stored_in_utc_and_naive_ones_refused() -> None:
    from zoneinfo import ZoneInfo

    bogota = datetime(2026, 8, 16, 14, 0, tzinfo=ZoneInfo("America/Bogota"))
    assert to_db(bogota) == "2026-08-16T19:00:00.000000Z"
    assert from_db(to_db(bogota)) == bogota
    with pytest.raises(ValueError, match="naive"):
        to_db(datetime(2026, 8, 16))


async def test_kept_bodies_come_back_in_arrival_order_and_once(database: Database) -> None:
    """Telegram's keys are update ids: 99 came before 100 (as numbers, not as text), and a
    batch kept again (a fetch retried) keeps each body once."""
    now = datetime(2026, 12, 4, tzinfo=UTC)
    async with database.transaction() as repos:
        await repos.inbound_queue.put_all(
            "telegram", [Kept("99", "{}", "7", 99), Kept("100", "{}", "7", 100)], now
        )
        again = [Kept("100", "{}", "7", 100), Kept("101", "{}", "7", 101)]
        await repos.inbound_queue.put_all("telegram", again, now)
    waiting = await database.reader().inbound_queue.waiting("telegram")
    assert [body.key for body in waiting] == ["99", "100", "101"]

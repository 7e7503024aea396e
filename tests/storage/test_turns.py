"""A turn's writes: the common turn is one atomic statement; a turn that writes more commits it
all together or nothing."""

from datetime import UTC, datetime

import pytest

from storage.database import Database
from storage.models import Focus, NewIdea, Role

NOW = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)


async def _resident(database: Database):
    async with database.turn() as work:
        return await work.create_resident("telegram", "42", NOW)


def _idea(resident_id: int) -> NewIdea:
    return NewIdea(
        resident_id=resident_id, role=Role.RESIDENT, language="es", problem="Huecos", idea=None,
        category="mobility", focus=Focus.EXTERNAL, anonymous=True,
    )  # fmt: skip


async def _count_ideas(database: Database) -> int:
    async with database.transaction() as repos:
        rows = await repos.ideas._db.execute_fetchall("SELECT count(*) FROM ideas")
    return next(iter(rows))[0]


async def test_the_common_turn_writes_message_state_and_resident_together(
    database: Database,
) -> None:
    resident = await _resident(database)
    changed = resident.model_copy(
        update={"language": "en", "role": Role.OFFICIAL, "consent_version": "v1", "consent_at": NOW}
    )
    async with database.turn() as work:
        await work.finish(
            channel="telegram", external_id="7", resident=changed, step="problem",
            draft="{}", now=NOW,
        )  # fmt: skip
        assert not work._transaction.began  # one statement, atomic by itself
    seen, stored, record = await database.reader().conversations.load_turn("telegram", "42", "7")
    assert seen and stored == changed
    assert record is not None and (record.step, record.updated_at) == ("problem", NOW)


async def test_a_turn_that_only_reads_begins_no_transaction(database: Database) -> None:
    resident = await _resident(database)
    async with database.turn() as work:
        assert await work.repos.ideas.for_resident(resident.id) == []
        assert not work._transaction.began


async def test_a_failing_turn_leaves_none_of_its_writes(database: Database) -> None:
    resident = await _resident(database)
    with pytest.raises(RuntimeError):
        async with database.turn() as work:
            await work.repos.ideas.create(_idea(resident.id), prefix="MNG", year=2026, now=NOW)
            assert work._transaction.began
            raise RuntimeError("bug in the handler")
    assert await _count_ideas(database) == 0  # and the lock was released


async def test_a_turn_with_a_domain_write_commits_it_with_the_state(database: Database) -> None:
    resident = await _resident(database)
    async with database.turn() as work:
        await work.repos.ideas.create(_idea(resident.id), prefix="MNG", year=2026, now=NOW)
        await work.finish(
            channel="telegram", external_id="8", resident=resident, step="idle", draft="{}",
            now=NOW,
        )  # fmt: skip
    assert await _count_ideas(database) == 1
    _, _, record = await database.reader().conversations.load_turn("telegram", "42", "8")
    assert record is not None and record.step == "idle"

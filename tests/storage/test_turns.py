"""A turn's writes: the common turn is one atomic statement; a turn that writes more commits it
all together or nothing."""

from datetime import UTC, datetime

import pytest

from storage.database import Database

NOW = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)


async def _resident_id(database: Database) -> int:
    async with database.transaction() as repos:
        return (await repos.residents.get_or_create("telegram", "42", NOW)).id


async def test_the_common_turn_writes_the_message_and_the_state_together(
    database: Database,
) -> None:
    resident_id = await _resident_id(database)
    async with database.turn() as work:
        await work.finish(
            channel="telegram", external_id="7", resident_id=resident_id, step="problem",
            draft="{}", now=NOW,
        )  # fmt: skip
    seen, resident, record = await database.reader().conversations.load_turn("telegram", "42", "7")
    assert seen and resident is not None and resident.id == resident_id
    assert record is not None and (record.step, record.updated_at) == ("problem", NOW)


async def test_a_turn_that_only_reads_begins_no_transaction(database: Database) -> None:
    resident_id = await _resident_id(database)
    async with database.turn() as work:
        assert await work.repos.ideas.for_resident(resident_id) == []
        assert not work._transaction.began


async def test_a_failing_turn_leaves_none_of_its_writes(database: Database) -> None:
    resident_id = await _resident_id(database)
    with pytest.raises(RuntimeError):
        async with database.turn() as work:
            await work.repos.residents.record_consent(resident_id, "v1", NOW)
            assert work._transaction.began
            raise RuntimeError("bug in the handler")
    async with database.transaction() as repos:
        resident = await repos.residents.get(resident_id)
    assert resident is not None and resident.consent_version is None
    async with database.transaction():  # the lock was released
        pass


async def test_a_turn_with_a_domain_write_commits_it_with_the_state(database: Database) -> None:
    resident_id = await _resident_id(database)
    async with database.turn() as work:
        await work.repos.residents.record_consent(resident_id, "v1", NOW)
        await work.finish(
            channel="telegram", external_id="8", resident_id=resident_id, step="problem",
            draft='{"role":"resident"}', now=NOW,
        )  # fmt: skip
    _, resident, record = await database.reader().conversations.load_turn("telegram", "42", "8")
    assert resident is not None and resident.consent_version == "v1"
    assert record is not None and record.draft == '{"role":"resident"}'

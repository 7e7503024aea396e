"""A turn's writes: plain statements in one transaction, all of them or none; its reads see
committed data, or its own writes once it has written."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import psycopg
import pytest

from storage import residents
from storage.database import Database
from storage.models import Focus, NewIdea, Resident, Role
from storage.sql import Statement, write_returning
from tests.fakes.postgres import TEST_DSN

NOW = datetime(2026, 8, 16, 19, 0, tzinfo=UTC)


@pytest.fixture(params=["file", "memory", *(["postgresql"] if TEST_DSN else [])])
async def any_database(
    request: pytest.FixtureRequest, tmp_path: Path, database_target: str | Path
) -> AsyncIterator[Database]:
    """On a file (a reader connection beside the writer), in memory (one connection only), and
    on PostgreSQL (a pool) when the suite runs there."""
    targets = {"file": tmp_path / "minga.sqlite3", "memory": ":memory:"}
    database = await Database.open(targets.get(request.param, database_target))
    yield database
    await database.close()


async def _resident(database: Database) -> Resident:
    async with database.turn() as work:
        return await work.create_resident("telegram", "42", NOW)


def _idea(resident_id: int) -> NewIdea:
    return NewIdea(
        resident_id=resident_id, role=Role.RESIDENT, language="es", problem="Huecos", idea=None,
        category="mobility", focus=Focus.EXTERNAL, anonymous=True,
    )  # fmt: skip


async def _count_ideas(database: Database) -> int:
    rows = await database.reader().ideas._db.execute_fetchall("SELECT count(*) FROM ideas")
    return int(next(iter(rows))[0])


async def _finish(database: Database, resident: Resident, external_id: str, step: str) -> None:
    async with database.turn() as work:
        await work.finish(
            channel="telegram", external_id=external_id, resident=resident, step=step,
            draft="{}", now=NOW,
        )  # fmt: skip


async def test_the_common_turn_writes_message_state_and_resident_together(
    database: Database,
) -> None:
    resident = await _resident(database)
    changed = resident.model_copy(
        update={"language": "en", "role": Role.OFFICIAL, "consent_version": "v1", "consent_at": NOW}
    )
    await _finish(database, changed, "7", "problem")
    seen, stored, record = await database.reader().conversations.load_turn("telegram", "42", "7")
    assert seen and stored == changed
    assert record is not None and (record.step, record.updated_at) == ("problem", NOW)


async def test_every_turn_column_of_the_resident_is_saved(database: Database) -> None:
    resident = await _resident(database)
    later = NOW + timedelta(minutes=1)
    changed = resident.model_copy(
        update={
            "language": "en", "role": Role.CONTRACTOR, "consent_version": "v2",
            "consent_at": NOW, "consent_refused_at": later, "announcements_at": NOW,
            "announcements_version": "v2", "announcements_off_at": later, "updates_at": NOW,
            "updates_version": "v2", "updates_off_at": later,
        }
    )  # fmt: skip
    await _finish(database, changed, "7", "idle")
    assert await database.reader().residents.get(resident.id) == changed


async def test_a_turn_that_only_reads_begins_no_transaction(database: Database) -> None:
    resident = await _resident(database)
    async with database.turn() as work:
        assert await work.repos.ideas.for_resident(resident.id) == []
        assert not work._transaction.began
        if database.dialect == "sqlite":
            assert not database._lock.locked()  # other turns are not held up by its reads
    assert not work.wrote_rows


async def test_a_read_in_a_turn_never_sees_another_units_uncommitted_writes(
    any_database: Database,
) -> None:
    """The writer connection is shared: while another unit of work has written and not yet
    committed, a turn's read must not see those rows (they may still roll back)."""
    database = any_database
    resident = await _resident(database)
    written, release = asyncio.Event(), asyncio.Event()

    async def other_unit_of_work() -> None:
        with pytest.raises(RuntimeError):
            async with database.transaction() as repos:
                await repos.ideas.create(_idea(resident.id), prefix="MNG", year=2026, now=NOW)
                written.set()
                await release.wait()
                raise RuntimeError("rolled back")

    other = asyncio.create_task(other_unit_of_work())
    await written.wait()
    async with database.turn() as work:
        read = asyncio.create_task(work.repos.ideas.for_resident(resident.id))
        release.set()
        assert await read == []
        await other
        assert await work.repos.ideas.for_resident(resident.id) == []


async def test_a_turn_reads_what_another_unit_of_work_committed(database: Database) -> None:
    resident = await _resident(database)
    async with database.turn() as work:
        assert await work.repos.ideas.for_resident(resident.id) == []
        async with database.transaction() as repos:
            await repos.ideas.create(_idea(resident.id), prefix="MNG", year=2026, now=NOW)
        assert len(await work.repos.ideas.for_resident(resident.id)) == 1


async def test_a_turn_reads_its_own_writes_before_it_commits(any_database: Database) -> None:
    database = any_database
    resident = await _resident(database)
    async with database.turn() as work:
        await work.repos.ideas.create(_idea(resident.id), prefix="MNG", year=2026, now=NOW)
        assert len(await work.repos.ideas.for_resident(resident.id)) == 1
        await work.finish(
            channel="telegram", external_id="8", resident=resident, step="idle", draft="{}",
            now=NOW,
        )  # fmt: skip
    assert work.wrote_rows
    assert len(await database.reader().ideas.for_resident(resident.id)) == 1


async def test_a_failing_turn_leaves_none_of_its_writes(database: Database) -> None:
    resident = await _resident(database)
    with pytest.raises(RuntimeError):
        async with database.turn() as work:
            await work.repos.ideas.create(_idea(resident.id), prefix="MNG", year=2026, now=NOW)
            assert work._transaction.began
            raise RuntimeError("bug in the handler")
    assert await _count_ideas(database) == 0  # and the lock was released


async def test_a_failure_in_the_middle_of_the_common_write_leaves_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message is not marked handled (a retry is taken), the conversation and the
    resident stay as they were, and the rows the turn added before are gone too."""
    resident = await _resident(database)
    await _finish(database, resident, "1", "problem")

    def broken(resident: Resident) -> Statement:
        # The last of the common write's statements fails on the database thread, after the
        # message id and the conversation were written in the same transaction.
        return "UPDATE residents SET no_such_column = 1 WHERE id = ?", (resident.id,)

    monkeypatch.setattr(residents, "save_turn_statement", broken)
    # Each database names the missing column in its own error.
    with pytest.raises((sqlite3.OperationalError, psycopg.errors.UndefinedColumn)):
        async with database.turn() as work:
            await work.repos.ideas.create(_idea(resident.id), prefix="MNG", year=2026, now=NOW)
            await work.finish(
                channel="telegram", external_id="2", resident=resident.model_copy(
                    update={"language": "en"}), step="idle", draft='{"problem": "x"}',
                now=NOW + timedelta(minutes=1),
            )  # fmt: skip
    seen, stored, record = await database.reader().conversations.load_turn("telegram", "42", "2")
    assert not seen and stored == resident
    assert record is not None and (record.step, record.draft, record.updated_at) == (
        "problem", "{}", NOW
    )  # fmt: skip
    assert await _count_ideas(database) == 0
    monkeypatch.undo()
    await _finish(database, resident, "2", "idle")  # the retry is taken; the lock was released
    _, _, record = await database.reader().conversations.load_turn("telegram", "42", "2")
    assert record is not None and record.step == "idle"


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


async def test_someone_who_writes_again_is_reachable_again(database: Database) -> None:
    """The platform said they blocked the bot; a message from them says they no longer do."""
    resident = await _resident(database)
    async with database.transaction() as repos:
        await repos.outbox.block_recipient(resident.id, NOW)
    blocked = await database.reader().residents.get(resident.id)
    assert blocked is not None and blocked.unreachable_at == NOW
    await _finish(database, blocked, "9", "idle")
    again = await database.reader().residents.get(resident.id)
    assert again is not None and again.unreachable_at is None


@pytest.mark.parametrize("wrote_before", [False, True])
async def test_the_common_write_is_one_round_trip_to_the_database_thread(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, wrote_before: bool
) -> None:
    """Each trip to aiosqlite's thread costs the event loop a wake-up and both threads a
    switch, under the lock every turn waits for: BEGIN, the three statements and COMMIT
    were five trips for every message (SQLite's; PostgreSQL's turn pipelines them)."""
    database = sqlite_database
    resident = await _resident(database)
    trips = 0
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, *args: object, **kwargs: object) -> object:
        nonlocal trips
        trips += 1
        return await execute(self, *args, **kwargs)

    async with database.turn() as work:
        if wrote_before:
            await work.repos.ideas.create(_idea(resident.id), prefix="MNG", year=2026, now=NOW)
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        await work.finish(
            channel="telegram", external_id="8", resident=resident, step="idle", draft="{}",
            now=NOW,
        )  # fmt: skip
    monkeypatch.undo()
    assert trips == 1
    assert not database._lock.locked()
    seen, _, record = await database.reader().conversations.load_turn("telegram", "42", "8")
    assert seen and record is not None and record.step == "idle"
    assert await _count_ideas(database) == (1 if wrote_before else 0)


async def test_the_readers_repositories_are_made_once(any_database: Database) -> None:
    """Every turn reads through reader(): its fourteen repositories are not made again each time."""
    database = any_database
    assert database.reader() is database.reader()
    assert database.reader().residents is database.reader().residents


def _counting_trips(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts trips to aiosqlite's thread from now on (one number in the list)."""
    trips = [0]
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, *args: object, **kwargs: object) -> object:
        trips[0] += 1
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return trips


async def _residents(database: Database, count: int) -> list[Resident]:
    async with database.turn() as work:
        return [await work.create_resident("telegram", str(100 + i), NOW) for i in range(count)]


async def test_turns_that_commit_at_once_share_one_transaction(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load every turn paid its own BEGIN, COMMIT and trip to the database thread: those
    that come while a commit is under way go together in the next, and each is committed."""
    database = sqlite_database
    people = await _residents(database, 6)
    trips = _counting_trips(monkeypatch)
    await asyncio.gather(*(
        _finish(database, person, f"m{i}", "problem") for i, person in enumerate(people)
    ))  # fmt: skip
    monkeypatch.undo()
    assert trips[0] == 1  # six turns' BEGIN, statements and COMMIT: one transaction
    for i, person in enumerate(people):
        seen, stored, record = await database.reader().conversations.load_turn(
            "telegram", person.user_key, f"m{i}"
        )
        assert seen and stored == person and record is not None and record.step == "problem"
    assert not database._lock.locked()


async def test_a_turn_that_fails_in_a_group_takes_nobody_elses_writes_with_it(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each turn of a group is in a savepoint of its own: its failure rolls back its writes
    only, and it hears of it; the others are committed."""
    database = sqlite_database
    people = await _residents(database, 4)
    save = residents.save_turn_statement

    def broken_for_the_third(resident: Resident) -> Statement:
        if resident.id == people[2].id:
            return "UPDATE residents SET no_such_column = 1 WHERE id = ?", (resident.id,)
        return save(resident)

    monkeypatch.setattr(residents, "save_turn_statement", broken_for_the_third)
    outcomes = await asyncio.gather(
        *(_finish(database, person, f"m{i}", "problem") for i, person in enumerate(people)),
        return_exceptions=True,
    )
    assert [isinstance(outcome, sqlite3.OperationalError) for outcome in outcomes] == [
        False, False, True, False,
    ]  # fmt: skip
    for i, person in enumerate(people):
        seen, _, record = await database.reader().conversations.load_turn(
            "telegram", person.user_key, f"m{i}"
        )
        assert seen == (i != 2)  # the failed message is not marked handled: a retry is taken
        assert (record is not None) == (i != 2)
    monkeypatch.undo()
    await _finish(database, people[2], "m2", "problem")  # the lock was released
    seen, _, _ = await database.reader().conversations.load_turn("telegram", people[2].user_key,
                                                                 "m2")  # fmt: skip
    assert seen


async def test_a_turn_cancelled_while_it_waits_for_its_group_is_not_written(
    sqlite_database: Database,
) -> None:
    database = sqlite_database
    people = await _residents(database, 3)
    tasks = [asyncio.create_task(_finish(database, person, f"m{i}", "problem"))
             for i, person in enumerate(people)]  # fmt: skip
    await asyncio.sleep(0)  # all three wait for the group, which has not begun
    tasks[2].cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[2], asyncio.CancelledError)
    seen = [(await database.reader().conversations.load_turn("telegram", p.user_key, f"m{i}"))[0]
            for i, p in enumerate(people)]  # fmt: skip
    assert seen == [True, True, False]
    await _finish(database, people[2], "m2", "problem")  # nothing left held


@pytest.mark.parametrize("wrote_before", [False, True])
async def test_a_write_with_returning_is_one_trip_its_transaction_begun_with_it(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, wrote_before: bool
) -> None:
    """A new idea's number and its row are each a RETURNING write: they were two trips each
    (execute, then fetchall), and the turn's first write one more for BEGIN."""
    database = sqlite_database
    resident = await _resident(database)
    sql = ("INSERT INTO inbound_messages (channel, external_id, received_at) VALUES (?, ?, ?) "
           "RETURNING external_id")  # fmt: skip
    async with database.turn() as work:
        db = work.repos.ideas._db
        if wrote_before:
            await write_returning(db, sql, ("telegram", "a", "2026-08-16T19:00:00"))
        trips = _counting_trips(monkeypatch)
        rows = await write_returning(db, sql, ("telegram", "b", "2026-08-16T19:00:00"))
        monkeypatch.undo()
        assert [row[0] for row in rows] == ["b"] and trips[0] == 1
        await work.finish(
            channel="telegram", external_id="8", resident=resident, step="idle", draft="{}",
            now=NOW,
        )  # fmt: skip
    for external_id in ("b", "8"):  # committed together with the turn
        seen, _, _ = await database.reader().conversations.load_turn("telegram", "42", external_id)
        assert seen
    assert not database._lock.locked()


async def test_a_turn_whose_returning_write_fails_rolls_back_and_lets_go(
    database: Database,
) -> None:
    resident = await _resident(database)
    with pytest.raises((sqlite3.OperationalError, psycopg.errors.UndefinedColumn)):
        async with database.turn() as work:
            sql = "UPDATE residents SET no_such_column = 1 RETURNING id"
            await write_returning(work.repos.ideas._db, sql)
    await _finish(database, resident, "9", "idle")  # nothing left held

"""`minga db copy` (issue 19): a SQLite deployment made by the real bot, with residents in the
middle of the intake, copied into PostgreSQL, where the same residents finish their ideas."""

import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from handlers.engine.buttons import button_id
from handlers.engine.catalog import Catalog
from handlers.engine.settings import FlowSettings
from handlers.engine.state import Step
from handlers.engine.turn import MENU
from handlers.flows import Dispatcher
from storage import sqlite_to_postgres
from storage.database import Database
from storage.migrations import apply_migrations
from storage.sqlite_to_postgres import CopyFailed, CopyRefused, copy_sqlite_to_postgres
from storage.supports import NewSupport
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.postgres import database_url, fresh_database
from tests.handlers.events.helpers import add_event
from tests.handlers.walk import answer_receipt, to_photos, to_problem, to_summary

psycopg = pytest.importorskip("psycopg", reason="psycopg is missing: make install")
sql = pytest.importorskip("psycopg.sql")


@pytest.fixture
def target(postgres_dsn: str) -> Iterator[str]:
    """A new, empty database owned by a role of its own that is no superuser, as a lab's
    database would be (turning triggers off must work for the tables' owner alone)."""
    name = f"minga_copy_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    try:
        url = database_url(postgres_dsn, name).replace("//postgres@", f"//{name}@", 1)
        yield url
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE "{name}"')


@dataclass
class Deployment:
    """A SQLite deployment made by the real bot, and the residents talking to it."""

    path: Path
    chats: dict[str, Chat]
    event_id: int


@pytest.fixture
async def deployment(
    tmp_path: Path, catalog: Catalog, flow_settings: FlowSettings, clock: FakeClock
) -> AsyncIterator[Deployment]:
    """Two ideas filed (one with photos), consents given, an event with RSVPs and a waitlist
    promotion in the outbox; one resident in the middle of a second idea with a photo, one at
    the problem (who joined the first idea, with a photo), one not yet past the role question;
    the second idea noted as a possible duplicate of the first."""
    path = tmp_path / "minga.sqlite3"
    database = await Database.open(path)
    dispatcher = Dispatcher(database, flow_settings, catalog, clock)
    chats = {name: Chat(dispatcher, catalog, clock, user=name) for name in
             ("ana", "beto", "caro", "dani")}  # fmt: skip
    ana, beto, caro, dani = chats.values()
    event = await add_event(database, clock.now(), capacity=1)
    await to_photos(ana)
    await ana.photo("ana-1.jpg")
    await ana.photo("ana-2.jpg")
    await ana.press("photos.continue")
    await ana.press("identity.anonymous")
    await ana.press("publish.photos")
    await ana.press("summary.send")
    await answer_receipt(ana, updates=True, announcements=True)
    await to_summary(beto)
    await beto.press("summary.send")
    await answer_receipt(beto)
    for person in (ana, beto):
        await person.send(choice=f"ev:{event.id}:yes")  # ana going, beto waiting
    await ana.send(choice=f"ev:{event.id}:no")  # beto moves up: a message in the outbox
    await beto.send(choice=button_id(MENU, "new"))  # a second idea, from the menu
    await beto.say("Faltan luces en el parque")
    await beto.press_label("La Flora")
    await beto.press_label("Movilidad y vías")
    await beto.press("idea.none")
    await beto.photo("beto-1.jpg")  # mid-intake, a photo in the draft
    await to_problem(caro)
    await dani.command("start")
    async with database.transaction() as repos:  # caro joined ana's idea; beto's looked alike
        caro_record = await repos.residents.find("test", "caro")
        assert caro_record is not None
        await repos.supports.add(NewSupport(1, caro_record.id, detail="Y de noche no hay luz",
                                            photo_path="test/caro-1.jpg"), clock.now())  # fmt: skip
        await repos.similar.note_possible_duplicates(2, [(1, 0.87)], clock.now())
    await database.close()
    yield Deployment(path, chats, event.id)


def sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with sqlite3.connect(path) as connection:
        names = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )]  # fmt: skip
        return {name: sorted(connection.execute(f'SELECT * FROM "{name}"'), key=repr)  # noqa: S608
                for name in names}  # fmt: skip


def postgres_rows(url: str, names: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as connection:
        return {name: sorted(connection.execute(
                    sql.SQL("SELECT * FROM {}").format(sql.Identifier(name))), key=repr)
                for name in names}  # fmt: skip


def schema(url: str) -> list[list[tuple[Any, ...]]]:
    """Every constraint, index and trigger (with whether it is on), as PostgreSQL writes them."""
    with psycopg.connect(url) as connection:
        return [sorted(connection.execute(query).fetchall()) for query in (
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE i.relnamespace = 'public'::regnamespace",
            "SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE NOT tgisinternal",
        )]  # fmt: skip


@pytest.fixture
async def migrated_schema(postgres_dsn: str) -> list[list[tuple[Any, ...]]]:
    """The schema of a database that Minga's migrations made, and nothing else touched."""
    with fresh_database(postgres_dsn) as url:
        await (await Database.open(url)).close()
        return schema(url)


async def test_a_deployment_mid_intake_is_copied_and_the_intake_continues_on_postgresql(
    deployment: Deployment, target: str, catalog: Catalog, flow_settings: FlowSettings,
    clock: FakeClock, migrated_schema: list[list[tuple[Any, ...]]],
) -> None:  # fmt: skip
    before = sqlite_rows(deployment.path)
    assert before["outbox"] and before["rsvps"] and before["idea_media"]
    assert before["consent_log"] and len(before["ideas"]) == 2
    assert before["idea_supports"] and before["possible_duplicates"]  # issue 21's tables
    copied = await copy_sqlite_to_postgres(deployment.path, target)
    # Keys, indexes and triggers set aside for the copy are all back, as the migrations made them.
    assert schema(target) == migrated_schema

    # Every row as it was, ids included; the counts the copy reports are the tables' own.
    assert postgres_rows(target, list(before)) == before
    assert {t.name: t.rows for t in copied.tables} == {n: len(r) for n, r in before.items()}
    assert sqlite_rows(deployment.path) == before  # the source is untouched

    database = await Database.open(target)
    try:
        dispatcher = Dispatcher(database, flow_settings, catalog, clock)
        ana, beto, caro, dani = deployment.chats.values()
        for chat in deployment.chats.values():
            chat.dispatcher = dispatcher
        await beto.press("photos.continue")  # the photo sent on SQLite is still there
        assert beto.asked("identity.ask")
        await beto.press("identity.anonymous")
        await beto.press("publish.no")
        assert beto.t("summary.photos", count=1) in beto.text
        await beto.press("summary.send")
        assert beto.said("receipt.thanks")
        await caro.say("La quebrada huele mal")
        await caro.press_label("La Flora")
        await caro.press_label("Movilidad y vías")
        await caro.press("idea.none")
        await caro.press("photos.skip")
        await caro.press("identity.anonymous")
        await caro.press("publish.no")
        await caro.press("summary.send")
        await dani.press("role.resident")
        await dani.press("consent.accept")  # the consent log's trigger runs again
        assert dani.asked("problem.ask")
        await ana.send(choice=button_id(MENU, "mine"))  # her idea, filed on SQLite
        assert "MNG-2026-000001" in ana.text
    finally:
        await database.close()

    after = postgres_rows(target, list(before))
    ideas = sorted(after["ideas"])
    assert [idea[0] for idea in ideas] == [1, 2, 3, 4]  # new ids after the copied ones
    references = [idea[1] for idea in ideas]
    assert references == sorted(set(references)) and references[2:] == [
        "MNG-2026-000003", "MNG-2026-000004",
    ]  # fmt: skip
    history = [e for e in after["idea_events"] if e[3] == "status"]
    assert sorted(e[1] for e in history) == [1, 2, 3, 4]  # one 'received' each, none twice
    new_media = [m for m in after["idea_media"] if m[0] == 3]
    assert [m[3] for m in new_media] == ["test/beto-1.jpg"]
    dani_id = next(r[0] for r in after["residents"] if r[2] == "dani")
    assert [c for c in after["consent_log"] if c[1] == dani_id]
    assert len(after["consent_log"]) == len(before["consent_log"]) + 1
    steps = {r[0]: r[1] for r in after["conversations"]}
    assert steps[dani_id] == Step.PROBLEM


async def test_a_copy_into_a_database_with_minga_data_is_refused_and_changes_nothing(
    deployment: Deployment, target: str
) -> None:
    await copy_sqlite_to_postgres(deployment.path, target)
    names = list(sqlite_rows(deployment.path))
    copied = postgres_rows(target, names)
    with pytest.raises(CopyRefused, match="already holds Minga data"):
        await copy_sqlite_to_postgres(deployment.path, target)
    assert postgres_rows(target, names) == copied


async def test_a_database_with_one_resident_is_refused(deployment: Deployment, target: str) -> None:
    database = await Database.open(target)
    async with database.transaction() as repos:
        await repos.residents.get_or_create("test", "someone", FakeClock().now())
    await database.close()
    with pytest.raises(CopyRefused, match="residents"):
        await copy_sqlite_to_postgres(deployment.path, target)


async def test_a_freshly_migrated_database_counts_as_empty(
    deployment: Deployment, target: str
) -> None:
    """The migrations' own row (the privacy policy's version) is no Minga data: replaced by the
    source's."""
    await (await Database.open(target)).close()
    copied = await copy_sqlite_to_postgres(deployment.path, target)
    assert copied.rows == sum(len(rows) for rows in sqlite_rows(deployment.path).values())


async def test_an_older_sqlite_file_is_refused_with_the_upgrade_to_run(
    tmp_path: Path, target: str
) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as connection:
        await apply_migrations(connection, target=7)
    with pytest.raises(CopyRefused, match="minga db upgrade"):
        await copy_sqlite_to_postgres(path, target)
    with psycopg.connect(target) as connection:  # the target was not even migrated
        assert connection.execute("SELECT to_regclass('residents')").fetchone() == (None,)


async def test_a_row_postgresql_refuses_rolls_back_the_whole_copy(
    deployment: Deployment, target: str
) -> None:
    """A NUL character is valid text in SQLite and not in PostgreSQL: the copy fails at the
    ideas, after residents and others were copied, and none of them stays."""
    with sqlite3.connect(deployment.path) as connection:
        connection.execute("UPDATE ideas SET problem = ? WHERE id = 2", ("a\x00b",))
    with pytest.raises(CopyFailed, match="ideas"):
        await copy_sqlite_to_postgres(deployment.path, target)
    assert not any(postgres_rows(target, ["residents", "ideas", "conversations"]).values())
    await copy_sqlite_to_postgres_after_fix(deployment.path, target)


async def copy_sqlite_to_postgres_after_fix(path: Path, target: str) -> None:
    """Once the row is fixed, the same command into the same database succeeds."""
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE ideas SET problem = 'a b' WHERE id = 2")
    await copy_sqlite_to_postgres(path, target)
    assert postgres_rows(target, ["ideas"])["ideas"][1][5] == "a b"


async def test_counts_that_differ_fail_loudly_and_keep_nothing(
    deployment: Deployment, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table that arrives short (here: one row of the outbox lost on the way) is found by the
    counts, and the copy is undone."""
    copy_table = sqlite_to_postgres._copy_table

    def losing_one(source: Any, target: Any, table: Any, progress: Any) -> None:
        copy_table(source, target, table, progress)
        if table.name == "outbox":
            target.execute("DELETE FROM outbox WHERE id = (SELECT max(id) FROM outbox)")

    monkeypatch.setattr(sqlite_to_postgres, "_copy_table", losing_one)
    with pytest.raises(CopyFailed, match="outbox"):
        await copy_sqlite_to_postgres(deployment.path, target)
    assert not any(postgres_rows(target, ["residents", "outbox"]).values())


async def test_a_table_a_later_migration_adds_is_copied_without_a_change(
    deployment: Deployment, target: str
) -> None:
    """Tables and columns come from the databases, not from a list: a table both schemas gain
    (here by hand, as a migration pair would add it) is copied in foreign-key order."""
    table = "CREATE TABLE aaa_notes (id BIGINT PRIMARY KEY, resident_id BIGINT NOT NULL " \
            "REFERENCES residents (id), note TEXT NOT NULL)"  # fmt: skip
    with sqlite3.connect(deployment.path) as connection:
        connection.execute(table.replace("BIGINT", "INTEGER"))
        connection.execute("INSERT INTO aaa_notes VALUES (7, 1, 'nota')")
    await (await Database.open(target)).close()
    with psycopg.connect(target) as connection:
        connection.execute(table)
    copied = await copy_sqlite_to_postgres(deployment.path, target)
    names = [t.name for t in copied.tables]
    assert names.index("aaa_notes") > names.index("residents")
    assert postgres_rows(target, ["aaa_notes"])["aaa_notes"] == [(7, 1, "nota")]


async def test_a_database_from_a_newer_minga_is_refused(
    deployment: Deployment, target: str
) -> None:
    await (await Database.open(target)).close()
    with psycopg.connect(target) as connection:
        connection.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(CopyRefused, match="newer than this Minga"):
        await copy_sqlite_to_postgres(deployment.path, target)


class Recorder:
    """A progress bar that writes down what it was told."""

    def __init__(self) -> None:
        self.tables: list[str] = []
        self.total = 0
        self.advanced: dict[str, int] = {}
        self.stages: list[str] = []

    def begin(self, tables: Any) -> None:
        self.tables = [table.name for table in tables]
        self.total = sum(table.rows for table in tables)

    def advance(self, table: str, rows: int) -> None:
        assert not self.stages, "rows after the copy said it was finishing"
        self.advanced[table] = self.advanced.get(table, 0) + rows

    def finishing(self, what: str) -> None:
        self.stages.append(what)


async def test_the_progress_bar_is_told_every_row_parents_first(
    deployment: Deployment, target: str
) -> None:
    recorder = Recorder()
    copied = await copy_sqlite_to_postgres(deployment.path, target, recorder)
    assert recorder.total == copied.rows == sum(recorder.advanced.values())
    assert recorder.advanced == {t.name: t.rows for t in copied.tables if t.rows}
    order = recorder.tables
    for child, parent in (("ideas", "residents"), ("idea_media", "ideas"), ("rsvps", "events"),
                          ("outbox", "broadcasts"), ("deliveries", "outbox"),
                          ("idea_supports", "ideas"), ("idea_supports", "residents"),
                          ("possible_duplicates", "ideas")):  # fmt: skip
        assert order.index(child) > order.index(parent), (child, parent)
    assert len(recorder.stages) == 2

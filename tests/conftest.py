import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from handlers.engine.catalog import Catalog
from handlers.engine.settings import FlowSettings
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.postgres import (
    HOW_TO_GET,
    TEST_DSN,
    find_bindir,
    throwaway_postgres,
)
from tests.fakes.sql import database_for, drop_made

POSTGRES_DSN = TEST_DSN


@pytest.fixture(autouse=True)
def _no_minga_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own MINGA_* variables must not change what a test sees."""
    for name in list(os.environ):
        if name.startswith("MINGA_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL server's address: MINGA_TEST_DATABASE's (`make test-postgres`), or else a
    throwaway one started for the session; tests that need it are skipped where neither is."""
    if POSTGRES_DSN:
        yield POSTGRES_DSN
        return
    if find_bindir() is None:
        pytest.skip(HOW_TO_GET)
    with throwaway_postgres() as server:
        yield server.dsn


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
def flow_settings() -> FlowSettings:
    return FlowSettings()


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """The PostgreSQL databases a test made (tests/fakes/sql.py) go when it ends."""
    yield
    drop_made()


@pytest.fixture
def database_target(tmp_path: Path) -> str | Path:
    """Where the test's database lives: a fresh PostgreSQL database of its own when
    MINGA_TEST_DATABASE is set (`make test-postgres`), else a SQLite file in its folder."""
    return database_for(tmp_path)


@pytest.fixture
async def database(database_target: str | Path) -> AsyncIterator[Database]:
    db = await Database.open(database_target)
    yield db
    await db.close()


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite database, whichever the suite runs on: for tests about SQLite itself."""
    db = await Database.open(tmp_path / "minga.sqlite3")
    yield db
    await db.close()


@pytest.fixture
def release_media() -> Callable[[list[str]], None] | None:
    """What deletes the media files a turn let go of: nothing, unless a test module says."""
    return None


@pytest.fixture
def dispatcher(
    database: Database, flow_settings: FlowSettings, catalog: Catalog, clock: FakeClock,
    release_media: Callable[[list[str]], None] | None,
) -> Dispatcher:  # fmt: skip
    return Dispatcher(database, flow_settings, catalog, clock, release_media=release_media)


@pytest.fixture(params=["es", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_chat(dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock) -> Callable[..., Chat]:
    def make(**options: str) -> Chat:
        return Chat(dispatcher, catalog, clock, **options)

    return make


@pytest.fixture
def chat(make_chat: Callable[..., Chat], language: str) -> Chat:
    return make_chat(language=language)

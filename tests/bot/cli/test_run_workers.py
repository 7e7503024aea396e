"""`minga run` as an operator starts several workers (issue 19): one config file, each
worker's port from its environment; a database with pending migrations refused in one line
until `minga db upgrade`, unless [storage] upgrade_at_start (the one-process default)."""

import sqlite3
from pathlib import Path

import aiosqlite

from storage.migrations import apply_migrations, latest_version
from tests.fakes.graph_api import free_port
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.workers import Worker, minga, telegram_environment

LATEST = latest_version()


async def _old_database(path: Path) -> None:
    """A database as the Minga before this one left it."""
    async with aiosqlite.connect(path) as connection:
        await apply_migrations(connection, target=LATEST - 1)


def _version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


async def test_workers_sharing_one_config_file_listen_on_their_own_ports(
    api: FakeBotApi, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[web]\nport = {free_port()}\n", "utf-8")  # MINGA_WEB__PORT wins
    port = free_port()
    environment = telegram_environment(api, tmp_path, MINGA_CONFIG=str(config),
                                       MINGA_WEB__PORT=str(port))  # fmt: skip
    worker = await Worker(environment, tmp_path, tmp_path / "worker.log").start()
    try:
        await worker.ready()
        health = await worker.get("/healthz")
        assert health is not None and health.json()["ok"]
    finally:
        assert await worker.stop() == 0


async def test_a_worker_refuses_pending_migrations_until_minga_db_upgrade(
    api: FakeBotApi, tmp_path: Path
) -> None:
    database = tmp_path / "minga.sqlite3"
    await _old_database(database)
    environment = telegram_environment(api, tmp_path, MINGA_STORAGE__UPGRADE_AT_START="false",
                                       MINGA_WEB__PORT=str(free_port()))  # fmt: skip
    status, stderr = await minga("run", environment=environment, cwd=tmp_path)
    assert status != 0
    # The log's first line (the version), then the refusal in one line, no traceback.
    starting, line = stderr.strip().splitlines()
    assert "Minga" in starting and "starting" in starting
    assert "minga db upgrade" in line and f"schema version {LATEST - 1}" in line
    assert _version(database) == LATEST - 1  # it did not migrate by itself
    assert await minga("db", "upgrade", environment=environment, cwd=tmp_path) == (0, "")
    worker = await Worker(environment, tmp_path, tmp_path / "worker.log").start()
    try:
        await worker.ready()
    finally:
        assert await worker.stop() == 0


async def test_one_worker_on_sqlite_still_upgrades_by_itself(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """The default: `minga run` (and `make chat`) after a Minga update need no extra step."""
    database = tmp_path / "minga.sqlite3"
    await _old_database(database)
    environment = telegram_environment(api, tmp_path, MINGA_WEB__PORT=str(free_port()))
    worker = await Worker(environment, tmp_path, tmp_path / "worker.log").start()
    try:
        await worker.ready()
    finally:
        assert await worker.stop() == 0
    assert _version(database) == LATEST

"""`minga run`'s /healthz and /readyz (issue 19): alive is not ready. /healthz answers 200 while
the process and its channels run, even with the database down (a supervisor restarting the
worker would not bring the database back); /readyz answers 503 with a one-line reason while
the database cannot be reached or its schema is not the one this Minga needs."""

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest

from bot.config import WebSettings, WorkersSettings
from storage.database import PostgresDatabase, SqliteDatabase
from storage.migrations import latest_version
from tests.fakes.graph_api import free_port
from tests.fakes.minga import Running, readiness, telegram_settings, until_listening, web_url
from tests.fakes.sql import connect_sync
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for


async def test_a_polling_bot_answers_healthz_and_readyz(api: FakeBotApi, tmp_path: Path) -> None:
    """The web server runs without any webhook: a polling bot can be watched too."""
    settings = telegram_settings(api, tmp_path, web=WebSettings(port=free_port()))
    async with Running(settings):
        health = await until_listening(settings)
        assert health["ok"] and health["channels"] == {"telegram": "running"}

        async def polling() -> bool:
            return (await until_listening(settings)).get("telegram_polling") == "this worker"

        await wait_for(polling)  # the first worker takes the lease and polls
        assert await readiness(settings) == (200, "ready\n")


async def test_healthz_never_asks_the_database_and_readyz_says_it_is_down(
    api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = telegram_settings(api, tmp_path, web=WebSettings(port=free_port()))
    async with Running(settings):
        await until_listening(settings)

        def down(*args: object, **kwargs: object) -> None:
            raise sqlite3.OperationalError("unable to open database file")

        for kind in (SqliteDatabase, PostgresDatabase):  # whichever the suite runs on
            for method in ("reader", "transaction", "turn", "schema_version"):
                monkeypatch.setattr(kind, method, down)
        async with httpx.AsyncClient() as client:
            health = await client.get(web_url(settings, "/healthz"))
        status, reason = await readiness(settings)
        monkeypatch.undo()
        assert health.status_code == 200 and health.json()["ok"]
        assert status == 503
        assert reason.startswith("not ready: database unreachable") and reason.count("\n") == 1
        assert await readiness(settings) == (200, "ready\n")  # back


async def test_readyz_says_when_the_schema_is_not_this_minga_s(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """Another, newer Minga ran `minga db upgrade` while this worker runs: no more traffic."""
    settings = telegram_settings(api, tmp_path, web=WebSettings(port=free_port()))
    async with Running(settings):
        await until_listening(settings)
        await asyncio.to_thread(_set_version, settings.storage.database, latest_version() + 1)
        status, reason = await readiness(settings)
        await asyncio.to_thread(_set_version, settings.storage.database, latest_version())
    assert status == 503
    assert "schema version" in reason and "minga db upgrade" in reason


def _set_version(target: Path | str, version: int) -> None:
    """In a thread: the bot runs on this event loop, and may hold the write lock meanwhile.
    Each database keeps its version its own way (SQLite's user_version, a table on PostgreSQL)."""
    with connect_sync(target) as db:
        if isinstance(target, Path):
            db.execute(f"PRAGMA user_version = {version}")
        else:
            db.execute("UPDATE schema_version SET version = ?", (version,))


async def test_a_worker_that_lost_the_polling_lease_stops_polling_and_resumes_when_it_is_back(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """Another worker took the lease (this one was stalled): this one stops polling at its
    next renewal, and polls again, answering what waited, once the lease is free again."""
    settings = telegram_settings(api, tmp_path, web=WebSettings(port=free_port()),
                                 workers=WorkersSettings(lease_seconds=3))  # fmt: skip
    async with Running(settings):

        async def polling(state: str) -> bool:
            return (await until_listening(settings)).get("telegram_polling") == state

        await wait_for(lambda: polling("this worker"))
        await asyncio.to_thread(_lease_taken_by_another, settings.storage.database)
        await wait_for(lambda: polling("waiting"))
        polls = len(api.polls)
        await api.send_text(4242, "hola")
        await asyncio.to_thread(_lease_free, settings.storage.database)
        await wait_for(lambda: polling("this worker"))
        await wait_for(lambda: bool(api.sent[4242]))
    assert len(api.polls) > polls  # it polled again


def _lease_taken_by_another(target: Path | str) -> None:
    with connect_sync(target) as db:
        db.execute("UPDATE leases SET holder = 'another worker', expires_at = '9999' "
                   "WHERE name = 'telegram-polling'")  # fmt: skip


def _lease_free(target: Path | str) -> None:
    with connect_sync(target) as db:
        db.execute("DELETE FROM leases WHERE name = 'telegram-polling'")

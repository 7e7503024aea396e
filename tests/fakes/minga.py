"""Minga as the end-to-end tests run it: settings pointing at the fake platforms, `minga run`
in the background, its web server listening, residents already in its database."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import httpx
from pydantic import SecretStr

from bot.config import Settings, StorageSettings, TelegramSettings
from bot.runner import run_channels
from handlers.engine.clock import Clock
from storage.database import Database
from tests.fakes.telegram_api import TOKEN, FakeBotApi
from tests.fakes.wait import wait_for


def storage_in(tmp_path: Path) -> StorageSettings:
    """The database and the media folder in the test's own folder."""
    return StorageSettings(database=tmp_path / "minga.sqlite3", media_dir=tmp_path / "media")


def telegram_settings(
    api: FakeBotApi | Any,
    tmp_path: Path,
    *,
    telegram: dict[str, Any] | None = None,
    **sections: Any,
) -> Settings:
    """Settings for the Telegram channel against the fake Bot API; `telegram` adds or changes
    [telegram] settings, `sections` whole sections (staff=, events=, web=)."""
    return Settings(
        telegram=TelegramSettings(
            token=SecretStr(TOKEN), base_url=api.base_url, base_file_url=api.base_file_url,
            poll_timeout_seconds=1, **(telegram or {}),
        ),
        storage=storage_in(tmp_path),
        **sections,
    )  # fmt: skip


class Running:
    """`minga run` in the background, stopped on exit: the exit returns once every update
    it took is handled (PTB's stop handles the pending ones; WhatsApp's waits for its tasks),
    so what a test asserts after the block is final."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "Running":
        self.task = asyncio.create_task(run_channels(self.settings, self.stop, clock=self.clock))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 15)


async def opted_in(path: Path, count: int, *, first: int = 7_000_000) -> list[int]:
    """`count` Telegram residents who said yes to announcements, as the intake leaves them
    (chat ids from `first` on), written into the database at `path`."""
    database = await Database.open(path)
    await database.close()
    chats = [first + i for i in range(count)]
    now = datetime.now(UTC).isoformat()
    async with aiosqlite.connect(path) as db:
        await db.executemany(
            "INSERT INTO residents (channel, user_key, language, created_at, announcements_at, "
            "announcements_version) VALUES ('telegram', ?, 'es', ?, ?, '2026-08')",
            [(str(chat), now, now) for chat in chats],
        )
        await db.commit()
    return chats


def web_url(settings: Settings, path: str) -> str:
    """A path on `minga run`'s web server."""
    return f"http://127.0.0.1:{settings.web.port}{path}"


async def until_listening(settings: Settings, timeout: float = 15) -> dict[str, Any]:  # noqa: ASYNC109
    """Wait until `minga run` answers /healthz (its web server is up); its report."""
    report: dict[str, Any] = {}
    async with httpx.AsyncClient() as client:

        async def answered() -> bool:
            try:
                answer = await client.get(web_url(settings, "/healthz"))
            except httpx.TransportError:
                return False
            if answer.status_code == 200:
                report.update(answer.json())
            return answer.status_code == 200

        await wait_for(answered, timeout)
    return report

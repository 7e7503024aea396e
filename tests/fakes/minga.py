"""Minga as the end-to-end tests run it: settings pointing at the fake platforms, `minga run`
in the background, its web server listening, residents already in its database."""

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bot.app import Runtime
from bot.config import Settings, StorageSettings, TelegramSettings, WebSettings
from bot.runner import run_channels
from handlers.engine.clock import Clock
from storage.database import Database
from tests.fakes.sql import connect, database_for
from tests.fakes.telegram_api import TOKEN, FakeBotApi
from tests.fakes.wait import wait_for


def storage_in(tmp_path: Path) -> StorageSettings:
    """The database and the media folder in the test's own folder."""
    return StorageSettings(database=database_for(tmp_path), media_dir=tmp_path / "media")


def telegram_settings(
    api: FakeBotApi | Any,
    tmp_path: Path,
    *,
    telegram: dict[str, Any] | None = None,
    **sections: Any,
) -> Settings:
    """Settings for the Telegram channel against the fake Bot API; `telegram` adds or changes
    [telegram] settings, `sections` whole sections (staff=, events=, web=). The web server
    (always on) listens on a free port unless `web` says otherwise."""
    sections.setdefault("web", WebSettings(port=0))
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
    so what a test asserts after the block is final. Inside the block, `caught_up` and
    `handling` wait on the running bot itself, never on a fixed sleep."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, **options: Any) -> None:
        self.settings = settings
        self.clock = clock
        self.options = options  # more of run_channels' keywords (retry_wait=)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._runtime: asyncio.Future[Runtime] | None = None

    async def __aenter__(self) -> "Running":
        self._runtime = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(
            run_channels(self.settings, self.stop, clock=self.clock,
                         opened=self._runtime.set_result, **self.options)
        )  # fmt: skip
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 15)

    @property
    def runtime(self) -> Runtime:
        """The running bot's composition root (its dispatcher, its outbox policy)."""
        assert self._runtime is not None and self._runtime.done(), "not running yet"
        return self._runtime.result()

    async def caught_up(self, timeout: float = 15) -> None:  # noqa: ASYNC109
        """Wake the outbox worker and return once it has looked and found nothing it may
        send (nothing due, nothing in flight): what a test awaits before saying that nothing
        (more) was sent. Rows written from outside (`minga broadcast`, a test) are looked at."""
        await self._while_running(self._opened(), timeout)
        self.runtime.outbox.wake()
        await self._while_running(self.runtime.outbox.until_caught_up(), timeout)

    def handling(self, channel: str, user_key: str) -> bool:
        """A message of this conversation is being handled or waits in line: once False,
        every reply to what the person sent so far has been delivered."""
        return self.runtime.dispatcher.handling(channel, user_key)

    async def _opened(self) -> None:
        assert self._runtime is not None
        await asyncio.shield(self._runtime)

    async def _while_running(self, waiting: Awaitable[None], timeout: float) -> None:  # noqa: ASYNC109
        """`waiting`, unless the bot stops first (then what stopped it is raised)."""
        assert self.task is not None
        waiter = asyncio.ensure_future(waiting)
        try:
            async with asyncio.timeout(timeout):
                await asyncio.wait([waiter, self.task], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if self.task.done():
            self.task.result()  # raises what stopped it
            raise AssertionError("the bot stopped while a test waited on it")
        waiter.result()


async def opted_in(path: str | Path, count: int, *, first: int = 7_000_000) -> list[int]:
    """`count` Telegram residents who said yes to announcements, as the intake leaves them
    (chat ids from `first` on), written into the database at `path`."""
    database = await Database.open(path)
    await database.close()
    chats = [first + i for i in range(count)]
    now = datetime.now(UTC).isoformat()
    async with connect(path) as db:
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


async def until_listening(
    settings: Settings,
    timeout: float = 15,  # noqa: ASYNC109
    *,
    ready: bool = True,
) -> dict[str, Any]:
    """Wait until `minga run` answers /healthz (its web server is up) and, with `ready`, until
    /readyz says it takes traffic (its channels started: before, webhooks are answered 503, as
    a platform would see); its /healthz report."""
    report: dict[str, Any] = {}
    async with httpx.AsyncClient() as client:

        async def answered() -> bool:
            try:
                answer = await client.get(web_url(settings, "/healthz"))
                if answer.status_code != 200:
                    return False
                if ready and (await client.get(web_url(settings, "/readyz"))).status_code != 200:
                    return False
                answer = await client.get(web_url(settings, "/healthz"))  # once ready
            except httpx.TransportError:
                return False
            report.update(answer.json())
            return answer.status_code == 200

        await wait_for(answered, timeout)
    return report


async def readiness(settings: Settings) -> tuple[int, str]:
    """What `minga run`'s /readyz answers: its status and its plain-text reason."""
    async with httpx.AsyncClient() as client:
        answer = await client.get(web_url(settings, "/readyz"))
    return answer.status_code, answer.text

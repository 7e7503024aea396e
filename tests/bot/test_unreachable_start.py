"""`minga run` started while Telegram cannot be reached (the network down at boot): it does
not exit. It tries again with growing waits, says so once in the log, answers /healthz and
says on /readyz what is missing, and carries on as usual once Telegram answers."""

import asyncio
import logging
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, WebSettings
from bot.runner import FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS
from handlers.engine.catalog import Catalog
from tests.bot.channels.whatsapp.conftest import resident, whatsapp_settings
from tests.fakes.graph_api import FakeGraphApi, free_port
from tests.fakes.minga import Running, readiness, telegram_settings, until_listening
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for

RESIDENT = 4242


class Attempts:
    """The pause between attempts to reach Telegram, in the test's hands: each pause is
    recorded and lasts until the test lets the next attempt go (or the run stops)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._go: asyncio.Queue[None] = asyncio.Queue()

    async def wait(self, seconds: float, stop: asyncio.Event) -> bool:
        self.pauses.append(seconds)
        going = asyncio.ensure_future(self._go.get())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait([going, stopping], return_when=asyncio.FIRST_COMPLETED)
        going.cancel()
        stopping.cancel()
        return not stop.is_set()

    def release(self) -> None:
        """Let the next attempt go."""
        self._go.put_nowait(None)

    async def next(self) -> None:
        """Let one more attempt go, and return once it has failed again (the next pause)."""
        count = len(self.pauses)
        self._go.put_nowait(None)
        await wait_for(lambda: len(self.pauses) > count)


async def test_run_waits_for_telegram_then_answers_residents(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    api = FakeBotApi()
    api.port = free_port()  # nothing listens there yet: connections are refused
    settings = telegram_settings(api, tmp_path, web=WebSettings(port=free_port()))
    attempts = Attempts()
    try:
        async with Running(settings, retry_wait=attempts.wait) as running:
            health = await until_listening(settings, ready=False)  # 200 while Telegram is away
            assert health["channels"] == {"telegram": "connecting"} and health["version"]
            status, reason = await readiness(settings)
            assert status == 503 and reason.startswith("not ready: telegram: unreachable since")
            for _ in range(7):
                await attempts.next()
            # 1 s, then twice as long each time, never more than a minute between attempts.
            assert attempts.pauses[:3] == [FIRST_RETRY_SECONDS, 2.0, 4.0]
            assert max(attempts.pauses) == LONGEST_RETRY_SECONDS == attempts.pauses[-1]
            said = [r for r in caplog.records if "could not reach Telegram" in r.getMessage()]
            assert len(said) == 1  # once, not at every attempt
            # The staff's "unreachable" alert counts from the first failed attempt.
            watch = running.runtime.watch
            assert watch is not None and watch.reachability.unreachable_since("telegram")

            await api.start(api.port)  # the network is back
            attempts.release()
            await wait_for(lambda: readiness_ok(settings))
            assert watch.reachability.unreachable_since("telegram") is None
            assert (await until_listening(settings))["channels"] == {"telegram": "running"}
            await api.send_text(RESIDENT, "/start")
            await api.expect(RESIDENT, Catalog.load().text("es", "role.ask"))
    finally:
        await api.stop()
    first = next(r.getMessage() for r in caplog.records if r.name == "bot.runner")
    assert first.startswith("Minga ") and "starting" in first  # the version, first


async def readiness_ok(settings: Settings) -> bool:
    status, _ = await readiness(settings)
    return status == 200


async def test_run_stopped_while_telegram_is_away_stops_cleanly(tmp_path: Path) -> None:
    api = FakeBotApi()
    api.port = free_port()
    settings = telegram_settings(api, tmp_path, web=WebSettings(port=free_port()))
    attempts = Attempts()
    running = Running(settings, retry_wait=attempts.wait)
    async with running:
        await until_listening(settings, ready=False)
        await wait_for(lambda: len(attempts.pauses) == 1)
    assert running.task is not None and running.task.exception() is None


async def test_a_token_telegram_refuses_still_stops_the_start(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """Not the network: a wrong token is a setting to fix, said in one line (no retrying)."""
    api.token = "999:" + "x" * 30
    settings = telegram_settings(api, tmp_path, web=WebSettings(port=free_port()))
    running = Running(settings)
    with pytest.raises(ConfigError, match=r"telegram\.token"):
        async with running:
            assert running.task is not None
            await asyncio.wait_for(asyncio.shield(running.task), 15)


async def test_whatsapp_posts_wait_until_the_channels_start(tmp_path: Path) -> None:
    """With WhatsApp beside an unreachable Telegram, Meta's posts get 503 until the channels
    start (Meta posts them again), then they are handled as usual."""
    graph = FakeGraphApi()
    await graph.start()
    api = FakeBotApi()
    api.port = free_port()
    whatsapp = whatsapp_settings(graph, tmp_path)
    settings = telegram_settings(api, tmp_path, web=whatsapp.web, whatsapp=whatsapp.whatsapp)
    me = resident(settings, graph)
    attempts = Attempts()
    try:
        async with Running(settings, retry_wait=attempts.wait):
            await until_listening(settings, ready=False)
            assert (await me.says("Hola")).status_code == 503
            await api.start(api.port)
            attempts.release()
            await wait_for(lambda: readiness_ok(settings))
            assert (await me.says("Hola")).status_code == 200  # Meta's retry
            await graph.expect(me.wa_id, kind="interactive")
    finally:
        await api.stop()
        await graph.stop()

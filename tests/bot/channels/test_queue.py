"""A webhook body is committed to the database before the platform is answered 200: a process
that dies between the 200 and the handling loses nothing; the next start handles it, once."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.config import WebSettings
from handlers.engine.catalog import Catalog
from tests.bot.channels.whatsapp.conftest import resident, until_listening, whatsapp_settings
from tests.fakes.graph_api import FakeGraphApi, free_port
from tests.fakes.minga import Running, telegram_settings, web_url
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for

es = Catalog.load().translator("es")
SECRET = "s3cret-Token_for-minga"
RESIDENT = 5550321


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    server = FakeGraphApi()
    await server.start()
    yield server
    await server.stop()


async def _lost(*args: Any, **kwargs: Any) -> None:
    """The process died right after the 200: what it held in memory is gone."""


async def test_a_whatsapp_body_answered_but_not_handled_is_handled_by_the_next_start(
    graph: FakeGraphApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    me = resident(settings, graph)
    with monkeypatch.context() as dying:
        dying.setattr(WhatsAppChannel, "handle", _lost)
        async with Running(settings):
            await until_listening(settings)
            assert (await me.says("Hola")).status_code == 200
    assert graph.sent[me.wa_id] == []  # nothing was handled

    async with Running(settings) as running:
        await graph.expect(me.wa_id, kind="interactive")  # the language question, at last
        await wait_for(lambda: not running.handling("whatsapp", me.wa_id))
        await running.caught_up()
        async with running.runtime.database.transaction() as repos:
            assert await repos.inbound_queue.waiting("whatsapp") == []  # forgotten once handled
    assert len(graph.sent[me.wa_id]) == 1  # answered once

    async with Running(settings) as again:  # and not again at the start after
        await until_listening(settings)
        await again.caught_up()
    assert len(graph.sent[me.wa_id]) == 1


async def test_a_telegram_webhook_update_answered_but_not_handled_is_handled_by_the_next_start(
    api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook = {"mode": "webhook", "webhook_url": "https://minga.example.org/webhooks/telegram",
               "webhook_secret": SECRET}  # fmt: skip
    settings = telegram_settings(api, tmp_path, telegram=webhook, web=WebSettings(port=free_port()))
    url = web_url(settings, "/webhooks/telegram")
    headers = {"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    with monkeypatch.context() as dying:
        dying.setattr(TelegramChannel, "on_update", _lost)
        async with Running(settings):
            await until_listening(settings)
            async with httpx.AsyncClient() as client:
                body = api.webhook_body(api.text_update(RESIDENT, "hola"))
                assert (await client.post(url, content=body, headers=headers)).status_code == 200
    assert api.sent[RESIDENT] == []

    async with Running(settings) as running:
        await api.expect(RESIDENT, es("role.ask"))
        await wait_for(lambda: not running.handling("telegram", str(RESIDENT)))
        await running.caught_up()
    assert sum(es("role.ask") in m["text"] for m in api.sent[RESIDENT]) == 1

    async with Running(settings) as again:
        await until_listening(settings)
        await again.caught_up()
    assert sum(es("role.ask") in m["text"] for m in api.sent[RESIDENT]) == 1


async def test_a_polled_update_confirmed_but_not_handled_is_handled_by_the_next_start(
    api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polling: the next getUpdates confirms a batch to Telegram, which then forgets it, while
    its turns may still be waiting in line. A process that dies then lost them (before: the
    soak's resident whose button press vanished with a kill)."""
    settings = telegram_settings(api, tmp_path)
    with monkeypatch.context() as dying:
        dying.setattr(TelegramChannel, "on_update", _lost)
        async with Running(settings):
            await api.send_text(RESIDENT, "hola")
            await wait_for(lambda: api.updates == [])  # fetched, then confirmed by the next fetch
    assert api.sent[RESIDENT] == []

    async with Running(settings) as running:
        await api.expect(RESIDENT, es("role.ask"))
        await wait_for(lambda: not running.handling("telegram", str(RESIDENT)))
        await running.caught_up()
        async with running.runtime.database.transaction() as repos:
            assert await repos.inbound_queue.waiting("telegram") == []  # forgotten once handled
    assert sum(es("role.ask") in m["text"] for m in api.sent[RESIDENT]) == 1

    async with Running(settings) as again:  # and not again at the start after
        await again.caught_up()
    assert sum(es("role.ask") in m["text"] for m in api.sent[RESIDENT]) == 1

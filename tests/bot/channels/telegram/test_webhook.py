"""Telegram in webhook mode: the real PTB Application behind `minga run`'s web server, the
secret checked before an update is read, and no polling at all."""

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from bot.config import Settings, TelegramSettings, WebSettings
from handlers.engine.catalog import Catalog
from tests.fakes.graph_api import free_port
from tests.fakes.minga import Running, telegram_settings, until_listening, web_url
from tests.fakes.sql import connect
from tests.fakes.telegram_api import TOKEN, FakeBotApi
from tests.fakes.wait import wait_for

es = Catalog.load().translator("es")
SECRET = "s3cret-Token_for-minga"
PUBLIC_URL = "https://minga.example.org/webhooks/telegram"
RESIDENT = 5550321


def _settings(api: FakeBotApi, tmp_path: Path) -> Settings:
    webhook = {"mode": "webhook", "webhook_url": PUBLIC_URL, "webhook_secret": SECRET}
    return telegram_settings(api, tmp_path, telegram=webhook, web=WebSettings(port=free_port()))


async def _post(url: str, body: bytes, secret: str | None) -> int:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with httpx.AsyncClient() as client:
        return (await client.post(url, content=body, headers=headers)).status_code


async def test_updates_come_by_webhook_with_the_secret_and_are_answered(
    api: FakeBotApi, tmp_path: Path
) -> None:
    settings = _settings(api, tmp_path)
    url = web_url(settings, "/webhooks/telegram")
    async with Running(settings):
        health = await until_listening(settings)
        assert health["channels"] == {"telegram": "running"}
        # The web server listens first (Telegram may post at once), then asks for the webhook.
        await wait_for(lambda: bool(api.called("setWebhook")))
        [registered] = api.called("setWebhook")
        assert registered["url"] == PUBLIC_URL and registered["secret_token"] == SECRET
        assert set(registered["allowed_updates"]) == {"message", "callback_query"}

        intruder = api.text_update(RESIDENT, "/start")
        assert await _post(url, api.webhook_body(intruder), None) == 403
        assert await _post(url, api.webhook_body(intruder), "wrong-secret") == 403

        assert await _post(url, api.webhook_body(api.text_update(RESIDENT, "hola")), SECRET) == 200
        await api.expect(RESIDENT, es("role.ask"))
        for not_an_update in (b"not json", b"null", b"[]", b"7", b"{}"):
            assert await _post(url, not_an_update, SECRET) == 400
        assert await _post(url, b"{" + b" " * (2 << 20) + b"}", SECRET) == 413  # 2 MB: refused
    # The bot has stopped, every update it took handled: only "hola" was read and answered,
    # nothing of the refused ones (whose /start would have been answered too).
    async with connect(settings.storage.database) as db:
        [(handled,)] = await db.execute_fetchall("SELECT count(*) FROM inbound_messages")
    assert handled == 1
    assert sum(es("role.ask") in m["text"] for m in api.sent[RESIDENT]) == 1
    assert api.called("getUpdates") == []  # a webhook and polling never run together


def test_webhook_mode_needs_its_url_and_secret() -> None:
    with pytest.raises(ValidationError, match=r"webhook_url and telegram\.webhook_secret"):
        TelegramSettings(token=TOKEN, mode="webhook")
    with pytest.raises(ValidationError, match="https"):
        TelegramSettings(token=TOKEN, mode="webhook", webhook_url="http://x", webhook_secret="a")
    with pytest.raises(ValidationError, match="A-Z"):
        TelegramSettings(token=TOKEN, mode="webhook", webhook_url=PUBLIC_URL,
                         webhook_secret="no spaces allowed")  # fmt: skip

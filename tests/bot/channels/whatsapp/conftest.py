"""What the WhatsApp tests share: the fake Graph API on 127.0.0.1, settings pointing at it,
and a resident who posts signed webhooks to Minga's web server."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings, WebSettings, WhatsAppSettings
from tests.fakes.graph_api import (
    ACCESS_TOKEN,
    API_VERSION,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraphApi,
    WhatsAppResident,
    free_port,
)
from tests.fakes.minga import storage_in, web_url
from tests.fakes.minga import until_listening as until_listening  # the tests import it here

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    server = FakeGraphApi()
    await server.start()
    yield server
    await server.stop()


def whatsapp_settings(graph: FakeGraphApi, tmp_path: Path, **extra: Any) -> Settings:
    templates = extra.pop("templates", {})
    whatsapp = WhatsAppSettings(
        phone_number_id=PHONE_NUMBER_ID, access_token=ACCESS_TOKEN, app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN, api_version=API_VERSION, base_url=graph.base_url,
        templates=templates, retry_backoff_seconds=0.01, **extra.pop("whatsapp", {}),
    )  # fmt: skip
    return Settings(
        whatsapp=whatsapp,
        web=WebSettings(port=free_port()),
        storage=storage_in(tmp_path),
        **extra,
    )


def webhook_url(settings: Settings, path: str = "/webhooks/whatsapp") -> str:
    return web_url(settings, path)


def resident(
    settings: Settings, graph: FakeGraphApi, wa_id: str = "573001234567"
) -> WhatsAppResident:
    return WhatsAppResident(webhook_url(settings), wa_id, graph=graph)

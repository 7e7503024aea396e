"""What the bot's tests share: the fake Bot API server on 127.0.0.1, and settings pointing
at it (tests/fakes/minga.py builds them; `Running` runs `minga run` with them)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.fakes import minga
from tests.fakes.telegram_api import FakeBotApi


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(api: FakeBotApi, tmp_path: Path) -> Settings:
    """The Telegram channel against the fake Bot API, storing in the test's folder."""
    return minga.telegram_settings(api, tmp_path)

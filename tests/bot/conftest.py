"""What the bot's tests share: the fake Bot API server on 127.0.0.1, and settings pointing
at it (tests/fakes/minga.py builds them; `Running` runs `minga run` with them)."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.fakes import minga
from tests.fakes.telegram_api import FakeBotApi

# tests/bot/whatsapp/test_sending.py (changed on the outbox work's own branch) still imports
# Running from the module it lived in before the tests mirrored the source tree; remove this
# once it imports it from tests.fakes.minga.
sys.modules.setdefault("tests.bot.test_telegram_end_to_end", minga)


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

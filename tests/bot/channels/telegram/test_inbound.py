"""Telegram updates -> Inbound: every kind of message a resident can send."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.updates import RawUpdate
from bot.channels.text import command_of
from bot.config import TelegramSettings
from handlers.engine.catalog import Catalog
from tests.fakes.telegram_api import TOKEN

USER = {"id": 77, "is_bot": False, "first_name": "Ana", "language_code": "es-419"}


def _update(**message: object) -> RawUpdate:
    data = {
        "update_id": 9,
        "message": {
            "message_id": 1, "date": 1_790_000_000, "chat": {"id": 77, "type": "private"},
            "from": USER, **message,
        },
    }  # fmt: skip
    update = RawUpdate.of(data)
    assert update is not None
    return update


@pytest.fixture
def channel(tmp_path: Path, dispatcher) -> TelegramChannel:
    return TelegramChannel(TelegramSettings(token=TOKEN), dispatcher, Catalog.load(), tmp_path)


async def test_text_and_commands(channel: TelegramChannel) -> None:
    inbound = await channel.to_inbound(_update(text="Hola <b>"))
    assert (inbound.text, inbound.user_key, inbound.external_id) == ("Hola <b>", "77", "9")
    assert inbound.language_hint == "es-419"
    assert inbound.at == datetime.fromtimestamp(1_790_000_000, UTC)
    assert (await channel.to_inbound(_update(text="/start"))).command == "start"


def test_command_names() -> None:
    assert command_of("/Mis_Ideas@minga_bot ahora") == "mis_ideas"
    assert command_of("/") is None
    assert command_of("hola /start") is None


async def test_location(channel: TelegramChannel) -> None:
    inbound = await channel.to_inbound(_update(location={"latitude": 4.5, "longitude": -74.1}))
    assert (inbound.location.latitude, inbound.location.longitude) == (4.5, -74.1)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ({"sticker": {"file_id": "s", "file_unique_id": "u", "width": 1, "height": 1,
                      "is_animated": False, "is_video": False, "type": "regular"}}, "sticker"),
        ({"contact": {"phone_number": "+573001234567", "first_name": "Rosa"}}, "contact"),
        ({"animation": {"file_id": "a", "file_unique_id": "u", "width": 1, "height": 1,
                        "duration": 1}, "document": {"file_id": "a", "file_unique_id": "u"}},
         "animation"),
        ({"dice": {"emoji": "🎲", "value": 3}}, "other"),
    ],
)  # fmt: skip
async def test_what_we_cannot_take_is_named(channel: TelegramChannel, content, kind) -> None:
    assert (await channel.to_inbound(_update(**content))).unsupported == kind

"""Updates read from their JSON: python-telegram-bot's object tree (`Update.de_json`, a tenth
of the bot's CPU per update in the throughput bench) is made only for a message whose file is
fetched; what the resident experiences is the same."""

import pytest
from telegram import Message, TelegramObject

from bot.channels.telegram.updates import RawUpdate
from bot.config import Settings
from handlers.engine.catalog import Catalog
from tests.fakes.minga import Running
from tests.fakes.telegram_api import FakeBotApi

RESIDENT = 5550077
PHOTO = b"\xff\xd8\xff\xe0fake-jpeg-bytes"
es = Catalog.load().translator("es")


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of PTB's classes built from JSON from now on (each de_json call)."""
    names: list[str] = []
    original = TelegramObject.__dict__["_de_json"].__func__  # the classmethod's function

    def counted(cls: type[TelegramObject], *args: object, **kwargs: object) -> object:
        names.append(cls.__name__)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(TelegramObject, "_de_json", classmethod(counted))
    return names


async def test_texts_buttons_and_places_are_read_without_ptbs_objects(
    api: FakeBotApi, settings: Settings, parsed: list[str]
) -> None:
    async with Running(settings):
        await api.send_text(RESIDENT, "/start")
        await api.expect(RESIDENT, es("role.ask"))
        await api.press(RESIDENT, "role:resident")
        await api.expect(RESIDENT, "politica-de-privacidad")
        await api.press(RESIDENT, "consent:yes")
        await api.expect(RESIDENT, es("problem.ask"))
        await api.send_text(RESIDENT, "No hay luz en el parque")
        await api.expect(RESIDENT, es("location.ask"))
        await api.send_location(RESIDENT, 4.4791, -74.1264)
        await api.expect(RESIDENT, es("category.ask"))
        await api.press(RESIDENT, "category:safety")
        await api.expect(RESIDENT, es("idea.ask"))
        await api.send_text(RESIDENT, "Lámparas solares")
        await api.expect(RESIDENT, es("photos.ask", max=3))
        # (a User is made once at start-up: getMe, the bot itself)
        updates = {"Update", "Message", "CallbackQuery", "Chat", "Location"}
        assert not updates & set(parsed), parsed
        await api.send_photo(RESIDENT, PHOTO)  # a file to fetch: PTB's Message fetches it
        await api.expect(RESIDENT, es("photos.received", count=1, max=3))
    assert "Message" in parsed and "Update" not in parsed


def test_who_and_which_chat_as_ptb_reads_them() -> None:
    user = {"id": 7, "is_bot": False, "first_name": "Ana"}
    chat = {"id": -100, "type": "supergroup"}
    message = {"message_id": 1, "date": 1, "chat": chat, "from": user, "text": "hola"}
    press = RawUpdate.of({"update_id": 2, "callback_query": {
        "id": "q", "from": user, "chat_instance": "c", "data": "x", "message": message,
    }})  # fmt: skip
    said = RawUpdate.of({"update_id": 1, "message": message})
    assert said is not None and press is not None
    for update in (said, press):
        assert (update.effective_user, update.effective_chat) == (user, chat)
    parsed = Message.de_json(message)
    assert parsed.chat.id == chat["id"] and parsed.from_user is not None


@pytest.mark.parametrize("data", [None, [], 3, {}, {"update_id": "1"}, {"update_id": True}])
def test_what_is_no_update_is_none(data: object) -> None:
    assert RawUpdate.of(data) is None

"""The real python-telegram-bot Application, built as `minga run` builds it, over HTTP to a fake
Bot API server on 127.0.0.1: a resident files an idea with a photo and a location."""

import asyncio

import pytest

from bot.config import Settings, TelegramSettings
from bot.runner import run_channels
from handlers.engine.catalog import Catalog
from tests.fakes.minga import Running
from tests.fakes.sql import connect
from tests.fakes.telegram_api import FakeBotApi

RESIDENT = 5550001
PHOTO = b"\xff\xd8\xff\xe0fake-jpeg-bytes"
es = Catalog.load().translator("es")


async def test_a_resident_files_an_idea_with_a_photo_and_a_location(
    api: FakeBotApi, settings: Settings
) -> None:
    async with Running(settings):
        await api.send_text(RESIDENT, "/start")
        role = await api.expect(RESIDENT, es("role.ask"))
        assert [b["callback_data"] for b in api.buttons(role)] == [
            "role:resident", "role:official", "role:contractor",
        ]  # fmt: skip
        await api.press(RESIDENT, "role:resident")
        await api.expect(RESIDENT, "politica-de-privacidad")
        await api.press(RESIDENT, "consent:yes")
        await api.expect(RESIDENT, es("problem.ask"))
        await api.send_text(RESIDENT, "El parque <b>La Esperanza</b> no tiene luz & es peligroso")
        where = await api.expect(RESIDENT, es("location.ask"))
        assert where["reply_markup"]["keyboard"][0][0]["request_location"] is True
        await api.send_location(RESIDENT, 4.4791, -74.1264)
        await api.expect(RESIDENT, es("category.ask"))
        await api.press(RESIDENT, "category:safety")
        await api.expect(RESIDENT, es("idea.ask"))
        await api.send_sticker(RESIDENT)
        await api.expect(RESIDENT, es("input.not_text", what=es("media.sticker")))
        await api.send_text(
            RESIDENT, "Poner lámparas solares con ayuda de la junta de acción comunal"
        )
        await api.expect(RESIDENT, es("photos.ask", max=3))
        await api.send_photo(RESIDENT, PHOTO)
        await api.expect(RESIDENT, es("photos.received", count=1, max=3))
        await api.press(RESIDENT, "photos:done")
        await api.expect(RESIDENT, es("identity.ask"))
        await api.press(RESIDENT, "identity:anonymous")
        await api.expect(RESIDENT, es("publish.ask", lab="Usme Innova"))
        await api.press(RESIDENT, "publish:photos")
        summary = await api.expect(RESIDENT, es("summary.intro"))
        assert "El parque <b>La Esperanza</b> no tiene luz & es peligroso" in summary["text"]
        await api.press(RESIDENT, "summary:send")
        receipt = await api.expect(RESIDENT, "MNG-2026-")
        reference = receipt["text"].split("MNG-")[1][:11]

    # Nothing was sent with a parse mode: what residents wrote is shown as they wrote it.
    assert all("parse_mode" not in params for params in api.called("sendMessage"))
    assert {params.get("language_code") for params in api.called("setMyCommands")} == {
        "es", "en", None,
    }  # fmt: skip
    async with connect(settings.storage.database) as db:
        idea = await (await db.execute("SELECT * FROM ideas")).fetchone()
        media = await (await db.execute("SELECT * FROM idea_media")).fetchall()
    assert idea["reference"] == f"MNG-{reference}"
    assert (idea["latitude"], idea["longitude"]) == (4.4791, -74.1264)
    assert idea["category"] == "safety" and idea["anonymous"] == 1
    [photo] = media
    assert (settings.storage.media_dir / photo["path"]).read_bytes() == PHOTO


async def test_the_conversation_survives_a_restart_of_the_bot(
    api: FakeBotApi, settings: Settings
) -> None:
    async with Running(settings):
        await api.send_text(RESIDENT, "hola")
        await api.expect(RESIDENT, es("role.ask"))
        await api.press(RESIDENT, "role:official")
        await api.press(RESIDENT, "consent:yes")
        await api.expect(RESIDENT, es("problem.ask"))
        await api.send_text(RESIDENT, "Los trámites de licencias tardan meses en la alcaldía")
        await api.expect(RESIDENT, es("location.ask"))

    async with Running(settings):
        await api.send_text(RESIDENT, "Alcaldía Local de Usme, primer piso")
        await api.expect(RESIDENT, es("category.ask"))
        await api.press(RESIDENT, "category:digital")
        await api.expect(RESIDENT, es("idea.ask"))


async def test_groups_are_ignored_and_a_replayed_update_is_answered_once(
    api: FakeBotApi, settings: Settings
) -> None:
    async with Running(settings):
        group = api._message(RESIDENT, "es", text="hola")
        group["chat"] = {"id": -100123, "type": "supergroup", "title": "Equipo"}
        await api.push({"message": group})
        update_id = await api.send_text(RESIDENT, "hola")
        await api.expect(RESIDENT, es("role.ask"))
        replay = {"update_id": update_id, "message": api._message(RESIDENT, "es", text="hola")}
        api.updates.append(replay)  # Telegram hands the same update over again
        await api.send_text(RESIDENT, "/ayuda")
        await api.expect(RESIDENT, es("help.intro"))
    assert not api.sent[-100123]
    assert sum(es("role.ask") in m["text"] for m in api.sent[RESIDENT]) == 2  # greeting, help


async def test_flood_control_is_waited_out_and_a_blocked_chat_is_skipped(
    api: FakeBotApi, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.channels.telegram.send as telegram_send

    waits: list[float] = []

    async def recorded_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(telegram_send, "wait_out", recorded_wait)
    api.send_errors[RESIDENT] = [
        {"error_code": 429, "description": "Too Many Requests: retry after 7",
         "parameters": {"retry_after": 7}},
    ]  # fmt: skip
    async with Running(settings):
        await api.send_text(RESIDENT, "hola")
        await api.expect(RESIDENT, es("role.ask"))
        assert waits == [7.0]
        blocked = {"error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        api.send_errors[RESIDENT + 1] = [blocked]
        await api.send_text(RESIDENT + 1, "hola")
        await api.send_text(RESIDENT, "/ayuda")  # the bot goes on answering others
        await api.expect(RESIDENT, es("help.intro"))
    assert not api.sent[RESIDENT + 1]


async def test_a_token_telegram_refuses_is_a_clear_error(
    api: FakeBotApi, settings: Settings
) -> None:
    from bot.config import ConfigError

    wrong = settings.model_copy(
        update={"telegram": TelegramSettings(
            token="999999:" + "W" * 30, base_url=api.base_url, base_file_url=api.base_file_url,
        )}
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"Telegram refused telegram\.token"):
        await run_channels(wrong, asyncio.Event())


async def test_a_voice_note_answers_the_problem_and_is_kept_for_the_team(
    api: FakeBotApi, settings: Settings
) -> None:
    voice = b"OggS a resident describing the problem aloud"
    async with Running(settings):
        await api.send_text(RESIDENT, "/start")
        await api.press(RESIDENT, "role:resident")
        await api.press(RESIDENT, "consent:yes")
        await api.expect(RESIDENT, es("problem.ask"))
        await api.send_voice(RESIDENT, voice)
        await api.expect(RESIDENT, es("location.ask"))
        await api.send_text(RESIDENT, "Barrio La Flora, junto al parque")
        for question, answer in (("category.ask", "category:safety"), ("idea.ask", "idea:none"),
                                 ("photos.ask", "photos:done"),
                                 ("identity.ask", "identity:anonymous"),
                                 ("publish.ask", "publish:no")):  # fmt: skip
            await api.expect(RESIDENT, es(question, max=3, lab="Usme Innova").split("\n")[0])
            await api.press(RESIDENT, answer)
        summary = await api.expect(RESIDENT, es("summary.intro"))
        assert es("summary.problem", value=es("summary.voice_note")) in summary["text"]
        await api.press(RESIDENT, "summary:send")
        await api.expect(RESIDENT, "MNG-2026-")
    async with connect(settings.storage.database) as db:
        [(kind, path)] = await db.execute_fetchall("SELECT kind, path FROM idea_media")
    assert kind == "voice_problem"
    assert (settings.storage.media_dir / path).read_bytes() == voice

"""Files residents send on Telegram, through the real PTB Application and the fake Bot API:
a photo sent "as a file" is taken by its bytes, anything else is refused kindly, and what is
kept is readable by its owner only."""

import stat
from pathlib import Path

from bot.config import Settings
from handlers.engine.catalog import Catalog
from tests.fakes.minga import Running
from tests.fakes.telegram_api import FakeBotApi

es = Catalog.load().translator("es")

RESIDENT = 5550101
PNG = b"\x89PNG\r\n\x1a\n a photo of the street"
PDF = b"%PDF-1.7 a letter to the mayor"


async def _to_the_idea(api: FakeBotApi) -> None:
    await api.send_text(RESIDENT, "/start")
    await api.expect(RESIDENT, es("role.ask"))
    await api.press(RESIDENT, "role:resident")
    await api.expect(RESIDENT, "politica-de-privacidad")
    await api.press(RESIDENT, "consent:yes")
    await api.expect(RESIDENT, es("problem.ask"))
    await api.send_text(RESIDENT, "El parque no tiene luz en las noches")
    await api.expect(RESIDENT, es("location.ask"))
    await api.send_text(RESIDENT, "Barrio La Esperanza")
    await api.expect(RESIDENT, es("category.ask"))
    await api.press(RESIDENT, "category:safety")
    await api.expect(RESIDENT, es("idea.ask"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_files_are_taken_by_what_they_are_not_by_their_names(
    api: FakeBotApi, settings: Settings
) -> None:
    media = settings.storage.media_dir
    async with Running(settings):
        await _to_the_idea(api)
        await api.send_voice(RESIDENT, b"OggS voice")
        api.files.pop("vo1")  # Telegram will not hand the file over
        await api.expect(RESIDENT, es("input.voice_failed"))
        await api.send_text(RESIDENT, "Poner lámparas solares en el parque")
        await api.expect(RESIDENT, es("photos.ask", max=3))

        await api.send_document(RESIDENT, PDF, "foto.jpg", "image/jpeg")
        await api.expect(RESIDENT, es("photos.not_image"))
        await api.send_document(RESIDENT, PNG, "carta.pdf", "application/pdf", size=30 << 20)
        await api.expect(RESIDENT, es("photos.too_big"))
        await api.send_document(RESIDENT, PNG, "carta.pdf", "application/pdf")
        await api.expect(RESIDENT, es("photos.received", count=1, max=3))

    kept = [path for path in media.rglob("*") if path.is_file()]
    assert [path.suffix for path in kept] == [".png"]  # the PDF named .jpg was not kept
    assert kept[0].read_bytes() == PNG
    # Owner-only: the database, the media folder and every file in it.
    if isinstance(settings.storage.database, Path):  # a SQLite file (not a server's database)
        assert _mode(settings.storage.database) == 0o600
    assert _mode(media) == 0o700
    assert {_mode(path) for path in kept} == {0o600}

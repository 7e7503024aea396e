"""On Telegram, with the real model: a resident who describes in other words a problem someone
already told us about, near the same place, is offered that idea and joins it with a photo."""

from bot.config import Settings
from bot.similar import E5Encoder
from handlers.engine.catalog import Catalog
from storage.database import Database
from tests.fakes.minga import Running
from tests.fakes.similar import file_earlier, same_pair
from tests.fakes.sql import connect
from tests.fakes.telegram_api import FakeBotApi

RESIDENT = 5550101
PHOTO = b"\xff\xd8\xff\xe0fake-jpeg-of-the-pothole"
es = Catalog.load().translator("es")


async def _earlier(settings: Settings) -> tuple[int, str]:
    earlier, _ = same_pair()
    database = await Database.open(settings.storage.database)
    encoder = E5Encoder()
    try:
        return await file_earlier(
            database, encoder, earlier.text, channel="telegram", user="5550100",
            category=earlier.category, place=None, point=earlier.point,
        )  # fmt: skip
    finally:
        encoder.close()
        await database.close()


async def test_a_resident_joins_the_same_problem_told_in_other_words(
    api: FakeBotApi, settings: Settings
) -> None:
    idea_id, reference = await _earlier(settings)
    _, mine = same_pair()
    async with Running(settings):
        await api.send_text(RESIDENT, "/start")
        await api.expect(RESIDENT, es("role.ask"))
        await api.press(RESIDENT, "role:resident")
        await api.press(RESIDENT, "consent:yes")
        await api.expect(RESIDENT, es("problem.ask"))
        await api.send_text(RESIDENT, mine.text)
        await api.expect(RESIDENT, es("location.ask"))
        await api.send_location(RESIDENT, *mine.point)
        await api.expect(RESIDENT, es("category.ask"))
        await api.press(RESIDENT, f"category:{mine.category}")
        offer = await api.expect(RESIDENT, reference)
        assert "Hay un hueco gigante en la carrera 7" in offer["text"]
        [join] = api.buttons(offer)
        assert join["callback_data"] == f"similar:join:{idea_id}"
        different = await api.expect(RESIDENT, es("similar.ask").split("\n")[0])
        assert [b["callback_data"] for b in api.buttons(different)] == [
            "similar:different", "similar:back",
        ]  # fmt: skip
        await api.press(RESIDENT, f"similar:join:{idea_id}")
        await api.expect(RESIDENT, es("similar.detail_ask", reference=reference).split("\n")[0])
        await api.send_photo(RESIDENT, PHOTO)
        await api.expect(RESIDENT, es("similar.joined", reference=reference).split("\n")[0])

    async with connect(settings.storage.database) as db:
        supports = await db.execute_fetchall("SELECT idea_id, photo_path FROM idea_supports")
        ideas = await db.execute_fetchall("SELECT id FROM ideas")
    [(supported, photo)] = [tuple(row) for row in supports]
    assert supported == idea_id and len(ideas) == 1  # joined, no idea of their own
    assert (settings.storage.media_dir / photo).read_bytes() == PHOTO

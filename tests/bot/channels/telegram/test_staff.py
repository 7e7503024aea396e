"""The staff side through the real python-telegram-bot Application and the fake Bot API: the
team's group gets the daily digest (text with buttons, then the chart as a photo), staff
triage there, and anyone else in the group is refused without data."""

from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from handlers.engine.catalog import Catalog
from handlers.engine.settings import StaffSettings
from storage.database import Database
from storage.models import Focus, NewIdea, NewMedia, Role
from tests.fakes.clock import FakeClock
from tests.fakes.minga import Running, telegram_settings
from tests.fakes.telegram_api import FakeBotApi
from tests.handlers.walk import agreeing

STAFF = 4242
OUTSIDER = 999
GROUP = -1001234567890
RESIDENT = 5550001
PROBLEM = "Los huecos de la calle 80 hacen caer a los ciclistas"
es = Catalog.load().translator("es")
# 08:00:30 in Bogotá: the digest is due as the bot starts.
MORNING = datetime(2026, 11, 21, 13, 0, 30, tzinfo=UTC)


def _settings(api: FakeBotApi, tmp_path: Path) -> Settings:
    return telegram_settings(
        api, tmp_path, telegram={"bulk_seconds_per_chat": 0},
        staff=StaffSettings(telegram_ids=(STAFF,), group_chat_id=GROUP),
    )  # fmt: skip


async def _seed(settings: Settings) -> str:
    """An idea from yesterday, with a photo on disk."""
    photo = settings.storage.media_dir / "telegram" / "ph1.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"\xff\xd8\xff\xe0 a photo of the street")
    database = await Database.open(settings.storage.database)
    try:
        async with database.transaction() as repos:
            resident = await repos.residents.get_or_create("telegram", str(RESIDENT), MORNING)
            await repos.residents.save_consents(agreeing(resident, MORNING))
            new = NewIdea(resident_id=resident.id, role=Role.RESIDENT, language="es",
                          problem=PROBLEM, idea=None, category="mobility", focus=Focus.EXTERNAL,
                          location_text="La Flora", latitude=4.49, longitude=-74.11,
                          anonymous=False, contact_name="Ana Rojas", contact="3001234567",
                          media=(NewMedia(kind="photo", path="telegram/ph1.jpg"),))  # fmt: skip
            _, reference = await repos.ideas.create(
                new, prefix="MNG", year=2026, now=MORNING.replace(hour=1)
            )
    finally:
        await database.close()
    return reference


async def test_the_group_gets_the_digest_and_staff_triage_there(
    api: FakeBotApi, tmp_path: Path
) -> None:
    settings = _settings(api, tmp_path)
    reference = await _seed(settings)
    async with Running(settings, clock=FakeClock(MORNING)):
        digest = await api.expect(GROUP, "📬 Resumen de Usme Innova")
        assert reference in digest["text"] and "Ana Rojas" not in digest["text"]
        open_button = api.buttons(digest)[0]["callback_data"]
        chart = await api.expect(GROUP, es("digest.chart_caption", days=14, count=14))
        assert api.files[chart["photo"][0]["file_id"]][:8] == b"\x89PNG\r\n\x1a\n"

        # Someone who is not staff, in the group: refused, nothing shown.
        await api.send_text(OUTSIDER, "/ideas@minga_test_bot", group=GROUP)
        refusal = await api.expect(GROUP, es("staff.only"))
        assert reference not in refusal["text"]
        await api.press(OUTSIDER, open_button, group=GROUP)
        await api.expect(GROUP, es("staff.only"))

        # Staff open the idea from the digest's button: the record, its photo and its pin.
        await api.press(STAFF, open_button, group=GROUP)
        card = await api.expect(GROUP, PROBLEM)
        assert "Ana Rojas" in card["text"]  # staff see the contact
        photo = await api.expect(GROUP, es("staff_idea.photo", number=1))
        assert api.files[photo["photo"][0]["file_id"]].startswith(b"\xff\xd8")
        await api.expect(GROUP, "")  # the location pin
        assert api.called("sendVenue")[-1]["chat_id"] == GROUP
        in_review = next(b["callback_data"] for b in api.buttons(card)
                         if b["text"] == "→ " + es("status.in_review"))  # fmt: skip
        await api.press(STAFF, in_review, group=GROUP)
        await api.expect(GROUP, es("triage.status_done", reference=reference,
                                   status=es("status.in_review"), told=1))  # fmt: skip
        # The resident hears of it in their private chat, through the outbox.
        notice = await api.expect(RESIDENT, reference)
        assert es("status.in_review") in notice["text"]
    assert not api.sent[OUTSIDER]  # nothing went to the outsider's private chat
    scopes = [p.get("scope") for p in api.called("setMyCommands")]
    assert {"type": "chat", "chat_id": GROUP} in scopes  # the group's own command menu

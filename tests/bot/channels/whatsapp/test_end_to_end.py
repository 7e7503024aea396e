"""A resident on WhatsApp, against the fake Graph API on 127.0.0.1 and `minga run`'s web server:
the whole intake (buttons, a list, a location, a photo, a voice note) to the receipt, then an
RSVP to an event and its reminder, on time."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from handlers.engine.catalog import Catalog
from handlers.engine.settings import EventSettings, FlowSettings
from handlers.events.service import create_event
from storage.database import Database
from storage.models import EventFields
from tests.bot.channels.whatsapp.conftest import resident, until_listening, whatsapp_settings
from tests.fakes.graph_api import FakeGraphApi, choice_ids, text_of
from tests.fakes.minga import Running, readiness
from tests.fakes.sql import connect

es = Catalog.load().translator("es")
PHOTO = b"\xff\xd8\xff\xe0 fake jpeg bytes"
VOICE = b"OggS fake opus voice note"


async def _event(settings_path: Path, starts: datetime) -> int:
    database = await Database.open(settings_path)
    try:
        async with database.transaction() as repos:
            event = await create_event(
                repos,
                EventFields(title="Taller de co-creación", starts_at=starts,
                            ends_at=starts + timedelta(hours=2), venue="Casa de la Cultura",
                            address="Cra 14 # 135-20 Sur", latitude=4.48, longitude=-74.12,
                            capacity=10),
                created_by="test",
                offsets=FlowSettings(events=EventSettings(reminder_offsets=("2h",)))
                .events.offsets_seconds,
                now=datetime.now(UTC),
            )  # fmt: skip
        return event.id
    finally:
        await database.close()


async def test_a_resident_files_an_idea_then_rsvps_and_is_reminded_on_whatsapp(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path, events=EventSettings(reminder_offsets=("2h",)))
    event_id = await _event(settings.storage.database,
                            datetime.now(UTC) + timedelta(hours=2, seconds=12))  # fmt: skip
    me = resident(settings, graph)
    async with Running(settings):
        health = await until_listening(settings)
        assert health["channels"] == {"whatsapp": "running"}
        assert (await readiness(settings))[0] == 200

        await me.says("Hola")
        language = await graph.expect(me.wa_id, kind="interactive")
        assert choice_ids(language) == ["language:es", "language:en"]
        await me.taps("language:es")
        role = await graph.expect(me.wa_id, es("role.ask"))
        # Reply buttons when every label fits whole in 20 characters, else a list that
        # shows them whole ("🏛️ Funcionario público" does not fit).
        assert role["interactive"]["type"] in ("button", "list")
        assert "role:official" in choice_ids(role)
        await me.taps("role:resident")
        await graph.expect(me.wa_id, "permiso")
        await me.taps("consent:yes")
        await graph.expect(me.wa_id, es("problem.ask"))
        await me.says("La calle principal del barrio no tiene alumbrado y es peligrosa de noche")
        where = await graph.expect(me.wa_id, kind="interactive")
        assert where["interactive"]["type"] == "location_request_message"
        places = await graph.expect(me.wa_id, es("location.or_choose"))
        assert places["interactive"]["type"] == "list"
        assert "location:nb:alfonso-lopez" in choice_ids(places)  # a neighbourhood's key
        await me.shares_location(4.4791, -74.1264)
        topics = await graph.expect(me.wa_id, es("category.ask"))
        assert topics["interactive"]["type"] == "list"  # nine topics and "back": a list
        rows = [r for s in topics["interactive"]["action"]["sections"] for r in s["rows"]]
        assert len(rows) <= 10 and all(len(r["title"]) <= 24 for r in rows)
        await me.picks("category:safety")
        await graph.expect(me.wa_id, es("idea.ask").split("\n")[0])
        await me.sends_media("voice", VOICE, "audio/ogg; codecs=opus")  # the idea, told aloud
        await graph.expect(me.wa_id, es("photos.ask", max=3).split("\n")[0])
        await me.sends_media("image", PHOTO, "image/jpeg")
        await graph.expect(me.wa_id, es("photos.received", count=1, max=3))
        await me.taps("photos:done")
        await graph.expect(me.wa_id, es("identity.ask").split("\n")[0])
        await me.taps("identity:anonymous")
        await graph.expect(me.wa_id, "catálogo")
        await me.picks("publish:photos")
        summary = await graph.expect(me.wa_id, es("summary.intro"))
        assert (
            es("summary.idea", value=es("summary.voice_note"))
            in summary["interactive"]["body"]["text"]
        )
        await me.taps("summary:send")
        receipt = await graph.expect(me.wa_id, "MNG-2026-")  # with the question on news
        assert es("consent.updates_ask") in text_of(receipt)
        assert choice_ids(receipt) == ["upd:on", "upd:no"]
        await me.taps("upd:on")
        offer = await graph.expect(me.wa_id, es("subscribe.offer", lab="Usme Innova"))
        assert choice_ids(offer) == ["sub:yes", "sub:no"]
        await me.taps("sub:yes")
        menu = await graph.expect(me.wa_id, kind="interactive")
        assert "menu:events" in choice_ids(menu)
        await me.picks("menu:events")
        listed = await graph.expect(me.wa_id, es("events.list_head", count=1))
        assert choice_ids(listed) == [f"ev:{event_id}:show"]
        await me.picks(f"ev:{event_id}:show")
        card = await graph.expect(me.wa_id, "Taller de co-creación")
        assert choice_ids(card) == [f"ev:{event_id}:yes", f"ev:{event_id}:no"]
        calendar = await graph.expect(me.wa_id, kind="document")
        upload = graph.uploads[calendar["document"]["id"]]
        assert (
            upload["filename"] == f"evento-{event_id}.ics"
            and b"BEGIN:VCALENDAR" in upload["content"]
        )
        pin = await graph.expect(me.wa_id, kind="location")
        assert pin["location"]["name"] == "Casa de la Cultura"
        await me.taps(f"ev:{event_id}:yes")
        await graph.expect(me.wa_id, es("events.going").split(".")[0])
        reminder = await graph.expect(me.wa_id, "⏰", timeout=25)
        assert "Taller de co-creación" in reminder["interactive"]["body"]["text"]

    async with connect(settings.storage.database) as db:
        idea = await (await db.execute("SELECT * FROM ideas")).fetchone()
        media = await db.execute_fetchall("SELECT kind, path FROM idea_media ORDER BY position")
        person = await (await db.execute("SELECT * FROM residents")).fetchone()
        sent = await db.execute_fetchall("SELECT kind, status FROM outbox")
        deliveries = await db.execute_fetchall("SELECT status FROM deliveries")
    assert (idea["latitude"], idea["longitude"]) == (4.4791, -74.1264)
    assert idea["idea"] == es("summary.voice_note")
    assert [(m["kind"], (settings.storage.media_dir / m["path"]).read_bytes()) for m in media] == [
        ("photo", PHOTO), ("voice_idea", VOICE)]  # fmt: skip
    assert (person["channel"], person["user_key"]) == ("whatsapp", me.wa_id)
    assert [tuple(row) for row in sent] == [("reminder", "sent")]
    assert len(deliveries) == 2  # the reminder's text and its pin, each with Meta's id
    # Plain text everywhere: no message asked WhatsApp to render markup or link previews.
    texts = [m for m in graph.all_sent() if m["type"] == "text"]
    assert texts and all(m["text"]["preview_url"] is False for m in texts)

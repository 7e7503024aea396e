"""A supporter on WhatsApp (issue 21: they joined an idea) hears of its new status as its
author does: free text inside the 24-hour window, the idea_update template outside it."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Settings
from handlers.engine.catalog import Catalog
from handlers.staff.triage import change_status
from storage.database import Database
from storage.models import Focus, IdeaStatus, NewIdea, Role
from storage.supports import NewSupport
from tests.bot.channels.whatsapp.conftest import whatsapp_settings
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.minga import Running
from tests.fakes.sql import connect
from tests.handlers.walk import agreeing

AUTHOR, SUPPORTER = "573000000001", "573000000002"
TEMPLATES = {"idea_update": {"en": {"name": "minga_idea_news", "language": "en_US"}}}


async def _idea_with_a_supporter(settings: Settings, now: datetime) -> str:
    """Ana's idea (she wrote 2 hours ago), joined by Carla (in English, 30 hours ago): both
    agreed to news. Returns the idea's reference."""
    database = await Database.open(settings.storage.database)
    try:
        async with database.transaction() as repos:
            ids = {}
            for wa_id, language in ((AUTHOR, "es"), (SUPPORTER, "en")):
                resident = await repos.residents.get_or_create("whatsapp", wa_id, now)
                await repos.residents.save_consents(agreeing(resident, now))
                await repos.residents.set_language("whatsapp", wa_id, language)
                ids[wa_id] = resident.id
            idea_id, reference = await repos.ideas.create(
                NewIdea(resident_id=ids[AUTHOR], role=Role.RESIDENT, language="es",
                        problem="Huecos en la calle 80", idea=None, category="mobility",
                        focus=Focus.EXTERNAL, location_text="La Flora", anonymous=True),
                prefix="MNG", year=2026, now=now,
            )  # fmt: skip
            await repos.supports.add(NewSupport(idea_id, ids[SUPPORTER]), now)
            found = await repos.idea_search.get(idea_id)
            assert found is not None
            await change_status(repos, found, IdeaStatus.SELECTED, actor="test", now=now)
    finally:
        await database.close()
    async with connect(settings.storage.database) as db:
        for wa_id, age in ((AUTHOR, timedelta(hours=2)), (SUPPORTER, timedelta(hours=30))):
            last = (now - age).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            await db.execute(
                "INSERT INTO conversations (resident_id, step, draft, updated_at) "
                "SELECT id, 'idle', '{}', ? FROM residents WHERE user_key = ?",
                (last, wa_id),
            )
        await db.commit()
    return reference


async def test_a_supporter_outside_the_window_gets_the_idea_update_template(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path, templates=TEMPLATES)
    reference = await _idea_with_a_supporter(settings, datetime.now(UTC))
    async with Running(settings):
        free = await graph.expect(AUTHOR, reference)
        template = await graph.expect(SUPPORTER, kind="template")
    assert free["type"] != "template"  # inside her window: the message, with its button
    assert template["template"]["name"] == "minga_idea_news"
    assert template["template"]["language"] == {"code": "en_US"}
    reference_value, news = template["template"]["components"][0]["parameters"]
    assert reference_value == {"type": "text", "text": reference}
    assert news["text"] == Catalog.load().text("en", "status.selected")  # in her language
    assert [m["type"] for m in graph.sent[SUPPORTER]] == ["template"]  # told once

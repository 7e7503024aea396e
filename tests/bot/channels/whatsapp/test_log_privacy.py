"""The logs at INFO on WhatsApp, where the user id itself is a phone number: a whole intake
with a name and a phone number, scanned line by line."""

import logging
from pathlib import Path

import pytest

from handlers.engine.catalog import Catalog
from tests.bot.channels.whatsapp.conftest import resident, until_listening, whatsapp_settings
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.leaks import IDEA, NAME, PHONE, PROBLEM, WA_ID, leaks
from tests.fakes.minga import Running

es = Catalog.load().translator("es")


async def test_a_whatsapp_intake_leaves_no_phone_or_text_in_the_logs(
    graph: FakeGraphApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = whatsapp_settings(graph, tmp_path)
    me = resident(settings, graph, WA_ID)
    async with Running(settings):
        await until_listening(settings)
        await me.says("Hola")
        await graph.expect(WA_ID, kind="interactive")
        await me.taps("language:es")
        await graph.expect(WA_ID, es("role.ask"))
        await me.taps("role:resident")
        await graph.expect(WA_ID, "permiso")
        await me.taps("consent:yes")
        await graph.expect(WA_ID, es("problem.ask"))
        await me.says(PROBLEM)
        await graph.expect(WA_ID, es("location.or_choose"))
        await me.says("Comuneros")
        await graph.expect(WA_ID, es("category.ask"))
        await me.picks("category:environment")
        await graph.expect(WA_ID, es("idea.ask").split("\n")[0])
        await me.says(IDEA)
        await graph.expect(WA_ID, es("photos.ask", max=3).split("\n")[0])
        await me.taps("photos:done")
        await graph.expect(WA_ID, es("identity.ask").split("\n")[0])
        await me.taps("identity:named")
        await graph.expect(WA_ID, es("name.ask"))
        await me.says(NAME)
        await graph.expect(WA_ID, es("contact.ask").split("\n")[0])
        await me.says(PHONE)
        await graph.expect(WA_ID, es("publish.ask", lab="Usme Innova").split("\n")[0])
        await me.taps("publish:no")
        await graph.expect(WA_ID, es("summary.intro"))
        await me.taps("summary:send")
        await graph.expect(WA_ID, "MNG-")
    assert any(record.levelno == logging.INFO for record in caplog.records)
    assert leaks(caplog) == []

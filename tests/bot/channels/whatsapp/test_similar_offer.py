"""On WhatsApp, with the real model: the offer of an earlier idea that tells the same problem
in other words is readable (one message per idea, with its own way to join, then "mine is
different" as a reply button) and joining keeps the resident's extra detail."""

from pathlib import Path

from bot.similar import E5Encoder
from handlers.engine.catalog import Catalog
from storage.database import Database
from tests.bot.channels.whatsapp.conftest import resident, until_listening, whatsapp_settings
from tests.fakes.graph_api import FakeGraphApi, choice_ids
from tests.fakes.minga import Running
from tests.fakes.similar import file_earlier, same_pair
from tests.fakes.sql import connect

es = Catalog.load().translator("es")
DETAIL = "Anoche otra moto se cayó ahí, y no hay señal de peligro"


async def test_a_resident_joins_the_same_problem_on_whatsapp(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    earlier, mine = same_pair()
    database = await Database.open(settings.storage.database)
    encoder = E5Encoder()
    try:
        idea_id, reference = await file_earlier(
            database, encoder, earlier.text, channel="whatsapp", user="573000000001",
            category=earlier.category, place=None, point=earlier.point,
        )  # fmt: skip
    finally:
        encoder.close()
        await database.close()
    me = resident(settings, graph)
    async with Running(settings):
        await until_listening(settings)
        await me.says("Hola")
        await graph.expect(me.wa_id, kind="interactive")
        await me.taps("language:es")
        await graph.expect(me.wa_id, es("role.ask"))
        await me.taps("role:resident")
        await graph.expect(me.wa_id, "permiso")
        await me.taps("consent:yes")
        await graph.expect(me.wa_id, es("problem.ask"))
        await me.says(mine.text)
        await graph.expect(me.wa_id, es("location.or_choose"))
        await me.shares_location(*mine.point)
        await graph.expect(me.wa_id, es("category.ask"))
        await me.picks(f"category:{mine.category}")
        offer = await graph.expect(me.wa_id, reference, kind="interactive")
        body = offer["interactive"]["body"]["text"]
        assert "Hay un hueco gigante en la carrera 7" in body and es("status.received") in body
        assert choice_ids(offer) == [f"similar:join:{idea_id}"]
        if offer["interactive"]["type"] == "list":  # the label is longer than a button's
            [row] = offer["interactive"]["action"]["sections"][0]["rows"]
            assert row["title"] == es("similar.join") and reference in row["description"]
        different = await graph.expect(me.wa_id, es("similar.ask").split("\n")[0])
        assert different["interactive"]["type"] == "button"  # "different" and "back"
        assert choice_ids(different) == ["similar:different", "similar:back"]
        await me.picks(f"similar:join:{idea_id}")
        await graph.expect(me.wa_id, es("similar.detail_ask", reference=reference).split("\n")[0])
        await me.says(DETAIL)
        await graph.expect(me.wa_id, es("similar.joined", reference=reference).split("\n")[0])

    async with connect(settings.storage.database) as db:
        supports = await db.execute_fetchall("SELECT idea_id, detail FROM idea_supports")
    assert [tuple(row) for row in supports] == [(idea_id, DETAIL)]

"""Files residents send on WhatsApp: an image must be one by its bytes; a document that is an
image is a photo sent "as a file"; both are kept owner-only."""

import stat
from pathlib import Path

from handlers.engine.catalog import Catalog
from tests.bot.channels.whatsapp.conftest import resident, until_listening, whatsapp_settings
from tests.fakes.graph_api import FakeGraphApi, WhatsAppResident
from tests.fakes.minga import Running

es = Catalog.load().translator("es")
PNG = b"\x89PNG\r\n\x1a\n a photo of the street"
PDF = b"%PDF-1.7 a letter to the mayor"


async def _to_the_photos(me: WhatsAppResident, graph: FakeGraphApi) -> None:
    await me.says("Hola")
    await graph.expect(me.wa_id, kind="interactive")
    await me.taps("language:es")
    await graph.expect(me.wa_id, es("role.ask"))
    await me.taps("role:resident")
    await graph.expect(me.wa_id, "permiso")
    await me.taps("consent:yes")
    await graph.expect(me.wa_id, es("problem.ask"))
    await me.says("La calle principal del barrio no tiene alumbrado")
    await graph.expect(me.wa_id, es("location.or_choose"))
    await me.says("Barrio La Esperanza")
    await graph.expect(me.wa_id, es("category.ask"))
    await me.picks("category:safety")
    await graph.expect(me.wa_id, es("idea.ask").split("\n")[0])
    await me.says("Poner lámparas solares en la calle principal")
    await graph.expect(me.wa_id, es("photos.ask", max=3).split("\n")[0])


async def test_an_image_is_checked_by_its_bytes_and_a_document_can_be_a_photo(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    me = resident(settings, graph)
    async with Running(settings):
        await until_listening(settings)
        await _to_the_photos(me, graph)
        await me.sends_media("image", PDF, "image/jpeg")  # says it is a JPEG; it is not
        await graph.expect(me.wa_id, es("photos.not_image"))
        await me.sends_media("document", PNG, "application/pdf")
        await graph.expect(me.wa_id, es("photos.received", count=1, max=3))

    [kept] = [path for path in settings.storage.media_dir.rglob("*") if path.is_file()]
    assert kept.suffix == ".png" and kept.read_bytes() == PNG
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

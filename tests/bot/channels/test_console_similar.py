"""In the console (`minga chat`, over the runtime it opens), with the real model: an earlier
idea that tells the same problem in other words is offered with numbered options; "mine is
different" goes on to the idea, and the idea filed is noted as a possible duplicate of it."""

from pathlib import Path

from bot.app import Runtime
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.similar import MODEL
from tests.fakes.minga import storage_in
from tests.fakes.similar import file_earlier, same_pair
from tests.fakes.sql import connect


async def test_the_offer_in_the_console_then_mine_is_different(tmp_path: Path) -> None:
    earlier, mine = same_pair()
    settings = Settings(storage=storage_in(tmp_path))
    runtime = await Runtime.open(settings)
    written: list[str] = []
    try:
        assert runtime.lookups is not None
        idea_id, reference = await file_earlier(
            runtime.database, runtime.lookups, earlier.text, channel="console", user="someone",
            category=earlier.category, place=None, point=earlier.point,
        )  # fmt: skip
        t = runtime.catalog.translator("en")
        mobility = next(c for c in settings.lab.categories if c.id == mine.category).label("en")
        lines = iter([
            "1", "1", "1",  # a new idea; a resident; I agree
            mine.text, f"/location {mine.point[0]}, {mine.point[1]}", mobility,
            "2",  # the offer: 1 joins the idea shown, 2 is "mine is different"
            "Señalizar el bache y taparlo", t("photos.skip"), t("identity.anonymous"),
            t("publish.no"), t("summary.send"),
        ])  # fmt: skip

        async def read() -> str | None:
            return next(lines, None)

        console = ConsoleChannel(
            runtime.dispatcher, runtime.catalog, lab_name=settings.lab.name,
            media_dir=runtime.media_dir, language="en", read_line=read, write=written.append,
        )  # fmt: skip
        await console.run()
    finally:
        await runtime.close()
    text = "\n".join(written)
    assert reference in text and "Hay un hueco gigante en la carrera 7" in text
    assert f"  1. {t('similar.join')} · {reference}" in written
    assert f"  2. {t('similar.different')}" in written
    offered_at = text.index(t("similar.different"))
    assert t("idea.ask").split("\n")[0] in text[offered_at:]
    receipt = t("receipt.thanks", reference="-").split("\n")[0]
    assert receipt in text[offered_at:]  # their own idea, filed
    async with connect(settings.storage.database) as db:
        noted = await db.execute_fetchall("SELECT idea_id, other_id FROM possible_duplicates")
        vectors = await db.execute_fetchall(
            "SELECT idea_id FROM idea_vectors WHERE model = ? ORDER BY idea_id", (MODEL,)
        )
    [(new_id, other)] = [tuple(row) for row in noted]
    assert other == idea_id and [row[0] for row in vectors] == [idea_id, new_id]

"""A resident's supports of ideas (issue 21: they joined an idea as "the same problem", with a
detail or a photo) under their rights: /mis_datos shows them, /borrar deletes them and their
photos' files, and the media sweep and the retention rules treat their photos as ideas'."""

import json
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from handlers.engine.settings import RetentionSettings
from handlers.privacy.retention import DAYS_PER_MONTH, prune
from handlers.staff.triage import change_status
from storage.database import Database
from storage.models import IdeaStatus
from storage.private import discard_media, media_files
from storage.supports import NewSupport
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.staff.helpers import idea, submit_idea
from tests.handlers.walk import to_problem

DETAIL = "En la esquina del colegio es peor, los niños pasan por ahí"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    (folder / "test").mkdir(parents=True)
    return folder


@pytest.fixture
def release_media(media: Path) -> Callable[[list[str]], None]:
    """Wired as the app wires it: the dispatcher deletes released files from the folder."""
    return partial(discard_media, media)


def _files(media: Path) -> list[str]:
    return sorted(path for path, _ in media_files(media))


async def _join(
    database: Database, clock: FakeClock, chat: Chat, reference: str, photo: str | None,
    media: Path, detail: str | None = DETAIL,
) -> None:  # fmt: skip
    """The resident joins the idea, as the intake records it (the photo's file on disk)."""
    if await database.reader().residents.find(chat.channel, chat.user) is None:
        await to_problem(chat)
    if photo is not None:
        (media / photo).write_bytes(b"\xff\xd8\xff a photo")
    async with database.transaction() as repos:
        resident = await repos.residents.find(chat.channel, chat.user)
        assert resident is not None
        found = await idea(database, reference)
        support = NewSupport(found.id, resident.id, detail=detail, photo_path=photo,
                             photo_ref="AgAD-x")  # fmt: skip
        await repos.supports.add(support, clock.now())


async def test_my_data_lists_the_ideas_joined_with_what_was_added(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, media: Path,
    language: str,
) -> None:  # fmt: skip
    first = await submit_idea(make_chat(language="es", user="ana"))
    second = await submit_idea(make_chat(language="es", user="beto"))
    rosa = make_chat(language=language, user="rosa")
    await _join(database, clock, rosa, first, "test/esquina.jpg", media)
    await _join(database, clock, rosa, second, None, media, detail=None)
    await rosa.command("mis_datos" if language == "es" else "my_data")
    message, attached = rosa.replies[0].text, rosa.replies[1]
    assert rosa.t("my_data.supports", count=2) in message
    assert rosa.t("my_data.support_photo", reference=first) in message
    assert rosa.t("my_data.support", reference=second) in message
    assert rosa.t("my_data.support_detail", detail=DETAIL) in message
    assert rosa.t("my_data.places_files", points=0, files=1) in message
    assert attached.document is not None
    data = json.loads(attached.document.content)
    assert [(s["reference"], s["detail"], s["photo"]) for s in data["supports"]] == [
        (first, DETAIL, True), (second, None, False),
    ]  # fmt: skip
    assert "esquina.jpg" not in attached.document.content.decode()  # a file name says nothing
    assert "AgAD-x" not in attached.document.content.decode()


async def test_erasure_deletes_the_supports_and_their_photos_files(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, media: Path
) -> None:
    reference = await submit_idea(make_chat(language="es", user="ana"))
    rosa, luis = make_chat(language="es", user="rosa"), make_chat(language="es", user="luis")
    await _join(database, clock, rosa, reference, "test/esquina.jpg", media)
    await _join(database, clock, luis, reference, "test/same.jpg", media)
    await _join(database, clock, rosa, reference, None, media)  # twice: nothing more
    # The same photo, sent by both (a platform names a file by its content): Luis keeps it.
    other = await submit_idea(make_chat(language="es", user="carla"))
    await _join(database, clock, rosa, other, "test/same.jpg", media)
    rosa_id = await _id(database, "rosa")
    assert _files(media) == ["test/esquina.jpg", "test/same.jpg"]

    await rosa.command("borrar")
    await rosa.press("erase.yes")  # she wrote no idea of her own
    assert rosa.said("erase.done_plain")
    assert _files(media) == ["test/same.jpg"]  # hers went; the one Luis's support keeps stays
    kept = await idea(database, reference)
    assert await database.reader().supports.count(kept.id) == 1  # Luis's
    assert not await database.reader().supports.supports(kept.id, rosa_id)


async def _id(database: Database, user: str) -> int:
    resident = await database.reader().residents.find("test", user)
    assert resident is not None
    return resident.id


async def test_withdrawn_ideas_take_their_supporters_photos_with_them(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, media: Path
) -> None:
    ana = make_chat(language="es", user="ana")
    reference = await submit_idea(ana)
    await _join(database, clock, make_chat(language="es", user="rosa"), reference,
                "test/esquina.jpg", media)  # fmt: skip
    await ana.command("borrar")
    await ana.press("erase.with_ideas")
    assert ana.t("erase.done_withdrawn") in ana.text
    assert _files(media) == []
    assert await database.reader().idea_search.by_reference(reference) is None


@pytest.mark.parametrize("release_media", [None])  # the sweep, not the turn, deletes
async def test_the_sweep_keeps_a_supports_photo_and_retention_treats_it_as_an_ideas(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, media: Path
) -> None:
    reference = await submit_idea(make_chat(language="es", user="ana"))
    await _join(database, clock, make_chat(language="es", user="rosa"), reference,
                "test/esquina.jpg", media)  # fmt: skip
    (media / "test" / "orphan.jpg").write_bytes(b"\xff\xd8\xff")
    async with database.transaction() as repos:
        await change_status(repos, await idea(database, reference), IdeaStatus.IMPLEMENTED,
                            actor="test", now=clock.now())  # fmt: skip
    rules = RetentionSettings()
    later = clock.now() + timedelta(days=rules.contact_months * DAYS_PER_MONTH + 1)
    on_disk = [(path, clock.now()) for path in _files(media)]
    async with database.transaction() as repos:
        pruned = await prune(repos, rules, later, on_disk)
    assert pruned.files == ["test/orphan.jpg"]
    # An idea's photos stay as long as the idea (only contacts go): so do its supporters'.
    found = await idea(database, reference)
    rosa = await database.reader().residents.find("test", "rosa")
    assert rosa is not None
    data = await database.reader().privacy.supported_by(rosa.id)
    assert [(s["reference"], s["detail"], s["photo"]) for s in data] == [(reference, DETAIL, True)]
    assert await database.reader().supports.count(found.id) == 1

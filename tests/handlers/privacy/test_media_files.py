"""No file is kept that no idea or draft refers to: a photo or voice note sent where none is
asked, in a group, or in a flooded burst is deleted after the turn; /borrar leaves no file of
the person; the retention sweep deletes orphans a day old and keeps referenced files."""

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from handlers.engine.messages import Media
from handlers.engine.settings import RetentionSettings
from handlers.privacy.retention import prune
from storage.database import Database
from storage.private import discard_media, media_files
from tests.fakes.chat import Chat
from tests.handlers.privacy.test_rights import _named_idea_with_photo
from tests.handlers.walk import to_photos, to_problem


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """The media folder."""
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


@pytest.fixture
def release_media(media: Path) -> Callable[[list[str]], None]:
    """Wired as the app wires it: the dispatcher deletes released files from the folder."""
    return partial(discard_media, media)


async def _send_photo(chat: Chat, media: Path, name: str, kind: str = "photo") -> None:
    """As an adapter does: the file is written first, then the message is handled."""
    (media / "test").mkdir(exist_ok=True)
    (media / "test" / name).write_bytes(b"\xff\xd8\xff photo")
    await chat.send(media=Media(kind, f"test/{name}", name))


def _files(media: Path) -> list[str]:
    return sorted(path for path, _ in media_files(media))


async def test_a_photo_at_the_problem_step_or_at_rest_leaves_no_file(
    chat: Chat, media: Path
) -> None:
    await to_problem(chat)
    await _send_photo(chat, media, "problem.jpg")
    await _send_photo(chat, media, "voice.ogg", kind="voice")  # a voice note IS a problem
    assert chat.asked("location.ask")
    await chat.command("cancel")
    await chat.press("cancel.yes")  # the discarded draft's voice note goes with it
    await _send_photo(chat, media, "idle.jpg")
    assert _files(media) == []


async def test_a_photo_asked_for_is_kept_with_the_draft_and_the_idea(
    chat: Chat, media: Path
) -> None:
    await to_photos(chat)
    await _send_photo(chat, media, "asked.jpg")
    assert _files(media) == ["test/asked.jpg"]
    await _send_photo(chat, media, "asked.jpg")  # the same photo again: still kept
    assert _files(media) == ["test/asked.jpg"]


async def test_a_photo_in_a_group_leaves_no_file(make_chat, media: Path) -> None:
    member = make_chat(language="es", user="someone", group="-100200")
    await _send_photo(member, media, "group.jpg")
    assert _files(media) == []


async def test_a_flooded_photo_leaves_no_file(chat: Chat, media: Path, clock) -> None:
    await to_problem(chat)
    for number in range(15):  # faster than the flood gate lets through
        (media / "test").mkdir(exist_ok=True)
        (media / "test" / f"f{number}.jpg").write_bytes(b"\xff\xd8\xff")
        await chat.dispatcher.handle(
            chat.inbound(media=Media("photo", f"test/f{number}.jpg", "x")), chat.deliver
        )
    assert _files(media) == []


async def test_after_erasure_no_file_of_the_person_remains(chat: Chat, media: Path) -> None:
    (media / "test").mkdir()
    (media / "test" / "calle.jpg").write_bytes(b"\xff\xd8\xff")  # the idea's photo
    await _named_idea_with_photo(chat)
    await _send_photo(chat, media, "later.jpg")  # at rest, not asked
    await chat.command("borrar" if chat.language == "es" else "delete_me")
    await chat.press("erase.keep_ideas")
    assert chat.t("erase.done") in chat.text
    assert _files(media) == []


@pytest.mark.parametrize("release_media", [None])  # e.g. a crash between write and turn
async def test_the_sweep_removes_an_orphan_and_keeps_referenced_and_recent_files(
    chat: Chat, media: Path, database: Database, clock
) -> None:
    await to_photos(chat)
    await _send_photo(chat, media, "draft.jpg")
    (media / "telegram").mkdir()
    (media / "telegram" / "orphan.jpg").write_bytes(b"\xff\xd8\xff")
    (media / "console" / "received").mkdir(parents=True)
    (media / "console" / "received" / "event.ics").write_bytes(b"BEGIN:VCALENDAR")
    listed = sorted(path for path, _ in media_files(media))
    assert listed == ["telegram/orphan.jpg", "test/draft.jpg"]  # not the console's downloads
    on_disk = [(path, clock.now()) for path in listed]  # written now, by the test's clock
    async with database.transaction() as repos:  # the same hour: in flight, maybe
        assert (await prune(repos, RetentionSettings(), clock.now(), on_disk)).files == []
    later = clock.now() + timedelta(days=1, minutes=1)
    async with database.transaction() as repos:
        pruned = await prune(repos, RetentionSettings(), later, on_disk)
    assert pruned.files == ["telegram/orphan.jpg"]

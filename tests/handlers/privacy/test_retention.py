"""Retention: abandoned drafts deleted with their photos, contact details removed months after
an idea closed, old message ids forgotten; nothing younger is touched."""

from datetime import datetime, timedelta

from handlers.engine.settings import RetentionSettings
from handlers.privacy.retention import KEPT_MESSAGE_AGE, prune
from handlers.staff.triage import change_status
from storage.database import Database
from storage.models import IdeaStatus
from tests.fakes.chat import Chat
from tests.handlers.staff.helpers import idea
from tests.handlers.walk import to_identity, to_photos

RULES = RetentionSettings()  # 30 days, 12 months, 30 days


async def _prune(database: Database, now: datetime):
    async with database.transaction() as repos:
        return await prune(repos, RULES, now)


async def test_an_abandoned_draft_goes_with_its_photo_and_a_recent_one_stays(
    make_chat, database: Database, clock
) -> None:
    old, recent = make_chat(user="old"), make_chat(user="recent")
    await to_photos(old)
    await old.photo("draft.jpg")
    clock.advance(days=20)
    await to_photos(recent)
    clock.advance(days=11)  # old: 31 days untouched; recent: 11

    pruned = await _prune(database, clock.now())
    assert (pruned.drafts, pruned.files) == (1, ["test/draft.jpg"])
    reader = database.reader()
    gone = await reader.conversations.get((await reader.residents.find("test", "old")).id)
    assert (gone.step, gone.draft) == ("idle", "{}")
    kept = await reader.conversations.get((await reader.residents.find("test", "recent")).id)
    assert kept.step == "photos"
    await old.say("hola")  # they come back to a fresh start, not an error
    assert old.asked("greeting.menu")


async def _named_idea(chat: Chat) -> str:
    await to_identity(chat)
    await chat.press("identity.named")
    await chat.say("Rosa Pérez")
    await chat.say("rosa@example.org")
    await chat.press("publish.no")
    await chat.press("summary.send")
    text = chat.text
    return text[text.index("MNG-") : text.index("MNG-") + 15]


async def test_contact_details_go_months_after_the_idea_closed(
    make_chat, database: Database, clock
) -> None:
    early, late = make_chat(user="early"), make_chat(user="late")
    closed_early, closed_late = await _named_idea(early), await _named_idea(late)
    async with database.transaction() as repos:
        await change_status(repos, await idea(database, closed_early), IdeaStatus.IMPLEMENTED,
                            actor="test", now=clock.now())  # fmt: skip
    clock.advance(days=60)
    async with database.transaction() as repos:
        await change_status(repos, await idea(database, closed_late), IdeaStatus.NOT_SELECTED,
                            actor="test", now=clock.now(), reason="Ya existe")  # fmt: skip
    clock.advance(days=12 * 30 - 59)  # early: closed 361 days ago; late: 301

    pruned = await _prune(database, clock.now())
    assert pruned.contacts == 1
    first, second = await idea(database, closed_early), await idea(database, closed_late)
    assert (first.contact_name, first.contact) == (None, None)
    assert (second.contact_name, second.contact) == ("Rosa Pérez", "rosa@example.org")
    assert first.problem == second.problem  # the idea itself stays


async def test_old_message_ids_are_forgotten(database: Database, clock) -> None:
    now = clock.now()
    async with database.transaction() as repos:
        await repos.inbound.record("telegram", "old", now - timedelta(days=31))
        await repos.inbound.record("telegram", "new", now - timedelta(days=29))
    assert (await _prune(database, now)).inbound == 1
    assert not await database.reader().inbound.seen("telegram", "old")
    assert await database.reader().inbound.seen("telegram", "new")


async def test_unhandled_bodies_and_unsent_replies_go_after_a_week(
    database: Database, clock
) -> None:
    """Kept so that a crash loses nothing, they hold texts and phone numbers: a platform
    retries for at most 7 days, so older ones are dropped and younger ones stay."""
    now = clock.now()
    old, recent = now - KEPT_MESSAGE_AGE - timedelta(hours=1), now - timedelta(days=6)
    async with database.transaction() as repos:
        await repos.inbound_queue.put("whatsapp", "old", '{"from": "573001234567"}', old)
        await repos.inbound_queue.put("whatsapp", "recent", '{"from": "573001234568"}', recent)
        await repos.pending_replies.add("telegram", "1", "1", "[]", old)
        kept = await repos.pending_replies.add("telegram", "2", "2", "[]", recent)

    assert (await _prune(database, now)).kept_messages == 2
    reader = database.reader()
    assert [body.key for body in await reader.inbound_queue.waiting("whatsapp")] == ["recent"]
    assert [row.id for row in await reader.pending_replies.unsent()] == [kept]

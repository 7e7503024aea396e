"""The digest's "possible duplicates": ideas filed as "mine is different" that still look alike
are listed with a button that joins the newer to the older through triage's own merge (the
resident hears it as from "Same as another") and one that dismisses the pair; either closes
it, a pair merged another way is no longer listed, and only staff may press them."""

from collections.abc import Callable

import pytest

from handlers.engine.catalog import Catalog
from handlers.flows import Dispatcher
from handlers.staff.triage import mark_duplicate
from storage.database import Database
from storage.models import IdeaStatus
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import (
    GROUP,
    STAFF,
    composed,
    idea,
    make_staff_chat,
    submit_idea,
)


@pytest.fixture
def group(dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock) -> Chat:
    """A staff member in the team's group, where the digest is posted."""
    return make_staff_chat(dispatcher, catalog, clock, group=True)


async def _pairs(database: Database, clock: FakeClock, *pairs: tuple[str, str, float]) -> None:
    """The intake's record of ideas filed as "different" from ones they were offered."""
    async with database.transaction() as repos:
        for newer, older, score in pairs:
            new, old = await idea(database, newer), await idea(database, older)
            await repos.similar.note_possible_duplicates(new.id, [(old.id, score)], clock.now())


def _labels(chat: Chat, newer: str, older: str) -> tuple[str, str]:
    return (chat.t("digest.duplicates_merge", newer=newer, older=older),
            chat.t("digest.duplicates_dismiss", newer=newer, older=older))  # fmt: skip


def _listed(chat: Chat) -> list[str]:
    """The labels of the digest's possible-duplicate buttons, as staff see them now."""
    section = [r for r in chat.replies if chat.said("digest.duplicates_title") and r.choices]
    return [c.label for reply in section for c in reply.choices if c.id.startswith("st:p")]


async def _three(make_chat: Callable[..., Chat]) -> list[str]:
    return [
        await submit_idea(make_chat(user="ana", language="es")),
        await submit_idea(make_chat(user="beto", language="en")),
        await submit_idea(make_chat(user="carla", language="es")),
    ]


async def test_the_digest_lists_each_open_pair_with_its_buttons(
    make_chat: Callable[..., Chat],
    group: Chat,
    database: Database,
    catalog: Catalog,
    clock: FakeClock,
) -> None:
    first, second, third = await _three(make_chat)
    await _pairs(database, clock, (second, first, 0.91), (third, first, 0.88))
    await group.command("digest")
    assert group.said("digest.duplicates_title") and group.said("digest.duplicates_line")
    section = group.replies[-1]
    assert all(reference in section.text for reference in (first, second, third))
    assert "0,91" in section.text  # the score, as the lab's language writes it
    assert _listed(group) == [*_labels(group, second, first), *_labels(group, third, first)]
    # Ids carry the ideas' numbers, not positions: the same button means the same pair later.
    ids = {c.label: c.id for c in section.choices}
    one, two = (await idea(database, first)).id, (await idea(database, second)).id
    assert ids[_labels(group, second, first)[0]] == f"st:pm:{two}:{one}"
    assert ids[_labels(group, second, first)[1]] == f"st:pn:{two}:{one}"


async def test_the_button_joins_the_newer_to_the_older_and_its_sender_is_told(
    make_chat: Callable[..., Chat],
    group: Chat,
    database: Database,
    catalog: Catalog,
    clock: FakeClock,
) -> None:
    first, second, _ = await _three(make_chat)
    # Stored the other way round (an import's order): the newer still joins the older.
    await _pairs(database, clock, (first, second, 0.9))
    await group.command("digest")
    await group.press_label(_labels(group, second, first)[0])
    assert group.t("triage.duplicate_done", reference=second, original=first, told=1) in (
        group.text
    )
    joined = await idea(database, second)
    assert joined.status is IdeaStatus.DUPLICATE and joined.duplicate_of_reference == first
    # Beto hears it as when staff use "Same as another", in his language.
    [(who, text)] = await composed(database, catalog, clock.now(), "idea_status")
    notice = catalog.text("en", "notice.duplicate", reference=second, original=first)
    assert who == "beto" and notice in text
    # Closed: no longer listed, and its button (still in the chat) merges nothing twice.
    await group.command("digest")
    assert not group.said("digest.duplicates_title")
    await group.send(choice=f"st:pm:{(await idea(database, first)).id}:{joined.id}")
    assert group.said("digest.duplicates_closed")
    assert len(await outbox_rows(database, "idea_status")) == 1


async def test_dismissing_hides_the_pair_and_changes_no_idea(
    make_chat: Callable[..., Chat], group: Chat, database: Database, clock: FakeClock
) -> None:
    first, second, third = await _three(make_chat)
    await _pairs(database, clock, (second, first, 0.91), (third, first, 0.88))
    await group.command("digest")
    await group.press_label(_labels(group, second, first)[1])
    assert group.said("digest.duplicates_dismissed")
    assert (await idea(database, second)).status is IdeaStatus.RECEIVED
    assert await outbox_rows(database, "idea_status") == []
    await group.command("digest")
    assert _listed(group) == list(_labels(group, third, first))
    # The intake noting the same pair again does not bring it back.
    await _pairs(database, clock, (second, first, 0.95))
    await group.command("digest")
    assert _listed(group) == list(_labels(group, third, first))


async def test_a_pair_merged_another_way_or_withdrawn_is_not_listed(
    make_chat: Callable[..., Chat], group: Chat, database: Database, clock: FakeClock
) -> None:
    first, second, third = await _three(make_chat)
    await _pairs(database, clock, (second, first, 0.91), (third, second, 0.88))
    await group.command("digest")
    pressed_later = group.replies[-1].choices[0].id  # second -> first, still in the chat
    async with database.transaction() as repos:  # from the idea's record instead
        await mark_duplicate(repos, await idea(database, second), first, actor="staff",
                             now=clock.now())  # fmt: skip
    await group.command("digest")
    assert not group.said("digest.duplicates_title")
    await group.send(choice=pressed_later)
    assert group.said("digest.duplicates_closed")
    assert (await idea(database, second)).duplicate_of_reference == first


async def test_someone_not_on_the_team_is_refused(
    make_chat: Callable[..., Chat], group: Chat, database: Database, clock: FakeClock
) -> None:
    first, second, _ = await _three(make_chat)
    await _pairs(database, clock, (second, first, 0.91))
    one, two = (await idea(database, first)).id, (await idea(database, second)).id
    for who in (
        make_chat(user="intruso", channel="telegram"),
        make_chat(user="intruso", channel="telegram", group=GROUP),
    ):
        for pressed in (f"st:pm:{two}:{one}", f"st:pn:{two}:{one}"):
            await who.send(choice=pressed)
            assert who.said("staff.only")
    assert (await idea(database, second)).status is IdeaStatus.RECEIVED
    assert await outbox_rows(database, "idea_status") == []
    await group.command("digest")
    assert _listed(group) == list(_labels(group, second, first))


async def test_a_forged_or_old_button_reads_as_stale(make_chat: Callable[..., Chat]) -> None:
    staff = make_chat(user=STAFF, channel="telegram")
    for pressed in ("st:pm", "st:pm:1", "st:pn:a:b", "st:pm:98:99"):
        await staff.send(choice=pressed)
        assert staff.said("input.stale_button") or staff.said("digest.duplicates_closed")

"""Supporters (residents who joined an idea as the same problem) as staff meet them: /ideas
sorted by the most supporters, page by page with nothing skipped or repeated; /idea REF with
the count and what they added, never who they are; the digest's count per idea and the ideas
most joined since the last digest (issue 21)."""

from datetime import UTC, datetime, timedelta

from handlers.engine.buttons import fits
from handlers.engine.catalog import Catalog
from handlers.engine.settings import DEFAULT_CATEGORIES, DEFAULT_NEIGHBOURHOODS
from handlers.engine.textinput import short
from handlers.events.cards import Voice
from handlers.staff.digest import build, queue_due_digest
from handlers.staff.ideas_view import STAFF, VIEW, View, filter_button, list_button
from handlers.staff.triage import change_status
from storage.database import Database
from storage.models import Focus, IdeaOrder, IdeaStatus, NewIdea, Publish, Role
from storage.supports import NewSupport
from tests.fakes.chat import Chat
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import button, staff_settings

# 07:00 in Bogotá (UTC-5) on Saturday 21 November 2026: an hour before the digest.
MORNING = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
# Supporters of each of 20 ideas, with ties inside and across pages of 8.
COUNTS = [(n * 7) % 4 for n in range(20)]


async def add_ideas(
    database: Database, now: datetime, count: int, *, author: dict[str, str] | None = None,
    who: str = "author",
) -> list[tuple[int, str]]:  # fmt: skip
    """`count` ideas from as many residents, a minute apart: (id, reference) each."""
    made = []
    async with database.transaction() as repos:
        for n in range(count):
            resident = await repos.residents.get_or_create("telegram", f"{who}{n}", now)
            new = NewIdea(
                resident_id=resident.id, role=Role.RESIDENT, language="es",
                problem=f"Problema {n}: el hueco de la esquina", idea=None, category="mobility",
                focus=Focus.EXTERNAL, location_text="La Flora", anonymous=author is None,
                contact_name=(author or {}).get("name"), contact=(author or {}).get("contact"),
                publish=Publish.TEXT,
            )  # fmt: skip
            made.append(await repos.ideas.create(new, prefix="MNG", year=2026,
                                                 now=now + timedelta(minutes=n)))  # fmt: skip
    return made


async def join(
    database: Database, idea_id: int, people: int, now: datetime, *, tag: str = "",
    detail: str | None = None, photo_path: str | None = None,
) -> None:  # fmt: skip
    """`people` residents join the idea (the first of them with the detail and photo)."""
    async with database.transaction() as repos:
        for k in range(people):
            resident = await repos.residents.get_or_create("telegram", f"s{idea_id}-{tag}{k}", now)
            support = NewSupport(idea_id, resident.id, detail if k == 0 else None,
                                 photo_path if k == 0 else None)  # fmt: skip
            assert await repos.supports.add(support, now)


def listed(chat: Chat) -> list[str]:
    """The ideas of the list's page, in order, by their buttons (labelled with references)."""
    prefix = f"{STAFF}:{VIEW}:"
    return [c.label for c in chat.choices if c.id.startswith(prefix)]


async def all_pages(chat: Chat) -> list[str]:
    """Every idea the list shows, following "next" to the last page."""
    seen = listed(chat)
    while any(c.label == chat.t("staff_ideas.next") for c in chat.choices):
        await chat.press("staff_ideas.next")
        seen += listed(chat)
    return seen


async def test_ideas_sorted_by_supporters_most_first_and_pages_neither_skip_nor_repeat(
    staff: Chat, database: Database
) -> None:
    ideas = await add_ideas(database, MORNING, len(COUNTS))
    for (idea_id, _), count in zip(ideas, COUNTS, strict=True):
        await join(database, idea_id, count, MORNING + timedelta(hours=1))
    await staff.command("ideas")
    newest = await all_pages(staff)
    assert newest == [reference for _, reference in reversed(ideas)]
    await staff.command("ideas")
    await staff.press("staff_ideas.sort_supporters")
    assert staff.t("staff_ideas.by_supporters") in staff.text
    # Most supporters first; among equals the newer number first (the tie-break by id).
    by_count = sorted(zip(ideas, COUNTS, strict=True), key=lambda p: (-p[1], -p[0][0]))
    expected = [reference for (_, reference), _ in by_count]
    assert await all_pages(staff) == expected
    # Each line says how many joined; pressing the other order goes back to the newest.
    await staff.command("ideas")
    await staff.press("staff_ideas.sort_supporters")
    assert staff.t("staff_ideas.supporters", count=max(COUNTS)) in staff.text
    await staff.press("staff_ideas.sort_newest")
    assert listed(staff) == newest[:8]


async def test_the_order_stays_through_filters_and_clearing_them(
    staff: Chat, database: Database
) -> None:
    ideas = await add_ideas(database, MORNING, 3)
    await join(database, ideas[0][0], 2, MORNING + timedelta(hours=1))
    async with database.transaction() as repos:
        reviewed = await repos.idea_search.get(ideas[1][0])
        assert reviewed is not None
        await change_status(repos, reviewed, IdeaStatus.IN_REVIEW, actor="cli", now=MORNING)
    await staff.command("ideas")
    await staff.press("staff_ideas.sort_supporters")
    await staff.press("staff_ideas.filter_s")
    await staff.send(choice=button(staff, staff.t("status.received")))
    assert staff.t("staff_ideas.by_supporters") in staff.text
    assert listed(staff) == [ideas[0][1], ideas[2][1]]
    await staff.press("staff_ideas.clear")
    assert staff.t("staff_ideas.by_supporters") in staff.text
    assert listed(staff) == [ideas[0][1], ideas[2][1], ideas[1][1]]


async def test_list_buttons_from_before_the_order_still_list_newest_first(
    staff: Chat, database: Database
) -> None:
    ideas = await add_ideas(database, MORNING, 3)
    await join(database, ideas[0][0], 2, MORNING + timedelta(hours=1))
    await staff.send(choice="st:l:0....")  # as the list's buttons were written until now
    assert listed(staff) == [reference for _, reference in reversed(ideas)]
    assert staff.t("staff_ideas.by_supporters") not in staff.text


def test_a_sorted_view_with_every_filter_fits_a_telegram_button() -> None:
    longest_category = max((c.id for c in DEFAULT_CATEGORIES), key=len)
    longest_place = max(DEFAULT_NEIGHBOURHOODS, key=len)
    status = max(IdeaStatus, key=lambda s: len(s.value))
    view = View(page=99_999, status=status, category=longest_category,
                neighbourhood=longest_place, call=99_999, order=IdeaOrder.SUPPORTERS)  # fmt: skip
    assert fits(list_button(view))
    assert all(fits(filter_button(kind, view)) for kind in "scnk")


async def test_the_record_counts_supporters_and_shows_what_they_added_but_never_who(
    staff: Chat, database: Database
) -> None:
    [(quiet_id, quiet)] = await add_ideas(database, MORNING, 1, who="quiet")
    [(idea_id, reference)] = await add_ideas(database, MORNING, 1, who="joined")
    # A supporter who, for an idea of their own, gave a name and a contact.
    [(own_id, _)] = await add_ideas(
        database,
        MORNING,
        1,
        author={"name": "Zoe Quintana", "contact": "zoe@example.org"},
        who="zoe",
    )
    async with database.transaction() as repos:
        own = await repos.idea_search.get(own_id)
        assert own is not None
        await repos.supports.add(NewSupport(idea_id, own.resident_id, "Ya mide medio metro"),
                                 MORNING + timedelta(hours=1))  # fmt: skip
    await join(database, idea_id, 2, MORNING + timedelta(hours=2), photo_path="telegram/s1.jpg")
    await staff.send(command="idea", argument=reference)
    text = staff.text
    assert staff.t("staff_idea.supporters", count=3) in text
    assert staff.t("staff_idea.support_photos", count=1) in text
    assert staff.t("staff_idea.support_detail", text="Ya mide medio metro") in text
    assert "telegram/s1.jpg" in [r.picture.path for r in staff.replies if r.picture]
    assert "Zoe Quintana" not in text and "zoe@example.org" not in text
    # An idea nobody joined says nothing about supporters.
    await staff.send(command="idea", argument=quiet)
    assert quiet_id != idea_id
    assert not any(staff.t("staff_idea.supporters", count=n) in staff.text for n in range(5))
    assert not [r for r in staff.replies if r.picture]


def voice(catalog: Catalog) -> Voice:
    return Voice(catalog.translator("es"), "es", staff_settings().lab)


async def test_the_digest_counts_supporters_and_names_the_ideas_most_joined(
    database: Database, catalog: Catalog
) -> None:
    since, until = MORNING - timedelta(days=1), MORNING
    (old_a, ref_a), (old_b, ref_b) = await add_ideas(database, since - timedelta(days=3), 2)
    [(new_id, new_ref)] = await add_ideas(database, since + timedelta(hours=1), 1, who="new")
    await join(database, old_a, 1, since - timedelta(hours=1), tag="before")
    await join(database, old_a, 3, since + timedelta(hours=2))
    await join(database, old_b, 1, since + timedelta(hours=3))
    await join(database, new_id, 2, since + timedelta(hours=4))
    await join(database, old_b, 5, until + timedelta(hours=1), tag="after")  # the next one's
    text_reply, _ = await build(database.reader(), voice(catalog), since, until, MORNING)
    t = catalog.translator("es")
    text = text_reply.text
    assert new_ref in text and t("digest.supporters", count=2) in text
    assert t("digest.joined", count=6) in text
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if ref_a in line)
    second = next(i for i, line in enumerate(lines) if ref_b in line)
    assert first < second  # 3 joined A in the window, 1 joined B
    idea_a = await database.reader().idea_search.get(old_a)
    assert idea_a is not None
    status = t("status.received")
    assert lines[first] == t("digest.joined_line", reference=ref_a, count=3, total=4,
                             status=status, problem=short(idea_a.problem))  # fmt: skip
    opened = {c.label for c in text_reply.choices}
    assert {ref_a, ref_b, new_ref} <= opened


async def test_a_day_with_only_new_supporters_still_gets_its_digest(database: Database) -> None:
    [(idea_id, _)] = await add_ideas(database, MORNING - timedelta(days=5), 1)
    await join(database, idea_id, 2, MORNING - timedelta(hours=2))
    due = MORNING + timedelta(hours=1, minutes=5)  # 08:05 in Bogotá
    async with database.transaction() as repos:
        assert await queue_due_digest(repos, staff_settings(), due)
    assert len(await outbox_rows(database, "digest")) == 1

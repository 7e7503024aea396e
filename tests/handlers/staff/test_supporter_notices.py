"""Supporters (residents who joined an idea as "the same problem", issue 21) hear of the idea
as its followers do, if they agreed to news: once each, in their language, as someone who
joined it; those of a duplicate follow the original; a "no" or an erasure means silence."""

from collections.abc import Callable

from handlers.engine.catalog import Catalog
from handlers.engine.settings import FlowSettings
from handlers.privacy.consent import Purpose, changes
from handlers.privacy.erase import erase
from storage.database import Database
from storage.models import Resident
from storage.supports import NewSupport
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.calls.test_calls import open_default_call, to_call_question
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import button, composed, idea, submit_idea
from tests.handlers.walk import answer_receipt, to_problem


async def supporter(
    chat: Chat, database: Database, clock: FakeClock, *references: str, updates: bool = True
) -> Resident:
    """A resident who started the intake (their language, role and consent are known; or who
    talked to the bot before) and joined these ideas, saying yes (or no) to news about them,
    as the intake's join records."""
    if await database.reader().residents.find(chat.channel, chat.user) is None:
        await to_problem(chat)
    version = FlowSettings().lab.privacy_policy_version
    async with database.transaction() as repos:
        resident = await repos.residents.find(chat.channel, chat.user)
        assert resident is not None
        resident = resident.model_copy(
            update=changes(Purpose.UPDATES, updates, version, clock.now())
        )
        await repos.residents.save_consents(resident)
        for reference in references:
            found = await repos.idea_search.by_reference(reference)
            assert found is not None
            await repos.supports.add(NewSupport(found.id, resident.id, detail="Yo también"),
                                     clock.now())  # fmt: skip
    return resident


async def test_a_status_reaches_each_consenting_supporter_once_in_their_language(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    ana = make_chat(language="es", user="ana")
    reference = await submit_idea(ana)
    beto = make_chat(language="es", user="beto")  # wrote a duplicate of it, and joined it too
    second = await submit_idea(beto)
    await staff.send(command="idea", argument=second)
    await staff.send(choice=button(staff, staff.t("staff_idea.mark_duplicate")))
    await staff.say(reference)
    await supporter(beto, database, clock, reference)
    await supporter(make_chat(language="en", user="carla"), database, clock, reference)
    await supporter(make_chat(language="es", user="dora"), database, clock, reference,
                    updates=False)  # fmt: skip
    async with database.transaction() as repos:  # the author joined her own idea: still once
        author = await repos.residents.find("test", "ana")
        assert author is not None
        found = await idea(database, reference)
        await repos.supports.add(NewSupport(found.id, author.id), clock.now())
    before = len(await outbox_rows(database, "idea_status"))

    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, "→ " + staff.t("status.selected")))
    assert staff.t("triage.status_done", reference=reference, status=staff.t("status.selected"),
                   told=3) in staff.text  # fmt: skip
    told = (await composed(database, catalog, clock.now(), "idea_status"))[before:]
    assert sorted(who for who, _ in told) == ["ana", "beto", "carla"]  # dora said no
    texts = dict(told)
    selected = {lang: catalog.text(lang, "status.selected") for lang in ("es", "en")}
    assert texts["carla"].startswith(
        catalog.text("en", "notice.status_supported", reference=reference, status=selected["en"])
    )
    assert texts["ana"].startswith(
        catalog.text("es", "notice.status", reference=reference, status=selected["es"])
    )  # the author is told as the author
    assert texts["beto"].startswith(
        catalog.text("es", "notice.status_followed", reference=reference, status=selected["es"])
    )  # his own idea was joined to it: told as that, once


async def test_not_selected_reaches_supporters_with_the_reason(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    reference = await submit_idea(make_chat(language="es", user="ana"))
    await supporter(make_chat(language="en", user="carla"), database, clock, reference)
    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, "→ " + staff.t("status.not_selected")))
    await staff.say("Ya existe un programa de la alcaldía para esa vía.")
    told = dict(await composed(database, catalog, clock.now(), "idea_status"))
    assert set(told) == {"ana", "carla"}
    assert catalog.text("en", "notice.reason",
                        reason="Ya existe un programa de la alcaldía para esa vía.") in (
        told["carla"]
    )  # fmt: skip


async def test_supporters_of_a_duplicate_follow_the_original(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    first = await submit_idea(make_chat(language="es", user="ana"))
    second = await submit_idea(make_chat(language="es", user="beto"))
    await supporter(make_chat(language="en", user="carla"), database, clock, second)
    await staff.send(command="idea", argument=second)
    await staff.send(choice=button(staff, staff.t("staff_idea.mark_duplicate")))
    await staff.say(first)
    assert staff.t("triage.duplicate_done", reference=second, original=first, told=2) in (
        staff.text
    )
    told = dict(await composed(database, catalog, clock.now(), "idea_status"))
    assert told["carla"].startswith(
        catalog.text("en", "notice.duplicate_supported", reference=second, original=first)
    )
    before = len(await outbox_rows(database, "idea_status"))
    await staff.send(command="idea", argument=first)
    await staff.send(choice=button(staff, "→ " + staff.t("status.in_progress")))
    news = (await composed(database, catalog, clock.now(), "idea_status"))[before:]
    assert sorted(who for who, _ in news) == ["ana", "beto", "carla"]
    status = catalog.text("en", "status.in_progress")
    assert dict(news)["carla"].startswith(
        catalog.text("en", "notice.status_supported", reference=first, status=status)
    )


async def test_no_longer_a_duplicate_its_supporters_no_longer_follow_the_original(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    first = await submit_idea(make_chat(language="es", user="ana"))
    second = await submit_idea(make_chat(language="es", user="beto"))
    await supporter(make_chat(language="en", user="carla"), database, clock, second)
    await staff.send(command="idea", argument=second)
    await staff.send(choice=button(staff, staff.t("staff_idea.mark_duplicate")))
    await staff.say(first)
    await staff.send(command="idea", argument=second)  # staff change their mind
    await staff.send(choice=button(staff, "→ " + staff.t("status.in_review")))
    news = dict(await composed(database, catalog, clock.now(), "idea_status"))
    assert news["carla"].startswith(catalog.text(
        "en", "notice.status_supported", reference=second,
        status=catalog.text("en", "status.in_review"),
    ))  # fmt: skip
    before = len(await outbox_rows(database, "idea_status"))
    await staff.send(command="idea", argument=first)
    await staff.send(choice=button(staff, "→ " + staff.t("status.selected")))
    told = (await composed(database, catalog, clock.now(), "idea_status"))[before:]
    assert [who for who, _ in told] == ["ana"]


async def test_an_erased_supporter_hears_nothing_more(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    reference = await submit_idea(make_chat(language="es", user="ana"))
    carla = await supporter(make_chat(language="en", user="carla"), database, clock, reference)
    async with database.transaction() as repos:
        await erase(repos, FlowSettings(), carla.id, withdraw_ideas=False, now=clock.now())
    assert await database.reader().supports.count((await idea(database, reference)).id) == 0
    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, "→ " + staff.t("status.in_review")))
    told = await composed(database, catalog, clock.now(), "idea_status")
    assert [who for who, _ in told] == ["ana"]


async def test_a_winner_is_told_to_its_supporters(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    await open_default_call(staff)
    ana = make_chat(language="es", user="ana")
    await to_call_question(ana)
    await ana.send(choice="call:1.efficiency")
    await ana.press("photos.skip")
    await ana.press("identity.anonymous")
    await ana.press("publish.no")
    await ana.press("summary.send")
    await answer_receipt(ana, updates=True)
    reference = "MNG-2026-000001"
    await supporter(make_chat(language="en", user="carla"), database, clock, reference)
    await staff.send(command="idea", argument=reference)
    await staff.send(choice=button(staff, staff.t("staff_idea.make_winner")))
    told = dict(await composed(database, catalog, clock.now(), "idea_award"))
    assert set(told) == {"ana", "carla"}
    call = await database.reader().calls.get(1)
    assert call is not None
    category = call.category("efficiency")
    assert category is not None
    assert told["carla"].startswith(
        catalog.text("en", "notice.winner_supported", reference=reference, call=call.title,
                     category=category.label("en"))
    )  # fmt: skip

"""Conversations in progress survive the upgrade (issue 18): a database written by the version
before the restructuring, with people mid-intake, mid-RSVP, mid-staff-form and with old buttons
in their chats, goes on as they meant it with today's migrations and code.

The old database is built with raw SQL from frozen literals (tests/storage/upgrade/); each test
opens it the way `minga run` does (pending migrations applied), talks to the real dispatcher
and checks what was meant: the state reached and the rows written, never the wording.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

# -- The product's entry points. These are the only imports of handlers' module paths: when
# -- the restructuring moves them, fix these lines and nothing else.
from handlers.engine.catalog import Catalog
from handlers.engine.settings import FlowSettings, StaffSettings
from handlers.flows import Dispatcher

# --
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.storage.upgrade import old_database as old
from tests.storage.upgrade.old_database import (
    EVENT_TITLE,
    GROUP,
    IDEA,
    OLD_CATEGORY_ORDER,
    OLD_NEIGHBOURHOODS,
    OLD_STATUS_ORDER,
)

# The upgrade is installed half an hour after the last message of the old version.
UPGRADED_AT = datetime(2026, 8, 16, 19, 30, tzinfo=UTC)


@dataclass
class Upgraded:
    path: Path
    database: Database
    dispatcher: Dispatcher
    catalog: Catalog
    clock: FakeClock

    def chat(self, user: str, *, language: str = "es", group: bool = False) -> Chat:
        return Chat(self.dispatcher, self.catalog, self.clock, language=language, user=user,
                    channel=old.CHANNEL, group=GROUP if group else None)  # fmt: skip

    async def rows(self, sql: str, *params: object) -> list[dict[str, object]]:
        """What is committed, read with SQL of its own (not through the models, which move)."""
        async with aiosqlite.connect(self.path) as connection:
            connection.row_factory = aiosqlite.Row
            async with connection.execute(sql, params) as cursor:
                return [dict(row) for row in await cursor.fetchall()]

    async def row(self, sql: str, *params: object) -> dict[str, object]:
        found = await self.rows(sql, *params)
        assert len(found) == 1, found
        return found[0]

    async def idea(self, reference: str) -> dict[str, object]:
        return await self.row("SELECT * FROM ideas WHERE reference = ?", reference)

    async def resident(self, user_key: str) -> dict[str, object]:
        return await self.row(
            "SELECT * FROM residents WHERE channel = ? AND user_key = ?", old.CHANNEL, user_key
        )

    async def newest_idea_of(self, user_key: str) -> dict[str, object]:
        resident = await self.resident(user_key)
        found = await self.rows(
            "SELECT * FROM ideas WHERE resident_id = ? ORDER BY id DESC", resident["id"]
        )
        assert found, f"{user_key} has no idea"
        return found[0]


@pytest.fixture
async def upgraded(tmp_path: Path, catalog: Catalog) -> AsyncIterator[Upgraded]:
    path = tmp_path / "minga.sqlite3"
    await old.build(path)
    database = await Database.open(path)  # the upgrade: every pending migration runs here
    settings = FlowSettings(staff=StaffSettings(telegram_ids=old.STAFF_IDS,
                                                group_chat_id=int(GROUP)))  # fmt: skip
    clock = FakeClock(UPGRADED_AT)
    yield Upgraded(path, database, Dispatcher(database, settings, catalog, clock), catalog, clock)
    await database.close()


def labels(chat: Chat) -> list[str]:
    return [choice.label for reply in chat.replies for choice in reply.choices]


def shown_references(chat: Chat) -> set[str]:
    """The ideas a staff list shows: its buttons are labelled with their references."""
    return {label for label in labels(chat) if label.startswith("MNG-")}


async def to_receipt(chat: Chat) -> None:
    """From wherever the intake is, the quickest answers the questions still open ask for,
    pressing what the current version shows (each by its label), up to the sent idea."""
    quickest = ("call.none", "idea.none", "photos.skip", "identity.anonymous", "publish.no")
    for _ in range(10):
        if chat.t("summary.send") in labels(chat):
            await chat.press("summary.send")
            return
        shown = set(labels(chat))
        key = next((k for k in quickest if chat.t(k) in shown), None)
        assert key is not None, f"no quick answer among {sorted(shown)}"
        await chat.press(key)
    raise AssertionError("the intake did not reach its summary")


# -- Residents mid-intake -------------------------------------------------------------------------


async def test_an_old_neighbourhood_button_names_the_place_it_showed(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7001")
    await chat.send(choice="location:n4")  # "La Flora" in the list of that day
    assert chat.asked("category.ask")
    await chat.press_label("Movilidad y vías")  # the question as this version asks it
    assert chat.asked("idea.ask")
    await chat.say(IDEA)
    await to_receipt(chat)
    idea = await upgraded.newest_idea_of("7001")
    assert idea["location_text"] == OLD_NEIGHBOURHOODS[4]
    assert (idea["category"], idea["idea"], idea["role"]) == ("mobility", IDEA, "resident")
    assert idea["problem"] == old.PROBLEM and idea["call_id"] is None
    assert chat.said("receipt.thanks")


async def test_the_place_kept_in_the_draft_goes_into_the_idea(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7002")
    await chat.send(choice="category:environment")
    assert chat.asked("idea.ask")
    await chat.say(IDEA)
    await to_receipt(chat)
    idea = await upgraded.newest_idea_of("7002")
    assert (idea["location_text"], idea["category"]) == ("La Flora", "environment")
    assert idea["problem"] == old.PROBLEM and idea["anonymous"] == 1


async def test_an_idea_at_the_summary_is_sent_with_every_answer_kept(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7003")
    await chat.send(choice="summary:send")
    assert chat.said("receipt.thanks")
    idea = await upgraded.newest_idea_of("7003")
    assert idea["reference"] == "MNG-2026-000005"  # after the four the old version numbered
    assert (idea["location_text"], idea["category"], idea["idea"]) == ("Danubio", "mobility", IDEA)
    assert (idea["anonymous"], idea["contact_name"], idea["contact"]) == (0, "Ana Rojas",
                                                                          "3001234567")  # fmt: skip
    assert (idea["call_id"], idea["call_category"]) == (1, "service")
    assert (idea["focus"], idea["publish"]) == ("external", "text")


async def test_an_old_call_button_enters_the_idea_in_that_call(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7004")
    await chat.send(choice="call:1.efficiency")
    await to_receipt(chat)
    idea = await upgraded.newest_idea_of("7004")
    assert (idea["call_id"], idea["call_category"]) == (1, "efficiency")
    # The call's category says the focus ("efficiency" serves the administration).
    assert (idea["role"], idea["focus"], idea["idea"]) == ("official", "internal", None)
    assert (idea["location_text"], idea["category"]) == ("Alfonso López", "digital")


async def test_after_days_away_the_intake_resumes_where_it_was(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7012")
    await chat.say("hola")
    assert chat.said("resume.ask_about")
    await chat.press("resume.continue")
    assert chat.asked("category.ask")
    await chat.send(choice="category:safety")
    await chat.say(IDEA)
    await to_receipt(chat)
    idea = await upgraded.newest_idea_of("7012")
    assert (idea["location_text"], idea["category"]) == ("Comuneros", "safety")


# -- Someone new, the RSVP, the rights ------------------------------------------------------------


async def test_requests_held_at_the_language_question_are_answered(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7005", language="en")
    await chat.send(choice="language:en")
    assert (await upgraded.resident("7005"))["language"] == "en"
    # Both requests kept by the old version: /eventos (the list) and the event's card.
    assert any(EVENT_TITLE in reply.text for reply in chat.replies)
    assert chat.t("events.yes") in labels(chat)


async def test_an_rsvp_waiting_for_consent_completes_and_returns(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7006")
    await chat.send(choice="ev_consent:yes")
    resident = await upgraded.resident("7006")
    assert resident["consent_version"] == old.POLICY and resident["consent_at"] is not None
    rsvp = await upgraded.row("SELECT * FROM rsvps WHERE resident_id = ?", resident["id"])
    assert (rsvp["event_id"], rsvp["status"]) == (1, "going")
    assert chat.asked("role.ask")  # back where "I'll come" was pressed


async def test_a_correction_in_progress_is_saved_and_the_new_idea_waits(
    upgraded: Upgraded,
) -> None:
    chat = upgraded.chat("7007")
    await chat.send(choice="fix:contact")
    assert chat.asked("fix.ask_contact")
    await chat.say("beto.perez@example.org")
    assert (await upgraded.idea("MNG-2026-000001"))["contact"] == "beto.perez@example.org"
    assert chat.asked("problem.ask")  # the idea begun before /corregir
    await chat.say(old.PROBLEM)
    assert chat.asked("location.ask")


async def test_an_erasure_asked_before_the_upgrade_is_carried_out(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7008")
    await chat.send(choice="erase:keep")
    erased = await upgraded.row("SELECT * FROM residents WHERE id = 9")
    assert erased["erased_at"] is not None and erased["user_key"] != "7008"
    kept = await upgraded.idea("MNG-2026-000002")
    assert (kept["contact_name"], kept["anonymous"]) == (None, 1)


async def test_the_receipts_consent_buttons_still_answer(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7009")
    await chat.send(choice="upd:on")
    assert (await upgraded.resident("7009"))["updates_at"] is not None
    await chat.send(choice="sub:yes")  # the old version's announcements button
    resident = await upgraded.resident("7009")
    assert resident["announcements_at"] is not None
    assert resident["announcements_version"] == old.POLICY


async def test_the_buttons_kept_at_rest_still_answer_a_typed_yes(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7009")
    await chat.say("sí")  # the receipt's "news about your idea?", kept in the draft
    assert (await upgraded.resident("7009"))["updates_at"] is not None


async def test_the_old_menu_buttons_do_what_they_said(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7010")
    await chat.send(choice="menu:events")
    assert EVENT_TITLE in labels(chat)
    await chat.send(choice="ev:1:show")
    assert chat.t("events.yes") in labels(chat)
    await chat.send(choice="ev:1:yes")
    resident = await upgraded.resident("7010")
    rsvp = await upgraded.row("SELECT * FROM rsvps WHERE resident_id = ?", resident["id"])
    assert (rsvp["event_id"], rsvp["status"]) == (1, "going")
    await chat.send(choice="menu:help")
    assert chat.said("help.intro")
    await chat.send(choice="menu:new")
    assert chat.asked("role.ask")
    await chat.press("role.resident")
    assert chat.asked("problem.ask")  # consent given before the upgrade still counts


async def test_the_old_menu_lists_ones_own_ideas(upgraded: Upgraded) -> None:
    chat = upgraded.chat("7011")
    await chat.send(choice="menu:mine")
    assert chat.said("mine.title") and "MNG-2026-000004" in chat.text


# -- Staff mid-form -------------------------------------------------------------------------------


async def test_a_new_event_half_made_is_created(upgraded: Upgraded) -> None:
    chat = upgraded.chat("4242")
    await chat.say("05/12/2026 10:00")
    await chat.press("staff.two_hours")
    await chat.say("Salón comunal La Flora")
    await chat.press("staff.skip")  # no address
    await chat.press("staff.skip")  # no pin
    await chat.say("30")
    await chat.press("staff.skip")  # no description
    await chat.press("staff.create")
    event = await upgraded.row("SELECT * FROM events WHERE id = 2")
    assert (event["title"], event["venue"]) == ("Feria de ideas del barrio",
                                                "Salón comunal La Flora")  # fmt: skip
    assert event["starts_at"] == "2026-12-05T15:00:00.000000Z"  # 10:00 in Bogotá
    assert event["ends_at"] == "2026-12-05T17:00:00.000000Z"
    assert (event["capacity"], event["created_by"]) == (30, "telegram:4242")


async def test_a_broadcast_half_made_takes_the_old_event_button(upgraded: Upgraded) -> None:
    chat = upgraded.chat("4343")
    await chat.send(choice="bc_event:1")
    await chat.press("staff.audience_all")
    await chat.press("staff.send")
    broadcast = await upgraded.row("SELECT * FROM broadcasts")
    assert (broadcast["event_id"], broadcast["audience"]) == (1, "all")
    assert broadcast["text"] == "Reunión de vecinos de La Flora el jueves"
    assert broadcast["created_by"] == "telegram:4343"


async def test_an_old_neighbourhood_filter_reaches_the_place_it_showed(upgraded: Upgraded) -> None:
    chat = upgraded.chat("4747")
    await chat.send(choice="bc_filter:neighbourhood:4")
    await chat.press("staff.send")
    broadcast = await upgraded.row("SELECT * FROM broadcasts")
    assert broadcast["audience"] == f"neighbourhood:{OLD_NEIGHBOURHOODS[4]}"
    assert broadcast["event_id"] == 1


async def test_a_reason_asked_before_the_upgrade_closes_the_triage(upgraded: Upgraded) -> None:
    chat = upgraded.chat("4444")
    await chat.say("No hay presupuesto este año")
    idea = await upgraded.idea("MNG-2026-000001")
    assert (idea["status"], idea["status_reason"]) == ("not_selected",
                                                       "No hay presupuesto este año")  # fmt: skip
    assert idea["status_by"] == "telegram:4444"


async def test_a_call_half_made_is_opened(upgraded: Upgraded) -> None:
    chat = upgraded.chat("4545")
    await chat.send(choice="cl_cats:default")
    await chat.say("15/10/2026")
    await chat.press("calls.create")
    call = await upgraded.row("SELECT * FROM calls WHERE id = 2")
    assert (call["title"], call["description"]) == ("Segunda convocatoria", "Más ideas")
    assert [c["id"] for c in json.loads(str(call["categories"]))] == ["service", "efficiency"]
    assert call["deadline"] == "2026-10-16T04:59:00.000000Z"  # the end of 15 October, in Bogotá


# -- Old staff buttons ----------------------------------------------------------------------------


def _status_of(button: str) -> str:
    """The status an old "st:s:<idea>:<index>" button named, by the order of its day."""
    return OLD_STATUS_ORDER[int(button.rsplit(":", 1)[1])]


@pytest.mark.parametrize(
    ("button", "reference"),
    [*((b, "MNG-2026-000002") for b in old.STATUS_BUTTONS_IDEA_2),
     *((b, "MNG-2026-000004") for b in old.STATUS_BUTTONS_IDEA_4)],
)  # fmt: skip
async def test_an_old_status_button_sets_the_status_it_named(
    upgraded: Upgraded, button: str, reference: str
) -> None:
    chat = upgraded.chat("4646")
    await chat.send(choice=button)
    idea = await upgraded.idea(reference)
    assert idea["status"] == _status_of(button)
    assert idea["status_by"] == "telegram:4646"


async def test_the_old_not_selected_button_asks_the_reason_first(upgraded: Upgraded) -> None:
    chat = upgraded.chat("4646")
    await chat.send(choice=old.NOT_SELECTED_BUTTON_IDEA_2)
    assert _status_of(old.NOT_SELECTED_BUTTON_IDEA_2) == "not_selected"
    assert (await upgraded.idea("MNG-2026-000002"))["status"] == "received"  # not yet
    assert chat.asked("triage.ask_reason", reference="MNG-2026-000002")
    await chat.say("Ya hay un programa de salud en el barrio")
    idea = await upgraded.idea("MNG-2026-000002")
    assert (idea["status"], idea["status_reason"]) == (
        "not_selected",
        "Ya hay un programa de salud en el barrio",
    )


async def test_an_old_status_button_in_the_team_group_works(upgraded: Upgraded) -> None:
    chat = upgraded.chat("4646", group=True)
    await chat.send(choice="st:s:3:2")
    assert (await upgraded.idea("MNG-2026-000003"))["status"] == _status_of("st:s:3:2")


def _expected(field: str, index: int) -> set[str]:
    """The references an old list filter meant: by the lists of its day, over the old ideas."""
    if field == "status":
        wanted: object = OLD_STATUS_ORDER[index]
        column = "status"
    elif field == "category":
        wanted, column = OLD_CATEGORY_ORDER[index], "category"
    elif field == "neighbourhood":
        wanted, column = OLD_NEIGHBOURHOODS[index], "location_text"
    else:
        wanted, column = index, "call_id"
    return {str(i["reference"]) for i in old.IDEAS if i.get(column) == wanted}


def _index(field: str, button: str) -> int:
    """The index an old list button carried ("st:l:<page>:<status>.<category>.<place>.<call>")."""
    fields = button.split(":")[3].split(".")
    position = ("status", "category", "neighbourhood", "call").index(field)
    return int(fields[position])


@pytest.mark.parametrize(
    ("field", "button"), [(f, b) for f, buttons in old.LIST_BUTTONS.items() for b in buttons]
)
async def test_an_old_list_filter_lists_what_it_named(
    upgraded: Upgraded, field: str, button: str
) -> None:
    chat = upgraded.chat("4646")
    await chat.send(choice=button)
    expected = _expected(field, _index(field, button))
    assert expected, "each frozen filter names at least one of the old ideas"
    assert shown_references(chat) == expected


async def test_a_status_typed_at_an_old_record_names_the_old_button(upgraded: Upgraded) -> None:
    """The record's buttons kept at rest carry the old ids: typing one's label presses it."""
    chat = upgraded.chat("4646")
    await chat.say("En revisión")
    assert (await upgraded.idea("MNG-2026-000002"))["status"] == _status_of("st:s:2:1")

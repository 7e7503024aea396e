"""Staff buttons name a status by its stored name and the list's filters by stable values, so
a button in a staff chat keeps its meaning when the statuses or the config's lists are
reordered; buttons sent before (positions in those lists) still work."""

from collections.abc import Callable

import pytest

from handlers.calls import staff_form
from handlers.engine.catalog import Catalog
from handlers.engine.turn import Turn
from handlers.exports import chat as export_chat
from handlers.staff import buttons, duplicates, ideas_view
from handlers.staff.buttons import action_table
from storage.database import Database
from storage.models import IdeaStatus
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.staff.helpers import REORDERED, button, idea, staff_with, submit_idea

# As main made them before stable values (6d61e9e), for idea 1 and the default config:
OLD_IN_REVIEW = "st:s:1:1"  # an index into tuple(IdeaStatus)
OLD_NOT_SELECTED = "st:s:1:5"
OLD_PAST_THE_END = "st:s:1:9"
OLD_LIST_IN_REVIEW = "st:l:0:1..."  # page 0, status index 1
OLD_LIST_MOBILITY = "st:l:0:.0.."  # category index 0
OLD_LIST_LA_FLORA = "st:l:0:..4."  # neighbourhood index 4
OLD_CHOOSE_NEIGHBOURHOOD = "st:f:n:0:0.0.4."  # received, mobility, La Flora

MOBILITY = "Movilidad y vías"


def filters(*names: str) -> str:
    """The filters as the list's heading names them."""
    return " · ".join(names)


async def test_old_status_buttons_still_set_the_status_they_named(
    staff: Chat, make_chat: Callable[..., Chat], database: Database
) -> None:
    reference = await submit_idea(make_chat(user="ana"))
    await staff.send(choice=OLD_NOT_SELECTED)
    assert staff.asked("triage.ask_reason", reference=reference)
    await staff.press("staff.quit")
    await staff.send(choice=OLD_IN_REVIEW)
    assert (await idea(database, reference)).status is IdeaStatus.IN_REVIEW
    await staff.send(choice=OLD_PAST_THE_END)
    assert staff.said("input.stale_button")
    assert (await idea(database, reference)).status is IdeaStatus.IN_REVIEW


async def test_a_status_button_keeps_its_meaning_when_the_statuses_are_reordered(
    staff: Chat, make_chat: Callable[..., Chat], database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    reference = await submit_idea(make_chat(user="ana"))
    await staff.send(command="idea", argument=reference)
    in_review = button(staff, "→ " + staff.t("status.in_review"))
    # A later version lists the statuses in another order; the card is still in the chat.
    reordered = tuple(reversed(tuple(IdeaStatus)))
    monkeypatch.setattr(ideas_view, "STATUSES", reordered)
    await staff.send(choice=in_review)
    assert (await idea(database, reference)).status is IdeaStatus.IN_REVIEW


async def test_old_list_buttons_still_filter_by_what_they_showed(
    staff: Chat, make_chat: Callable[..., Chat]
) -> None:
    reference = await submit_idea(make_chat(user="ana"))  # received, mobility, La Flora
    await staff.send(choice=OLD_LIST_IN_REVIEW)
    assert staff.t("staff_ideas.none", filters=staff.t("status.in_review")) in staff.text
    for old, name in ((OLD_LIST_MOBILITY, MOBILITY), (OLD_LIST_LA_FLORA, "La Flora")):
        await staff.send(choice=old)
        assert staff.t("staff_ideas.title", filters=name, first=1, last=1, total=1) in staff.text
        assert reference in staff.text
    await staff.send(choice=OLD_CHOOSE_NEIGHBOURHOOD)
    await staff.send(choice=button(staff, "Danubio"))
    shown = filters(staff.t("status.received"), MOBILITY, "Danubio")
    assert staff.t("staff_ideas.none", filters=shown) in staff.text


async def test_list_filters_keep_their_meaning_when_the_config_is_reordered(
    staff: Chat, make_chat: Callable[..., Chat], database: Database, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    reference = await submit_idea(make_chat(user="ana"))  # received, mobility, La Flora
    await staff.command("ideas")
    await staff.send(choice=button(staff, staff.t("staff_ideas.filter_c")))
    await staff.send(choice=button(staff, MOBILITY))
    await staff.send(choice=button(staff, staff.t("staff_ideas.filter_n")))
    la_flora = button(staff, "La Flora")
    # The lab reorders both lists and restarts; the buttons are still in the chat.
    after = staff_with(REORDERED, database, catalog, clock)
    await after.send(choice=la_flora)
    shown = filters(MOBILITY, "La Flora")
    assert after.t("staff_ideas.title", filters=shown, first=1, last=1, total=1) in after.text
    assert reference in after.text


def test_every_staff_letter_answers_its_own_action() -> None:
    """The ideas', the export's, the calls' and the possible duplicates' letters share one
    table: none replaces another."""
    letters = [
        *(ideas_view.LIST, ideas_view.FILTER, ideas_view.VIEW, ideas_view.STATUS),
        *(ideas_view.AWARD, ideas_view.NOTE, ideas_view.REPLY, ideas_view.DUPLICATE),
        export_chat.EXPORT,
        *staff_form.BUTTONS,
        *duplicates.BUTTONS,
    ]
    assert sorted(buttons.ACTIONS) == sorted(letters) and len(set(letters)) == len(letters)
    for table in (staff_form.BUTTONS, duplicates.BUTTONS):
        assert all(buttons.ACTIONS[letter] is action for letter, action in table.items())


def test_a_letter_used_twice_is_refused() -> None:
    async def one(turn: Turn, rest: str) -> None: ...

    assert set(action_table({"v": one}, {"x": one})) == {"v", "x"}
    with pytest.raises(ValueError, match="'v'"):
        action_table({"v": one, "l": one}, {"v": one})

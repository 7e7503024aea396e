"""Every staff command and button, run by someone who is not staff, in a private chat and in
the group: a polite refusal, no data, and (in the group) nothing stored about them."""

from collections.abc import Callable

import pytest

from handlers.account.commands import COMMAND_ALIASES
from handlers.engine.catalog import Catalog
from handlers.flows import Dispatcher, routes
from handlers.staff.buttons import ACTIONS as BUTTON_ACTIONS
from handlers.staff.group import GROUP_ACTIONS
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import GROUP, make_staff_chat, submit_idea
from tests.handlers.walk import PROBLEM

SHARED = ("help", "cancel")
# Anyone may send /vincular CODE in a group (the code is the permission): tests/handlers/staff/
# test_team.py holds what others hear from it.
ANYONE = ("link_group",)
STAFF_COMMANDS = sorted(
    name
    for name, action in COMMAND_ALIASES.items()
    if action in GROUP_ACTIONS - set(SHARED) - set(ANYONE)
)
# One forged press per staff button kind, aimed at idea 1 (what a forwarded message carries).
STAFF_BUTTONS = [
    *("st:l:0:...", "st:f:s:0:...", "st:v:1", "st:s:1:1", "st:s:1:5", "st:n:1", "st:r:1"),
    *("st:d:1", "st:a:1:winner"),
    *(f"st:{action}:1" for action in BUTTON_ACTIONS),
]


def test_the_table_covers_every_staff_command() -> None:
    staff_actions = GROUP_ACTIONS - set(SHARED) - set(ANYONE)
    assert {COMMAND_ALIASES[name] for name in STAFF_COMMANDS} == staff_actions
    assert staff_actions <= set(routes().commands)


@pytest.mark.parametrize("group", [False, True], ids=["private", "group"])
async def test_outsiders_are_refused_every_staff_command_and_button(
    make_chat: Callable[..., Chat], database: Database, group: bool
) -> None:
    reference = await submit_idea(make_chat(language="es", user="ana"))
    outsider = make_chat(language="es", user="999", channel="telegram")
    outsider.group = GROUP if group else None
    for name in STAFF_COMMANDS:
        await outsider.send(command=name, argument=reference)
        assert outsider.t("staff.only") in outsider.text, name
        assert reference not in outsider.text and PROBLEM not in outsider.text, name
    for choice in STAFF_BUTTONS:
        await outsider.send(choice=choice)
        assert outsider.t("staff.only") in outsider.text, choice
        assert reference not in outsider.text and PROBLEM not in outsider.text, choice
    stored = await database.reader().idea_search.by_reference(reference)
    assert stored is not None and stored.status == "received"
    assert await outbox_rows(database) == []
    resident = await database.reader().residents.find("telegram", "999")
    assert (resident is None) is group  # in the group nothing is kept about them


async def test_outsiders_talking_in_the_group_get_no_answer(make_chat: Callable[..., Chat]) -> None:
    outsider = make_chat(language="es", user="999", channel="telegram")
    outsider.group = GROUP
    assert await outsider.say("hola, ¿alguien fue a la reunión?") == []


async def test_staff_in_the_group_use_commands_and_typed_answers_quietly(
    dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock,
    make_chat: Callable[..., Chat], database: Database,
) -> None:  # fmt: skip
    reference = await submit_idea(make_chat(language="es", user="ana"))
    staff = make_staff_chat(dispatcher, catalog, clock, group=True)
    assert await staff.say("buenos días, equipo") == []  # talk among the team
    await staff.command("mis_ideas")
    assert staff.text == staff.t("staff.group_private_only")
    await staff.send(command="idea", argument=reference)
    assert PROBLEM in staff.text
    note = next(c.id for r in staff.replies for c in r.choices
                if c.label == staff.t("staff_idea.add_note"))  # fmt: skip
    await staff.send(choice=note)
    await staff.say("Revisar con movilidad")
    # The note is saved, and no resident question follows it into the group.
    assert staff.text == staff.t("triage.note_saved", reference=reference)
    history = await database.reader().idea_search.history(1)
    assert history[-1].kind == "note" and history[-1].note == "Revisar con movilidad"


async def test_a_forwarded_staff_button_is_refused_even_as_a_first_message(
    make_chat: Callable[..., Chat],
) -> None:
    newcomer = make_chat(language="es", user="888", channel="telegram")
    await newcomer.send(choice="st:v:1")
    assert newcomer.t("staff.only") in newcomer.text

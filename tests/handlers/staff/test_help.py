"""/ayuda lists every command there is, from the same tables as the platforms' menus: a
resident's, a staff member's own in their private chat, the team's in the staff group."""

import pytest

from handlers.account.commands import COMMAND_ALIASES, COMMAND_MENU, STAFF_MENU
from handlers.engine.catalog import Catalog
from handlers.flows import Dispatcher
from handlers.staff.group import GROUP_ACTIONS
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.staff.helpers import make_staff_chat

HELP = {"es": "ayuda", "en": "help"}


def _listed(chat: Chat, name: str, action: str) -> bool:
    line = chat.t("help.line", command=name, description=chat.t(f"commands.{action}"))
    return line in chat.text.splitlines()


def test_every_resident_command_is_in_the_menus() -> None:
    """Each action a resident can call has a menu entry, so /ayuda (made from the menus) names
    it; the menus name only commands that exist, under their own language's name."""
    staff_actions = {action for menu in STAFF_MENU.values() for _, action in menu}
    for language, menu in COMMAND_MENU.items():
        assert {action for _, action in menu} == set(COMMAND_ALIASES.values()) - staff_actions
        for name, action in (*menu, *STAFF_MENU[language]):
            assert COMMAND_ALIASES[name] == action


@pytest.mark.parametrize("language", ["es", "en"])
async def test_a_resident_sees_every_resident_command_in_their_language(
    make_chat, language: str
) -> None:
    chat = make_chat(language=language)
    await chat.command("start")
    await chat.command(HELP[language])
    assert chat.replies[0].text.startswith(chat.t("help.intro"))
    for name, action in COMMAND_MENU[language]:
        assert _listed(chat, name, action), name
    for name, action in STAFF_MENU[language]:
        assert not _listed(chat, name, action), name
    other = "en" if language == "es" else "es"
    assert "/" + COMMAND_MENU[other][1][0] not in chat.replies[0].text  # mis_ideas / my_ideas
    assert chat.asked("role.ask")  # the question they were at comes again


@pytest.mark.parametrize("language", ["es", "en"])
async def test_staff_see_their_own_commands_too_in_a_private_chat(
    dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock, language: str
) -> None:
    staff = make_staff_chat(dispatcher, catalog, clock)
    staff.language = language
    await staff.command(HELP[language])
    for name, action in (*COMMAND_MENU[language], *STAFF_MENU[language]):
        assert _listed(staff, name, action), name
    assert staff.t("help.staff_commands") in staff.text


async def test_in_the_staff_group_the_team_sees_the_group_commands(
    dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock
) -> None:
    staff = make_staff_chat(dispatcher, catalog, clock, group=True)
    await staff.command("ayuda")
    assert staff.replies[0].text.startswith(staff.t("help.group_commands"))
    for name, action in (*STAFF_MENU["es"], *COMMAND_MENU["es"]):
        assert _listed(staff, name, action) is (action in GROUP_ACTIONS), name
    assert len(staff.replies) == 1  # no resident question follows into the group

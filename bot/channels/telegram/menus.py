"""The command menus Telegram shows under "/": residents' in Spanish and English, and the
lab's team's own commands in their private chats and their group."""

import logging
from collections.abc import Sequence

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from handlers.account.commands import COMMAND_MENU, STAFF_MENU
from handlers.engine.catalog import Catalog

log = logging.getLogger(__name__)


def _menu(catalog: Catalog, language: str, commands: Sequence[tuple[str, str]]) -> list[BotCommand]:
    return [
        BotCommand(name, catalog.text(language, f"commands.{action}")) for name, action in commands
    ]


async def register_commands(
    bot: Bot,
    catalog: Catalog,
    *,
    staff_ids: Sequence[int],
    staff_language: str,
    group_chat_id: int | None,
) -> None:
    """The command menu in Spanish and English; the default (no language) is Spanish.
    The lab's team also see their own commands, in the lab's language."""
    for language, commands in COMMAND_MENU.items():
        menu = _menu(catalog, language, commands)
        try:
            await bot.set_my_commands(menu, language_code=language)
            if language == "es":
                await bot.set_my_commands(menu)
        except TelegramError as error:
            log.warning("could not register the command menu (%s): %s", language, error)
    language = staff_language
    staff_menu = _menu(catalog, language, (*COMMAND_MENU[language], *STAFF_MENU[language]))
    menus = [(staff_id, staff_menu) for staff_id in staff_ids]
    if group_chat_id is not None:  # the group: only the team's commands
        menus.append((group_chat_id, _menu(catalog, language, STAFF_MENU[language])))
    for chat_id, menu in menus:
        try:
            await bot.set_my_commands(menu, scope=BotCommandScopeChat(chat_id))
        except TelegramError as error:  # e.g. they never opened a chat with the bot
            log.info("no staff menu for chat %s: %s", chat_id, error)

"""A resident's account as one flow: every message's first stop (handlers/account/entry.py),
the commands and the menu that work from any step, the confirmations, the language, and the
consents to news and announcements."""

from handlers.account import commands, subscriptions
from handlers.account.entry import on_language, respond
from handlers.account.language import ask_language
from handlers.engine.flow import Flow
from handlers.engine.state import Step
from handlers.engine.turn import MENU

FLOW = Flow(
    name="account",
    questions={
        Step.IDLE: commands.ask_idle,
        Step.LANGUAGE: ask_language,
        Step.CONFIRM_CANCEL: commands.ask_confirm_cancel,
        Step.CONFIRM_RESTART: commands.ask_confirm_restart,
        Step.RESUME: commands.ask_resume,
    },
    answers={
        Step.IDLE: commands.on_idle,
        Step.LANGUAGE: on_language,
        Step.CONFIRM_CANCEL: commands.on_confirm_cancel,
        Step.CONFIRM_RESTART: commands.on_confirm_restart,
        Step.RESUME: commands.on_resume,
    },
    buttons={
        MENU: commands.run_menu,
        subscriptions.SUBSCRIBE: subscriptions.on_button,
        subscriptions.UPDATES: subscriptions.on_updates_button,
    },
    commands=commands.ACTIONS,
    entry=respond,
)

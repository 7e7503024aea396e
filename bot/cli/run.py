"""`minga run`, `minga chat` and `minga db upgrade`: the bot with its channels, the bot in
this terminal, and its database's schema."""

import argparse
import asyncio
import locale
import os
from typing import Any

from bot.app import Runtime
from bot.channels.console import CHANNEL as CONSOLE
from bot.channels.console import ConsoleChannel
from bot.cli import dbbackup, dbcopy
from bot.config import Settings
from bot.sending.pacer import Gate, Pacer
from bot.sending.sender import Sender
from storage.database import Database

CONSOLE_MESSAGES_PER_SECOND = 20


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    commands.add_parser(
        "run", parents=[common],
        help="start the configured channels (Telegram, WhatsApp), the web server (their "
        "webhooks, /healthz, /readyz), the outbox and the reminders",
        description="Starts every configured channel and runs until Ctrl-C (or SIGTERM); "
        "conversations continue where they were when it starts again. It needs a channel: "
        "the Telegram token in MINGA_TELEGRAM__TOKEN (from @BotFather), and/or the [whatsapp] "
        "settings. To try Minga without a token: minga chat. Several workers may share one "
        "database and one config file, each with its own MINGA_WEB__PORT.",
    )  # fmt: skip
    chat = commands.add_parser(
        "chat", parents=[common], help="chat with the bot in this terminal (no token, no network)"
    )
    chat.add_argument(
        "--lang", choices=("es", "en"),
        help="your language, from now on (default: the one you chose before, else from LANG)",
    )  # fmt: skip
    chat.add_argument("--user", default="local", help="who you are in the chat (default: local)")
    chat.add_argument(
        "--staff",
        action="store_true",
        help="be staff in the chat, to try the team's commands (/ideas, /idea, /resumen, "
        "/exportar, /estadisticas, /convocatoria, /nuevo_evento, /difundir)",
    )
    db = commands.add_parser(
        "db", parents=[common], help="database tasks: upgrade, copy, backup, restore"
    )
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_commands.add_parser("upgrade", parents=[common], help="apply pending migrations")
    dbcopy.add_parser(db_commands, common)
    dbbackup.add_parsers(db_commands, common)


def with_console_staff(settings: Settings, user: str) -> Settings:
    """`minga chat --staff`: the console person is one of the lab's team for this session."""
    staff = settings.staff.model_copy(
        update={"console_users": (*settings.staff.console_users, user)}
    )
    return settings.model_copy(update={"staff": staff})


def _system_language() -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return value[:2].lower()
    code = locale.getlocale()[0]
    return code[:2].lower() if code else None


async def chat(settings: Settings, args: argparse.Namespace) -> None:
    runtime = await Runtime.open(settings)
    try:
        system = _system_language()
        language = args.lang or (system if system in ("es", "en") else None)
        language = language or settings.lab.default_language
        if args.lang:  # asked for this session: also for a console person met before
            async with runtime.database.transaction() as repos:
                await repos.residents.set_language(CONSOLE, args.user, args.lang)
        console = ConsoleChannel(
            runtime.dispatcher,
            runtime.catalog,
            lab_name=settings.lab.name,
            media_dir=runtime.media_dir,
            language=language,
            user_key=args.user,
        )
        # Broadcasts and reminders for console users arrive while chatting. (bot.runner
        # imported here: it brings python-telegram-bot, starlette and APScheduler, ~150 ms
        # that `minga --help` and the other subcommands need not wait for.)
        from bot.runner import run_outbound

        stop = asyncio.Event()
        sender = Sender(console, Pacer(Gate(CONSOLE_MESSAGES_PER_SECOND)))
        outbound = asyncio.create_task(run_outbound(runtime, {"console": sender}, stop))
        try:
            await console.run()
        finally:
            stop.set()
            await outbound
    finally:
        await runtime.close()


async def upgrade(settings: Settings) -> None:
    storage = settings.storage
    database = await Database.open(
        storage.database, migrate=False, prepared_statements=storage.prepared_statements
    )
    try:
        before, after = await database.upgrade()
    finally:
        await database.close()
    if before == after:
        print(f"database {storage.shown_database}: up to date (schema version {after})")
    else:
        print(f"database {storage.shown_database}: schema version {before} -> {after}")


async def run(settings: Settings) -> None:
    """`minga run`, until Ctrl-C or SIGTERM."""
    from bot.runner import run_until_signal  # here, not above: see chat()

    await run_until_signal(settings)

"""The `minga` command (also `python -m bot`)."""

import argparse
import asyncio
import locale
import logging
import os
import sys
from collections.abc import Sequence

from bot import cli_broadcast, cli_calls, cli_events, cli_ideas, cli_residents
from bot.cli_output import UsageError
from bot.config import ConfigError, Settings, config_path, load_settings
from handlers.engine.catalog import CatalogError

log = logging.getLogger("minga")
CONSOLE_MESSAGES_PER_SECOND = 20


CONFIG_HELP = (
    "settings file; also MINGA_CONFIG=PATH. Without either: ./config.toml if it exists, "
    "else the built-in example settings. Accepted before or after the subcommand"
)
EPILOG = """settings: --config PATH (before or after the subcommand: `minga --config lab.toml run`
or `minga run --config lab.toml`), else the file named by the environment variable
MINGA_CONFIG, else ./config.toml if it exists, else the built-in example settings.
Any setting can be overridden by MINGA_<SECTION>__<NAME>, e.g. MINGA_TELEGRAM__TOKEN.
`minga COMMAND --help` shows a command's options."""


def _parser() -> argparse.ArgumentParser:
    # After the subcommand, --config only counts when given (SUPPRESS): otherwise its default
    # would overwrite a --config given before the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP)
    parser = argparse.ArgumentParser(
        prog="minga", description="Minga: ideas from residents to a public innovation lab.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common],
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run", parents=[common],
        help="start the configured channels (Telegram, WhatsApp), the web server for their "
        "webhooks and /healthz, the outbox and the reminders",
        description="Starts every configured channel and runs until Ctrl-C (or SIGTERM); "
        "conversations continue where they were when it starts again. It needs a channel: "
        "the Telegram token in MINGA_TELEGRAM__TOKEN (from @BotFather), and/or the [whatsapp] "
        "settings. To try Minga without a token: minga chat.",
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
    db = commands.add_parser("db", parents=[common], help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_commands.add_parser("upgrade", parents=[common], help="apply pending migrations")
    cli_events.add_parsers(commands, common)
    cli_broadcast.add_parsers(commands, common)
    cli_ideas.add_parsers(commands, common)
    cli_ideas.add_publish_parser(commands, common)
    cli_calls.add_parsers(commands, common)
    cli_residents.add_parsers(commands, common)
    return parser


def _setup_logging(settings: Settings, *, quiet: bool) -> None:
    level = logging.WARNING if quiet else getattr(logging, settings.log.level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiosqlite's debug lines carry SQL parameters, that is, what residents wrote.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


def _system_language() -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return value[:2].lower()
    code = locale.getlocale()[0]
    return code[:2].lower() if code else None


async def _chat(settings: Settings, args: argparse.Namespace) -> None:
    from bot.app import Runtime
    from bot.channels.console import CHANNEL as CONSOLE
    from bot.channels.console import ConsoleChannel

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
        # Broadcasts and reminders for console users arrive while chatting.
        from bot.runner import run_outbound
        from bot.sending.pacer import Gate, Pacer
        from bot.sending.sender import Sender

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


async def _upgrade(settings: Settings) -> None:
    from storage.database import Database

    database = await Database.open(settings.storage.database, migrate=False)
    try:
        before, after = await database.upgrade()
    finally:
        await database.close()
    if before == after:
        print(f"database {settings.storage.database}: up to date (schema version {after})")
    else:
        print(f"database {settings.storage.database}: schema version {before} -> {after}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(config_path(getattr(args, "config", None)))
        _setup_logging(settings, quiet=args.command != "run")
        if args.command == "chat" and args.staff:
            staff = settings.staff.model_copy(
                update={"console_users": (*settings.staff.console_users, args.user)}
            )
            settings = settings.model_copy(update={"staff": staff})
        if args.command == "chat":
            asyncio.run(_chat(settings, args))
        elif args.command == "db":
            asyncio.run(_upgrade(settings))
        elif args.command == "events":
            asyncio.run(cli_events.run(args, settings))
        elif args.command == "broadcast":
            asyncio.run(cli_broadcast.run(args, settings))
        elif args.command == "calls":
            asyncio.run(cli_calls.run(args, settings))
        elif args.command == "residents":
            asyncio.run(cli_residents.run(args, settings))
        elif args.command in ("ideas", "export", "publish"):
            asyncio.run(cli_ideas.run(args, settings))
        else:
            from bot.runner import run_until_signal

            asyncio.run(run_until_signal(settings))
    except (ConfigError, CatalogError, UsageError) as error:
        print(f"minga: {error}", file=sys.stderr)
        return error.status if isinstance(error, UsageError) else 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_left()
    try:
        sys.stdout.flush()  # here, not at exit, where a closed pipe prints a traceback
    except BrokenPipeError:
        return _reader_left()
    return 0


def _reader_left() -> int:
    """The output was piped into a command that stopped reading (`minga ideas list | head`):
    no traceback; stdout goes nowhere so that Python's own flush at exit fails quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # what a shell reports for a command ended by SIGPIPE (128 + 13)

"""The `minga` command (also `python -m bot`)."""

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from bot import logs
from bot.cli import (
    broadcast,
    calls,
    dbbackup,
    dbcopy,
    doctor,
    events,
    export,
    ideas,
    residents,
    run,
    staff,
)
from bot.cli.output import UsageError
from bot.config import ConfigError, Settings, config_path, load_settings
from bot.version import minga_version
from handlers.engine.catalog import CatalogError
from storage.postgres import DatabaseUnreachable

log = logging.getLogger("minga")


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
    parser.add_argument("--version", action="version", version=f"minga {minga_version()}",
                        help="print Minga's version and stop")  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.add_parsers(commands, common)
    doctor.add_parser(commands, common)
    events.add_parsers(commands, common)
    broadcast.add_parsers(commands, common)
    ideas.add_parsers(commands, common)
    export.add_parsers(commands, common)
    calls.add_parsers(commands, common)
    residents.add_parsers(commands, common)
    staff.add_parsers(commands, common)
    return parser


def _setup_logging(settings: Settings, *, quiet: bool) -> None:
    level = logging.WARNING if quiet else getattr(logging, settings.log.level)
    logs.setup(level, settings.log.format)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":  # it reports bad settings as one of its checks
        try:
            return doctor.main(args)
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            return _reader_left()
    try:
        settings = load_settings(config_path(getattr(args, "config", None)))
        _setup_logging(settings, quiet=args.command != "run")
        if args.command == "chat" and args.staff:
            settings = run.with_console_staff(settings, args.user)
        asyncio.run(_command(args, settings))
    except (ConfigError, CatalogError, UsageError, DatabaseUnreachable) as error:
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


async def _command(args: argparse.Namespace, settings: Settings) -> None:
    """The chosen command, run with the loaded settings."""
    command, db_command = args.command, getattr(args, "db_command", None)
    if command == "chat":
        await run.chat(settings, args)
    elif command == "db" and db_command in _DB_COMMANDS:
        await _DB_COMMANDS[db_command](args, settings)
    elif command == "db":
        await run.upgrade(settings)
    elif command in _COMMANDS:
        await _COMMANDS[command](args, settings)
    else:
        await run.run(settings)


_DB_COMMANDS = {"copy": dbcopy.run, "backup": dbbackup.backup, "restore": dbbackup.restore}
_COMMANDS = {
    "events": events.run,
    "broadcast": broadcast.run,
    "calls": calls.run,
    "residents": residents.run,
    "staff": staff.run,
    "ideas": ideas.run,
    "export": export.run,
    "publish": export.run,
}


def _reader_left() -> int:
    """The output was piped into a command that stopped reading (`minga ideas list | head`):
    no traceback; stdout goes nowhere so that Python's own flush at exit fails quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # what a shell reports for a command ended by SIGPIPE (128 + 13)

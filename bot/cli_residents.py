"""`minga residents show|forget`: a resident's access and erasure requests received in person
(by letter, at the lab's desk), answered on the server without a developer."""

import argparse
import sys
from typing import Any

from bot.app import Runtime
from bot.cli_output import UsageError, counted, emit
from bot.config import Settings
from handlers.privacy import my_data
from handlers.privacy.erase import erase
from storage.models import Resident
from storage.repositories import Repositories

CHANNELS = ("telegram", "whatsapp", "console")


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--channel", choices=CHANNELS, help="where they write to the bot")
    who.add_argument("--user", metavar="ID",
                     help="their id on that channel (Telegram user id; WhatsApp number, e.g. "
                     "573001234567)")  # fmt: skip
    who.add_argument("--idea", metavar="REF", help="or: the reference of one of their ideas")
    who.add_argument("--json", action="store_true", help="print one JSON document")
    residents = commands.add_parser(
        "residents", help="a resident's data: show it (access request), forget it (erasure)"
    )
    tasks = residents.add_subparsers(dest="residents_command", required=True, metavar="TASK")
    tasks.add_parser(
        "show", parents=[common, who], help="everything held about one resident (--json: all)"
    )
    forget = tasks.add_parser(
        "forget", parents=[common, who],
        help="erase one resident's personal data; their ideas stay, anonymised",
        description="Erases name, phone, e-mail, channel identity, exact locations, photos and "
        "voice notes, answers to events and pending messages. Their ideas stay without any of "
        "it, or go too with --withdraw-ideas. It cannot be undone.",
    )  # fmt: skip
    forget.add_argument("--withdraw-ideas", action="store_true",
                        help="delete their ideas entirely too")  # fmt: skip
    forget.add_argument("--yes", action="store_true", help="erase without asking (scripts)")


async def _find(repos: Repositories, args: argparse.Namespace) -> Resident:
    if args.idea:
        record = await repos.idea_search.by_reference(args.idea)
        if record is None:
            raise UsageError(f"no idea {args.idea.strip().upper()}")
        resident = await repos.residents.get(record.resident_id)
    elif args.channel and args.user:
        user = args.user.strip().lstrip("+") if args.channel == "whatsapp" else args.user.strip()
        resident = await repos.residents.find(args.channel, user)
    else:
        raise UsageError("say who: --channel and --user, or --idea REF")
    if resident is None or resident.erased_at is not None:
        raise UsageError("no such resident (or their data was already erased)")
    return resident


def _confirmed(args: argparse.Namespace, summary: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm in: add --yes")
    answer = input(f"{summary}\nErase? This cannot be undone. [y/N] ")
    return answer.strip().lower() in ("y", "yes", "s", "si", "sí")


async def run(args: argparse.Namespace, settings: Settings) -> None:
    runtime = await Runtime.open(settings)
    try:
        reader = runtime.database.reader()
        resident = await _find(reader, args)
        data = await my_data.held(reader, resident)
        if args.residents_command == "show":
            language = resident.language or settings.lab.default_language
            text = my_data.readable(data, resident, settings.flow, runtime.catalog, language)
            emit(args, {"id": resident.id, **data}, text)
            return
        withdraw = args.withdraw_ideas
        ideas = counted(len(data["ideas"]), "idea", "ideas")
        summary = (f"resident {resident.id} ({resident.channel}): {ideas} "
                   f"{'to delete' if withdraw else 'to keep anonymised'}")  # fmt: skip
        if not _confirmed(args, summary):
            print("nothing erased")
            return
        async with runtime.database.transaction() as repos:
            erased = await erase(repos, settings.flow, resident.id, withdraw_ideas=withdraw,
                                 now=runtime.clock.now())  # fmt: skip
        runtime.discard_media(erased.files)
        document = {
            "id": resident.id,
            "ideas_kept": erased.ideas_kept,
            "ideas_withdrawn": erased.ideas_withdrawn,
            "files": len(erased.files),
        }
        emit(
            args,
            document,
            f"erased resident {resident.id}: {counted(erased.ideas_kept, 'idea', 'ideas')} kept "
            f"anonymised, {erased.ideas_withdrawn} withdrawn, "
            f"{counted(len(erased.files), 'file', 'files')} deleted",
        )
    finally:
        await runtime.close()

"""`minga residents show|forget`: a resident's access and erasure requests received in person
(by letter, at the lab's desk), answered on the server without a developer."""

import argparse
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import Runtime
from bot.cli.output import UsageError, counted, emit
from bot.config import Settings
from handlers.privacy import my_data
from handlers.privacy.erase import erase
from storage.idea_import import IMPORT_CHANNEL
from storage.models import Resident
from storage.repositories import Repositories

CHANNELS = ("telegram", "whatsapp", "console")
# Each purpose's fields in the resident's record: (granted at, under version, refused at).
CONSENT_FIELDS = {
    "handling (keeping and reviewing their ideas; required)":
        ("consent_at", "consent_version", "consent_refused_at"),
    "updates (news about their ideas)": ("updates_at", "updates_version", "updates_off_at"),
    "announcements (broadcasts, event invitations)":
        ("announcements_at", "announcements_version", "announcements_off_at"),
}  # fmt: skip


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--channel", choices=CHANNELS, help="where they write to the bot")
    who.add_argument("--user", metavar="ID",
                     help="their id on that channel (Telegram user id; WhatsApp number, e.g. "
                     "573001234567)")  # fmt: skip
    who.add_argument(
        "--idea",
        metavar="REF",
        help="or: one of their ideas, by reference (MNG-2026-000123) or number (123)",
    )
    who.add_argument("--json", action="store_true", help="print one JSON document")
    residents = commands.add_parser(
        "residents",
        parents=[common],
        help="a resident's data: show it (access request), forget it (erasure)",
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
        record = await repos.idea_search.by_name(args.idea)
        if record is None:
            raise UsageError(f"no idea {args.idea.strip().upper()}")
        resident = await repos.residents.get(record.resident_id)
        if resident is not None and resident.channel == IMPORT_CHANNEL:
            # Every imported idea shares this placeholder: erasing it would erase them all.
            raise UsageError(
                f"{record.reference} was imported (minga ideas import): no resident wrote it "
                "here; its contact details, if any, are the idea's own (minga ideas show)"
            )
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
            text = operator_view(resident.id, data, settings)
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


def operator_view(resident_id: int, data: dict[str, Any], settings: Settings) -> str:
    """What the lab's operator reads at the desk: labelled fields, times in the lab's zone,
    no chat commands (the resident's own view, /mis_datos, has those)."""
    zone, version = settings.lab.zone, settings.lab.privacy_policy_version
    person = data["resident"]
    lines = [
        f"resident {resident_id}",
        f"  channel:        {person['channel']}",
        f"  user id:        {person['user_key']}",
        f"  language:       {person['language'] or '-'}",
        f"  role:           {person['role'] or '-'}",
        f"  first contact:  {_when(person['created_at'], zone)}",
        f"  blocked bot:    {_when(person['unreachable_at'], zone, none='no')}",
        f"consents (policy in force: {version}):",
    ]  # fmt: skip
    for purpose, (since, under, off) in CONSENT_FIELDS.items():
        lines.append(
            f"  {purpose}: {_consent(person[since], person[under], person[off], version, zone)}"
        )
    ideas = data["ideas"]
    lines.append(f"ideas: {len(ideas)}")
    for idea in ideas:
        sent = _when(idea["created_at"], zone)
        lines.append(f"  {idea['reference']}  status {idea['status']}  sent {sent}")
        lines.append(
            f"    name: {idea['contact_name'] or '-'}  contact: {idea['contact'] or '-'}  "
            f"place: {idea['location_text'] or '-'}  exact location: "
            f"{'yes' if idea['latitude'] is not None else 'no'}  files: {idea['files']}"
        )
    supports = data["supports"]
    lines.append(f"joined ideas: {len(supports)}")
    for support in supports:
        lines.append(
            f"  {support['reference']}  joined {_when(support['joined_at'], zone)}  "
            f"photo: {'yes' if support['photo'] else 'no'}  added: {support['detail'] or '-'}"
        )
    lines += [
        f"follows news of: {', '.join(data['follows']) or '-'}",
        f"answers to events: {len(data['events'])}",
        f"unfinished idea: {'yes' if data['draft'] is not None else 'no'}"
        + (f" ({counted(data['draft_files'], 'file')})" if data["draft_files"] else ""),
        f"consent log entries: {len(data['consents'])}",
        "everything, with the history of each idea: add --json",
    ]
    return "\n".join(lines)


def _consent(
    since: str | None, under: str | None, off: str | None, version: str, zone: ZoneInfo
) -> str:
    if since is not None:
        given = f"yes since {_when(since, zone)} (policy {under})"
        return given if under == version else f"{given}: an older policy, to be asked again"
    return f"no since {_when(off, zone)}" if off is not None else "not asked yet"


def _when(moment: str | None, zone: ZoneInfo, *, none: str = "-") -> str:
    """An ISO time from the JSON document, in the lab's time zone."""
    if moment is None:
        return none
    return datetime.fromisoformat(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M")

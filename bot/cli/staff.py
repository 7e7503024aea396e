"""`minga staff add|remove|list|link-group`: the lab's team managed on the server, without
editing the config or restarting (handlers/engine/team.py says who counts as staff)."""

import argparse
from typing import Any

from babel.dates import format_time

from bot.app import Runtime
from bot.cli.output import UsageError, emit
from bot.config import Settings
from handlers.engine.team import staff_group
from handlers.staff.team import create_code, find_person, shown
from storage.staff import Role

ACTOR = "cli"  # who changed the team, as stored


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print one JSON document")
    staff = commands.add_parser(
        "staff", parents=[common],
        help="the lab's team: add, remove and list members, link the staff group",
        description="Staff are kept in the database; the config's [staff] telegram_ids only "
        "seed it. Changes reach the running bot within a few seconds, without a restart.",
    )  # fmt: skip
    tasks = staff.add_subparsers(dest="staff_command", required=True, metavar="TASK")
    who_help = "their Telegram id (12345), or @username once they have written to the bot"
    add = tasks.add_parser("add", parents=[common, json_flag],
                           help="make someone staff (again: change their role)")  # fmt: skip
    add.add_argument("who", metavar="ID|@USERNAME", help=who_help)
    add.add_argument(
        "--admin",
        action="store_true",
        help="they may also add and remove staff in chat (/equipo_agregar)",
    )
    remove = tasks.add_parser(
        "remove", parents=[common, json_flag], help="someone is no longer staff"
    )
    remove.add_argument("who", metavar="ID|@USERNAME", help=who_help)
    tasks.add_parser("list", parents=[common, json_flag], help="the staff: id, username, role")
    tasks.add_parser(
        "link-group", parents=[common, json_flag],
        help="a one-time code: send /vincular CODE in a group to make it the staff group",
    )  # fmt: skip


async def run(args: argparse.Namespace, settings: Settings) -> None:
    runtime = await Runtime.open(settings)  # the config's staff are seeded on the way
    try:
        task = args.staff_command
        if task == "list":
            await _list(args, runtime)
        elif task == "link-group":
            await _link_group(args, runtime)
        elif task == "add":
            await _add(args, runtime)
        else:
            await _remove(args, runtime)
    finally:
        await runtime.close()


async def _telegram_id(runtime: Runtime, given: str) -> tuple[int, str | None]:
    who = await find_person(runtime.database.reader(), given)
    if who.problem == "unknown_username":
        raise UsageError(
            f"nobody called @{who.username} has written to the bot yet: ask them to send it "
            "any message, then try again (or give their Telegram id)"
        )
    if who.problem is not None or who.telegram_id is None:
        raise UsageError(f"{given!r} is neither a Telegram id (digits) nor an @username")
    return who.telegram_id, who.username


async def _add(args: argparse.Namespace, runtime: Runtime) -> None:
    telegram_id, username = await _telegram_id(runtime, args.who)
    role: Role = "admin" if args.admin else "staff"
    async with runtime.database.transaction() as repos:
        outcome = await repos.staff.add(telegram_id, role, username=username, by=ACTOR,
                                        now=runtime.clock.now())  # fmt: skip
    name = shown(telegram_id, username)
    text = {"added": f"added {name} as {role}", "changed": f"{name} is now {role}",
            "same": f"{name} was already {role}: nothing changed"}[outcome]  # fmt: skip
    emit(args, {"id": telegram_id, "username": username, "role": role, "outcome": outcome}, text)


async def _remove(args: argparse.Namespace, runtime: Runtime) -> None:
    telegram_id, username = await _telegram_id(runtime, args.who)
    name = shown(telegram_id, username)
    reader = runtime.database.reader()
    row = await reader.staff.get(telegram_id)
    if row is None or row.removed:
        raise UsageError(f"{name} is not staff (`minga staff list` shows who is)")
    async with runtime.database.transaction() as repos:
        await repos.staff.remove(telegram_id, by=ACTOR, now=runtime.clock.now())
    text = f"removed {name}: no longer staff"
    if telegram_id in runtime.settings.staff.telegram_ids:
        text += ("\n(still listed in [staff] telegram_ids in the config: that no longer makes "
                 "them staff, but you may delete it there to avoid confusion)")  # fmt: skip
    emit(args, {"id": telegram_id, "username": username, "outcome": "removed"}, text)


async def _list(args: argparse.Namespace, runtime: Runtime) -> None:
    reader = runtime.database.reader()
    members = await reader.staff.members()
    group = await staff_group(reader, runtime.settings.staff)
    document = {
        "staff": [{"id": m.telegram_id, "username": m.username, "role": m.role,
                   "added_by": m.added_by, "added_at": m.added_at} for m in members],
        "group": group,
    }  # fmt: skip
    width = max((len(str(m.telegram_id)) for m in members), default=2)
    lines = [f"{'id':<{width}}  {'username':<24}  role"]
    lines += [f"{m.telegram_id:<{width}}  {'@' + m.username if m.username else '-':<24}  {m.role}"
              for m in members]  # fmt: skip
    if not members:
        lines = ["no staff yet: `minga staff add ID --admin` adds the first"]
    lines.append(f"staff group: {group}" if group is not None
                 else "staff group: none (`minga staff link-group` links one)")  # fmt: skip
    emit(args, document, "\n".join(lines))


async def _link_group(args: argparse.Namespace, runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with runtime.database.transaction() as repos:
        code, expires = await create_code(repos, now)
    zone = runtime.settings.lab.zone
    until = format_time(expires.astimezone(zone), "HH:mm", locale="en")
    text = (
        f"Code: {code}  (works once, until {until} {runtime.settings.lab.timezone} time)\n"
        "In Telegram: add the bot to the team's group, then send there:\n"
        f"  /vincular {code}\n"
        f"(or /link {code}). The bot answers in the group; the daily digest and the\n"
        "alerts go there from then on, without a restart."
    )
    emit(args, {"code": code, "expires_at": expires.isoformat()}, text)

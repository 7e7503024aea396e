"""`minga calls add|list|close|results`: calls for ideas (convocatorias) from the server."""

import argparse
from datetime import datetime
from typing import Any

from bot.app import Runtime
from bot.cli.output import UsageError, counted, date_problem_line, emit
from bot.config import Settings
from handlers.calls.intake import DEFAULT_CATEGORIES
from handlers.calls.service import (
    CallProblem,
    announce,
    close_call,
    open_call,
    results_text,
)
from handlers.engine.dates import DateProblem, future_when, short_when
from storage.models import Call, CallCategory, Focus


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print one JSON document")
    calls = commands.add_parser(
        "calls", parents=[common], help="calls for ideas: open, list, close, results"
    )
    tasks = calls.add_subparsers(dest="calls_command", required=True, metavar="TASK")
    defaults = "; ".join(f"{c.id} ({c.en}, {c.focus.value} focus)" for c in DEFAULT_CATEGORIES)
    add = tasks.add_parser(
        "add", parents=[common, output],
        help="open a call; the intake offers it until its deadline",
        description=f"Default categories: {defaults}",
    )  # fmt: skip
    add.add_argument("--title", required=True)
    add.add_argument("--description", default="")
    add.add_argument(
        "--deadline", required=True, metavar="WHEN",
        help="YYYY-MM-DD [HH:MM] in the lab's time zone, or as people write it "
        "(\"31 de marzo de 2027\", \"31/03/2027 6 pm\"); a day alone: until 23:59",
    )  # fmt: skip
    add.add_argument(
        "--category", action="append", metavar="ID:ES:EN:FOCUS",
        help="a category of your own, e.g. 'agua:Agua y saneamiento:Water:external' "
        "(repeat for each; FOCUS is external or internal)",
    )  # fmt: skip
    tasks.add_parser("list", parents=[common, output], help="every call, newest first")
    close = tasks.add_parser("close", parents=[common, output], help="close a call now")
    close.add_argument("id", type=int)
    results = tasks.add_parser(
        "results", parents=[common, output],
        help="winners per category (mark them with the buttons of /idea REF)",
    )  # fmt: skip
    results.add_argument("id", type=int)
    results.add_argument("--announce", action="store_true",
                         help="send the results as a broadcast to everyone subscribed")  # fmt: skip


def _category(text: str) -> CallCategory:
    parts = text.split(":")
    if len(parts) != 4 or parts[3] not in ("external", "internal"):
        raise UsageError(f"--category {text!r}: give ID:SPANISH:ENGLISH:external|internal")
    try:
        return CallCategory(id=parts[0], es=parts[1], en=parts[2], focus=Focus(parts[3]))
    except ValueError as error:
        raise UsageError(f"--category {text!r}: {error}") from None


def _document(call: Call, entries: dict[str | None, int]) -> dict[str, Any]:
    return {
        "id": call.id, "title": call.title, "description": call.description,
        "deadline": call.deadline.isoformat(), "closed_at": call.closed_at,
        "categories": [c.model_dump(mode="json") for c in call.categories],
        "entries": {str(k): v for k, v in entries.items()},
    }  # fmt: skip


def _line(call: Call, entries: dict[str | None, int], settings: Settings, now: Any) -> str:
    deadline = short_when(call.deadline, settings.lab.zone, "en")
    state = "open" if call.is_open(now) else "closed"
    ideas = counted(sum(entries.values()), "idea", "ideas")
    return f"{call.id:>4}  {call.title}  [{state}, until {deadline}]  {ideas}"


def _deadline(text: str, settings: Settings, now: datetime) -> datetime:
    """Read like the chat's /convocatoria: a day alone lasts until its end."""
    lab = settings.lab
    try:
        return future_when(text, lab.zone, now, need_time=False,
                           day_first=lab.default_language == "es")  # fmt: skip
    except DateProblem as problem:
        raise UsageError(date_problem_line("--deadline", text, problem, settings, now)) from None


async def run(args: argparse.Namespace, settings: Settings) -> None:
    runtime = await Runtime.open(settings)
    try:
        await _run(args, runtime)
    except CallProblem as problem:
        raise UsageError(runtime.catalog.text("en", f"call_error.{problem.key}",
                                              **problem.values)) from None  # fmt: skip
    finally:
        await runtime.close()


async def _run(args: argparse.Namespace, runtime: Runtime) -> None:
    settings, now, task = runtime.settings, runtime.clock.now(), args.calls_command
    if task == "add":
        deadline = _deadline(args.deadline, settings, now)
        categories = tuple(_category(c) for c in args.category) if args.category else None
        async with runtime.database.transaction() as repos:
            opened = await open_call(repos, title=args.title, description=args.description,
                                     categories=categories or DEFAULT_CATEGORIES,
                                     deadline=deadline, actor="cli", now=now)  # fmt: skip
        emit(args, _document(opened, {}),
             f"call {opened.id} open\n{_line(opened, {}, settings, now)}")  # fmt: skip
        return
    reader = runtime.database.reader()
    if task == "list":
        calls = [(call, await reader.calls.entries(call.id)) for call in await reader.calls.all()]
        emit(args, [_document(c, e) for c, e in calls],
             "\n".join(_line(c, e, settings, now) for c, e in calls) or "no calls")  # fmt: skip
        return
    if task == "close":
        async with runtime.database.transaction() as repos:
            closed = await close_call(repos, args.id, now)
        emit(args, _document(closed, await reader.calls.entries(closed.id)),
             f"call {closed.id} closed")  # fmt: skip
        return
    call = await reader.calls.get(args.id)
    if call is None:
        raise UsageError(f"there is no call {args.id} (see: minga calls list)")
    language = settings.lab.default_language
    t = runtime.catalog.translator(language)
    text = await results_text(reader, call, t, language)
    document: dict[str, Any] = {"id": call.id, "results": text}
    if args.announce:
        async with runtime.database.transaction() as repos:
            broadcast = await announce(repos, call, t, language, actor="cli", reporter_id=None,
                                       now=now)  # fmt: skip
        document.update(broadcast_id=broadcast.id, recipients=broadcast.recipients)
        text += f"\n\nbroadcast {broadcast.id} queued for "
        text += counted(broadcast.recipients, "resident", "residents")
    emit(args, document, text)

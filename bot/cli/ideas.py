"""`minga ideas list|show|status|reindex` (import and similar: their own modules): triage on
the server."""

import argparse
from datetime import datetime, time
from typing import Any

from bot.app import Runtime
from bot.cli import ideas_import, ideas_similar
from bot.cli.output import UsageError, counted, emit
from bot.config import Settings
from handlers.staff.triage import TriageProblem, change_status, find, mark_duplicate
from storage.models import IdeaFilter, IdeaRecord, IdeaStatus
from storage.timefmt import to_db

LIST_LIMIT = 50
STATUS_VALUES = [status.value for status in IdeaStatus]


IDEA_HELP = "the idea's reference (MNG-2026-000123) or its number (123, #123)"


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print one JSON document")
    ideas = commands.add_parser(
        "ideas",
        parents=[common],
        help="the ideas: list, show, change their status, import, reindex, similar",
    )
    tasks = ideas.add_subparsers(dest="ideas_command", required=True, metavar="TASK")
    listing = tasks.add_parser("list", parents=[common, output], help="newest ideas first")
    listing.add_argument("--status", choices=STATUS_VALUES, help="only ideas with this status")
    listing.add_argument("--since", metavar="YYYY-MM-DD", help="only ideas from this day on")
    listing.add_argument("--limit", type=int, default=LIST_LIMIT,
                         help=f"at most this many (default {LIST_LIMIT})")  # fmt: skip
    show = tasks.add_parser("show", parents=[common, output], help="one idea and its history")
    show.add_argument("reference", metavar="REF", help=IDEA_HELP)
    status = tasks.add_parser(
        "status", parents=[common, output],
        help="change an idea's status; the resident is told, as with the chat's buttons",
        description="NEW_STATUS is one of: " + ", ".join(STATUS_VALUES) + ". not_selected "
        "needs --reason; duplicate needs --of.",
    )  # fmt: skip
    status.add_argument("reference", metavar="REF", help=IDEA_HELP)
    status.add_argument("new_status", metavar="NEW_STATUS", choices=STATUS_VALUES,
                        help=" | ".join(STATUS_VALUES))  # fmt: skip
    status.add_argument("--reason", help="told to the resident (needed for not_selected)")
    status.add_argument("--note", help="a staff note, never shown to the resident")
    status.add_argument("--of", metavar="REF", help=f"the original, for duplicate: {IDEA_HELP}")
    tasks.add_parser(
        "reindex", parents=[common, output],
        help="compute the similar-ideas vectors of ideas that have none (`minga run` also does "
        "it at start, in the background)",
    )  # fmt: skip
    ideas_import.add_parser(tasks, [common, output])
    ideas_similar.add_parser(tasks, [common, output])


def since_option(text: str | None, settings: Settings) -> datetime | None:
    """ "YYYY-MM-DD" -> the start of that day in the lab's time zone."""
    if text is None:
        return None
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"--since {text!r}: use a day as YYYY-MM-DD") from None
    return datetime.combine(day, time(0), tzinfo=settings.lab.zone)


def document(idea: IdeaRecord) -> dict[str, Any]:
    values = idea.model_dump(mode="json", exclude={"resident_id"})
    values["created_at"], values["updated_at"] = to_db(idea.created_at), to_db(idea.updated_at)
    return values


def line(idea: IdeaRecord, settings: Settings) -> str:
    day = idea.created_at.astimezone(settings.lab.zone).strftime("%Y-%m-%d")
    problem = " ".join(idea.problem.split())
    problem = problem if len(problem) <= 60 else problem[:59] + "…"
    return f"{idea.reference}  {day}  {idea.status.value:<12} {idea.category:<12} {problem}"


async def run(args: argparse.Namespace, settings: Settings) -> None:
    runtime = await Runtime.open(settings)
    try:
        await _run(args, runtime)
    except TriageProblem as problem:
        text = runtime.catalog.text("en", f"triage_error.{problem.key}", **problem.values)
        raise UsageError(text) from None
    finally:
        await runtime.close()


async def reindex(args: argparse.Namespace, runtime: Runtime) -> None:
    """Vectors for every idea without one, with a progress bar (hours for a million ideas:
    about 20 ms each)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    similar = runtime.database.reader().similar
    missing = await similar.count_without_vector(runtime.similar.model)
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    quiet = getattr(args, "json", False) or missing == 0
    with Progress(*columns, disable=quiet, transient=True) as progress:
        bar = progress.add_task("ideas", total=missing)
        done = await runtime.similar.backfill(lambda count: progress.update(bar, completed=count))
    total = await similar.count_vectors(runtime.similar.model)
    emit(args, {"indexed": done, "with_vector": total, "model": runtime.similar.model},
         f"{counted(done, 'idea')} indexed; {counted(total, 'idea')} can be matched")  # fmt: skip


TASKS = {"reindex": reindex, "import": ideas_import.run, "similar": ideas_similar.run}


async def _run(args: argparse.Namespace, runtime: Runtime) -> None:
    settings, now, task = runtime.settings, runtime.clock.now(), args.ideas_command
    reader = runtime.database.reader()
    if task in TASKS:  # the tasks with a function (or a module) of their own
        await TASKS[task](args, runtime)
        return
    if task == "list":
        status = IdeaStatus(args.status) if args.status else None
        chosen = IdeaFilter(status=status, since=since_option(args.since, settings))
        ideas = await reader.idea_search.page(chosen, offset=0, limit=max(1, args.limit))
        total = await reader.idea_search.count(chosen)
        lines = [line(idea, settings) for idea in ideas] or ["no ideas"]
        if total > len(ideas):
            lines.append(f"({len(ideas)} of {total}; --limit shows more)")
        emit(args, [document(idea) for idea in ideas], "\n".join(lines))
        return
    if task == "show":
        idea = await find(reader, args.reference)
        history = await reader.idea_search.history(idea.id)
        values = {**document(idea), "history": [e.model_dump(mode="json") for e in history]}
        zone = settings.lab.zone
        shown = {**document(idea),
                 "created_at": f"{idea.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
                 "updated_at": f"{idea.updated_at.astimezone(zone):%Y-%m-%d %H:%M}"}  # fmt: skip
        human = [f"{k}: {v}" for k, v in shown.items() if v not in (None, "", [])]
        # The lab's clock, to the minute, as the chat and `minga events` show times (the JSON
        # stays in UTC).
        human.append(f"history ({settings.lab.timezone}):")
        human += [f"  {e.at.astimezone(zone):%Y-%m-%d %H:%M} {e.kind} {e.status or ''} "
                  f"{e.note or ''} ({e.actor or '-'})" for e in history]  # fmt: skip
        emit(args, values, "\n".join(human))
        return
    new = IdeaStatus(args.new_status)
    if new is IdeaStatus.DUPLICATE and not args.of:
        raise UsageError("duplicate needs --of REF, the original idea")
    async with runtime.database.transaction() as repos:
        idea = await find(repos, args.reference)
        if new is IdeaStatus.DUPLICATE:
            outcome = await mark_duplicate(repos, idea, args.of, actor="cli", now=now)
        else:
            outcome = await change_status(repos, idea, new, actor="cli", now=now,
                                          reason=args.reason, note=args.note)  # fmt: skip
    emit(args, {**document(outcome.idea), "told": outcome.told},
         f"{idea.reference}: {idea.status.value} -> {new.value}; "
         f"{counted(outcome.told, 'resident', 'residents')} will be told")  # fmt: skip

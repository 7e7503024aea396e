"""`minga ideas import FILE`: ideas collected before Minga, from a CSV or XLSX file."""

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import Runtime
from bot.cli.output import UsageError, counted, emit
from handlers.exports.importing import (
    ImportFileError,
    ImportPlan,
    ImportResult,
    plan_import,
    read_rows,
    write_import,
)

if TYPE_CHECKING:
    from rich.progress import Progress

SHOWN = 5  # rows listed by --dry-run

DESCRIPTION = """Brings in ideas collected before Minga (paper forms, spreadsheets, contest
submissions) from a .csv or .xlsx file with the columns `minga export ideas` writes; the first
row names the columns. Only problem and category are required; see the README, "Importing
ideas". Imported ideas have no author to write to: nobody is ever notified of them.
Importing the same file again adds nothing (rows are known by external_id, else reference,
else their content). A file with a bad row imports nothing unless --skip-bad-rows. The
import is one transaction: all of it, or nothing."""


def add_parser(tasks: Any, parents: list[argparse.ArgumentParser]) -> None:
    task = tasks.add_parser(
        "import", parents=parents, help="bring in ideas from a .csv or .xlsx file",
        description=DESCRIPTION,
    )  # fmt: skip
    task.add_argument("file", metavar="FILE", help="a .csv or .xlsx file, as `minga export` writes")
    task.add_argument(
        "--dry-run", action="store_true",
        help="check the file and say what would be imported; write nothing",
    )  # fmt: skip
    task.add_argument("--skip-bad-rows", action="store_true",
                      help="import the good rows of a file with bad ones (listed)")  # fmt: skip
    task.add_argument("--quiet", action="store_true", help="no progress bar, only the summary")


async def run(args: argparse.Namespace, runtime: Runtime) -> None:
    # Imported here: rich's progress bar is needed by this command only.
    from rich.progress import Progress

    settings, now = runtime.settings, runtime.clock.now()
    try:
        header, rows = read_rows(Path(args.file))
    except ImportFileError as error:
        raise UsageError(str(error)) from None
    # A bar only on a terminal: in a pipe or a cron job's log it would leave an empty line.
    quiet = args.quiet or args.json or not sys.stdout.isatty()
    with Progress(transient=True, disable=quiet) as progress:
        checking = progress.add_task("checking", total=len(rows))

        def checked(done: int) -> None:
            progress.update(checking, completed=done)

        result = None
        if args.dry_run:
            plan = await plan_import(runtime.database.reader(), rows, settings.lab, now,
                                     header=header, progress=checked)  # fmt: skip
        else:
            # One transaction: a file comes in whole or not at all, so a failure (or Ctrl-C)
            # leaves nothing half done to reason about, and running it again is the resume.
            # The check runs inside it, so "already there" cannot change under the import.
            async with runtime.database.transaction() as repos:
                plan = await plan_import(repos, rows, settings.lab, now, header=header,
                                         progress=checked)  # fmt: skip
                if plan.new and not (plan.bad and not args.skip_bad_rows):
                    writing = progress.add_task("importing", total=len(plan.new))
                    result = await write_import(
                        repos, plan, settings.lab, now,
                        progress=lambda done: progress.update(writing, completed=done),
                    )  # fmt: skip
            if result is not None and result.imported_ids:
                await _index(runtime, progress, len(result.imported_ids))
    _report(args, plan, result)


async def _index(runtime: Runtime, progress: "Progress", count: int) -> None:
    """The imported ideas' vectors, so that they are matched as similar ideas: after the
    commit, off the event loop (about 20 ms an idea). Stopped half way, the ideas stay
    imported and `minga run` (or `minga ideas reindex`) computes the rest."""
    matching = progress.add_task("matching", total=count)
    await runtime.similar.backfill(lambda done: progress.update(matching, completed=done))


def _report(args: argparse.Namespace, plan: ImportPlan, result: ImportResult | None) -> None:
    """One line per bad row, then one summary line (or the refusal, as an error)."""
    name = Path(args.file).name
    refused = bool(plan.bad) and not args.skip_bad_rows
    lines = [f"line {bad.line}: {bad.reason}" for bad in plan.bad]
    if plan.ignored_columns:
        lines.append(f"ignored columns: {', '.join(plan.ignored_columns)}")
    new = counted(len(plan.new), "new idea", "new ideas")
    summary = (f"{counted(plan.rows, 'row')} read: {new}, {plan.already_there} already there, "
               f"{counted(len(plan.bad), 'bad row')}")  # fmt: skip
    if args.dry_run:
        lines.append(f"dry run, nothing written: {summary}")
        lines += [
            f"  line {row.line}: {row.given_reference or '(new reference)'}  "
            f"{row.idea.category}  {_head(row.idea.problem)}"
            for row in plan.new[:SHOWN]
        ]
    elif not refused:
        imported = counted(len(result.imported_ids) if result else 0, "idea")
        lines.append(f"{imported} imported from {name}; {summary}")
    _emit(args, plan, result, lines)
    if refused:  # the exit status says it too, for scripts (a dry run's: what the import's is)
        what = "an import would bring in nothing" if args.dry_run else "nothing imported"
        raise UsageError(
            f"{name}: {counted(len(plan.bad), 'bad row')}; {what} (fix them, or use "
            f"--skip-bad-rows to import the {counted(len(plan.new), 'good row')})"
        )


def _emit(
    args: argparse.Namespace, plan: ImportPlan, result: ImportResult | None, lines: list[str]
) -> None:
    document = {
        "file": args.file,
        "dry_run": args.dry_run,
        "rows": plan.rows,
        "new": len(plan.new),
        "already_there": plan.already_there,
        "bad_rows": [{"line": bad.line, "reason": bad.reason} for bad in plan.bad],
        "ignored_columns": list(plan.ignored_columns),
        "imported": result.references if result else [],
    }
    emit(args, document, "\n".join(lines))


def _head(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= 50 else words[:49] + "…"

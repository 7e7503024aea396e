"""`minga export ideas` and `minga publish`: the ideas to a file, or the public catalogue."""

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.app import Runtime
from bot.cli.ideas import since_option
from bot.cli.output import UsageError, counted, emit
from bot.config import Settings
from handlers.exports.catalogue import Catalogue
from handlers.exports.export import FORMATS, export_ideas
from storage.models import IdeaFilter


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """`minga export ideas` and `minga publish`, in this order in the help."""
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print one JSON document")
    export = commands.add_parser("export", parents=[common], help="export the ideas to a file")
    what = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    to_file = what.add_parser("ideas", parents=[common, output],
                              help="every idea: csv, xlsx, geojson or open311")  # fmt: skip
    to_file.add_argument("--format", required=True, choices=FORMATS)
    to_file.add_argument("--output", required=True, metavar="FILE")
    to_file.add_argument("--since", metavar="YYYY-MM-DD", help="only ideas from this day on")
    to_file.add_argument(
        "--with-contact", action="store_true",
        help="add names, phones and e-mails (personal data: handle with care)",
    )  # fmt: skip

    publish = commands.add_parser(
        "publish", parents=[common, output],
        help="write the public catalogue of ideas (static HTML) into a folder",
        description="Only ideas whose authors allowed it; never names, contacts or exact "
        "places; photos only where allowed. Open OUT_DIR/index.html in a browser, or put the "
        "folder on any web server.",
    )  # fmt: skip
    publish.add_argument("out_dir", metavar="OUT_DIR")


async def run(args: argparse.Namespace, settings: Settings) -> None:
    runtime = await Runtime.open(settings)
    try:
        if args.command == "export":
            await _export(args, runtime)
        else:
            await _publish(args, runtime)
    finally:
        await runtime.close()


async def _export(args: argparse.Namespace, runtime: Runtime) -> None:
    # Imported here: rich's progress bar (~20 ms) is needed by this command only.
    from rich.progress import Progress

    settings = runtime.settings
    path = Path(args.output)
    if not path.parent.exists():
        raise UsageError(f"--output {args.output}: the folder {path.parent} does not exist")
    since = since_option(args.since, settings)
    reader = runtime.database.reader()
    total = await reader.idea_search.count(IdeaFilter(since=since))
    # A bar only on a terminal: in a pipe or a cron job's log it would leave an empty line.
    with Progress(transient=True, disable=args.json or not sys.stdout.isatty()) as progress:
        task = progress.add_task(f"exporting {args.format}", total=total)
        count = await export_ideas(
            reader, settings.lab, format=args.format, path=path, since=since,
            with_contact=args.with_contact, media_url=settings.storage.media_url,
            progress=lambda done: progress.update(task, completed=done),
        )  # fmt: skip
    emit(args, {"format": args.format, "output": str(path), "ideas": count,
                "with_contact": args.with_contact},
         f"{counted(count, 'idea', 'ideas')} written to {path} ({args.format})")  # fmt: skip


def prepare_folder(given: str) -> Path:
    out_dir = Path(given)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{given} is a file; give a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


async def _publish(args: argparse.Namespace, runtime: Runtime) -> None:
    out_dir = prepare_folder(args.out_dir)
    catalogue = Catalogue(runtime.database.reader(), runtime.settings.lab, runtime.catalog,
                          runtime.media_dir, out_dir, runtime.clock.now())  # fmt: skip
    count = await catalogue.write()
    index = out_dir / "index.html"
    missing = (
        f" ({counted(catalogue.photos_missing, 'photo', 'photos')} not found)"
        if catalogue.photos_missing
        else ""
    )
    emit(args, {"output": str(index), "ideas": count, "photos_missing": catalogue.photos_missing},
         f"{counted(count, 'idea', 'ideas')} published in {index}{missing}")  # fmt: skip

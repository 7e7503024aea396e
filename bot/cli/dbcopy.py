"""`minga db copy SQLITE_FILE POSTGRES_URL`: move a SQLite deployment to PostgreSQL
(storage/sqlite_to_postgres.py does the copying)."""

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.output import UsageError
from bot.config import Settings
from storage.postgres import is_postgres_url, without_password

if TYPE_CHECKING:
    from rich.progress import TaskID

    from storage.sqlite_to_postgres import Copied, Table

DESCRIPTION = """Copies every row of a SQLite database into a new, empty PostgreSQL database,
keeping every id: residents, conversations in progress, ideas and their history, media
references, events and RSVPs, the outbox, consents. Stop `minga run` and back up the file first.

The SQLite file is only read. It must be at this Minga's schema version (else run `minga db
upgrade` on it first). The PostgreSQL database is brought to the same version, then filled in
one transaction: all of it or nothing. A database that already holds Minga data is refused.
Before it commits, each table's rows are counted on both sides; any difference undoes it all.

The media files (photos, voice notes) are not in the database: the rows name them, and they
stay in [storage] media_dir. Then set [storage] database to the URL and start `minga run`."""


class Refused(UsageError):
    """The copy was refused or failed and rolled back: one line, exit status 1."""

    status = 1


def add_parser(db_commands: Any, common: argparse.ArgumentParser) -> None:
    copy = db_commands.add_parser(
        "copy", parents=[common], help="copy a SQLite database into a new PostgreSQL database",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    copy.add_argument("sqlite_file", metavar="SQLITE_FILE", type=Path,
                      help="the SQLite file to copy (e.g. data/minga.sqlite3)")  # fmt: skip
    copy.add_argument(
        "postgres_url", metavar="POSTGRES_URL",
        help="the empty PostgreSQL database, e.g. postgresql://minga@localhost/minga (a "
        "password is better in ~/.pgpass or PGPASSWORD than on the command line)",
    )  # fmt: skip
    copy.add_argument("--quiet", action="store_true", help="no progress bar")


async def run(args: argparse.Namespace, settings: Settings) -> None:
    """Copy, with a progress bar, then say what was copied and what comes next."""
    # Imported here: psycopg and rich are needed by this command only.
    from storage.sqlite_to_postgres import CopyFailed, CopyRefused, copy_sqlite_to_postgres

    if not is_postgres_url(args.postgres_url):
        raise UsageError(f"{args.postgres_url!r} is not a postgresql:// URL")
    shown = without_password(args.postgres_url)
    quiet = args.quiet or not sys.stdout.isatty()
    print(f"copying {args.sqlite_file} into {shown}")
    started = time.monotonic()
    try:
        with _Bar(quiet) as bar:
            copied = await copy_sqlite_to_postgres(args.sqlite_file, args.postgres_url, bar)
    except CopyRefused as error:
        raise Refused(f"refused: {error}") from None
    except CopyFailed as error:
        raise Refused(
            f"the copy failed and was rolled back, {shown} is as before: {error}"
        ) from None
    print(_report(copied, time.monotonic() - started, settings, shown))


def _report(copied: "Copied", seconds: float, settings: Settings, shown: str) -> str:
    """What was copied, table by table, and what the operator does next."""
    width = max(len(table.name) for table in copied.tables)
    lines = [
        f"copied {copied.rows:,} {'row' if copied.rows == 1 else 'rows'} in {seconds:.1f} s "
        f"(schema version {copied.version}); verified: each table has as many rows in "
        "PostgreSQL as in SQLite",
        *(f"  {table.name:<{width}}  {table.rows:>10,}" for table in copied.tables),
        f"media files are not in the database: the rows name them and they stay in "
        f"{settings.storage.media_dir} (every `minga run` needs that folder, [storage] "
        "media_dir; copy it along if the bot moves to another machine)",
        f'next: set [storage] database = "{shown}" (or MINGA_STORAGE__DATABASE) and start '
        "`minga run`; keep the SQLite file as the way back",
    ]
    return "\n".join(lines)


class _Bar:
    """rich's progress bar over all rows, naming the table being copied (the CLI's style)."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        columns = ("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn())  # fmt: skip
        self._progress: Progress = Progress(*columns, disable=quiet, transient=True)
        self._task: TaskID | None = None

    def __enter__(self) -> "_Bar":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)

    def begin(self, tables: Sequence["Table"]) -> None:
        total = sum(table.rows for table in tables)
        self._task = self._progress.add_task("copying", total=total)

    def advance(self, table: str, rows: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, advance=rows, description=table)

    def finishing(self, what: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, description=what)

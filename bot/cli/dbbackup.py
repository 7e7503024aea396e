"""`minga db backup [DEST]` and `minga db restore ARCHIVE` (bot/backup.py, bot/restore.py)."""

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.backup import BackupRefused, Manifest, destination, take_backup
from bot.cli.dbcopy import Refused
from bot.cli.output import counted
from bot.config import Settings
from bot.restore import restore_backup
from handlers.engine.clock import SystemClock

if TYPE_CHECKING:
    from rich.progress import TaskID

BACKUP = """Writes one archive (.tar.gz) holding the database and the media folder (photos,
voice notes), with a manifest: Minga's version, the schema version, the kind of database,
the rows of each table, and every file's sha256. It can run while `minga run` runs: the copy
is consistent (SQLite's backup API; PostgreSQL's pg_dump, which must be installed).

DEST: the archive's name, or a folder for it. Default: minga-backup-DATE.tar.gz in [backup]
folder, else in the current folder. The archive holds residents' data: it is readable by its
owner only; keep it somewhere as safe as the server."""

RESTORE = """Puts a backup's database and media folder where [storage] database and media_dir
say, after checking every file against its checksum and, on SQLite, the database's integrity
and each table's rows. Only into an empty database and media folder (a database just made by
`minga db upgrade` counts as empty): stop `minga run` first. --force replaces what is there."""


def add_parsers(db_commands: Any, common: argparse.ArgumentParser) -> None:
    backup = db_commands.add_parser(
        "backup", parents=[common], help="back up the database and media into one archive",
        description=BACKUP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    backup.add_argument("dest", metavar="DEST", nargs="?", type=Path,
                        help="the archive to write, or a folder for it")  # fmt: skip
    backup.add_argument("--quiet", action="store_true", help="no progress bar")
    restore = db_commands.add_parser(
        "restore", parents=[common], help="restore a backup into an empty database",
        description=RESTORE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    restore.add_argument("archive", metavar="ARCHIVE", type=Path, help="a minga db backup archive")
    restore.add_argument("--force", action="store_true",
                         help="replace the database and media folder that are there")  # fmt: skip
    restore.add_argument("--quiet", action="store_true", help="no progress bar")


async def backup(args: argparse.Namespace, settings: Settings) -> None:
    """Write the archive, with a progress bar, then say what is in it."""
    now = SystemClock().now()
    dest = destination(args.dest, settings.backup.folder, now)
    storage = settings.storage
    started = time.monotonic()
    try:
        with _Bar(args.quiet) as bar:
            manifest = await asyncio.to_thread(
                take_backup, storage.database, storage.media_dir, dest, now, bar
            )
    except BackupRefused as error:
        raise Refused(f"backup not written: {error}") from None
    size = dest.stat().st_size
    print(f"backup written: {dest} ({_size(size)}, {time.monotonic() - started:.1f} s)")
    print(f"  {_contents(manifest)}")
    print("  it holds residents' data: keep it as safe as the server; restore it with "
          "`minga db restore ARCHIVE`")  # fmt: skip


async def restore(args: argparse.Namespace, settings: Settings) -> None:
    """Check and restore, then say what was restored and what comes next."""
    storage = settings.storage
    started = time.monotonic()
    try:
        with _Bar(args.quiet) as bar:
            manifest = await asyncio.to_thread(
                _restore, args.archive, storage.database, storage.media_dir, args.force, bar
            )
    except BackupRefused as error:
        raise Refused(f"not restored: {error}") from None
    print(f"restored {args.archive} into {storage.shown_database} and {storage.media_dir} "
          f"({time.monotonic() - started:.1f} s)")  # fmt: skip
    print(f"  {_contents(manifest)}")
    print("  verified: every file's checksum and each table's rows")
    print("  next: `minga run` (it upgrades the database if this Minga is newer than the backup; "
          "with upgrade_at_start = false or PostgreSQL, run `minga db upgrade` first)")  # fmt: skip


def _restore(
    archive: Path, database: str | Path, media_dir: Path, force: bool, bar: "_Bar"
) -> Manifest:
    return restore_backup(
        archive, database, media_dir, SystemClock().now(), force=force, progress=bar
    )


def _contents(manifest: Manifest) -> str:
    taken = manifest.created_at[:16].replace("T", " ")
    return (f"{manifest.database} database at schema version {manifest.schema_version}, "
            f"{counted(manifest.rows, 'row')}, {counted(manifest.media_files, 'media file')}; "
            f"taken {taken} UTC by Minga {manifest.minga_version}")  # fmt: skip


def _size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


class _Bar:
    """rich's progress bar in bytes (none when --quiet or the output is not a terminal); the
    work runs in a thread, and rich's bar may be updated from one."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn

        columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                   TimeElapsedColumn())  # fmt: skip
        disabled = quiet or not sys.stdout.isatty()
        self._progress: Progress = Progress(*columns, disable=disabled, transient=True)
        self._task: TaskID | None = None

    def __enter__(self) -> "_Bar":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)

    def begin(self, what: str, total: int | None) -> None:
        if self._task is None:
            self._task = self._progress.add_task(what, total=total)
        else:
            self._progress.reset(self._task, total=total, description=what)

    def advance(self, done: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, advance=done)

"""`minga db backup` and `minga db restore`: the database and the media folder in one archive
(tar.gz) with a manifest, taken while the bot runs, and put back only into an empty place after
every file has been checked.

The archive holds `database/minga.sqlite3` (SQLite's backup API: one consistent copy while
the bot writes) or `database/minga.pgdump` (pg_dump's custom format, taken in a snapshot that
the counts in the manifest are read in too), then `media/...`, then `manifest.json` last:
written once every file's sha256 is known, read once every file has been unpacked, so both
the backup and the restore go through the archive once.

The database is copied before the media folder: every file a copied row names was written
before the row (the intake saves the photo, then the step), so it is in the archive; a file
written afterwards is an orphan the retention rules sweep away after a restore."""

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Protocol

from bot.config import BackupSettings, Settings
from handlers.engine.clock import Clock
from storage.postgres import is_postgres_url, without_password
from storage.private import OWNER_ONLY_FILE, private_dir

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database/minga.sqlite3"
POSTGRES_FILE = "database/minga.pgdump"
MEDIA = "media"
PREFIX = "minga-backup-"
SUFFIX = ".tar.gz"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(re.escape(PREFIX) + r"(\d{8}T\d{6}Z)" + re.escape(SUFFIX) + "$")
# gzip's level 6: most of level 9's size at a third of its time on a database file.
COMPRESSION = 6
CHUNK = 1 << 20
# Where Debian puts PostgreSQL's programs when they are not on the PATH.
DEBIAN_PROGRAMS = Path("/usr/lib/postgresql")


class BackupRefused(Exception):
    """A backup or restore not done (or undone), for a reason said in one line."""


class Progress(Protocol):
    """Told how far a backup or restore is, in bytes, for a progress bar."""

    def begin(self, what: str, total: int | None) -> None:
        """A phase begins: `total` bytes to go, or None when it cannot say (a pulsing bar)."""

    def advance(self, done: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an archive holds: read by `minga db restore` to check every part of it."""

    minga_version: str
    schema_version: int
    database: str  # "sqlite" or "postgresql"
    created_at: str  # ISO 8601, UTC
    tables: dict[str, int]  # rows per table
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # path: sha256, bytes
    format: int = FORMAT

    @property
    def media_files(self) -> int:
        return sum(1 for path in self.files if path.startswith(MEDIA + "/"))

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @classmethod
    def read(cls, text: bytes) -> "Manifest":
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupRefused("the archive's manifest is not one this Minga reads")
        try:
            return cls(**data)
        except TypeError:
            raise BackupRefused("the archive's manifest is not one this Minga reads") from None


def minga_version() -> str:
    try:
        return metadata.version("minga")
    except metadata.PackageNotFoundError:
        return "unknown"


def default_name(now: datetime) -> str:
    """`minga-backup-20261204T030000Z.tar.gz`: sorts by date, and says it is UTC."""
    return f"{PREFIX}{now.astimezone(UTC).strftime(_STAMP)}{SUFFIX}"


def created_at(path: Path) -> datetime | None:
    """When a backup with a default name was taken; None for any other file."""
    match = _NAME.match(path.name)
    if not match:
        return None
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)


def destination(dest: Path | None, folder: Path | None, now: datetime) -> Path:
    """DEST as given (a folder gets a dated file in it), else a dated file in [backup] folder,
    else in the current folder."""
    if dest is not None and not dest.is_dir():
        return dest
    return (dest or folder or Path.cwd()) / default_name(now)


def find_program(name: str) -> Path | None:
    """pg_dump or pg_restore: on the PATH, else where Debian installs them (newest first)."""
    found = shutil.which(name)
    if found:
        return Path(found)
    versions = sorted(DEBIAN_PROGRAMS.glob("*/bin"), key=_major, reverse=True)
    return next((folder / name for folder in versions if (folder / name).is_file()), None)


def _major(folder: Path) -> int:
    return int(folder.parent.name) if folder.parent.name.isdigit() else 0


def take_backup(
    database: str | Path, media_dir: Path, dest: Path, now: datetime,
    progress: Progress | None = None,
) -> Manifest:  # fmt: skip
    """Write the archive at `dest` (refused if it exists); returns its manifest. The archive
    appears only when complete (written as DEST.partial, then renamed), owner-only."""
    if dest.exists():
        raise BackupRefused(f"{dest} already exists: give another name or folder")
    if not dest.parent.exists():  # made owner-only; an existing folder is left as it is
        private_dir(dest.parent)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".minga-backup-") as work:
        if progress is not None:
            progress.begin("copying the database", None)
        if is_postgres_url(database):
            manifest, dumped = _postgres_snapshot(str(database), Path(work), now)
        else:
            manifest, dumped = _sqlite_snapshot(Path(database), Path(work), now)
        parts = [(dumped, manifest_name(manifest)), *_media_parts(media_dir)]
        partial = dest.with_name(dest.name + ".partial")
        try:
            _write_archive(partial, parts, manifest, progress)
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def manifest_name(manifest: Manifest) -> str:
    return SQLITE_FILE if manifest.database == "sqlite" else POSTGRES_FILE


def _sqlite_snapshot(path: Path, work: Path, now: datetime) -> tuple[Manifest, Path]:
    """A consistent copy of the SQLite file by its backup API (the bot keeps writing: WAL lets
    it), as one self-contained file, with its tables counted."""
    if not path.is_file():
        raise BackupRefused(f"{path}: no such database file ([storage] database)")
    copy = work / "minga.sqlite3"
    source = sqlite3.connect(path)
    try:
        source.execute("PRAGMA query_only = ON")
        with contextlib.closing(sqlite3.connect(copy)) as target:
            source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
            version = int(target.execute("PRAGMA user_version").fetchone()[0])
            tables = sqlite_counts(target)
    except sqlite3.DatabaseError as error:
        raise BackupRefused(f"{path}: could not copy the database ({error})") from None
    finally:
        source.close()
    return _manifest(version, "sqlite", now, tables), copy


def sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    """Rows per table of a SQLite database (names from its own catalogue)."""
    names = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )]  # fmt: skip
    return {name: int(connection.execute(
        f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"'  # noqa: S608
    ).fetchone()[0]) for name in names}  # fmt: skip


def _manifest(version: int, kind: str, now: datetime, tables: dict[str, int]) -> Manifest:
    stamp = now.astimezone(UTC).isoformat()
    return Manifest(minga_version(), version, kind, stamp, tables)


def _postgres_snapshot(url: str, work: Path, now: datetime) -> tuple[Manifest, Path]:
    """pg_dump in a snapshot exported by a transaction that counts the tables in the same
    snapshot: the counts are those of the dump, however busy the bot is meanwhile."""
    import psycopg

    program = find_program("pg_dump")
    if program is None:
        raise BackupRefused(
            "pg_dump is not installed (needed to back up PostgreSQL): apt-get install "
            "postgresql-client (the same major version as the server, or newer), then again"
        )
    dumped = work / "minga.pgdump"
    try:
        with psycopg.connect(url, autocommit=False, prepare_threshold=None) as connection:
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()
            tables, version = postgres_counts(connection)
            assert snapshot is not None
            run_program(program, ["--format=custom", f"--snapshot={snapshot[0]}", "--no-owner",
                           "--no-privileges", f"--file={dumped}"], url)  # fmt: skip
    except psycopg.Error as error:
        raise BackupRefused(f"{without_password(url)}: {first_line(error)}") from None
    return _manifest(version, "postgresql", now, tables), dumped


def postgres_counts(connection: Any) -> tuple[dict[str, int], int]:
    """Rows per table of the database's schema, and its schema version."""
    from psycopg import sql

    names = [row[0] for row in connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    )]  # fmt: skip
    tables = {}
    for name in names:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
        tables[name] = int(connection.execute(query).fetchone()[0])
    version = 0
    if "schema_version" in tables:
        row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
        version = int(row[0] or 0)
    return tables, version


def run_program(program: Path, arguments: list[str], url: str) -> None:
    """pg_dump or pg_restore on the database at `url`; its password goes in the environment,
    never on a command line that `ps` shows."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    options = conninfo_to_dict(url)
    environment = dict(os.environ)
    password = options.pop("password", None)
    if password:
        environment["PGPASSWORD"] = str(password)
    target = make_conninfo(**{k: str(v) for k, v in options.items()})
    done = subprocess.run([str(program), *arguments, f"--dbname={target}"], env=environment,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupRefused(f"{program.name} failed: {last}")


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _media_parts(media_dir: Path) -> Iterator[tuple[Path, str]]:
    """Every file of the media folder, with its name in the archive."""
    if not media_dir.is_dir():
        return
    for path in sorted(media_dir.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, f"{MEDIA}/{path.relative_to(media_dir).as_posix()}"


def _write_archive(
    target: Path, parts: list[tuple[Path, str]], manifest: Manifest, progress: Progress | None
) -> None:
    """The parts, each hashed as it goes in, then the manifest naming every hash."""
    sizes = [(path, name, path.stat().st_size) for path, name in parts if path.is_file()]
    if progress is not None:
        progress.begin("writing the archive", sum(size for _, _, size in sizes))
    descriptor = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, OWNER_ONLY_FILE)
    with (
        os.fdopen(descriptor, "wb") as raw,
        tarfile.open(fileobj=raw, mode="w:gz", compresslevel=COMPRESSION) as archive,
    ):
        for path, name, size in sizes:
            info = tarfile.TarInfo(name)
            info.size, info.mode = size, OWNER_ONLY_FILE
            info.mtime = int(path.stat().st_mtime)
            with path.open("rb") as file:
                reader = _Hashing(file, progress)
                archive.addfile(info, reader)
            manifest.files[name] = {"sha256": reader.hexdigest(), "bytes": size}
        text = json.dumps(asdict(manifest), indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(text), OWNER_ONLY_FILE
        info.mtime = int(datetime.fromisoformat(manifest.created_at).timestamp())
        archive.addfile(info, _Bytes(text))


class _Hashing:
    """A file read through, hashing what is read and telling the progress bar."""

    def __init__(self, file: IO[bytes], progress: Progress | None) -> None:
        self._file, self._progress = file, progress
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._hash.update(data)
        if self._progress is not None:
            self._progress.advance(len(data))
        return data

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk, self._at = self._data[self._at : end], min(end, len(self._data))
        return chunk


def prune_backups(folder: Path, keep: int, now: datetime) -> list[Path]:
    """Delete the folder's dated backups beyond the `keep` newest, and any older than `keep`
    days (the newest always stays): an erased resident leaves the backups within that time.
    Returns what was deleted; other files in the folder are never touched."""
    if not folder.is_dir():
        return []
    dated = sorted(((stamp, path) for path in folder.iterdir()
                    if (stamp := created_at(path)) is not None), reverse=True)  # fmt: skip
    oldest = now - timedelta(days=keep)
    deleted = []
    for index, (stamp, path) in enumerate(dated):
        if index > 0 and (index >= keep or stamp < oldest):
            path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


class DailyBackup:
    """[backup] time: a backup into [backup] folder once a day at that time in the lab's time
    zone (later the same day if the bot was down then), then the old ones pruned."""

    def __init__(
        self, settings: BackupSettings, database: str | Path, media_dir: Path, zone: tzinfo,
        clock: Clock,
    ) -> None:  # fmt: skip
        assert settings.clock is not None and settings.folder is not None
        self._at, self.folder = time(*settings.clock), settings.folder
        self._keep, self._zone, self._clock = settings.keep, zone, clock
        self._database, self._media_dir = database, media_dir

    def due_at(self, day: date) -> datetime:
        return datetime.combine(day, self._at, tzinfo=self._zone)

    def next_at(self, now: datetime) -> datetime:
        """Today's time if today's backup is still to be taken (now, if that time passed),
        else tomorrow's."""
        today = now.astimezone(self._zone).date()
        if self._taken_since(self.due_at(today)):
            return self.due_at(today + timedelta(days=1))
        return max(self.due_at(today), now)

    def _taken_since(self, moment: datetime) -> bool:
        if not self.folder.is_dir():
            return False
        return any((stamp := created_at(path)) is not None and stamp >= moment
                   for path in self.folder.iterdir())  # fmt: skip

    def run_if_due(self) -> Path | None:
        """Take today's backup if its time has come and it was not taken yet, then delete the
        backups past the retention; returns the new archive (blocking: run it in a thread)."""
        now = self._clock.now()
        due = self.due_at(now.astimezone(self._zone).date())
        if now < due or self._taken_since(due):
            return None
        dest = self.folder / default_name(now)
        take_backup(self._database, self._media_dir, dest, now)
        for old in prune_backups(self.folder, self._keep, now):
            log.info("backup deleted (older than the %d kept): %s", self._keep, old.name)
        return dest


def daily_backup(settings: Settings, clock: Clock) -> DailyBackup | None:
    """The daily backup [backup] asks for, if it asks for one."""
    if settings.backup.clock is None:
        return None
    storage = settings.storage
    return DailyBackup(settings.backup, storage.database, storage.media_dir, settings.lab.zone,
                       clock)  # fmt: skip

"""`minga db restore ARCHIVE`: an archive of `minga db backup` put back, only after every part
of it was checked, and only into an empty place (or over existing data with --force).

Order: look at the target, refusing existing data without --force, and a database a running
`minga run` holds; unpack into a folder beside the target, checking each file's sha256
against the manifest; on SQLite, check the copy (PRAGMA integrity_check, rows per table
against the manifest); only then replace anything. On PostgreSQL pg_restore runs in one
transaction, and each table's rows are counted afterwards."""

import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from contextlib import closing
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from bot.backup import (
    CHUNK,
    MANIFEST,
    MEDIA,
    POSTGRES_FILE,
    SQLITE_FILE,
    BackupRefused,
    Manifest,
    Progress,
    find_program,
    first_line,
    postgres_counts,
    run_program,
    sqlite_counts,
)
from bot.cli.output import counted
from storage.migrations import latest_version
from storage.postgres import is_postgres_url, without_password
from storage.private import OWNER_ONLY_DIR, OWNER_ONLY_FILE, SQLITE_COMPANIONS, private_dir
from storage.timefmt import to_db

UNCHANGED = "nothing was changed"


def restore_backup(
    archive: Path, database: str | Path, media_dir: Path, now: datetime, *, force: bool = False,
    progress: Progress | None = None,
) -> Manifest:  # fmt: skip
    """Check the archive, then put its database and media folder in place; returns its
    manifest. Raises BackupRefused (one line) before changing anything, when it can."""
    if not archive.is_file():
        raise BackupRefused(f"{archive}: no such file")
    postgres = is_postgres_url(database)
    beside = media_dir.parent if postgres else Path(database).parent
    if not beside.exists():
        private_dir(beside)
    held = _held(database, media_dir)
    if held and not force:
        raise BackupRefused(
            f"{held}: restore only into an empty data folder and database ({UNCHANGED}); "
            "to replace what is there, add --force"
        )
    if held:
        _check_not_running(database, now)
    with tempfile.TemporaryDirectory(dir=beside, prefix=".minga-restore-") as folder:
        work = Path(folder)
        manifest = unpack(archive, work, progress)
        _check_kind(manifest, "postgresql" if postgres else "sqlite")
        if not postgres:
            check_sqlite_copy(work / SQLITE_FILE, manifest)
        if postgres:
            _install_postgres(work / POSTGRES_FILE, str(database), manifest)
        else:
            _install_sqlite(work / SQLITE_FILE, Path(database))
        _install_media(work / MEDIA, media_dir)
    return manifest


def unpack(archive: Path, work: Path, progress: Progress | None = None) -> Manifest:
    """Every file of the archive into `work`, each checked against the manifest's sha256."""
    hashes: dict[str, str] = {}
    text: bytes | None = None
    if progress is not None:
        progress.begin("checking the archive", archive.stat().st_size)
    try:
        with archive.open("rb") as raw, tarfile.open(
            fileobj=cast(IO[bytes], _Counting(raw, progress)), mode="r|gz"
        ) as tar:  # fmt: skip
            for member in tar:
                name = _member_name(member, archive)
                source = tar.extractfile(member)
                assert source is not None  # a regular file (_member_name)
                if name == MANIFEST:
                    text = source.read()
                else:
                    hashes[name] = _extract(source, work / name)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise BackupRefused(f"{archive}: not a Minga backup, or damaged ({error}); "
                            f"{UNCHANGED}: use another backup") from None  # fmt: skip
    if text is None:
        raise BackupRefused(f"{archive}: no manifest, not a complete Minga backup; {UNCHANGED}")
    manifest = Manifest.read(text)
    _check_hashes(archive, manifest, hashes)
    return manifest


def _member_name(member: tarfile.TarInfo, archive: Path) -> str:
    """A member's name, if it is one a Minga backup holds (never a path outside the folder)."""
    path = PurePosixPath(member.name)
    inside = not path.is_absolute() and ".." not in path.parts
    known = member.name == MANIFEST or path.parts[0] in ("database", MEDIA)
    if not (member.isfile() and inside and known):
        raise BackupRefused(f"{archive}: holds {member.name!r}, which no Minga backup holds; "
                            f"{UNCHANGED}")  # fmt: skip
    return member.name


def _extract(source: IO[bytes], target: Path) -> str:
    """Write one file owner-only; returns its sha256."""
    import hashlib

    private_dir(target.parent)
    digest = hashlib.sha256()
    with target.open("xb") as out:
        target.chmod(OWNER_ONLY_FILE)
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _check_hashes(archive: Path, manifest: Manifest, hashes: dict[str, str]) -> None:
    for name, entry in sorted(manifest.files.items()):
        if name not in hashes:
            raise BackupRefused(f"{archive}: {name} is missing; {UNCHANGED}: use another backup")
        if hashes[name] != entry.get("sha256"):
            raise BackupRefused(f"{archive}: {name} does not match its checksum (the archive is "
                                f"damaged); {UNCHANGED}: use another backup")  # fmt: skip
    extra = sorted(hashes.keys() - manifest.files.keys())
    if extra:
        raise BackupRefused(f"{archive}: {extra[0]} is not in its manifest; {UNCHANGED}")


def _check_kind(manifest: Manifest, kind: str) -> None:
    """The archive's database is the configured kind, at a version this Minga can run."""
    if manifest.database != kind:
        hint = ("restore it into a SQLite file, then `minga db copy` it into PostgreSQL"
                if kind == "postgresql" else "set [storage] database to an empty PostgreSQL "
                "database's URL")  # fmt: skip
        raise BackupRefused(f"this backup holds a {manifest.database} database and [storage] "
                            f"database is {kind}: {hint}; {UNCHANGED}")  # fmt: skip
    if manifest.schema_version > latest_version():
        raise BackupRefused(f"this backup is at schema version {manifest.schema_version}, newer "
                            f"than this Minga ({latest_version()}): upgrade Minga first; "
                            f"{UNCHANGED}")  # fmt: skip


def check_sqlite_copy(path: Path, manifest: Manifest) -> None:
    """PRAGMA integrity_check, then each table's rows against the manifest."""
    try:
        with closing(sqlite3.connect(path)) as copy:
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            counts = sqlite_counts(copy)
    except sqlite3.DatabaseError as error:
        verdict, counts = str(error), {}
    if verdict != "ok":
        raise BackupRefused(f"the backup's database fails SQLite's integrity check ({verdict}); "
                            f"{UNCHANGED}: use another backup")  # fmt: skip
    _check_counts(counts, manifest, UNCHANGED)


def _check_counts(counts: dict[str, int], manifest: Manifest, after: str) -> None:
    differ = sorted(name for name in manifest.tables.keys() | counts.keys()
                    if counts.get(name) != manifest.tables.get(name))  # fmt: skip
    if differ:
        name = differ[0]
        raise BackupRefused(f"table {name} has {counts.get(name, 0)} rows, the manifest says "
                            f"{manifest.tables.get(name, 0)}; {after}")  # fmt: skip


def _held(database: str | Path, media_dir: Path) -> str | None:
    """What is already there, said for the operator; None when the place is empty (a database
    freshly made by `minga db upgrade` counts as empty)."""
    if is_postgres_url(database):
        tables = _postgres_tables_with_data(str(database))
        where = without_password(str(database))
    else:
        tables = _sqlite_tables_with_data(Path(database))
        where = str(database)
    if tables:
        return f"{where} already holds Minga data (in {', '.join(tables)})"
    files = sum(1 for path in media_dir.rglob("*") if path.is_file()) if media_dir.is_dir() else 0
    if files:
        return f"the media folder {media_dir} already holds {counted(files, 'file')}"
    return None


def _sqlite_tables_with_data(path: Path) -> list[str]:
    from storage.sqlite_to_postgres import seed_rows

    if not path.is_file() or path.stat().st_size == 0:
        return []
    seeds = seed_rows()
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA query_only = ON")
        found = []
        for name in sqlite_counts(connection):
            query = f'SELECT * FROM "{name}" LIMIT ?'  # noqa: S608 (a name from the catalogue)
            rows = connection.execute(query, (len(seeds.get(name, ())) + 1,)).fetchall()
            if set(rows) - seeds.get(name, set()):
                found.append(name)
        return found


def _postgres_tables_with_data(url: str) -> list[str]:
    import psycopg
    from psycopg import sql

    from storage.sqlite_to_postgres import seed_rows

    seeds = seed_rows()
    try:
        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as connection:
            tables, _ = postgres_counts(connection)
            found = []
            for name in (n for n in tables if n != "schema_version"):
                query = sql.SQL("SELECT * FROM {} LIMIT {}").format(
                    sql.Identifier(name), sql.Literal(len(seeds.get(name, ())) + 1))  # fmt: skip
                if {tuple(row) for row in connection.execute(query)} - seeds.get(name, set()):
                    found.append(name)
            return found
    except psycopg.Error as error:
        raise BackupRefused(f"{without_password(url)}: {first_line(error)}") from None


def _check_not_running(database: str | Path, now: datetime) -> None:
    """Refuse to replace a database that a `minga run` is working on (a lease it renews)."""
    query = "SELECT holder FROM leases WHERE expires_at > {}"
    if is_postgres_url(database):
        import psycopg

        with psycopg.connect(str(database), autocommit=True) as connection:
            row: Any = connection.execute(query.format("%s"), (to_db(now),)).fetchone()
    else:
        with closing(sqlite3.connect(database)) as connection:
            try:
                row = connection.execute(query.format("?"), (to_db(now),)).fetchone()
            except sqlite3.OperationalError:  # an old database, without leases
                row = None
    if row:
        raise BackupRefused(f"`minga run` is using this database ({row[0]}): stop it, then "
                            f"restore again; {UNCHANGED}")  # fmt: skip


def _install_sqlite(copy: Path, path: Path) -> None:
    """The checked copy in place of the file; the old file's -wal and -shm go first (SQLite
    would otherwise apply the old journal to the new file)."""
    for end in SQLITE_COMPANIONS:
        path.with_name(path.name + end).unlink(missing_ok=True)
    copy.replace(path)
    path.chmod(OWNER_ONLY_FILE)


def _install_postgres(dump: Path, url: str, manifest: Manifest) -> None:
    """pg_restore in one transaction (all of it or nothing), then each table counted."""
    import psycopg

    program = find_program("pg_restore")
    if program is None:
        raise BackupRefused(
            "pg_restore is not installed (needed to restore PostgreSQL): apt-get install "
            f"postgresql-client, then again; {UNCHANGED}"
        )
    arguments = ["--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--single-transaction", "--exit-on-error", str(dump)]  # fmt: skip
    try:
        run_program(program, arguments, url)
    except BackupRefused as error:  # one transaction: rolled back as a whole
        raise BackupRefused(f"{error}; {UNCHANGED}") from None
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as connection:
        counts, _ = postgres_counts(connection)
    _check_counts(counts, manifest, "the restore is incomplete: restore again with --force")


def _install_media(unpacked: Path, media_dir: Path) -> None:
    """The archive's media folder in place of the configured one (emptied first)."""
    if media_dir.exists():
        shutil.rmtree(media_dir)
    if not media_dir.parent.exists():
        private_dir(media_dir.parent)
    if unpacked.is_dir():
        shutil.move(unpacked, media_dir)
        for folder in (media_dir, *(p for p in media_dir.rglob("*") if p.is_dir())):
            folder.chmod(OWNER_ONLY_DIR)
    else:
        private_dir(media_dir)


class _Counting:
    """The archive's file, telling the progress bar how much of it was read."""

    def __init__(self, raw: IO[bytes], progress: Progress | None) -> None:
        self._raw, self._progress = raw, progress

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if self._progress is not None:
            self._progress.advance(len(data))
        return data

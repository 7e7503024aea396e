"""Files and folders that hold residents' data: readable and writable by their owner only."""

import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700
# SQLite's companions of a database file: they hold the same data, so they get the same mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create the folder (and missing parents) owner-only; an existing one is tightened."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):  # mkdir(parents=True) would give parents the default mode
        folder.mkdir(mode=OWNER_ONLY_DIR, exist_ok=True)
    os.chmod(path, OWNER_ONLY_DIR)
    return path


def private_database_file(path: Path) -> None:
    """Make the database file exist owner-only before SQLite opens it.

    SQLite gives the -wal and -shm files it creates the database file's mode, so they follow;
    the ones an older version left readable by others are tightened too.
    """
    if not path.parent.exists():
        private_dir(path.parent)
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, OWNER_ONLY_FILE)
    os.close(descriptor)
    for candidate in (path, *(path.with_name(path.name + end) for end in SQLITE_COMPANIONS)):
        if candidate.exists():
            os.chmod(candidate, OWNER_ONLY_FILE)


def discard_media(media_dir: Path, paths: Iterable[str]) -> int:
    """Delete these files (relative to the media folder, never outside it); returns how many."""
    root = media_dir.resolve()
    removed = 0
    for relative in paths:
        target = (root / relative).resolve()
        if root not in target.parents:
            log.warning("not deleting a path outside the media folder")
            continue
        try:
            target.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as error:
            log.error("could not delete a media file: %s", error)
    return removed


def media_files(media_dir: Path) -> list[tuple[str, datetime]]:
    """The residents' files in the media folder (path relative to it, when last written);
    the console's own "received" folder (files the bot gave the console user) is not theirs."""
    if not media_dir.is_dir():
        return []
    found = []
    for path in media_dir.rglob("*"):
        relative = path.relative_to(media_dir)
        if "received" in relative.parts[:-1] or not path.is_file():
            continue
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        found.append((relative.as_posix(), modified))
    return found


def write_private(path: Path, content: bytes) -> None:
    """Write a file owner-only (a resident's photo or voice note), its folder too."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, OWNER_ONLY_FILE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.chmod(path, OWNER_ONLY_FILE)

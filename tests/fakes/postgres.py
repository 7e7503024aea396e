"""A throwaway PostgreSQL server on loopback, for tests and benchmarks.

Debian installs the server outside the PATH (/usr/lib/postgresql/NN/bin), so its folder is
found from `pg_config --bindir` or the usual Debian places. The server refuses to run as root:
when we are root it runs as `nobody`, its data folder a fresh temporary one that user owns.
Loopback only, trust authentication, no Unix socket; `stop` removes every trace.

`python -m tests.fakes.postgres run -- COMMAND...` starts one, runs COMMAND with
MINGA_TEST_DATABASE set to its address, and stops it (what `make test-postgres` does).
"""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

ENVIRONMENT = "MINGA_TEST_DATABASE"
# The server the suite runs on (`make test-postgres`), read at start-up: the tests' autouse
# fixture clears MINGA_* variables before each test.
TEST_DSN = os.environ.get("MINGA_TEST_DATABASE") or None
HOW_TO_GET = "PostgreSQL is not installed: apt-get install postgresql (or set MINGA_TEST_DATABASE)"
# Who runs the server when we are root: it refuses root, and `nobody` exists on every Debian.
UNPRIVILEGED_USER = "nobody"
SUPERUSER = "postgres"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None where no server is installed."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(out.stdout.strip()))
    # Debian's pg_config (libpq-dev) may answer /usr/bin; its servers live here, newest first.
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True, key=_major)
    candidates.extend(debian)
    for found in (shutil.which("initdb"), shutil.which("pg_ctl")):
        if found:
            candidates.append(Path(found).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _major(bindir: Path) -> int:
    name = bindir.parent.name
    return int(name) if name.isdigit() else 0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


READY = "database system is ready to accept connections"


@dataclass
class ThrowawayPostgres:
    """One running server, our own child process (so that we reap it): its address, and how
    to stop it."""

    bindir: Path
    folder: Path  # the temporary folder: data/ and server.log
    port: int
    process: subprocess.Popen[str]
    log_copier: threading.Thread

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls, bindir: Path | None = None) -> "ThrowawayPostgres":
        """initdb in a fresh temporary folder, then start and wait until it accepts connections."""
        bindir = bindir or find_bindir()
        if bindir is None:
            raise RuntimeError(HOW_TO_GET)
        folder = Path(tempfile.mkdtemp(prefix="minga-pg-"))
        try:
            _hand_over(folder)
            data = folder / "data"
            _check_run(
                [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
                 "-E", "UTF8", "--no-locale", "--no-sync"],
                folder,
            )  # fmt: skip
            port = free_port()
            process = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-c", "listen_addresses=127.0.0.1",
                 "-c", f"port={port}", "-c", "unix_socket_directories=",
                 # A test database need not survive a power cut.
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                text=True, **_as_owner(folder),
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        ready = threading.Event()
        copier = threading.Thread(
            target=_copy_log, args=(process, folder / "server.log", ready), daemon=True
        )
        copier.start()
        server = cls(bindir, folder, port, process, copier)
        if not ready.wait(START_TIMEOUT_S) or process.poll() is not None:
            server.stop()
            raise RuntimeError(f"PostgreSQL did not start on port {port}: {server.log_tail()}")
        return server

    def log_tail(self) -> str:
        log = self.folder / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def stop(self) -> None:
        """Stop the server (fast shutdown: SIGINT), wait for it, and delete its folder."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.log_copier.join(STOP_TIMEOUT_S)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _copy_log(process: subprocess.Popen[str], log: Path, ready: threading.Event) -> None:
    """Copy the server's output to its log, and say when it is ready (or gone: end of output)."""
    assert process.stderr is not None
    with log.open("w") as out:
        for line in process.stderr:
            out.write(line)
            out.flush()
            if READY in line:
                ready.set()
    ready.set()


def _hand_over(folder: Path) -> None:
    """Give the folder to the unprivileged user when we are root (the server refuses root)."""
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)


class _Owner(TypedDict):
    cwd: Path
    env: dict[str, str]
    user: int | None
    group: int | None
    extra_groups: list[int] | None


def _as_owner(folder: Path) -> _Owner:
    """How to run a server tool as the folder's owner (ourselves, unless we are root)."""
    uid = gid = None
    groups: list[int] | None = None
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        uid, gid, groups = user.pw_uid, user.pw_gid, []
    # C messages: the ready line is read in English. The working folder: root's may be closed
    # to `nobody`, and the tools look at theirs.
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
    return {"cwd": folder, "env": environment, "user": uid, "group": gid, "extra_groups": groups}


def _check_run(command: Sequence[str], folder: Path) -> None:
    """Run a server tool to its end as the folder's owner; its output in the error if it fails."""
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False,
        **_as_owner(folder),
    )  # fmt: skip
    if result.returncode != 0:
        raise subprocess.CalledProcessError(
            result.returncode, list(command), result.stdout, result.stderr
        )


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A server for the duration of a `with` block."""
    server = ThrowawayPostgres.start()
    try:
        yield server
    finally:
        server.stop()


def database_url(dsn: str, name: str) -> str:
    """The address of database `name` on the server at `dsn`."""
    return dsn.rsplit("/", 1)[0] + f"/{name}"


def created_database(dsn: str, *, template: str | None = None) -> str:
    """The address of a new database on the server at `dsn`: empty, or a copy of the database
    named `template` (a file copy on the server, much faster than migrating each time)."""
    import psycopg  # here: the server's own tests run before psycopg may be wanted

    name = f"minga_test_{uuid.uuid4().hex}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy}'.encode())
    return database_url(dsn, name)


def drop_database(dsn: str, url: str) -> None:
    """Drop the database at `url`, even with connections still open (a test that failed)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database(dsn: str) -> Iterator[str]:
    """An empty database of its own on the server at `dsn` (its address), dropped after."""
    url = created_database(dsn)
    try:
        yield url
    finally:
        drop_database(dsn, url)


@contextlib.contextmanager
def fresh_database_on(url: str | None) -> Iterator[str]:
    """A fresh database: on the server at `url` when given, else on a throwaway server."""
    if url:
        with fresh_database(url) as fresh:
            yield fresh
        return
    with throwaway_postgres() as server, fresh_database(server.dsn) as fresh:
        yield fresh


def main(argv: Sequence[str]) -> int:
    """`run -- COMMAND...`: COMMAND's exit code, run against a fresh server."""
    if len(argv) < 2 or argv[0] != "run":
        print("usage: python -m tests.fakes.postgres run [--] COMMAND...", file=sys.stderr)
        return 2
    command = list(argv[1:])
    if command[0] == "--":
        command = command[1:]
    if find_bindir() is None:
        print(HOW_TO_GET, file=sys.stderr)
        return 1
    # A SIGTERM (CI's timeout, a `kill`) stops the server too: the `with` below unwinds.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    with throwaway_postgres() as server:
        environment = {**os.environ, ENVIRONMENT: server.dsn}
        return subprocess.run(command, env=environment, check=False).returncode


def _exit_on_signal(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

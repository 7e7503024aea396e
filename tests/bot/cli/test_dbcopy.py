"""`minga db copy SQLITE_FILE POSTGRES_URL`, as the person who moves a deployment runs it."""

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.postgres import fresh_database

pytest.importorskip("psycopg", reason="psycopg is missing: make install")


def _minga(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `minga` command in its own process, as the operator runs it (stdout not a tty)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=environment)  # fmt: skip


@pytest.fixture
def target(postgres_dsn: str) -> Iterator[str]:
    """An empty database, its address with a password (which must never be printed)."""
    with fresh_database(postgres_dsn) as url:
        yield url.replace("//postgres@", "//postgres:s3cret@", 1)


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> Path:
    """A deployment's file with two residents and an idea's worth of rows."""
    path = tmp_path / "data" / "minga.sqlite3"
    path.parent.mkdir()
    database = await Database.open(path)
    async with database.transaction() as repos:
        for user in ("ana", "beto"):
            await repos.residents.get_or_create("telegram", user, FakeClock().now())
    await database.close()
    return path


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        names = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )]  # fmt: skip
        return {n: connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]  # noqa: S608
                for n in names}  # fmt: skip


def test_the_copy_reports_each_table_s_count_and_where_the_media_stay(
    sqlite_file: Path, target: str
) -> None:
    result = _minga("db", "copy", str(sqlite_file), target, cwd=sqlite_file.parent.parent)
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout
    reported = dict(re.findall(r"^  (\w+) +([\d,]+)$", result.stdout, re.MULTILINE))
    assert {n: int(c.replace(",", "")) for n, c in reported.items()} == _counts(sqlite_file)
    assert "media" in result.stdout and "data/media" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


def test_a_second_copy_is_refused_in_one_line(sqlite_file: Path, target: str) -> None:
    folder = sqlite_file.parent.parent
    assert _minga("db", "copy", str(sqlite_file), target, cwd=folder).returncode == 0
    again = _minga("db", "copy", str(sqlite_file), target, cwd=folder)
    assert again.returncode == 1
    [line] = again.stderr.strip().splitlines()
    assert line.startswith("minga: refused") and "Traceback" not in again.stderr
    assert "s3cret" not in again.stdout + again.stderr


def test_a_target_that_is_no_postgresql_url_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "copy", str(tmp_path / "a.sqlite3"), str(tmp_path / "b.sqlite3")]) == 2
    assert "postgresql://" in capsys.readouterr().err


def test_the_help_says_what_is_copied_and_what_to_do_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["db", "copy", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("SQLITE_FILE", "POSTGRES_URL", "--config", "empty", "minga db upgrade",
                     "media_dir", "back up", "one transaction"):  # fmt: skip
        assert expected in text, expected

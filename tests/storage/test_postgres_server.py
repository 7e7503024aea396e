"""The throwaway PostgreSQL the tests and benchmarks use (tests/fakes/postgres.py)."""

import socket
import subprocess

import pytest

from tests.fakes.postgres import HOW_TO_GET, find_bindir, main, throwaway_postgres

needs_postgres = pytest.mark.skipif(find_bindir() is None, reason=HOW_TO_GET)


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@needs_postgres
def test_a_throwaway_server_answers_and_is_gone_after() -> None:
    with throwaway_postgres() as server:
        bindir = find_bindir()
        assert bindir is not None
        answer = subprocess.run(
            [str(bindir / "psql"), server.dsn, "-Atc", "SELECT 1"],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        assert answer.stdout.strip() == "1"
        assert server.dsn.startswith("postgresql://postgres@127.0.0.1:")
    assert server.process.poll() is not None  # stopped, and reaped by us
    assert not server.folder.exists()
    assert _refused(server.port)


@needs_postgres
def test_run_gives_the_command_the_address_and_its_exit_code() -> None:
    script = "import os, sys; sys.exit(7 if os.environ['MINGA_TEST_DATABASE'] else 0)"
    assert main(["run", "--", "python3", "-c", script]) == 7


def test_run_without_postgresql_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("tests.fakes.postgres.find_bindir", lambda: None)
    assert main(["run", "--", "true"]) != 0
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1
    assert "apt-get install postgresql" in said[0]


def test_the_session_fixture_gives_an_address(postgres_dsn: str) -> None:
    assert postgres_dsn.startswith("postgresql://")

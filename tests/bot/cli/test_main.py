"""The `minga` command: help, db upgrade, clear errors, and a whole idea through `minga chat`."""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import _parser, main
from storage.migrations import available_migrations

ROOT = Path(__file__).resolve().parents[3]


def _minga(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60, env=environment,
    )  # fmt: skip


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("run", "chat", "db"):
        assert command in out


def test_the_overview_names_every_task_of_a_command() -> None:
    """`minga --help` says "events: add, list, ..."; it must not hide show, edit or link."""
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    overview = {c.dest: c.help or "" for c in commands._choices_actions}
    for command, tasks in (("events", "add list show edit cancel link"),
                           ("ideas", "list show status import reindex similar"),
                           ("calls", "list close results"), ("residents", "show forget"),
                           ("db", "upgrade copy")):  # fmt: skip
        assert all(task in overview[command] for task in tasks.split()), overview[command]


def test_every_subcommand_takes_config(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["run", "--help"], ["chat", "--help"], ["db", "upgrade", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "--config PATH" in capsys.readouterr().out


def test_db_upgrade_creates_and_reports(tmp_path: Path) -> None:
    result = _minga("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    latest = available_migrations()[-1].version
    assert f"schema version 0 -> {latest}" in result.stdout
    assert (tmp_path / "data" / "minga.sqlite3").exists()
    again = _minga("db", "upgrade", cwd=tmp_path).stdout
    assert "up to date" in again and f"schema version {latest}" in again


def test_output_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    """`minga ... | head`: the reader leaves early; no traceback for the operator."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ideas", "list", "--json"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `head` that has read enough, before minga writes anything
    errors = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


def test_run_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    result = _minga("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "telegram.token" in result.stderr and "MINGA_TELEGRAM__TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_stops_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[lab]\ntimezone = "Bogota"\n', "utf-8")
    result = _minga("chat", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "lab.timezone" in result.stderr


async def test_an_unreachable_telegram_is_waited_for(tmp_path: Path) -> None:
    """The network down when `minga run` starts: it keeps running (its web server answers),
    says so once in the log without the token, and stops cleanly on SIGTERM."""
    import asyncio
    import signal
    from importlib.metadata import version

    from bot.config import Settings, WebSettings
    from tests.fakes.graph_api import free_port
    from tests.fakes.minga import until_listening

    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment |= {"MINGA_TELEGRAM__TOKEN": "123456:" + "A" * 30, "MINGA_WEB__PORT": str(port),
                    "MINGA_TELEGRAM__BASE_URL": "http://127.0.0.1:9/bot"}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        health = await until_listening(
            Settings(web=WebSettings(port=port)), timeout=30, ready=False
        )
        assert health["channels"] == {"telegram": "connecting"}
        assert health["version"] == version("minga")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err
    lines = err.decode().strip().splitlines()
    assert f"Minga {version('minga')} starting" in lines[0]
    assert sum("could not reach Telegram" in line for line in lines) == 1
    assert b"AAAAAAAA" not in err + out
    assert b"Traceback" not in err and b"Unclosed" not in err


def test_export_to_a_pipe_prints_only_its_summary(tmp_path: Path) -> None:
    """In a script or a cron job's log: the one summary line, no empty line from the bar."""
    assert _minga("db", "upgrade", cwd=tmp_path).returncode == 0
    result = _minga("export", "ideas", "--format", "csv", "--output", "ideas.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "ideas.csv" in result.stdout.splitlines()[0]


def test_an_idea_filed_in_minga_chat(tmp_path: Path) -> None:
    photo = tmp_path / "hueco.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0fake")
    typed = [
        "1",  # tell an idea (the menu)
        "1",  # a resident
        "1",  # consent
        "Hay un hueco enorme en la calle 80 con carrera 3",
        "/location 4.5012 -74.1120",
        "1",  # first category
        "Taparlo con material reciclado",
        f"/photo {photo}",
        "1",  # continue
        "2",  # with my name
        "Ana",
        "ana@correo.com",
        "1",  # publish, with the photo
        "1",  # send
        "/mis_ideas",
    ]
    result = _minga("chat", "--lang", "es", cwd=tmp_path, stdin="\n".join(typed) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Usme Innova" in result.stdout
    assert re.search(r"MNG-\d{4}-000001", result.stdout)
    assert "Recibida" in result.stdout
    assert result.stdout.rstrip().endswith("Hasta pronto.")
    assert len(list((tmp_path / "data" / "media" / "console").iterdir())) == 1


@pytest.mark.parametrize(
    "argv",
    [["--config", "lab.toml", "db", "upgrade"], ["db", "upgrade", "--config", "lab.toml"],
     ["db", "--config", "lab.toml", "upgrade"], ["--config", "other.toml", "db", "upgrade",
     "--config", "lab.toml"], ["db", "upgrade"]],
)  # fmt: skip
def test_config_is_taken_before_or_after_the_subcommand_and_from_minga_config(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lab.toml").write_text('[storage]\ndatabase = "from-lab.sqlite3"\n', "utf-8")
    if "--config" not in argv:  # the environment variable names it
        monkeypatch.setenv("MINGA_CONFIG", "lab.toml")
    assert main(argv) == 0
    assert "from-lab.sqlite3" in capsys.readouterr().out
    assert (tmp_path / "from-lab.sqlite3").exists()


def test_help_says_where_the_settings_come_from(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--config PATH" in out and "MINGA_CONFIG" in out and "MINGA_TELEGRAM__TOKEN" in out


def test_lang_switches_a_console_person_met_before(tmp_path: Path) -> None:
    """`minga chat --lang en` after a session in Spanish: English from now on, and kept."""
    spanish = _minga("chat", "--lang", "es", cwd=tmp_path, stdin="/mis_ideas\n")
    assert _text("es", "mine.empty") in spanish.stdout
    english = _minga("chat", "--lang", "en", cwd=tmp_path, stdin="/my_ideas\n")
    assert english.returncode == 0, english.stderr
    assert _text("en", "mine.empty") in english.stdout
    assert _text("es", "mine.empty") not in english.stdout
    again = _minga("chat", cwd=tmp_path, stdin="/mis_ideas\n", LANG="es_CO.UTF-8")
    assert _text("en", "mine.empty") in again.stdout  # saved: the next session keeps it


def _text(language: str, key: str) -> str:
    from handlers.engine.catalog import Catalog

    return Catalog.load().text(language, key)


def test_the_command_line_starts_without_the_running_bots_libraries() -> None:
    """`minga --help`, `minga ideas` and the rest load none of what only `minga run`, `minga
    chat` or one subcommand uses (kept in function-local imports for start-up time)."""
    heavy = ("telegram", "starlette", "apscheduler", "rich.progress", "bot.runner")
    code = f"import sys, bot.cli.main; print([m for m in {heavy!r} if m in sys.modules])"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=ROOT)  # fmt: skip
    assert found.stdout.strip() == "[]"


def test_version_is_the_installed_package_s(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.split() == ["minga", version("minga")]


def test_doctor_documents_its_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["doctor", "--help"])
    out = capsys.readouterr().out
    assert all(flag in out for flag in ("--send-test", "--json", "--config PATH"))

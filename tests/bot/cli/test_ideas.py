"""`minga ideas list|show|status` and `minga export ideas` as staff script them: --json, the
same notification as the chat's buttons, one clear line and exit 2 for a bad argument."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.cli.output import counted
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.sql import cli_database, cli_in
from tests.handlers.exports.helpers import PEOPLE, seed


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    cli_in(tmp_path, monkeypatch)

    async def fill() -> list[str]:
        database = await Database.open(cli_database())
        try:
            return await seed(database, FakeClock().now())
        finally:
            await database.close()

    return asyncio.run(fill())


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:  # JSON: the test reads it
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_show_and_change_a_status(capsys: pytest.CaptureFixture[str]) -> None:
    listed = _json(capsys, "ideas", "list")
    assert len(listed) == len(PEOPLE) and listed[0]["reference"] == "MNG-2026-000004"
    assert [i["reference"] for i in _json(capsys, "ideas", "list", "--status", "not_selected")] == [
        "MNG-2026-000004"
    ]
    assert _json(capsys, "ideas", "list", "--since", "2030-01-01") == []
    shown = _json(capsys, "ideas", "show", "mng-2026-000001")
    assert shown["problem"].startswith("Problema 0") and shown["history"][0]["status"] == "received"
    changed = _json(capsys, "ideas", "status", "MNG-2026-000001", "in_review", "--note",
                    "Ver con la JAC")  # fmt: skip
    assert changed["status"] == "in_review" and changed["told"] == 1
    history = _json(capsys, "ideas", "show", "MNG-2026-000001")["history"]
    assert [(e["kind"], e["actor"]) for e in history[1:]] == [("note", "cli"), ("status", "cli")]
    duplicate = _json(capsys, "ideas", "status", "MNG-2026-000002", "duplicate", "--of",
                      "MNG-2026-000001")  # fmt: skip
    assert duplicate["duplicate_of_reference"] == "MNG-2026-000001"


def test_bad_arguments_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ideas", "status", "MNG-2026-000001", "not_selected"]) == 2
    assert "needs a reason" in capsys.readouterr().err
    assert main(["ideas", "show", "MNG-2026-999999"]) == 2
    assert "MNG-2026-999999" in capsys.readouterr().err
    assert main(["ideas", "list", "--since", "ayer"]) == 2
    assert "--since" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ideas", "status", "MNG-2026-000001", "archived"])
    assert "in_review" in capsys.readouterr().err  # the stored values are listed


def test_status_help_lists_the_stored_values(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["ideas", "status", "--help"])
    out = capsys.readouterr().out
    assert all(value in out for value in ("received", "in_review", "not_selected", "duplicate"))


@pytest.mark.parametrize("format", ["csv", "xlsx", "geojson", "open311"])
def test_export_writes_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, format: str
) -> None:
    out = tmp_path / f"out.{format}"
    done = _json(capsys, "export", "ideas", "--format", format, "--output", str(out))
    assert done["ideas"] == len(PEOPLE) and out.stat().st_size > 0
    assert "Rojas" not in out.read_bytes().decode("utf-8", "ignore")
    _json(capsys, "export", "ideas", "--format", format, "--output", str(out), "--with-contact")
    if format != "xlsx":
        assert "Rojas" in out.read_text("utf-8-sig")


@pytest.mark.parametrize("name", ["MNG-2026-000004", "mng-2026-000004", "4", "000004", "#4",
                                  "2026-000004"])  # fmt: skip
def test_every_idea_command_takes_the_reference_or_the_short_number(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert _json(capsys, "ideas", "show", name)["reference"] == "MNG-2026-000004"
    changed = _json(capsys, "ideas", "status", name, "in_review")
    assert changed["reference"] == "MNG-2026-000004"
    duplicate = _json(capsys, "ideas", "status", "3", "duplicate", "--of", name)
    assert duplicate["duplicate_of_reference"] == "MNG-2026-000004"
    shown = _json(capsys, "residents", "show", "--idea", name)
    assert "MNG-2026-000004" in json.dumps(shown)


def test_an_unknown_idea_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ideas", "status", "99", "in_review"]) == 2
    err = capsys.readouterr().err
    assert "99" in err and err.count("\n") == 1 and "Traceback" not in err


def test_show_gives_times_in_the_labs_zone_without_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ideas", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert not re.search(r"\d:\d\d:\d\d", out), out
    assert "2026-08-16 14:00" in out  # the fake clock's 19:00 UTC, in Bogotá


def test_human_output_counts_with_plural_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """One resident told is "1 resident", not "1 residents" (Babel's English rule)."""
    assert main(["ideas", "status", "MNG-2026-000001", "in_review"]) == 0
    line = capsys.readouterr().out
    assert re.search(r"\b1 resident will be told", line), line
    assert main(["ideas", "status", "MNG-2026-000001", "selected"]) == 0
    assert "1 residents" not in capsys.readouterr().out


def test_counted_follows_the_cldr_rule() -> None:
    from bot.cli.output import counted

    assert [counted(n, "idea", "ideas") for n in (0, 1, 2, 5)] == [
        "0 ideas", "1 idea", "2 ideas", "5 ideas"
    ]  # fmt: skip


# "1 ideas", "1 residents", "1 files": a count of one with a plural noun after it.
ONE_WITH_A_PLURAL = re.compile(r"\b1 (?:[a-z-]+ )?(?:ideas|residents|files|photos)\b")


def test_counts_read_right(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert [counted(n, "idea") for n in (0, 1, 2)] == ["0 ideas", "1 idea", "2 ideas"]
    assert main(["ideas", "status", "MNG-2026-000001", "in_review"]) == 0  # one author told
    told = capsys.readouterr().out
    assert "1 resident" in told and not ONE_WITH_A_PLURAL.search(told), told
    assert main(["residents", "forget", "--idea", "MNG-2026-000001", "--yes"]) == 0
    erased = capsys.readouterr().out
    assert "1 idea" in erased and not ONE_WITH_A_PLURAL.search(erased), erased


def test_show_gives_the_history_in_the_labs_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ideas", "show", "MNG-2026-000001"]) == 0
    history = capsys.readouterr().out.split("history")[1]
    # Filed at 19:00 UTC (the fake clock): 14:00 in Bogotá, the lab's time zone.
    assert "2026-08-16 14:00" in history and "19:00" not in history

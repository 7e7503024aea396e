"""`minga staff add|remove|list|link-group` (issue 20): the team managed on the server, by
Telegram id or by the @username of someone who has written to the bot; the config's list seeds
it, and a removal is not undone by the config at the next start."""

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from handlers.engine.catalog import Catalog
from handlers.engine.settings import FlowSettings
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.sql import cli_database, cli_in

ANA = 7001


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_in(tmp_path, monkeypatch)


def _writes_to_the_bot(user: int, username: str | None, *, group: str | None = None,
                       command: str = "start", argument: str | None = None) -> Chat:  # fmt: skip
    """Someone sends the bot a message on Telegram (a bot without a restart in between)."""

    async def write() -> Chat:
        database = await Database.open(cli_database())
        try:
            chat = Chat(Dispatcher(database, FlowSettings(), Catalog.load(), FakeClock()),
                        Catalog.load(), FakeClock(), user=str(user), channel="telegram",
                        username=username, group=group)  # fmt: skip
            await chat.send(command=command, argument=argument)
            return chat
        finally:
            await database.close()

    return asyncio.run(write())


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["staff", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _listed(capsys: pytest.CaptureFixture[str]) -> dict[int, dict[str, Any]]:
    return {member["id"]: member for member in _json(capsys, "list")["staff"]}


def test_add_list_and_remove_by_id_and_username(capsys: pytest.CaptureFixture[str]) -> None:
    _writes_to_the_bot(ANA, "Ana_Rojas")
    assert main(["staff", "add", "@ana_rojas"]) == 0
    assert "@Ana_Rojas (7001)" in capsys.readouterr().out
    assert _json(capsys, "add", "8001", "--admin")["outcome"] == "added"

    listed = _listed(capsys)
    assert listed[ANA]["username"] == "Ana_Rojas" and listed[ANA]["role"] == "staff"
    assert listed[8001]["role"] == "admin"
    assert main(["staff", "list"]) == 0
    table = capsys.readouterr().out
    assert "@Ana_Rojas" in table and "8001" in table and "admin" in table

    assert _json(capsys, "add", str(ANA), "--admin")["outcome"] == "changed"
    assert main(["staff", "remove", "@Ana_Rojas"]) == 0
    capsys.readouterr()
    assert ANA not in _listed(capsys)
    assert main(["staff", "remove", str(ANA)]) == 2  # not staff any more: one line
    assert "not staff" in capsys.readouterr().err


def test_an_unknown_username_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "add", "@nadie_aqui"]) == 2
    error = capsys.readouterr().err
    assert "@nadie_aqui" in error and "written to the bot" in error and len(error.splitlines()) == 1
    assert main(["staff", "add", "ana!"]) == 2
    assert "Telegram id" in capsys.readouterr().err
    assert _listed(capsys) == {}


def test_the_config_seeds_the_team_and_a_removal_sticks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.toml").write_text("[staff]\ntelegram_ids = [4242, 4343]\n", "utf-8")
    listed = _listed(capsys)
    assert set(listed) == {4242, 4343}
    assert {m["role"] for m in listed.values()} == {"staff"}
    assert {m["added_by"] for m in listed.values()} == {"config"}

    assert main(["staff", "remove", "4242"]) == 0
    assert "config" in capsys.readouterr().out  # says it is still listed there
    assert set(_listed(capsys)) == {4343}  # opened again, seeded again: not back
    assert _json(capsys, "add", "4242")["outcome"] == "added"
    assert set(_listed(capsys)) == {4242, 4343}


def test_link_group_prints_a_code_that_links_the_group(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["staff", "link-group"]) == 0
    printed = capsys.readouterr().out
    code = printed.split()[1]  # "Code: K7PM-3QXD ..."
    assert f"/vincular {code}" in printed and f"/link {code}" in printed
    made = _json(capsys, "link-group")
    lasts = datetime.fromisoformat(made["expires_at"]) - datetime.now().astimezone()
    assert timedelta(minutes=55) < lasts <= timedelta(hours=1)
    assert _json(capsys, "list")["group"] is None

    installer = _writes_to_the_bot(9100, None, group="-1005550001", command="vincular",
                                   argument=code)  # fmt: skip
    assert installer.said("team.linked")
    assert _json(capsys, "list")["group"] == -1005550001

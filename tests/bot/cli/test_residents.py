"""`minga residents show|forget`: an access or erasure request received in person, answered
on the server: by channel and user id, or by an idea's reference."""

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli.main import main
from handlers.engine.catalog import Catalog
from handlers.privacy.consent import Purpose
from storage.database import Database
from storage.supports import NewSupport
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


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


async def _idea(reference: str):
    database = await Database.open(cli_database())
    try:
        return await database.reader().idea_search.by_reference(reference)
    finally:
        await database.close()


def test_show_answers_an_access_request(capsys: pytest.CaptureFixture[str]) -> None:
    shown = _json(capsys, "residents", "show", "--channel", "telegram", "--user", "100")
    name, contact = PEOPLE[0][0], PEOPLE[0][1]
    assert shown["ideas"][0]["contact_name"] == name and shown["ideas"][0]["contact"] == contact
    assert main(["residents", "show", "--idea", "MNG-2026-000001"]) == 0
    text = capsys.readouterr().out
    assert "MNG-2026-000001" in text and name in text


def test_forget_by_reference_keeps_the_idea_anonymised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["residents", "forget", "--idea", "MNG-2026-000001"]) == 2  # no terminal: --yes
    assert "--yes" in capsys.readouterr().err
    done = _json(capsys, "residents", "forget", "--idea", "MNG-2026-000001", "--yes")
    assert (done["ideas_kept"], done["ideas_withdrawn"]) == (1, 0)
    idea = asyncio.run(_idea("MNG-2026-000001"))
    assert (idea.contact_name, idea.contact, idea.latitude, idea.media) == (None, None, None, ())
    assert main(["residents", "show", "--channel", "telegram", "--user", "100"]) == 2
    assert "no such resident" in capsys.readouterr().err


def test_forget_can_withdraw_the_ideas(capsys: pytest.CaptureFixture[str]) -> None:
    done = _json(capsys, "residents", "forget", "--channel", "telegram", "--user", "101",
                 "--withdraw-ideas", "--yes")  # fmt: skip
    assert done["ideas_withdrawn"] == 1
    assert asyncio.run(_idea("MNG-2026-000002")) is None


def test_who_must_be_said(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["residents", "show"]) == 2
    assert "--channel and --user, or --idea" in capsys.readouterr().err


def test_show_is_the_operators_view_not_the_residents_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["residents", "show", "--channel", "telegram", "--user", "100"]) == 0
    text = capsys.readouterr().out
    name, contact = PEOPLE[0][0], PEOPLE[0][1]
    for held in ("MNG-2026-000001", name, contact, "telegram", "100"):
        assert held in text
    for purpose in Purpose:  # each consent, by the name the consent log gives it
        assert purpose.value in text
    catalog = Catalog.load()
    words = {word for line in text.splitlines() for word in line.split()}
    assert not any(word.startswith("/") for word in words)  # no chat commands to type
    for language in ("es", "en"):
        assert catalog.text(language, "my_data.footer") not in text
        assert catalog.text(language, "my_data.title", lab="Usme Innova") not in text
    shown = _json(capsys, "residents", "show", "--channel", "telegram", "--user", "100")
    assert set(shown) == {"id", "resident", "consents", "ideas", "follows", "supports",
                          "events", "draft", "draft_files"}  # fmt: skip


def test_show_and_forget_cover_the_ideas_a_resident_joined(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    async def join() -> None:
        database = await Database.open(cli_database())
        try:
            async with database.transaction() as repos:
                beto = await repos.residents.find("telegram", "101")
                first = await repos.idea_search.by_reference("MNG-2026-000001")
                assert beto is not None and first is not None
                await repos.supports.add(NewSupport(first.id, beto.id, detail="Y de noche",
                                                    photo_path="telegram/j.jpg"),
                                         FakeClock().now())  # fmt: skip
        finally:
            await database.close()

    asyncio.run(join())
    assert main(["residents", "show", "--channel", "telegram", "--user", "101"]) == 0
    text = capsys.readouterr().out
    assert "joined ideas: 1" in text and "Y de noche" in text and "photo: yes" in text
    shown = _json(capsys, "residents", "show", "--channel", "telegram", "--user", "101")
    assert [(s["reference"], s["detail"], s["photo"]) for s in shown["supports"]] == [
        ("MNG-2026-000001", "Y de noche", True)
    ]
    forgotten = _json(capsys, "residents", "forget", "--channel", "telegram", "--user", "101",
                      "--yes")  # fmt: skip
    assert forgotten["files"] == 1  # the photo she added when joining

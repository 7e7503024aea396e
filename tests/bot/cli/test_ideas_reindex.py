"""`minga ideas reindex`: ideas filed before similar ideas existed get their vectors (with the
real model), once."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.similar import MODEL
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.sql import cli_database, cli_in
from tests.handlers.exports.helpers import PEOPLE, seed


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_in(tmp_path, monkeypatch)

    async def fill() -> None:
        database = await Database.open(cli_database())
        try:
            await seed(database, FakeClock().now())
        finally:
            await database.close()

    asyncio.run(fill())


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_reindex_gives_every_idea_a_vector_once(capsys: pytest.CaptureFixture[str]) -> None:
    first = _json(capsys, "ideas", "reindex")
    assert first == {"indexed": len(PEOPLE), "with_vector": len(PEOPLE), "model": MODEL}
    assert _json(capsys, "ideas", "reindex")["indexed"] == 0
    assert main(["ideas", "reindex"]) == 0
    assert "0 ideas indexed" in capsys.readouterr().out

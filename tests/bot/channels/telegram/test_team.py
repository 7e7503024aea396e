"""The team managed in place, through the real python-telegram-bot Application and the fake Bot
API (issue 20): someone who wrote to the bot is added by @username with `minga staff add`, the
installer links the group with the code `minga staff link-group` printed, and the running bot
(never restarted) treats them as staff and sends the staff's alerts to that group."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from handlers.engine.catalog import Catalog
from handlers.engine.settings import StaffSettings
from handlers.engine.team import FRESH
from handlers.staff.alerts import queue_channel_alert
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.minga import Running, telegram_settings
from tests.fakes.telegram_api import FakeBotApi

STAFF = 4242
ANA = 7001
INSTALLER = 9100  # links the group; not staff
GROUP = -1005550001
es = Catalog.load().translator("es")


async def _ana_says(api: FakeBotApi, text: str) -> None:
    """Ana writes; Telegram sends her @username with each of her messages."""
    update = api.text_update(ANA, text)
    update["message"]["from"]["username"] = "Ana_Rojas"
    await api.push(update)


def _minga(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    """`minga ... --json` as a separate program would run it, next to the running bot."""
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


async def test_staff_and_group_managed_while_the_bot_runs(
    api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    settings = telegram_settings(
        api, tmp_path, telegram={"bulk_seconds_per_chat": 0},
        staff=StaffSettings(telegram_ids=(STAFF,)),  # no group in the config
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)  # `minga` on the same database as the bot
    monkeypatch.setenv("MINGA_STORAGE__DATABASE", str(settings.storage.database))
    clock = FakeClock()
    async with Running(settings, clock=clock) as bot:
        await _ana_says(api, "/start")
        await api.expect(ANA, "")
        await _ana_says(api, "/equipo")
        await api.expect(ANA, es("staff.only"))

        added = await asyncio.to_thread(_minga, capsys, "staff", "add", "@ana_rojas")
        assert added["id"] == ANA and added["username"] == "Ana_Rojas"
        code = (await asyncio.to_thread(_minga, capsys, "staff", "link-group"))["code"]

        await api.send_text(INSTALLER, "/vincular@minga_test_bot WRONG-CODE", group=GROUP)
        await api.expect(GROUP, es("team.bad_code"))
        await api.send_text(INSTALLER, f"/vincular@minga_test_bot {code}", group=GROUP)
        await api.expect(GROUP, es("team.linked", lab=settings.lab.name))

        clock.advance(seconds=FRESH.total_seconds())  # `minga staff add` was another process
        await _ana_says(api, "/equipo")
        team = await api.expect(ANA, es("team.title"))
        assert "@Ana_Rojas (7001)" in team["text"] and str(GROUP) in team["text"]

        # An alert for the staff, queued as the sending side does: to the group linked.
        database = await Database.open(settings.storage.database)
        try:
            async with database.transaction() as repos:
                await queue_channel_alert(repos, settings.flow, "whatsapp", "cuenta restringida",
                                          3600, clock.now())  # fmt: skip
        finally:
            await database.close()
        await bot.caught_up()
        await api.expect(GROUP, "cuenta restringida")
    assert not api.sent[INSTALLER]  # nothing went to the installer's private chat

"""The logs at INFO carry ids, never what identifies or was told by a resident: a whole
intake with a name, an e-mail and a phone number, on Telegram (WhatsApp, where the user id
is a phone number: tests/bot/channels/whatsapp/test_log_privacy.py), scanned line by line."""

import json
import logging

import pytest

from bot.config import Settings
from bot.logs import JsonFormatter
from handlers.engine.catalog import Catalog
from tests.fakes.leaks import EMAIL, IDEA, NAME, PHONE, PROBLEM, leaks
from tests.fakes.minga import Running
from tests.fakes.telegram_api import FakeBotApi

es = Catalog.load().translator("es")


async def test_a_telegram_intake_leaves_no_personal_data_in_the_logs(
    api: FakeBotApi, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await _intake(api, settings)
    assert any(record.levelno == logging.INFO for record in caplog.records)
    assert leaks(caplog) == []


async def test_json_log_lines_of_an_intake_carry_ids_and_no_personal_data(
    api: FakeBotApi, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """[log] format = "json": every line one JSON object, the turn's ids as fields, and
    nothing a resident wrote or is called."""
    caplog.set_level(logging.INFO)
    caplog.handler.setFormatter(JsonFormatter())
    await _intake(api, settings)
    lines = [json.loads(caplog.handler.format(record)) for record in caplog.records]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    turns = [line for line in lines if line["message"].startswith("turn ")]
    assert turns and all(line["channel"] == "telegram" and line["resident"] for line in turns)
    assert leaks(caplog) == []


async def _intake(api: FakeBotApi, settings: Settings) -> None:
    """A whole intake with a name, an e-mail and a phone number, then /corregir and
    /mis_datos."""
    user = 5550777
    async with Running(settings):
        await api.send_text(user, "/start")
        await api.expect(user, es("role.ask"))
        await api.press(user, "role:resident")
        await api.expect(user, "politica-de-privacidad")
        await api.press(user, "consent:yes")
        await api.expect(user, es("problem.ask"))
        await api.send_text(user, PROBLEM)
        await api.expect(user, es("location.ask"))
        await api.send_text(user, "Comuneros")
        await api.expect(user, es("category.ask"))
        await api.press(user, "category:environment")
        await api.expect(user, es("idea.ask"))
        await api.send_text(user, IDEA)
        await api.expect(user, es("photos.ask", max=3))
        await api.press(user, "photos:done")
        await api.expect(user, es("identity.ask"))
        await api.press(user, "identity:named")
        await api.expect(user, es("name.ask"))
        await api.send_text(user, NAME)
        await api.expect(user, es("contact.ask").split("\n")[0])
        await api.send_text(user, EMAIL)
        await api.expect(user, es("publish.ask", lab="Usme Innova"))
        await api.press(user, "publish:no")
        await api.expect(user, es("summary.intro"))
        await api.press(user, "summary:send")
        await api.expect(user, "MNG-")
        await api.send_text(user, "/corregir")
        await api.expect(
            user,
            es(
                "fix.which",
                values=es("my_data.name_values", values=NAME, count=1)
                + " · "
                + es("my_data.contact_values", values=EMAIL, count=1),
            ).split("\n")[0],
        )
        await api.press(user, "fix:contact")
        await api.send_text(user, PHONE)
        await api.expect(user, es("fix.done", count=1))
        await api.send_text(user, "/mis_datos")
        await api.expect(user, NAME)

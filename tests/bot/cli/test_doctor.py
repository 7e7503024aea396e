"""`minga doctor` against the fake Bot API and the fake Graph API: an installation that is
ready passes every check, and each way of not being ready is caught by its own check, which
says what to do; the exit status says whether all passed."""

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.cli import doctor
from bot.cli.doctor import Check, diagnose
from bot.cli.main import main
from handlers.engine.catalog import Catalog
from storage.database import Database
from storage.migrations import latest_version
from tests.bot.test_web import _set_version
from tests.fakes.clock import FakeClock
from tests.fakes.graph_api import (
    ACCESS_TOKEN,
    API_VERSION,
    APP_SECRET,
    BUSINESS_ACCOUNT_ID,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraphApi,
)
from tests.fakes.sql import database_for
from tests.fakes.telegram_api import BOT_USER, TOKEN, FakeBotApi

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

STAFF = 111
GROUP = -100777
PLENTY = SimpleNamespace(free=50 * 1024**3, total=100 * 1024**3)
TEMPLATES = {"reminder": {"es": "minga_recordatorio", "en": "minga_reminder"}}


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    server = FakeGraphApi()
    server.templates = [
        {"name": "minga_recordatorio", "language": "es", "status": "APPROVED"},
        {"name": "minga_reminder", "language": "en", "status": "APPROVED"},
    ]
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def ready(api: FakeBotApi, graph: FakeGraphApi, tmp_path: Path) -> dict[str, Any]:
    """An installation that passes: the database migrated, the bot known to its staff and in
    their group, WhatsApp's templates approved, the lab's own name and policy."""
    database = database_for(tmp_path)
    await (await Database.open(database)).close()
    (tmp_path / "media").mkdir(mode=0o700)
    api.knows(STAFF)
    api.group(GROUP)
    return {
        "lab": {"name": "Laboratorio de Prueba", "privacy_policy_url": "https://lab.example.org/p"},
        "storage": {"database": str(database), "media_dir": str(tmp_path / "media")},
        "telegram": {"token": TOKEN, "base_url": api.base_url, "bot_username": "minga_test_bot"},
        "staff": {"telegram_ids": [STAFF], "group_chat_id": GROUP},
        "whatsapp": {"phone_number_id": PHONE_NUMBER_ID, "access_token": ACCESS_TOKEN,
                     "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN,
                     "api_version": API_VERSION, "base_url": graph.base_url,
                     "business_account_id": BUSINESS_ACCOUNT_ID, "templates": TEMPLATES},
    }  # fmt: skip


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))


def write_config(tmp_path: Path, sections: dict[str, Any]) -> str:
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return str(path)


async def checks_of(tmp_path: Path, sections: dict[str, Any], **options: Any) -> dict[str, Check]:
    options.setdefault("disk_usage", lambda path: PLENTY)
    found = await diagnose(write_config(tmp_path, sections), **options)
    return {check.name: check for check in found}


def failed(checks: dict[str, Check]) -> dict[str, Check]:
    return {name: check for name, check in checks.items() if check.status == "fail"}


@pytest.fixture(autouse=True)
def _no_minga_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MINGA_"):
            monkeypatch.delenv(name)


# -- all pass ---------------------------------------------------------------------------------


async def test_a_ready_installation_passes_every_check(
    ready: dict[str, Any], tmp_path: Path
) -> None:
    checks = await checks_of(tmp_path, ready)
    assert failed(checks) == {}
    expected = {"config", "database", "migrations", "files", "telegram_token", "telegram_updates",
                "staff_group", "staff_ids", "whatsapp_number", "whatsapp_templates",
                "lab_details", "disk_space", "clock"}  # fmt: skip
    assert set(checks) == expected
    assert all(checks[name].status == "ok" for name in expected)  # nothing skipped: all apply


async def test_exit_status_and_json_for_scripts(
    ready: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda path: PLENTY)
    config = write_config(tmp_path, ready)
    assert await asyncio.to_thread(main, ["doctor", "--json", "--config", config]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True
    assert {c["status"] for c in document["checks"]} == {"ok"}
    assert all(set(c) == {"name", "status", "message", "fix"} for c in document["checks"])

    ready["lab"]["name"] = "Usme Innova"  # the example's
    config = write_config(tmp_path, ready)
    assert await asyncio.to_thread(main, ["doctor", "--config", config]) == 1
    lines = capsys.readouterr().out.splitlines()
    [lab] = [text for text in lines if "lab_details" in text]
    assert lab.startswith("FAIL") and "->" in lab  # one line, with what to do


async def test_whatsapp_not_configured_is_skipped_and_passes(
    ready: dict[str, Any], tmp_path: Path
) -> None:
    del ready["whatsapp"]
    checks = await checks_of(tmp_path, ready)
    assert failed(checks) == {}
    assert checks["whatsapp_number"].status == checks["whatsapp_templates"].status == "skip"


# -- each failure, provoked ---------------------------------------------------------------------


async def test_a_bad_token(ready: dict[str, Any], tmp_path: Path) -> None:
    ready["telegram"]["token"] = "999999:WRONG-abcdefghijklmnopqrstuvwxyz"
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"telegram_token"}
    assert "BotFather" in checks["telegram_token"].fix
    # What needs the token is not tried (and not failed twice).
    assert checks["staff_group"].status == checks["staff_ids"].status == "skip"


async def test_the_token_of_another_bot(ready: dict[str, Any], tmp_path: Path) -> None:
    ready["telegram"]["bot_username"] = "usme_innova_bot"
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"telegram_token"}
    assert BOT_USER["username"] in checks["telegram_token"].message
    assert "usme_innova_bot" in checks["telegram_token"].message


async def test_webhook_mode_with_no_webhook_registered(
    api: FakeBotApi, ready: dict[str, Any], tmp_path: Path
) -> None:
    url = "https://minga.example.org/webhooks/telegram"
    ready["telegram"] |= {"mode": "webhook", "webhook_url": url, "webhook_secret": "s3cret"}
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"telegram_updates"}
    assert "minga run" in checks["telegram_updates"].fix

    api.registered_webhook = "https://old.example.org/hook"  # another installation's
    checks = await checks_of(tmp_path, ready)
    assert "old.example.org" in failed(checks)["telegram_updates"].message

    api.registered_webhook = url
    assert failed(await checks_of(tmp_path, ready)) == {}


async def test_another_program_polls_the_bot(
    api: FakeBotApi, ready: dict[str, Any], tmp_path: Path
) -> None:
    api.another_poller = True
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"telegram_updates"}
    assert "409" in checks["telegram_updates"].message

    api.another_poller = False
    api.registered_webhook = "https://elsewhere.example.org/hook"  # polling, but a webhook is set
    checks = await checks_of(tmp_path, ready)
    assert "elsewhere.example.org" in failed(checks)["telegram_updates"].message


async def test_the_staff_group_unreachable(
    api: FakeBotApi, ready: dict[str, Any], tmp_path: Path
) -> None:
    ready["staff"]["group_chat_id"] = -100999  # not a group the bot was added to
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"staff_group"}
    assert "group_chat_id" in checks["staff_group"].fix


async def test_the_bot_removed_from_the_staff_group(
    api: FakeBotApi, ready: dict[str, Any], tmp_path: Path
) -> None:
    api.group(GROUP, bot_status="kicked")
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"staff_group"}
    assert f"@{BOT_USER['username']}" in checks["staff_group"].fix


async def test_a_staff_id_unknown_to_the_bot(ready: dict[str, Any], tmp_path: Path) -> None:
    ready["staff"]["telegram_ids"] = [STAFF, 222]
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"staff_ids"}
    assert "222" in checks["staff_ids"].message and str(STAFF) not in checks["staff_ids"].message


async def test_the_team_and_group_the_bot_uses_are_the_database_s(
    api: FakeBotApi, ready: dict[str, Any], tmp_path: Path
) -> None:
    """Staff added with minga staff and a group linked with /vincular are what the doctor
    checks, not only the config's seed."""
    linked, added = -100888, 333
    database = await Database.open(ready["storage"]["database"])
    try:
        async with database.transaction() as repos:
            await repos.staff.add(added, "staff", username=None, by="test", now=NOW)
            await repos.staff.link_group(linked, by="test", now=NOW)
    finally:
        await database.close()
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"staff_group", "staff_ids"}
    assert str(linked) in checks["staff_group"].message
    assert str(added) in checks["staff_ids"].message
    api.group(linked)
    api.knows(added)
    assert failed(await checks_of(tmp_path, ready)) == {}


async def test_a_bad_whatsapp_token(ready: dict[str, Any], tmp_path: Path) -> None:
    ready["whatsapp"]["access_token"] = "EAAG-expired"
    checks = await checks_of(tmp_path, ready)
    assert {"whatsapp_number", "whatsapp_templates"} == set(failed(checks))
    assert "MINGA_WHATSAPP__ACCESS_TOKEN" in checks["whatsapp_number"].fix


async def test_a_template_not_approved(
    graph: FakeGraphApi, ready: dict[str, Any], tmp_path: Path
) -> None:
    graph.templates[1]["status"] = "PENDING"
    ready["whatsapp"]["templates"] = TEMPLATES | {"broadcast": {"es": "minga_aviso"}}  # missing
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"whatsapp_templates"}
    message = checks["whatsapp_templates"].message
    assert "reminder/en" in message and "pending" in message
    assert "broadcast/es" in message and "not found" in message
    assert "reminder/es" not in message  # approved, on another page of Meta's list


async def test_the_example_lab_name_and_policy(ready: dict[str, Any], tmp_path: Path) -> None:
    del ready["lab"]
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"lab_details"}
    assert "lab.name" in checks["lab_details"].message
    assert "lab.privacy_policy_url" in checks["lab_details"].message


async def test_a_pending_migration(ready: dict[str, Any], tmp_path: Path) -> None:
    database = database_for(tmp_path)
    await asyncio.to_thread(_set_version, database, latest_version() - 1)
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"migrations"}
    assert "minga db upgrade" in checks["migrations"].fix
    # The doctor changes nothing: the migration is still pending.
    opened = await Database.open(database, migrate=False)
    try:
        assert await opened.schema_version() == latest_version() - 1
    finally:
        await opened.close()


async def test_files_readable_by_others(ready: dict[str, Any], tmp_path: Path) -> None:
    database = database_for(tmp_path)
    (tmp_path / "media").chmod(0o755)
    if isinstance(database, Path):  # SQLite: its file too (PostgreSQL's are the server's)
        database.chmod(0o644)
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"files"}
    assert "chmod 700" in checks["files"].fix and str(tmp_path / "media") in checks["files"].fix
    if isinstance(database, Path):
        assert f"chmod 600 {database}" in checks["files"].fix
        assert database.stat().st_mode & 0o077  # looked at, not changed
    else:
        assert "PostgreSQL" in checks["files"].message


async def test_a_bad_time_zone(ready: dict[str, Any], tmp_path: Path) -> None:
    ready["lab"]["timezone"] = "America/Bogata"
    checks = await checks_of(tmp_path, ready)
    assert set(failed(checks)) == {"config", "clock"}
    assert "timezone" in checks["config"].message
    assert "America/Bogata" in checks["clock"].message


async def test_a_clock_off_by_more_than_a_minute(ready: dict[str, Any], tmp_path: Path) -> None:
    late = FakeClock(datetime.now(UTC) - timedelta(minutes=5))
    checks = await checks_of(tmp_path, ready, clock=late)
    assert set(failed(checks)) == {"clock"}
    assert "behind" in checks["clock"].message


async def test_not_enough_disk_space(ready: dict[str, Any], tmp_path: Path) -> None:
    nearly_full = SimpleNamespace(free=100 * 1024**2, total=100 * 1024**3)
    checks = await checks_of(tmp_path, ready, disk_usage=lambda path: nearly_full)
    assert set(failed(checks)) == {"disk_space"}
    assert "100 MB free" in checks["disk_space"].message


async def test_a_database_not_created_yet(ready: dict[str, Any], tmp_path: Path) -> None:
    ready["storage"]["database"] = str(tmp_path / "new" / "minga.sqlite3")
    checks = await checks_of(tmp_path, ready)
    assert checks["database"].status == "fail" and "minga db upgrade" in checks["database"].fix
    assert not (tmp_path / "new").exists()  # not created by looking


# -- the test message ---------------------------------------------------------------------------


async def test_send_test_posts_to_the_staff_group(
    api: FakeBotApi, ready: dict[str, Any], tmp_path: Path
) -> None:
    checks = await checks_of(tmp_path, ready, send_test=True)
    assert failed(checks) == {} and checks["send_test"].status == "ok"
    [message] = api.sent[GROUP]
    expected = Catalog.load().text("es", "doctor.test_message", lab="Laboratorio de Prueba")
    assert message["text"] == expected

    api.group(GROUP, bot_status="left")
    api.blocked.add(GROUP)
    checks = await checks_of(tmp_path, ready, send_test=True)
    assert set(failed(checks)) == {"staff_group", "send_test"}


async def test_without_send_test_nothing_is_sent(
    api: FakeBotApi, ready: dict[str, Any], tmp_path: Path
) -> None:
    await checks_of(tmp_path, ready)
    assert not any(api.sent.values())
    assert not api.called("sendMessage")

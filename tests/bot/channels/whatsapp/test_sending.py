"""Sending on WhatsApp through the sender: the 24-hour window and its templates, and the
reaction to each of Meta's error codes, whether the Graph API answers it at once or a status
webhook reports it later."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.whatsapp import channel as whatsapp_channel
from bot.config import Settings
from handlers.engine.settings import StaffSettings
from handlers.outbound.broadcasts import Audience, queue_broadcast
from storage.database import Database
from tests.bot.channels.whatsapp.conftest import until_listening, webhook_url, whatsapp_settings
from tests.fakes.graph_api import FakeGraphApi, envelope, post_signed, text_of
from tests.fakes.minga import Running
from tests.fakes.sql import connect
from tests.fakes.wait import wait_for

TEXT = "📣 Este sábado lanzamos Usme Innova en la Alcaldía Local.\n¡Les esperamos!"
OPEN, CLOSED = timedelta(hours=2), timedelta(hours=30)  # since the resident last wrote
TEMPLATES = {"broadcast": {"es": {"name": "minga_anuncio", "language": "es_CO"}}}


async def _residents(settings: Settings, *wa_ids_and_ages: tuple[str, timedelta]) -> None:
    """Residents who opted in to announcements and last wrote that long ago."""
    database = await Database.open(settings.storage.database)
    await database.close()
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    async with connect(settings.storage.database) as db:
        for wa_id, age in wa_ids_and_ages:
            cursor = await db.execute(
                "INSERT INTO residents (channel, user_key, language, created_at, announcements_at,"
                " announcements_version) VALUES ('whatsapp', ?, 'es', ?, ?, '2026-08')"
                " RETURNING id",
                (wa_id, stamp, stamp),
            )
            row = await cursor.fetchone()
            assert row is not None
            last = (now - age).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            await db.execute("INSERT INTO conversations (resident_id, step, draft, updated_at) "
                             "VALUES (?, 'idle', '{}', ?)", (row[0], last))  # fmt: skip
        await db.commit()


async def _broadcast(settings: Settings) -> None:
    database = await Database.open(settings.storage.database)
    try:
        async with database.transaction() as repos:
            now = datetime.now(UTC)
            await queue_broadcast(repos, text=TEXT, event_id=None, audience=Audience("all"),
                                  created_by="test", reporter_id=None, now=now)  # fmt: skip
    finally:
        await database.close()


async def _outbox(settings: Settings) -> dict[str, tuple[str, str | None]]:
    async with connect(settings.storage.database) as db:
        rows = await db.execute_fetchall(
            "SELECT r.user_key, o.status, o.last_error FROM outbox AS o JOIN residents AS r "
            "ON r.id = o.recipient_id WHERE o.kind = 'broadcast'")  # fmt: skip
    return {row[0]: (row[1], row[2]) for row in rows}


def _status(message_id: str, wa_id: str, status: str, code: int | None = None) -> bytes:
    report: dict[str, Any] = {"id": message_id, "status": status, "recipient_id": wa_id,
                              "timestamp": str(int(datetime.now(UTC).timestamp()))}  # fmt: skip
    if code is not None:
        report["errors"] = [{"code": code, "title": f"error {code}"}]
    return json.dumps(envelope({"statuses": [report]})).encode()


async def test_inside_the_window_free_text_outside_a_template_or_skipped_with_the_reason(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path, templates=TEMPLATES)
    await _residents(settings, ("573000000001", OPEN), ("573000000002", CLOSED))
    without = whatsapp_settings(graph, tmp_path / "b")
    await _residents(without, ("573000000003", CLOSED))
    await _broadcast(settings)
    await _broadcast(without)
    async with Running(settings):
        free = await graph.expect("573000000001", "Usme Innova")
        template = await graph.expect("573000000002", kind="template")
    async with Running(without):
        await wait_for(lambda: _skipped(without))
    assert free["type"] == "text" and free["text"]["body"] == TEXT
    assert template["template"]["name"] == "minga_anuncio"
    assert template["template"]["language"] == {"code": "es_CO"}
    [parameter] = template["template"]["components"][0]["parameters"]
    assert parameter == {"type": "text", "text": " ".join(TEXT.split())}  # one line, as Meta wants
    assert "573000000003" not in graph.sent
    status, reason = (await _outbox(without))["573000000003"]
    assert status == "skipped" and "no template for broadcast in es" in str(reason)


async def _skipped(settings: Settings) -> bool:
    return any(status == "skipped" for status, _ in (await _outbox(settings)).values())


async def test_window_closed_answered_at_once_sends_the_template_instead(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path, templates=TEMPLATES)
    await _residents(settings, ("573000000001", OPEN))  # our clock: open; Meta: closed
    graph.errors["573000000001"] = [{"code": 131047, "message": "Re-engagement message"}]
    await _broadcast(settings)
    async with Running(settings):
        template = await graph.expect("573000000001", kind="template")
        await wait_for(lambda: _all(settings, "sent"))
    assert template["template"]["name"] == "minga_anuncio"
    assert [m["type"] for m in graph.sent["573000000001"]] == ["template"]


async def _all(settings: Settings, status: str) -> bool:
    rows = await _outbox(settings)
    return bool(rows) and all(s == status for s, _ in rows.values())


async def test_window_closed_reported_later_sends_the_template(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path, templates=TEMPLATES)
    wa_id = "573000000001"
    await _residents(settings, (wa_id, OPEN))
    await _broadcast(settings)
    async with Running(settings):
        await until_listening(settings)
        free = await graph.expect(wa_id, "Usme Innova")
        await wait_for(lambda: _all(settings, "sent"))
        await post_signed(webhook_url(settings), _status(free["id"], wa_id, "sent"))
        await post_signed(webhook_url(settings), _status(free["id"], wa_id, "failed", 131047))
        template = await graph.expect(wa_id, kind="template")
        await wait_for(lambda: _all(settings, "sent"))
        # A late "delivered" for the first message changes nothing (the body, taken with
        # a 200, is handled before the bot's stop returns).
        await post_signed(webhook_url(settings), _status(free["id"], wa_id, "delivered"))
    assert template["template"]["name"] == "minga_anuncio"
    async with connect(settings.storage.database) as db:
        deliveries = dict(await db.execute_fetchall("SELECT message_id, status FROM deliveries"))
    assert deliveries == {free["id"]: "failed", template["id"]: "accepted"}


@pytest.mark.parametrize("code", [131026])
async def test_undeliverable_is_not_retried(graph: FakeGraphApi, tmp_path: Path, code: int) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    await _residents(settings, ("573000000001", OPEN), ("573000000002", OPEN))
    graph.errors["573000000001"] = [{"code": code, "message": "Message undeliverable"}]
    await _broadcast(settings)
    async with Running(settings):
        await until_listening(settings)
        delivered = await graph.expect("573000000002", "Usme Innova")
        await wait_for(lambda: _settled(settings))
        # The one that went through is reported undeliverable later: given up too.
        await post_signed(webhook_url(settings), _status(delivered["id"], "573000000002",
                                                         "failed", code))  # fmt: skip
        await wait_for(lambda: _all(settings, "failed"))
    assert "573000000001" not in graph.sent  # one try, refused: no second
    assert len(graph.sent["573000000002"]) == 1
    rows = await _outbox(settings)
    assert all(str(code) in str(reason) for _, reason in rows.values())


async def _settled(settings: Settings) -> bool:
    rows = await _outbox(settings)
    return bool(rows) and all(s != "pending" for s, _ in rows.values())


@pytest.mark.parametrize("code", [131000, 131016, 2])
async def test_passing_errors_are_retried(graph: FakeGraphApi, tmp_path: Path, code: int) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    await _residents(settings, ("573000000001", OPEN))
    graph.errors["573000000001"] = [{"code": code, "status": 500}, {"code": code, "status": 400}]
    await _broadcast(settings)
    async with Running(settings):
        await graph.expect("573000000001", "Usme Innova")
        await wait_for(lambda: _all(settings, "sent"))
    async with connect(settings.storage.database) as db:
        [(attempts,)] = await db.execute_fetchall("SELECT attempts FROM outbox")
    assert attempts == 3


async def test_throughput_error_holds_every_send_then_goes_on(
    graph: FakeGraphApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whatsapp_channel, "THROUGHPUT_PAUSE_SECONDS", 0.5)
    settings = whatsapp_settings(graph, tmp_path)
    await _residents(settings, ("573000000001", OPEN), ("573000000002", OPEN))
    graph.errors["573000000001"] = [{"code": 130429, "message": "Rate limit hit"}]
    await _broadcast(settings)
    async with Running(settings):
        await graph.expect("573000000001", "Usme Innova")  # after the pause, not failed
        await graph.expect("573000000002", "Usme Innova")
        await wait_for(lambda: _all(settings, "sent"))
    # (That replies wait too is the sender's test: a throughput error holds every lane.)


async def test_pair_rate_error_spaces_messages_to_that_resident(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path, whatsapp={"bulk_seconds_per_chat": 0.6})
    await _residents(settings, ("573000000001", OPEN), ("573000000002", OPEN))
    graph.errors["573000000001"] = [{"code": 131056, "message": "Pair rate limit hit"}]
    await _broadcast(settings)
    async with Running(settings):
        other = await graph.expect("573000000002", "Usme Innova")
        spaced = await graph.expect("573000000001", "Usme Innova")
        await wait_for(lambda: _all(settings, "sent"))
    assert spaced["at"] - other["at"] >= 0.5  # waited for that resident only


@pytest.mark.parametrize("code", [368, 190])
async def test_restricted_or_expired_token_stops_bulk_and_alerts_the_staff(
    graph: FakeGraphApi, tmp_path: Path, code: int
) -> None:
    settings = whatsapp_settings(graph, tmp_path, staff=StaffSettings(group_chat_id=-100555))
    await _residents(settings, ("573000000001", OPEN), ("573000000002", OPEN))
    for wa_id in ("573000000001", "573000000002"):
        graph.errors[wa_id] = [{"code": code, "message": "Account restricted"}]
    await _broadcast(settings)
    async with Running(settings) as running:
        await wait_for(lambda: _alerted(settings))
        # Bulk stays stopped: a broadcast to someone new is not tried while the halt lasts.
        await _residents(settings, ("573000000003", OPEN))
        await _broadcast(settings)
        await running.caught_up()  # looked at the new rows, found nothing it may send
        rows = await _outbox(settings)
    assert graph.all_sent() == []
    assert graph.errors["573000000003"] == []  # never called
    # Not given up: every row waits for the halt to end.
    assert {status for status, _ in rows.values()} == {"pending"}


async def _alerted(settings: Settings) -> bool:
    async with connect(settings.storage.database) as db:
        rows = await db.execute_fetchall(
            "SELECT payload FROM outbox WHERE kind = 'channel_alert'")  # fmt: skip
    return len(rows) == 1 and "whatsapp" in rows[0][0]


def test_text_of_reads_a_template() -> None:
    message = {"type": "template", "template": {"name": "x", "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "a"}]}]}}  # fmt: skip
    assert text_of(message) == "x | a"

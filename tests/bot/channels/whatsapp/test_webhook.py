"""The WhatsApp webhook on `minga run`'s web server: Meta's verification, signatures checked
before anything is read, every real payload handled, retries and batches."""

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from bot.channels.whatsapp.webhook import signature, signed_by
from bot.config import Settings
from handlers.engine.settings import FloodSettings
from tests.bot.channels.whatsapp.conftest import (
    PAYLOADS,
    resident,
    until_listening,
    webhook_url,
    whatsapp_settings,
)
from tests.fakes.graph_api import VERIFY_TOKEN, FakeGraphApi, envelope, post_signed
from tests.fakes.minga import Running
from tests.fakes.sql import connect
from tests.fakes.wait import wait_for

PAYLOAD_FILES = sorted(
    p.name for p in PAYLOADS.glob("*.json") if p.name != "signature_test_vector.json"
)


async def _count(settings: Settings, table: str) -> int:
    async with connect(settings.storage.database) as db:
        row = await (await db.execute(f"SELECT count(*) FROM {table}")).fetchone()  # noqa: S608
    assert row is not None
    return int(row[0])


async def _has_rows(settings: Settings, table: str, rows: int) -> bool:
    return await _count(settings, table) >= rows


def test_the_signature_is_meta_s_hmac_of_the_exact_bytes() -> None:
    vector = json.loads((PAYLOADS / "signature_test_vector.json").read_text())
    body = (PAYLOADS / vector["body_file"]).read_bytes()
    secret = vector["app_secret_revoked"].encode()
    assert signature(secret, body) == vector["header_value"]
    assert signed_by(secret, body, vector["header_value"])
    reserialised = json.dumps(json.loads(body)).encode()
    assert not signed_by(secret, reserialised, vector["header_value"])
    assert not signed_by(secret, body, None)
    assert not signed_by(b"another secret", body, vector["header_value"])


async def test_meta_s_verification_echoes_the_challenge_only_for_our_token(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    url = webhook_url(settings)
    async with Running(settings):
        await until_listening(settings)
        async with httpx.AsyncClient() as client:
            good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                    "hub.challenge": "1158201444"}  # fmt: skip
            answer = await client.get(url, params=good)
            assert (answer.status_code, answer.text) == (200, "1158201444")
            no_challenge = {k: v for k, v in good.items() if k != "hub.challenge"}
            wrong_token = {**good, "hub.verify_token": "guess"}
            for wrong in (wrong_token, {**good, "hub.mode": "unsubscribe"}, no_challenge, {}):
                assert (await client.get(url, params=wrong)).status_code == 403


async def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    someone = resident(settings, graph)
    body = json.dumps(someone.body({"type": "text", "text": {"body": "hola"}})).encode()
    async with Running(settings):
        await until_listening(settings)
        url = webhook_url(settings)
        assert (await post_signed(url, body, secret=None)).status_code == 401
        assert (await post_signed(url, body, secret="not-the-app-secret")).status_code == 401
        assert (await post_signed(url, body, header="sha256=" + "0" * 64)).status_code == 401
        assert (
            await post_signed(url, body + b" ", header=signature(b"x", body))
        ).status_code == 401
    # Stopped, every accepted body handled: a refused one was never read.
    assert graph.all_sent() == []
    assert await _count(settings, "inbound_messages") == 0
    assert await _count(settings, "residents") == 0


def _own_ids(name: str) -> bytes:
    """The file's body, its messages given ids of their own: the examples reuse a few ids
    ("wamid.xyzxyz"), and a repeated id is rightly dropped as a retry before it is read."""
    body = json.loads((PAYLOADS / name).read_text())
    for number, message in enumerate(
        m for e in body["entry"] for c in e["changes"] for m in c["value"].get("messages", [])
    ):
        message["id"] = f"wamid.{name}.{number}"
    return json.dumps(body).encode()


def _people_talking(raw: bytes) -> list[dict]:
    """The messages in a body that are a person saying something to the bot."""
    messages = [m for e in json.loads(raw)["entry"] for c in e["changes"]
                if c["field"] == "messages" for m in c["value"].get("messages", [])]  # fmt: skip
    return [m for m in messages if m["type"] not in ("system", "revoke")
            and not (m["type"] == "reaction" and not m["reaction"].get("emoji"))]  # fmt: skip


async def test_every_real_payload_is_taken_without_an_error(
    graph: FakeGraphApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Meta's examples come from a handful of people and are posted within a second or two: a
    # flood, which flood control would rightly stop; this test is about reading them.
    settings = whatsapp_settings(graph, tmp_path, flood=FloodSettings(max_messages=1000))
    talking_files = [name for name in PAYLOAD_FILES if _people_talking(_own_ids(name))]
    silent_files = [name for name in PAYLOAD_FILES if name not in talking_files]
    assert talking_files and silent_files
    async with Running(settings):
        await until_listening(settings)
        for name in talking_files:
            raw = _own_ids(name)
            answer = await post_signed(webhook_url(settings), raw)
            assert answer.status_code == 200, name
            talking = _people_talking(raw)
            for _ in talking:  # each gets an answer: a question, or a kind "I cannot read that"
                await graph.expect(talking[0].get("from") or talking[0]["from_user_id"])
            errors = [r.getMessage() for r in caplog.records if r.levelno >= 40]
            assert errors == [], (name, errors)
        answered = len(graph.all_sent())
        for name in silent_files:
            answer = await post_signed(webhook_url(settings), _own_ids(name))
            assert answer.status_code == 200, name
    # Stopped, every body handled (the channel waits for its tasks): where nobody says
    # anything (statuses, a reaction taken back, a system notice), nothing was answered.
    assert len(graph.all_sent()) == answered, graph.sent
    errors = [r.getMessage() for r in caplog.records if r.levelno >= 40]
    assert errors == [], errors


async def test_a_retried_body_is_handled_once_and_a_batch_entirely(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    batch = json.loads((PAYLOADS / "synthetic_batched_entries_changes_statuses.json").read_text())
    batch.pop("_synthetic_note")
    raw = json.dumps(batch).encode()
    async with Running(settings):
        await until_listening(settings)
        url = webhook_url(settings)
        answers = await asyncio.gather(*(post_signed(url, raw) for _ in range(3)))
        assert [a.status_code for a in answers] == [200, 200, 200]
        await graph.expect("972987654321", kind="interactive")  # the language question
        await wait_for(lambda: _has_rows(settings, "inbound_messages", 2))  # both entries read
        again = await post_signed(url, raw)  # Meta's retry, much later
        assert again.status_code == 200
    async with connect(settings.storage.database) as db:
        ids = [row[0] for row in await db.execute_fetchall(
            "SELECT external_id FROM inbound_messages ORDER BY external_id")]  # fmt: skip
    assert ids == ["wamid.other_entry", "wamid.xyzxyz"]  # both entries, each once
    # Two messages from one new resident: the second finds them at the language question.
    assert len(graph.sent["972987654321"]) == 2


async def test_group_messages_and_the_business_s_own_echoes_are_ignored(
    graph: FakeGraphApi, tmp_path: Path
) -> None:
    settings = whatsapp_settings(graph, tmp_path)
    group = envelope({"messages": [{"from": "573001112233", "id": "wamid.group1",
                                    "timestamp": "1750000000", "group_id": "120363000000000000",
                                    "type": "text", "text": {"body": "hola grupo"}}]})  # fmt: skip
    echo = (PAYLOADS / "pywa_outgoing_text.json").read_bytes()
    async with Running(settings):
        await until_listening(settings)
        assert (
            await post_signed(webhook_url(settings), json.dumps(group).encode())
        ).status_code == 200
        assert (await post_signed(webhook_url(settings), echo)).status_code == 200
    # Stopped, every body handled (the channel waits for its tasks): none was answered.
    assert graph.all_sent() == []
    assert await _count(settings, "residents") == 0

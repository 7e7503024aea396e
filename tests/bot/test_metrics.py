"""/metrics (issue 20, "Watch it"): off unless configured; on [web]'s server only with the
bearer token, or on a port of its own; scraped over HTTP while `minga run` handles residents'
messages against the fake Bot API, the counters move as the platform answers."""

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

import bot.channels.telegram.send as telegram_send
from bot.config import MetricsSettings, Settings, WebSettings
from bot.metrics import Metrics, version
from handlers.engine.catalog import Catalog
from storage.database import Database
from storage.models import NewOutbox
from storage.outbox_kinds import IdeaAlertPayload, OutboxKind
from tests.fakes import minga
from tests.fakes.graph_api import free_port
from tests.fakes.minga import Running, until_listening, web_url
from tests.fakes.sql import database_for
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for

es = Catalog.load().translator("es")
TOKEN = "scrape-me-0123456789"
RESIDENT = 5551201
BLOCKED = {"error_code": 403, "description": "Forbidden: bot was blocked by the user"}
FLOOD = {"error_code": 429, "description": "Too Many Requests: retry after 1",
         "parameters": {"retry_after": 1}}  # fmt: skip

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a scrape: (name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: Samples, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def with_metrics(api: FakeBotApi, tmp_path: Path, **metrics: object) -> Settings:
    return minga.telegram_settings(api, tmp_path, web=WebSettings(port=free_port()),
                                   metrics=MetricsSettings(**metrics))  # fmt: skip


async def scrape(url: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as client:
        return await client.get(url, headers=headers)


@pytest.fixture(autouse=True)
def no_flood_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 429's retry_after is waited out at once (the tests never sleep for timing)."""

    async def at_once(seconds: float) -> None:
        return None

    monkeypatch.setattr(telegram_send, "wait_out", at_once)


async def test_metrics_are_off_unless_configured(api: FakeBotApi, tmp_path: Path) -> None:
    settings = minga.telegram_settings(api, tmp_path, web=WebSettings(port=free_port()))
    async with Running(settings):
        await until_listening(settings)
        assert (await scrape(web_url(settings, "/metrics"))).status_code == 404


async def test_on_the_web_server_the_bearer_token_is_required(
    api: FakeBotApi, tmp_path: Path
) -> None:
    settings = with_metrics(api, tmp_path, enabled=True, bearer_token=SecretStr(TOKEN))
    async with Running(settings):
        await until_listening(settings)
        url = web_url(settings, "/metrics")
        assert (await scrape(url, token=None)).status_code == 401
        assert (await scrape(url, token="not-the-token")).status_code == 401
        answer = await scrape(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert value(samples(answer.text), "minga_build_info", version=version()) == 1


def test_enabled_on_the_web_server_without_a_token_is_refused() -> None:
    with pytest.raises(ValueError, match="bearer_token"):
        MetricsSettings(enabled=True)


async def test_counters_move_as_residents_are_answered_and_the_platform_refuses(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """A port of its own (no token there); a resident's message is handled and answered;
    Telegram answers one reply with a 429 (sent again: "retried") and another chat's with
    a 403."""
    port = free_port()
    settings = with_metrics(api, tmp_path, enabled=True, port=port)
    reply = {"channel": "telegram", "lane": "reply"}
    before: Samples = {}
    after: Samples = {}

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    async with Running(settings):
        await until_listening(settings)
        assert (await scrape(web_url(settings, "/metrics"))).status_code == 404  # not on [web]
        url = f"http://127.0.0.1:{port}/metrics"
        before.update(samples((await scrape(url, token=None)).text))
        api.send_errors[RESIDENT] = [FLOOD]
        await api.send_text(RESIDENT, "hola")
        await api.expect(RESIDENT, es("role.ask"))
        api.send_errors[RESIDENT + 1] = [BLOCKED]
        await api.send_text(RESIDENT + 1, "hola")

        async def refused() -> bool:  # nothing else says that the 403 came back
            after.update(samples((await scrape(url, token=None)).text))
            return moved("minga_sends_total", **reply, result="403") == 1

        await wait_for(refused)

    assert moved("minga_updates_total", channel="telegram", outcome="ok") == 2
    assert moved("minga_turn_seconds_count", channel="telegram") == 2
    assert moved("minga_sends_total", **reply, result="429") == 1
    assert moved("minga_sends_total", **reply, result="retried") == 1
    assert moved("minga_sends_total", **reply, result="403") == 1
    # SQLite's writer ("write"), PostgreSQL's pool ("connection"): the turns waited for it.
    assert sum(v for (n, _), v in after.items() if n == "minga_database_wait_seconds_count") > 0


async def test_the_outbox_backlog_and_broadcasts_are_read_at_scrape_time(tmp_path: Path) -> None:
    database = await Database.open(database_for(tmp_path))
    now = datetime(2026, 8, 1, 12, tzinfo=UTC)
    try:
        async with database.transaction() as repos:
            group = await repos.residents.get_or_create("telegram", "-100777", now)
            await repos.outbox.add(
                [NewOutbox(kind=OutboxKind.IDEA_ALERT, subject=f"idea:{n}", recipient_id=group.id,
                           payload=IdeaAlertPayload(idea_id=n), not_before=now)
                 for n in (1, 2)],
                now,
            )  # fmt: skip
        metrics = Metrics()
        await metrics.refresh(database)
        scraped = samples(metrics.exposition().decode())
        assert value(scraped, "minga_outbox_backlog", kind="idea_alert") == 2
        assert value(scraped, "minga_outbox_backlog", kind="broadcast") == 0
        assert value(scraped, "minga_broadcasts_in_progress") == 0
        async with database.transaction() as repos:
            await repos.outbox.mark_sent([1], [1], now)
            await repos.broadcasts.create(
                text="Taller de huertas", event_id=None, audience="all", kind="all", value=None,
                created_by="staff:1", reporter_id=None, now=now,
            )  # fmt: skip
        await metrics.refresh(database)
        scraped = samples(metrics.exposition().decode())
        assert value(scraped, "minga_outbox_backlog", kind="idea_alert") == 1
        assert value(scraped, "minga_broadcasts_in_progress") == 1
    finally:
        await database.close()


def test_each_app_counts_in_a_registry_of_its_own() -> None:
    one, two = Metrics(), Metrics()
    one.handled("telegram", "ok", 0.01)
    assert value(samples(one.exposition().decode()), "minga_updates_total",
                 channel="telegram", outcome="ok") == 1  # fmt: skip
    assert value(samples(two.exposition().decode()), "minga_updates_total",
                 channel="telegram", outcome="ok") == 0  # fmt: skip

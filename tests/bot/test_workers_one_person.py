"""Issue 19's proof with real processes: three `minga run` workers in webhook mode on one
PostgreSQL database, the platforms' deliveries spread over them round-robin (as a load balancer
does), including exact retries of the same body sent at the same time to another worker.

One person's 50 messages: one conversation, handled in the order the platform had them
acknowledged (each delivery is posted once the previous got its 200, as one chat's updates
are; the workers handle them while the next ones arrive, so several workers hold deliveries of
that person at once), each answered once.

The order in which the workers handled the messages is read from the database: each turn
records the message's id in its own transaction, and under the person's lock one turn's
transaction begins after the previous one committed, so PostgreSQL's transaction ids (xmin)
follow the order of the turns."""

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage.database import Database
from tests.fakes.graph_api import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraphApi,
    WhatsAppResident,
    free_port,
    post_signed,
)
from tests.fakes.postgres import created_database, drop_database
from tests.fakes.sql import connect
from tests.fakes.telegram_api import TOKEN, FakeBotApi
from tests.fakes.wait import wait_for

WORKERS = 3
MESSAGES = 50
SECRET = "workers-webhook-secret"
TELEGRAM_USER = 424242
WA_ID = "573001112233"
HELP = "/ayuda"  # answered the same way at any step, without changing it


@pytest.fixture
async def shared(postgres_dsn: str) -> AsyncIterator[str]:
    url = await asyncio.to_thread(created_database, postgres_dsn)
    # What `minga db upgrade` does once before the workers start (they never migrate a
    # shared database themselves).
    await (await Database.open(url)).close()
    yield url
    await asyncio.to_thread(drop_database, postgres_dsn, url)


def _config(folder: Path, url: str, api: FakeBotApi, graph: FakeGraphApi, port: int) -> Path:
    path = folder / f"worker-{port}.toml"
    path.write_text(
        f"""[telegram]
token = "{TOKEN}"
base_url = "{api.base_url}"
base_file_url = "{api.base_file_url}"
mode = "webhook"
webhook_url = "https://minga.example.org/webhooks/telegram"
webhook_secret = "{SECRET}"
[whatsapp]
base_url = "{graph.base_url}"
phone_number_id = "{PHONE_NUMBER_ID}"
access_token = "{ACCESS_TOKEN}"
app_secret = "{APP_SECRET}"
verify_token = "{VERIFY_TOKEN}"
[flood]
max_messages = 1000
[web]
port = {port}
[storage]
database = "{url}"
media_dir = "{folder / "media"}"
[log]
level = "WARNING"
""",
        "utf-8",
    )
    return path


async def _started(config: Path, port: int, log: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=log.open("ab"),
    )  # fmt: skip

    async def listening() -> bool:
        assert process.returncode is None, f"a worker stopped: see {log}"
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(listening, timeout=60)
    return process


async def _rows(url: str, sql: str, *parameters: Any) -> list[Any]:
    async with connect(url) as db:
        return list(await db.execute_fetchall(sql, parameters))


async def _settled(url: str, channel: str, ids: list[str]) -> None:
    """Every one of these messages handled, nothing kept or owed left anywhere."""

    async def done() -> bool:
        handled = await _rows(
            url, "SELECT count(*) FROM inbound_messages WHERE channel = ? AND external_id = ANY(?)",
            channel, ids,
        )  # fmt: skip
        left = await _rows(url, "SELECT (SELECT count(*) FROM inbound_queue) + "
                           "(SELECT count(*) FROM pending_replies)")  # fmt: skip
        return int(handled[0][0]) == len(set(ids)) and int(left[0][0]) == 0

    await wait_for(done, timeout=120)


async def _handled_order(url: str, channel: str, ids: list[str]) -> list[str]:
    rows = await _rows(
        url, "SELECT external_id FROM inbound_messages WHERE channel = ? AND "
        "external_id = ANY(?) ORDER BY xmin::text::bigint",
        channel, ids,
    )  # fmt: skip
    return [str(row[0]) for row in rows]


async def _deliver_all(bodies: list[bytes], post: Callable[[int, bytes], Awaitable[int]]) -> None:
    """Each body posted to the next worker once the previous delivery got its 200; every
    fifth also posted, at the same moment, to the worker after it (the same bytes again)."""
    for number, body in enumerate(bodies):
        worker = number % WORKERS
        posts = [post(worker, body)]
        if number % 5 == 0:
            posts.append(post((worker + 1) % WORKERS, body))
        assert await asyncio.gather(*posts) == [200] * len(posts)


async def test_one_persons_deliveries_spread_over_three_workers(
    shared: str, tmp_path: Path
) -> None:
    api, graph = FakeBotApi(), FakeGraphApi()
    await api.start()
    await graph.start()
    ports = [free_port() for _ in range(WORKERS)]
    workers: list[asyncio.subprocess.Process] = []
    log = tmp_path / "workers.log"
    try:
        for port in ports:
            config = _config(tmp_path, shared, api, graph, port)
            workers.append(await _started(config, port, log))

        async with httpx.AsyncClient() as client:

            async def to_telegram(worker: int, body: bytes) -> int:
                response = await client.post(
                    f"http://127.0.0.1:{ports[worker]}/webhooks/telegram", content=body,
                    headers={"content-type": "application/json",
                             "X-Telegram-Bot-Api-Secret-Token": SECRET},
                )  # fmt: skip
                return response.status_code

            async def to_whatsapp(worker: int, body: bytes) -> int:
                url = f"http://127.0.0.1:{ports[worker]}/webhooks/whatsapp"
                return (await post_signed(url, body)).status_code

            # The person's first words, then one help: how many messages one help is answered
            # with, at this step (it changes nothing).
            person = WhatsAppResident("", WA_ID)

            def telegram_body(text: str) -> bytes:
                return api.webhook_body(api.text_update(TELEGRAM_USER, text))

            def whatsapp_body(text: str) -> bytes:
                return json.dumps(person.body({"type": "text", "text": {"body": text}})).encode()

            def telegram_id(body: bytes) -> str:
                return str(json.loads(body)["update_id"])

            def whatsapp_id(body: bytes) -> str:
                return str(json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"])

            def telegram_sent() -> int:
                return len(api.sent[TELEGRAM_USER])

            def whatsapp_sent() -> int:
                return len(graph.sent[WA_ID])

            for channel, body_of, post, id_of, sent in (
                ("telegram", telegram_body, to_telegram, telegram_id, telegram_sent),
                ("whatsapp", whatsapp_body, to_whatsapp, whatsapp_id, whatsapp_sent),
            ):
                first = [body_of("hola"), body_of(HELP)]
                await _deliver_all(first, post)
                await _settled(shared, channel, [id_of(body) for body in first])
                before = sent()
                one = [body_of(HELP)]
                await _deliver_all(one, post)
                await _settled(shared, channel, [id_of(one[0])])
                per_help = sent() - before
                assert per_help >= 1

                bodies = [body_of(HELP) for _ in range(MESSAGES)]
                ids = [id_of(body) for body in bodies]
                before = sent()
                await _deliver_all(bodies, post)
                await _settled(shared, channel, ids)

                assert await _handled_order(shared, channel, ids) == ids, channel
                assert sent() - before == MESSAGES * per_help, channel  # none twice, none lost
                residents = await _rows(shared, "SELECT count(*) FROM residents WHERE "
                                        "channel = ?", channel)  # fmt: skip
                assert int(residents[0][0]) == 1, channel
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            await process.wait()
        await graph.stop()
        await api.stop()

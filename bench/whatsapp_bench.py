"""The WhatsApp webhook under load (`python -m bench whatsapp`): signed POSTs at a steady
200 a second, time to the 200 answer; then as fast as they are taken, messages answered a
second end to end, as a ratio to a bare starlette app that only checks the signature.

Minga runs as `minga run` in its own process, against a fake Graph API in this one (which
also posts the webhooks), with WhatsApp's pace lifted so that it does not bind."""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import ROOT, free_port, stop_bot
from bench.report import save
from bot.channels.whatsapp.webhook import signature
from tests.fakes.graph_api import (
    ACCESS_TOKEN,
    API_VERSION,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    envelope,
)

RATE = 200.0  # webhook POSTs a second, steady
STEADY_SECONDS = 15.0
BURST = 1_500  # messages posted at once to measure throughput (below Minga's queue)
POSTERS = 32  # concurrent posters when measuring throughput
RESIDENTS = 2_000
TARGET_P99_MS = 50.0


def _body(number: int) -> bytes:
    """A resident's text message, each with its own id (so none is dropped as a retry)."""
    wa_id = str(573_100_000_000 + number % RESIDENTS)
    message = {"from": wa_id, "id": f"wamid.bench.{number}.{time.monotonic_ns()}",
               "timestamp": str(int(time.time())), "type": "text",
               "text": {"body": "hola"}}  # fmt: skip
    return json.dumps(envelope({"contacts": [{"profile": {"name": "V"}, "wa_id": wa_id}],
                                "messages": [message]})).encode()  # fmt: skip


async def _post(session: aiohttp.ClientSession, url: str, number: int) -> tuple[int, float]:
    body = _body(number)
    headers = {"content-type": "application/json",
               "X-Hub-Signature-256": signature(APP_SECRET.encode(), body)}  # fmt: skip
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as answer:
        await answer.read()
        return answer.status, (time.perf_counter() - started) * 1000


async def steady(url: str) -> dict[str, Any]:
    """POSTs on a fixed schedule (open loop): a slow answer does not slow the next POST."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    tasks = []
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        count = int(RATE * STEADY_SECONDS)

        async def one(n: int) -> None:
            status, ms = await _post(session, url, n)
            statuses[status] = statuses.get(status, 0) + 1
            if n >= RATE:  # the first second warms connections up
                latencies.append(ms)

        for n in range(count):
            delay = start + n / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    ended_at = time.perf_counter()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return {"posts": count, "statuses": statuses, "p50_ms": statistics.median(latencies),
            "p99_ms": p99, "max_ms": latencies[-1], "ended_at": ended_at}  # fmt: skip


async def burst(url: str, replies: "Replies | None") -> dict[str, Any]:
    """BURST messages posted by POSTERS at once, as fast as they are answered: the time until
    the last is finished end to end (`done()` counts finished ones: Minga's replies, or for
    the bare app the 200s), as messages a second. Below Minga's queue, so none is refused."""
    numbers = iter(range(10**9, 10**9 + BURST))
    connector = aiohttp.TCPConnector(limit=POSTERS)
    ok = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        before = await replies.refresh() if replies is not None else 0
        started = time.perf_counter()

        async def poster() -> None:
            nonlocal ok
            for number in numbers:
                status, _ = await _post(session, url, number)
                ok += status == 200

        await asyncio.gather(*(poster() for _ in range(POSTERS)))
        accepted = time.perf_counter() - started
        async with asyncio.timeout(300):
            # Another process counts: look again and again (no event crosses processes).
            while replies is not None and await replies.refresh() - before < BURST:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        finished = time.perf_counter() - started
    return {"burst": BURST, "accepted_ok": ok, "accepted_per_second": BURST / accepted,
            "done_per_second": BURST / finished}  # fmt: skip


async def _wait_http(url: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as answer:
                    if answer.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


class Replies:
    """How many messages the fake Graph API (in its own process) has received."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._url = f"{base_url}/count"
        self.last = 0

    async def refresh(self) -> int:
        async with self._session.get(self._url) as answer:
            self.last = int(await answer.text())
        return self.last


async def _measure(kind: str) -> dict[str, Any]:
    port, graph_port = free_port(), free_port()
    graph_url = f"http://127.0.0.1:{graph_port}"
    url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory(prefix="minga-wa-bench-") as folder:
        workdir = Path(folder)
        if kind == "minga":
            config = workdir / "config.toml"
            config.write_text(
                f'[storage]\ndatabase = "{workdir / "minga.sqlite3"}"\n'
                f'media_dir = "{workdir / "media"}"\n[web]\nport = {port}\n'
                f'[whatsapp]\nphone_number_id = "{PHONE_NUMBER_ID}"\n'
                f'base_url = "{graph_url}"\napi_version = "{API_VERSION}"\n'
                "max_messages_per_second = 1000\n", "utf-8")  # fmt: skip
            environment |= {"MINGA_WHATSAPP__ACCESS_TOKEN": ACCESS_TOKEN,
                            "MINGA_WHATSAPP__APP_SECRET": APP_SECRET,
                            "MINGA_WHATSAPP__VERIFY_TOKEN": VERIFY_TOKEN,
                            "MINGA_LOG__LEVEL": "WARNING"}  # fmt: skip
            command = [sys.executable, "-m", "bot", "run", "--config", str(config)]
            profile = os.environ.get("BENCH_PROFILE")  # a file: where py-spy writes a profile
            if profile:
                command = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", profile, "--",
                           *command]  # fmt: skip
            probe = f"http://127.0.0.1:{port}/healthz"
        else:
            command = [sys.executable, "-m", "bench.signature_app", "--port", str(port),
                       "--secret", APP_SECRET]  # fmt: skip
            probe = url
        graph = subprocess.Popen([sys.executable, "-m", "bench.graph_process", "--port",  # noqa: ASYNC220
                                  str(graph_port)], cwd=ROOT, env=environment)  # fmt: skip
        with (workdir / "server.log").open("w") as log:
            # Started once, before any load: blocking here measures nothing.
            process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log,  # noqa: ASYNC220
                                       stderr=log)  # fmt: skip
            try:
                await _wait_http(f"{graph_url}/count", time.monotonic() + 30)
                await _wait_http(probe, time.monotonic() + 30)
                async with aiohttp.ClientSession() as session:
                    replies = Replies(session, graph_url)
                    result = await steady(url)
                    posted = result["posts"]
                    async with asyncio.timeout(120):  # Minga finishes the steady run's messages
                        while kind == "minga" and await replies.refresh() < posted:  # noqa: ASYNC110
                            await asyncio.sleep(0.05)
                    result["replied"] = replies.last
                    result["caught_up_after_s"] = time.perf_counter() - result["ended_at"]
                    if kind == "minga":
                        result |= await burst(url, replies)
                    else:
                        result |= await burst(url, None)  # done when answered
            finally:
                stop_bot(process)
                graph.kill()
                graph.wait()
    return result


def run() -> None:
    minga = asyncio.run(_measure("minga"))
    bare = asyncio.run(_measure("bare"))
    ratio = minga["done_per_second"] / bare["done_per_second"]
    rows = [
        ["Minga (minga run)", round(minga["p50_ms"], 1), round(minga["p99_ms"], 1),
         "yes" if minga["p99_ms"] <= TARGET_P99_MS else "NO", round(minga["done_per_second"]),
         round(minga["accepted_per_second"]), round(ratio, 2)],
        ["bare starlette, signature only", round(bare["p50_ms"], 1), round(bare["p99_ms"], 1),
         "", round(bare["done_per_second"]), round(bare["accepted_per_second"]), 1.0],
    ]  # fmt: skip
    save(
        "whatsapp",
        f"WhatsApp webhook: signed POSTs at {RATE:.0f}/s for {STEADY_SECONDS:.0f} s (time to the "
        f"200), then {BURST:,} posted by {POSTERS} at once: messages answered end to end a "
        "second (Minga: until its last reply reached the Graph API; the bare app: its 200s)",
        ["server", "p50 ms to 200", "p99 ms to 200", f"p99 <= {TARGET_P99_MS:.0f}",
         "end to end /s", "accepted /s", "ratio"],
        rows, {"minga": minga, "bare": bare},
    )  # fmt: skip

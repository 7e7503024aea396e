"""Outbound benchmarks: a broadcast's rate against Telegram's limit (free and paid lanes),
reply time during a broadcast, and reminder lateness. `minga run` runs as in production;
the fake Bot API server with flood control runs in another process."""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import ROOT, free_port, stop_bot
from handlers.events.service import create_event
from handlers.outbound.broadcasts import Audience, queue_broadcast
from storage.database import Database
from storage.models import EventFields
from tests.fakes.telegram_api import TOKEN

MARKER = "MINGA-BENCH"
FIRST_CHAT = 20_000_000
CHATTER_FIRST = 10_000_000  # the paced residents of bench.residents


async def _seed(path: Path, recipients: int, *, reminder_in: float | None) -> float | None:
    """Opted-in residents and either a broadcast to them all, or an event they all said yes
    to whose two-hour reminder falls due `reminder_in` seconds from now (returns that time)."""
    database = await Database.open(path)
    now = datetime.now(UTC)
    stamp = now.isoformat()
    try:
        async with database.transaction() as repos:
            await repos.residents._db.executemany(
                "INSERT INTO residents (channel, user_key, language, created_at, announcements_at,"
                " announcements_version, consent_version, consent_at)"
                " VALUES ('telegram', ?, 'es', ?, ?, '2026-08', '2026-08', ?)",
                [(str(FIRST_CHAT + i), stamp, stamp, stamp) for i in range(recipients)],
            )
            if reminder_in is None:
                await queue_broadcast(
                    repos, text=f"{MARKER} ¡Les esperamos el sábado en el lanzamiento!",
                    event_id=None, audience=Audience("all"), created_by="bench",
                    reporter_id=None, now=now,
                )  # fmt: skip
                return None
            starts = now + timedelta(hours=2, seconds=reminder_in)
            event = await create_event(
                repos, EventFields(title=f"{MARKER} Taller", starts_at=starts,
                                   ends_at=starts + timedelta(hours=2), venue="Casa de la Cultura"),
                created_by="bench", offsets=(7200,), now=now,
            )  # fmt: skip
            await repos.residents._db.execute(
                "INSERT INTO rsvps (event_id, resident_id, status, answered_at) "
                "SELECT ?, id, 'going', ? FROM residents", (event.id, stamp),
            )  # fmt: skip
            return (starts - timedelta(hours=2)).timestamp()
    finally:
        await database.close()


def _config(workdir: Path, port: int, paid: bool) -> Path:
    config = workdir / "config.toml"
    config.write_text(
        f'[storage]\ndatabase = "{workdir / "minga.sqlite3"}"\nmedia_dir = "{workdir / "m"}"\n'
        f'[telegram]\nbase_url = "http://127.0.0.1:{port}/bot"\npoll_timeout_seconds = 10\n'
        f"paid_broadcast = {'true' if paid else 'false'}\n"
        '[events]\nreminder_offsets = ["2h"]\n[web]\nport = 0\n',  # any free port
        "utf-8",
    )
    return config


def run(spec: dict[str, Any], *, recipients: int, paid: bool = False,
        reminder_in: float | None = None) -> dict[str, Any]:  # fmt: skip
    port = free_port()
    profile = os.environ.get("BENCH_PROFILE")  # a file: where py-spy writes a CPU profile
    with tempfile.TemporaryDirectory(prefix="minga-outbound-") as folder:
        workdir = Path(folder)
        due = asyncio.run(_seed(workdir / "minga.sqlite3", recipients, reminder_in=reminder_in))
        out = workdir / "results.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
        env["PYTHONPATH"] = str(ROOT)
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.outbound_server", "--port", str(port),
             "--spec", json.dumps({**spec, "marker": MARKER}), "--out", str(out)],
            cwd=ROOT, env=env,
        )  # fmt: skip
        time.sleep(1.0)
        command = [
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(_config(workdir, port, paid)),
        ]
        if profile:
            command = ["py-spy", "record", "-r", "250", "-f", "raw", "-o", profile, "--", *command]
        with (workdir / "bot.log").open("w") as log:
            started = time.time()
            bot = subprocess.Popen(command, cwd=ROOT, env=env | {"MINGA_TELEGRAM__TOKEN": TOKEN},
                                   stdout=log, stderr=log)  # fmt: skip
            try:
                while not out.exists():
                    if bot.poll() is not None:
                        raise RuntimeError((workdir / "bot.log").read_text())
                    time.sleep(0.1)
                results = json.loads(out.read_text())
            finally:
                stop_bot(bot)
                server.kill()
                server.wait()
    results["started"], results["due"] = started, due
    return results


def rate_of(arrivals: list[float]) -> float:
    """Messages a second between the first and the last arrival."""
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]

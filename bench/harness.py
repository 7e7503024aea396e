"""Runs one bot (Minga as `minga run` starts it, or the echo baseline) against the fake Bot
API server in another process, and collects what the server's residents measured."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.server_process import warm_marker
from bot.config import TelegramSettings
from storage.database import Database
from tests.fakes.postgres import fresh_database
from tests.fakes.telegram_api import TOKEN

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 900
# The echo baseline gets Minga's HTTP settings (MINGA_BENCH_* overrides them for both).
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", TelegramSettings().max_connections))
POLL_INTERVAL = float(
    os.environ.get("BENCH_POLL_INTERVAL", TelegramSettings().poll_interval_seconds)
)
# echo-aiohttp: the echo bot with Minga's HTTP client (bot/channels/telegram/http.py), so that
# a second ratio shows what Minga's own work per update costs, the HTTP client set aside.
BOTS = ("minga", "echo", "echo-aiohttp", "echo-defaults")
# messages/s: far above what one bot sends here (at 1,000, the most the setting once allowed,
# the pace bound Minga's replies: one a turn, ~950 a second at most, in bursts)
UNBOUND_RATE = 100_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the fake Bot API server did not start")


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident set size of a process now (VmRSS), or its peak so far (VmHWM), from /proc
    (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _minga_command(
    workdir: Path, base_url: str, database: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """`minga run` on SQLite in `workdir`, or on the PostgreSQL database at `database`."""
    config = workdir / "config.toml"
    database = database or str(workdir / "minga.sqlite3")
    config.write_text(
        f'[storage]\ndatabase = "{database}"\nmedia_dir = "{workdir / "media"}"\n'
        f'[telegram]\nbase_url = "{base_url}"\npoll_timeout_seconds = 10\n'
        f"max_connections = {CONNECTIONS}\npoll_interval_seconds = {POLL_INTERVAL}\n"
        # The fake server has no flood control here: the pace must not bind, so that the
        # ratio measures the work per update (every reply still goes through the sender).
        f"max_messages_per_second = {UNBOUND_RATE}\n",
        "utf-8",
    )
    # Port 0: the web server (on with every `minga run`) takes any free port, so that runs
    # side by side on one machine do not clash.
    env = {"MINGA_TELEGRAM__TOKEN": TOKEN, "MINGA_WEB__PORT": "0"}
    command = [sys.executable, "-m", "bot", "run", "--config", str(config)]
    profile = os.environ.get("BENCH_PROFILE")  # a file: where py-spy writes a CPU profile
    if profile:
        command = ["py-spy", "record", "-r", "250", "-f", "raw", "-o", profile, "--", *command]
    return command, env


def _echo_command(
    base_url: str, connections: int | None, *, aiohttp: bool = False
) -> tuple[list[str], dict[str, str]]:
    command = [sys.executable, "-m", "bench.echo_bot", "--token", TOKEN, "--base-url", base_url]
    if aiohttp:
        command.append("--aiohttp")
    if connections is not None:  # the same HTTP settings as Minga's; None: PTB's defaults
        command += ["--pool", str(connections), "--slots", str(connections)]
        command += ["--poll-interval", str(POLL_INTERVAL)]
    return command, {}


@contextlib.contextmanager
def _database(bot: str, postgres: str | None) -> Iterator[str | None]:
    """Minga's database for one run: a new one on the PostgreSQL server at `postgres` (dropped
    after), or None (SQLite, in the run's folder)."""
    if bot != "minga" or postgres is None:
        yield None
        return
    with fresh_database(postgres) as url:
        asyncio.run(_upgrade(url))  # as `minga db upgrade` before workers start
        yield url


async def _upgrade(url: str) -> None:
    database = await Database.open(url)  # applies the migrations
    await database.close()


def run_bot(
    bot: str, *, residents: int, steps: int, rate: float | None = None,
    postgres: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One run: start the server, start the bot, let the residents play, measure, stop both.
    `postgres`: a PostgreSQL server's address, where Minga gets a new database (else SQLite).
    `bot_cpu_ms_per_update`: the bot's CPU time (user + system) from the end of its start-up
    to the last resident's last answer, over the residents' updates."""
    with _database(bot, postgres) as database:
        return _run_bot(bot, residents=residents, steps=steps, rate=rate, database=database)


def _run_bot(
    bot: str, *, residents: int, steps: int, rate: float | None, database: str | None
) -> dict[str, Any]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/bot"
    spec = {"residents": residents, "steps": steps, "rate": rate,
            "complete": "markup" if bot == "minga" else "any"}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="minga-bench-") as folder:
        workdir = Path(folder)
        out = workdir / "results.json"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
        environment["PYTHONPATH"] = str(ROOT)
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.server_process", "--port", str(port),
             "--spec", json.dumps(spec), "--out", str(out)],
            cwd=ROOT, env=environment,
        )  # fmt: skip
        bot_process = None
        try:
            _wait_for_port(port, time.monotonic() + 30)
            if bot == "minga":
                command, extra = _minga_command(workdir, base_url, database)
            else:
                connections = None if bot == "echo-defaults" else CONNECTIONS
                command, extra = _echo_command(base_url, connections, aiohttp=bot == "echo-aiohttp")
            with (workdir / "bot.log").open("w") as log:
                spawned_at = time.monotonic()
                bot_process = subprocess.Popen(
                    command, cwd=ROOT, env=environment | extra, stdout=log, stderr=log
                )
                deadline = time.monotonic() + WAIT_SECONDS
                warm_cpu: float | None = None
                while not out.exists():
                    if warm_cpu is None and warm_marker(out).exists():
                        warm_cpu = cpu_seconds(bot_process.pid)
                    if bot_process.poll() is not None:
                        raise RuntimeError(f"{bot} exited: {(workdir / 'bot.log').read_text()}")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{bot}: the scenario did not finish in time")
                    time.sleep(0.05)
                results = json.loads(out.read_text())
                results["bot_rss_kib"] = rss_kib(bot_process.pid)
                results["bot_peak_rss_kib"] = rss_kib(bot_process.pid, "VmHWM")
                results["bot_cpu_seconds"] = cpu_seconds(bot_process.pid)
                busy = results["bot_cpu_seconds"] - (warm_cpu or 0.0)
                results["bot_cpu_ms_per_update"] = 1000 * busy / max(1, results["updates"])
                results["database"] = "postgresql" if database else "sqlite"
                results["startup_seconds"] = results["first_reply_at"] - spawned_at
        finally:
            if bot_process is not None:
                stop_bot(bot_process)
            server.kill()
            server.wait()
    return results


def stop_bot(process: subprocess.Popen) -> None:
    """Stop a bot cleanly if it still runs; kill it if it will not stop."""
    if process.poll() is not None:
        return
    # py-spy writes its profile on SIGINT; Minga and PTB stop cleanly on SIGTERM.
    process.send_signal(signal.SIGINT if os.environ.get("BENCH_PROFILE") else signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()

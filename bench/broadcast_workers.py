"""A broadcast drained by several `minga run` workers on one PostgreSQL database, one of them
SIGKILLed halfway (issue 19; `make soak-postgres`).

The fake Bot API refuses any message over Telegram's limit (30 in any second, all chats
together) with a 429. Afterwards: each recipient got the broadcast at least once, repeats are
at most what the killed worker had in hand (its claimed, unmarked rows, counted right after
the kill), and the fake answered no 429.

python -m bench.broadcast_workers [--recipients 10000] [--workers 3] [--database URL]
(without --database: a throwaway PostgreSQL on loopback, as `make test-postgres` starts)
"""

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, TypedDict

from bench.seeding import queue_announcement
from storage.database import Database
from tests.fakes.postgres import HOW_TO_GET, find_bindir, fresh_database_on
from tests.fakes.telegram_api import SENDING, TOKEN, FakeBotApi, SlidingWindow
from tests.fakes.threaded import InThread
from tests.fakes.wait import wait_for

BROADCAST = "Minga de limpieza del parque, el sábado a las 9"
LIMIT = 30  # Telegram's, for one bot over all chats
POLICY = "2026-08"
FIRST_CHAT = 8_000_000
CHECK_SECONDS = 0.5  # how often the driver looks at the database (another process writes it)


class Report(TypedDict):
    """What the run shows, printed as JSON."""

    recipients: int
    workers: int
    killed_at_received: int
    in_flight_at_kill: int
    received_once: int
    missed: int
    repeats: int
    sends: int
    rate_limited: int
    busiest_second: int
    seconds_to_drain: float
    messages_per_second: float


def _config(folder: Path, api: Any, url: str, number: int) -> Path:
    path = folder / f"worker{number}.toml"
    path.write_text(
        f"""[telegram]
token = "{TOKEN}"
base_url = "{api.base_url}"
base_file_url = "{api.base_file_url}"
poll_timeout_seconds = 1
max_messages_per_second = {LIMIT}
[web]
port = 0
[storage]
database = "{url}"
media_dir = "{folder / "media"}"
[log]
level = "WARNING"
""",
        "utf-8",
    )
    return path


async def _seed(url: str, recipients: int) -> int:
    """Residents who said yes to announcements, and a broadcast to them all, queued."""
    return await queue_announcement(
        url, BROADCAST, policy=POLICY, first_chat=FIRST_CHAT, recipients=recipients, by="bench"
    )


async def _start(config: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config),
            stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


async def _scalar(database: Database, sql: str, *parameters: object) -> int:
    rows = list(await database.reader().outbox._db.execute_fetchall(sql, parameters))
    return int(rows[0][0]) if rows else 0


async def drain(
    url: str, recipients: int, workers: int = 3, folder: Path | None = None,
    timeout: float = 3600,  # noqa: ASYNC109
) -> Report:  # fmt: skip
    """The run against the database at `url` (empty): seed, start, kill one halfway, drain
    (TimeoutError after `timeout` seconds; RuntimeError if a worker stops by itself)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="minga-workers-"))
    broadcast_id = await _seed(url, recipients)
    # Appended on the fake's thread, read on this one: a list's append is atomic.
    arrivals: list[int] = []

    def count(chat: int, message: dict[str, Any]) -> None:
        if message.get("text") == BROADCAST:
            arrivals.append(chat)

    # The fake on its own loop, so that it times arrivals as Telegram would.
    async with InThread(FakeBotApi()) as api:
        server: FakeBotApi = api.server
        server.limiter = window = SlidingWindow(LIMIT)
        server.keep_sent = False
        server.on_send = count
        configs = [_config(folder, api, url, n) for n in range(workers)]
        log = folder / "workers.log"
        processes = [await _start(config, log) for config in configs]
        database = await Database.open(url, migrate=False)
        started = time.monotonic()
        try:

            def halfway() -> bool:
                _running(processes)
                return len(arrivals) >= recipients // 2

            await wait_for(halfway, timeout, every=CHECK_SECONDS)
            killed = processes[0]
            killed.send_signal(signal.SIGKILL)
            await killed.wait()
            killed_at = len(arrivals)
            # What it had in hand: claimed by it, not yet marked. Only these can go twice.
            in_flight = await _scalar(
                database, "SELECT count(*) FROM outbox WHERE status = 'pending' "
                "AND claimed_by LIKE ?", f"% pid {killed.pid} %",
            )  # fmt: skip

            async def drained() -> bool:
                _running(processes[1:])
                return not await _scalar(database, "SELECT count(*) FROM outbox WHERE "
                                         "broadcast_id = ? AND status = 'pending'",
                                         broadcast_id)  # fmt: skip

            await wait_for(drained, timeout, every=CHECK_SECONDS)
            seconds = time.monotonic() - started
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                await process.wait()
            await database.close()
        sends = sum(1 for method, _ in server.calls if method in SENDING)
        rate_limited, busiest = server.rate_limited, window.busiest
    received = Counter(arrivals)
    chats = [FIRST_CHAT + number for number in range(recipients)]
    return {
        "recipients": recipients,
        "workers": workers,
        "killed_at_received": killed_at,
        "in_flight_at_kill": in_flight,
        "received_once": sum(1 for chat in chats if received[chat] == 1),
        "missed": sum(1 for chat in chats if received[chat] == 0),
        "repeats": sum(received[chat] - 1 for chat in chats if received[chat] > 1),
        "sends": sends,
        "rate_limited": rate_limited,
        "busiest_second": busiest,
        "seconds_to_drain": round(seconds, 1),
        "messages_per_second": round(len(arrivals) / seconds, 1),
    }


def _running(processes: list[asyncio.subprocess.Process]) -> None:
    """Each of these workers still runs (one that stopped by itself is a failure: see its
    log)."""
    stopped = [p.returncode for p in processes if p.returncode is not None]
    if stopped:
        raise RuntimeError(f"a worker stopped by itself (exit {stopped[0]}): see workers.log")


def ok(report: Report) -> bool:
    """Each recipient reached, repeats within what was in flight, no 429."""
    return (report["missed"] == 0 and report["repeats"] <= report["in_flight_at_kill"]
            and report["rate_limited"] == 0)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.broadcast_workers", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--database", help="a PostgreSQL server's address (a database is made)")
    args = parser.parse_args()
    if not args.database and find_bindir() is None:
        print(HOW_TO_GET, file=sys.stderr)
        return 1
    with fresh_database_on(args.database) as url:
        report = asyncio.run(drain(url, args.recipients, args.workers))
    print(json.dumps(report, indent=2))
    print("broadcast_workers: OK" if ok(report) else "broadcast_workers: FAILED", file=sys.stderr)
    return 0 if ok(report) else 1


if __name__ == "__main__":
    sys.exit(main())

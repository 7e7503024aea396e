"""The fake Bot API in webhook mode and its simulated residents, in a process of their own
(the workers' benchmark, bench/workers_bench.py).

python -m bench.webhook_residents --port P --spec JSON --out FILE

Each update is posted, as Telegram does, to the webhook address in the spec (a load balancer
in front of the workers), with the secret header; a delivery answered with anything but 200 is
posted again after a pause. A resident has one update in flight at a time, so one chat's
updates arrive in order. Latency: from the post's start to the sendMessage that ends the
answer. The process waits for the file `go` (the processes to measure) before it starts, and
measures their CPU time over each phase itself, so that start-up is left out.
"""

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.residents import Replies, run_residents
from bench.server_process import serve, write_whole
from tests.fakes.telegram_api import FakeBotApi

RETRY_SECONDS = 0.5  # Telegram posts an update again after a delivery got no 200
ATTEMPTS = 20  # then the run is broken (a wrong secret, a worker that refuses them all)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CLOSED_FIRST_USER = 10_000_000
PACED_FIRST_USER = 20_000_000
WARMUP_FIRST_USER = 1


class WebhookApi(FakeBotApi):
    """Updates are posted to a webhook instead of waiting for getUpdates."""

    def __init__(self, webhook_url: str, secret: str) -> None:
        super().__init__()
        self.webhook_url = webhook_url
        self.secret = secret
        self.retried = 0
        self._session: aiohttp.ClientSession | None = None

    async def push(self, update: dict[str, Any]) -> int:
        body = self.webhook_body(update)
        if self._session is None:
            # As many connections as residents waiting: Telegram opens up to 100 per bot.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        headers = {"content-type": "application/json", SECRET_HEADER: self.secret}
        for _ in range(ATTEMPTS):
            status = await self._post(body, headers)
            if status == 200:
                return int(json.loads(body)["update_id"])
            self.retried += 1
            await asyncio.sleep(RETRY_SECONDS)
        # Nothing here kills a worker: a run whose deliveries keep failing is broken (the
        # driver stops at once with this process's error in its log).
        raise RuntimeError(f"a webhook delivery failed {ATTEMPTS} times (last: {status})")

    async def _post(self, body: bytes, headers: dict[str, str]) -> int | str:
        """The delivery's status, or why there was none."""
        assert self._session is not None
        try:
            async with self._session.post(
                self.webhook_url, data=body, headers=headers,
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:  # fmt: skip
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            return type(error).__name__

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _ticks(pid: int | str) -> tuple[int, int]:
    """(own user + system ticks, waited-for children's) of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def _children(pid: int) -> list[int]:
    """The live child processes of `pid` (a PostgreSQL server's backends)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def tree_cpu_seconds(pid: int | str) -> float:
    """CPU time of a process and of its children, live or ended (a PostgreSQL server: the
    postmaster and its backends)."""
    own, ended = _ticks(pid)
    total = own + ended
    number = os.getpid() if pid == "self" else int(pid)
    for child in _children(number):
        try:
            total += sum(_ticks(child))
        except OSError:  # ended between the listing and the reading
            continue
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores, all users), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def database_counts(url: str) -> dict[str, float]:
    """PostgreSQL's counters for the database: transactions ended, rows read and written. Its
    backends report them at most once a second (after 10 s when idle): a phase of thousands of
    updates is barely affected, a run of a few hundred undercounts its last ones."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched, "
            "tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return {"pg_transactions": row[0], "pg_rows_read": row[1], "pg_rows_written": row[2]}


def sample(watch: dict[str, Any]) -> dict[str, float]:
    """CPU seconds so far of each group of processes to measure, this one ("server") too,
    and the machine's; PostgreSQL's counters where there is one."""
    groups = watch["processes"]
    found = {group: sum(tree_cpu_seconds(pid) for pid in pids) for group, pids in groups.items()}
    for number, pid in enumerate(groups.get("workers", [])):  # how the work was spread
        found[f"worker {number}"] = tree_cpu_seconds(pid)
    if watch.get("database"):
        found |= database_counts(watch["database"])
    found["server"] = tree_cpu_seconds("self")
    found["machine"] = machine_busy_seconds()
    found["at"] = time.monotonic()
    return found


async def _phase(
    api: WebhookApi, replies: Replies, watch: dict[str, Any], **residents: Any
) -> dict[str, Any]:
    before = await asyncio.to_thread(sample, watch)
    results = await run_residents(api, replies, **residents)
    after = await asyncio.to_thread(sample, watch)
    counts = [k for k in after if k.startswith("pg_")]
    results["database_counts"] = {k: after[k] - before[k] for k in counts}
    results["cpu_seconds"] = {k: after[k] - before[k] for k in after if k not in [*counts, "at"]}
    results["wall_seconds"] = after["at"] - before["at"]
    return results


def _go(path: Path) -> dict[str, Any]:
    """What to measure ({"processes": {group: [pid, ...]}, "database": URL or None}), once the
    driver has started them all and they are ready (run in a thread: the fake answers the
    workers' start-up calls meanwhile)."""
    while not path.exists():
        time.sleep(0.05)
    watch: dict[str, Any] = json.loads(path.read_text())
    return watch


async def main(port: int, spec: dict[str, Any], out: Path) -> None:
    api = WebhookApi(spec["webhook_url"], spec["secret"])
    api.keep_sent = False
    replies = Replies(complete="markup")
    api.on_send = replies.on_send
    await api.start(port)
    watch = await asyncio.to_thread(_go, Path(spec["go"]))
    # A /start for each worker and more (round-robin): every worker has answered once.
    warmup = await run_residents(
        api, replies, residents=spec["warmup"], steps=1, rate=None, first_user=WARMUP_FIRST_USER
    )
    # Before any traffic: what the processes spend doing nothing (heartbeats, sweeps, polls).
    before = await asyncio.to_thread(sample, watch)
    await asyncio.sleep(spec.get("idle_seconds", 0))
    after = await asyncio.to_thread(sample, watch)
    idle = {k: after[k] - before[k] for k in after if not k.startswith("pg_")}
    closed = await _phase(
        api, replies, watch, residents=spec["residents"], steps=spec["steps"], rate=None,
        first_user=CLOSED_FIRST_USER,
    )  # fmt: skip
    paced = None
    if spec.get("paced_residents"):
        paced = await _phase(
            api, replies, watch, residents=spec["paced_residents"], steps=spec["steps"],
            rate=spec["rate"], first_user=PACED_FIRST_USER,
        )  # fmt: skip
    results = {
        "warmup": warmup,
        "idle_cpu_seconds": idle,
        "closed": closed,
        "paced": paced,
        "retried": api.retried,
    }
    await api.close()
    await asyncio.to_thread(write_whole, out, json.dumps(results))
    await asyncio.Event().wait()  # keep serving the workers until the driver stops us


if __name__ == "__main__":
    serve(main)

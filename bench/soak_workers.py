"""Crash runs with several workers (issue 19; `make soak-postgres`): N `minga run` workers in
webhook mode on one PostgreSQL database, behind a round-robin load balancer
(bench/balancer.py, as Caddy with health checks), while residents do the intake over
Telegram's webhooks and one worker, chosen at random, is SIGKILLed every --kill-every seconds
and started again at once on the same port.

Telegram is the fake Bot API in webhook mode (bench/soak.py's WebhookBotApi): one chat's
updates posted in order, a delivery that got no 200 (the worker died, or the balancer answered
502) posted again after half a second. Residents never send anything twice: each answers the
question the bot shows last and waits (--patience seconds) for the next, so that an update or
a reply the kills lost leaves its resident waiting.

Afterwards, reported as JSON: each resident has exactly one idea; nobody was left waiting;
every update Telegram delivered is recorded as handled (none lost); each resident's replies
came in order (the intake's questions, as the chat shows them, never go back to an earlier
one), and the replies a kill made go twice are counted (each at most once more).

python -m bench.soak_workers [--workers 3] [--residents 1000] [--kill-every 4] [--database URL]
(without --database: a throwaway PostgreSQL on loopback, as `make test-postgres` starts)
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import aiohttp

from bench.balancer import Balancer
from bench.residents import INTAKE
from bench.soak import (
    ASKS,
    FILED,
    RESTART,
    WEBHOOK_SECRET,
    Seen,
    WebhookBotApi,
    _answer,
    _free_port,
    _marks,
    newest_question,
)
from tests.fakes.postgres import HOW_TO_GET, find_bindir, fresh_database_on
from tests.fakes.sql import connect
from tests.fakes.telegram_api import TOKEN
from tests.fakes.wait import wait_for

FIRST_USER = 7_000_001
KILL_EVERY_SECONDS = 4.0
# A resident waits this long for each answer: queueing behind a thousand others, a kill and a
# restart, and the replies a dead worker committed but did not send, which another takes over
# only after SENDING_TIME (30 s, handlers/engine/dispatcher.py) and its next sweep.
PATIENCE_SECONDS = 120.0
ARRIVE_OVER_SECONDS = 10.0  # residents start their intake spread over this long
SETTLE_SECONDS = 120.0  # after the last intake: every kept message and owed reply gone
START_SECONDS = 60.0  # a worker's first start, until its /readyz answers
CHECK_SECONDS = 0.5  # how often the driver looks at the database (other processes write it)


class Report(TypedDict):
    """What the run shows, printed as JSON."""

    workers: int
    residents: int
    kills: int
    seconds: float
    updates: int
    updates_per_second: float
    residents_with_one_idea: int
    residents_with_more: int
    residents_left_waiting: int
    updates_lost: int
    residents_replies_out_of_order: int
    replies_repeated: int
    replies_repeated_without_a_kill: int
    residents_with_repeats: int
    most_copies_of_one_reply: int
    longest_wait_seconds: float
    webhook_deliveries_retried: int
    balancer_refused: int
    balancer_bad_gateway: int
    folder: str


def _config(folder: Path, api: WebhookBotApi, url: str, port: int) -> Path:
    """One worker's config: webhook mode on `port`; Telegram's pace lifted (this run is about
    crashes: the 30 msg/s pace is bench/broadcast_workers.py's), flood control too."""
    path = folder / f"worker-{port}.toml"
    path.write_text(
        f"""[telegram]
token = "{TOKEN}"
base_url = "{api.base_url}"
base_file_url = "{api.base_file_url}"
mode = "webhook"
webhook_url = "https://minga.example.org/webhooks/telegram"
webhook_secret = "{WEBHOOK_SECRET}"
retry_backoff_seconds = 0.05
max_messages_per_second = 1000
[flood]
max_messages = 1000
[web]
port = {port}
[storage]
database = "{url}"
media_dir = "{folder / "media"}"
upgrade_at_start = false
[log]
level = "WARNING"
""",
        "utf-8",
    )
    return path


class Worker:
    """One `minga run` process on its own web port, started again after each kill."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config = config
        self.port = port
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(self.config),
                stdout=asyncio.subprocess.DEVNULL, stderr=err,
            )  # fmt: skip

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()

    def check_running(self) -> None:
        """A worker that stopped by itself is a failure (see its log)."""
        if self.process is not None and self.process.returncode is not None:
            code = self.process.returncode
            raise RuntimeError(f"a worker stopped by itself (exit {code}): see {self.log}")


class Inbox:
    """Wakes a resident when the bot sends their chat something (no polling: a thousand
    residents glancing at their phones every 50 ms would cost the run its CPU)."""

    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        # When each message of a chat arrived, in the order of the fake's `sent[chat]`.
        self.arrived: dict[int, list[float]] = defaultdict(list)

    def on_send(self, chat: int, message: dict[str, Any]) -> None:
        self.arrived[chat].append(time.monotonic())
        self._events[chat].set()

    async def wait(self, chat: int, seconds: float) -> None:
        """Until the chat gets a message, or `seconds` pass."""
        event = self._events[chat]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
        event.clear()


@dataclass
class Journey:
    """How one resident's intake went."""

    left_waiting: bool = False
    longest_wait: float = 0.0
    waits: list[float] = field(default_factory=list)


async def _next_question(
    api: WebhookBotApi, inbox: Inbox, user: int, answered: Seen, patience: float
) -> Seen | None:
    """The newest question after the one answered, within `patience` seconds; else None."""
    deadline = time.monotonic() + patience
    while (question := newest_question(api, user, answered)) is None:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        await inbox.wait(user, left)
    return question


async def _resident(
    api: WebhookBotApi, inbox: Inbox, user: int, delay: float, patience: float
) -> Journey:
    """One intake, sending each answer once, until the idea is filed (or an answer never
    comes)."""
    await asyncio.sleep(delay)
    journey, answered, action = Journey(), Seen(), INTAKE[0]
    while True:
        sent_at = time.monotonic()
        await action(api, user)
        question = await _next_question(api, inbox, user, answered, patience)
        journey.waits.append(time.monotonic() - sent_at)
        if question is None:
            journey.left_waiting = True
            return journey
        if FILED in question.marks:
            return journey
        answered, action = question, _answer(question)


def _step(marks: set[str]) -> int | None:
    """Where in the intake a message stands: the action it waits for (the end once filed),
    or None for a message that asks nothing of the intake."""
    if FILED in marks:
        return len(ASKS)
    steps = [index for index, ask in enumerate(ASKS) if ask is not None and ask in marks]
    return max(steps) if steps else None


@dataclass(frozen=True)
class ChatOrder:
    """What one resident's chat shows about the order and repeats of the bot's replies."""

    in_order: bool
    repeats: int  # messages identical to one the chat already had (sent again after a kill)
    repeats_without_a_kill: int  # copies with no kill since the copy before: never allowed
    most_copies: int


def _chat_order(api: WebhookBotApi, user: int, arrived: list[float],
                kills: list[float]) -> ChatOrder:  # fmt: skip
    """The intake's questions never go back to an earlier step (a copy of the latest one,
    sent again after a kill, stays on its step); how many messages came again, and whether
    each copy had a kill of its own since the copy before (at most once more per kill)."""
    messages = api.sent[user]
    copies: dict[tuple[str, str], list[float]] = defaultdict(list)
    for message, at in zip(messages, arrived, strict=True):
        key = (message.get("text") or "", json.dumps(message.get("reply_markup"), sort_keys=True))
        copies[key].append(at)
    unexplained = sum(_without_a_kill(times, kills) for times in copies.values())
    steps = [_step(_marks(api, m)) for m in messages if RESTART not in _marks(api, m)]
    known = [step for step in steps if step is not None]
    in_order = all(earlier <= later for earlier, later in itertools.pairwise(known))
    most = max((len(times) for times in copies.values()), default=0)
    return ChatOrder(in_order, len(messages) - len(copies), unexplained, most)


def _without_a_kill(times: list[float], kills: list[float]) -> int:
    """How many copies after the first had no kill of their own before them: each needs a
    kill later than the one the copy before it used. (Not one between two arrivals: a reply
    a worker sent just before its kill may reach the fake just after it.)"""
    used, unexplained = float("-inf"), 0
    for arrived in times[1:]:
        kill = next((k for k in kills if used < k < arrived), None)
        if kill is None:
            unexplained += 1
        else:
            used = kill
    return unexplained


async def _rows(url: str, sql: str, *parameters: Any) -> list[Any]:
    async with connect(url) as db:
        return list(await db.execute_fetchall(sql, parameters))


async def _settled(url: str) -> bool:
    """No message kept and not handled, no reply owed."""
    left = await _rows(url, "SELECT (SELECT count(*) FROM inbound_queue) + "
                       "(SELECT count(*) FROM pending_replies)")  # fmt: skip
    return int(left[0][0]) == 0


async def _upgrade(url: str, folder: Path) -> None:
    """`minga db upgrade`, once before any worker starts (they never migrate a shared one)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MINGA_")}
    environment["MINGA_STORAGE__DATABASE"] = url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "upgrade", env=environment, cwd=folder,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"minga db upgrade failed: {err.decode()[-2000:]}")


@dataclass(frozen=True)
class Plan:
    """How a run goes."""

    workers: int = 3
    residents: int = 1000
    kill_every: float = KILL_EVERY_SECONDS
    patience: float = PATIENCE_SECONDS
    arrive_over: float = ARRIVE_OVER_SECONDS
    seed: int = 1581


async def soak_workers(url: str, plan: Plan = Plan(), folder: Path | None = None) -> Report:
    """The run against the empty database at `url`; logs and configs stay in `folder`."""
    folder = folder or Path(tempfile.mkdtemp(prefix="minga-soak-workers-"))
    chance = random.Random(plan.seed)
    await _upgrade(url, folder)
    ports = [_free_port() for _ in range(plan.workers)]
    balancer = Balancer([f"127.0.0.1:{port}" for port in ports])
    await balancer.start()
    api = WebhookBotApi(balancer.port)
    inbox = Inbox()
    api.on_send = inbox.on_send
    await api.start()
    log = folder / "workers.log"
    workers = [Worker(_config(folder, api, url, port), port, log) for port in ports]
    try:
        for worker in workers:
            await worker.start()
        await wait_for(lambda: _all_ready(workers), START_SECONDS, every=CHECK_SECONDS)
        users = [FIRST_USER + number for number in range(plan.residents)]
        started = time.monotonic()
        intakes = [
            asyncio.create_task(_resident(api, inbox, user, delay, plan.patience))
            for user, delay in zip(users, _arrivals(plan), strict=True)
        ]
        kills = await _kill_while(intakes, workers, plan.kill_every, chance)
        journeys = await asyncio.gather(*intakes)
        seconds = time.monotonic() - started

        async def settled() -> bool:
            for worker in workers:
                worker.check_running()
            return await _settled(url)

        await wait_for(settled, SETTLE_SECONDS, every=CHECK_SECONDS)
    finally:
        for worker in workers:
            await worker.stop()
        await api.stop()
        await balancer.stop()
    return await _report(url, api, inbox, balancer, plan, users, journeys, kills, seconds, folder)


def _arrivals(plan: Plan) -> list[float]:
    """When each resident starts, spread evenly over `arrive_over` seconds."""
    return [plan.arrive_over * number / plan.residents for number in range(plan.residents)]


async def _all_ready(workers: list[Worker]) -> bool:
    """Every worker answers 200 on /readyz (their first start: imports, connections)."""
    async with aiohttp.ClientSession() as session:
        for worker in workers:
            worker.check_running()
            try:
                url = f"http://127.0.0.1:{worker.port}/readyz"
                async with session.get(url) as answer:
                    if answer.status != 200:
                        return False
            except aiohttp.ClientError:
                return False
    return True


async def _kill_while(
    intakes: list[asyncio.Task[Journey]], workers: list[Worker], every: float,
    chance: random.Random,
) -> list[float]:  # fmt: skip
    """Every `every` seconds while residents are still at it: SIGKILL one worker chosen at
    random, and start it again at once. When each kill was (time.monotonic)."""
    kills: list[float] = []
    while True:
        done, _ = await asyncio.wait(intakes, timeout=every, return_when=asyncio.ALL_COMPLETED)
        if len(done) == len(intakes):
            return kills
        for worker in workers:
            worker.check_running()
        victim = chance.choice(workers)
        kills.append(time.monotonic())
        await victim.kill()
        await victim.start()


async def _report(
    url: str, api: WebhookBotApi, inbox: Inbox, balancer: Balancer, plan: Plan,
    users: list[int], journeys: list[Journey], kills: list[float], seconds: float, folder: Path,
) -> Report:  # fmt: skip
    ideas = dict(await _rows(
        url, "SELECT r.user_key, count(i.id) FROM residents AS r JOIN ideas AS i "
        "ON i.resident_id = r.id GROUP BY r.user_key",
    ))  # fmt: skip
    recorded = {str(row[0]) for row in await _rows(
        url, "SELECT external_id FROM inbound_messages WHERE channel = 'telegram'"
    )}  # fmt: skip
    orders = [_chat_order(api, user, inbox.arrived[user], kills) for user in users]
    waits = [wait for journey in journeys for wait in journey.waits]
    return {
        "workers": plan.workers,
        "residents": plan.residents,
        "kills": len(kills),
        "seconds": round(seconds, 1),
        "updates": len(set(api.pushed)),
        "updates_per_second": round(len(set(api.pushed)) / seconds, 1),
        "residents_with_one_idea": sum(1 for u in users if int(ideas.get(str(u), 0)) == 1),
        "residents_with_more": sum(1 for u in users if int(ideas.get(str(u), 0)) > 1),
        "residents_left_waiting": sum(1 for journey in journeys if journey.left_waiting),
        "updates_lost": len({str(update) for update in api.pushed} - recorded),
        "residents_replies_out_of_order": sum(1 for order in orders if not order.in_order),
        "replies_repeated": sum(order.repeats for order in orders),
        "replies_repeated_without_a_kill": sum(o.repeats_without_a_kill for o in orders),
        "residents_with_repeats": sum(1 for order in orders if order.repeats),
        "most_copies_of_one_reply": max((order.most_copies for order in orders), default=0),
        "longest_wait_seconds": round(max(waits, default=0.0), 1),
        "webhook_deliveries_retried": api.retried,
        "balancer_refused": balancer.stats.refused,
        "balancer_bad_gateway": balancer.stats.bad_gateway,
        "folder": str(folder),
    }


def ok(report: Report) -> bool:
    """Every idea filed once, nobody left waiting, no update lost, replies in order, and each
    reply sent again only after a kill, once per kill at most."""
    return (report["residents_with_one_idea"] == report["residents"]
            and report["residents_left_waiting"] == 0
            and report["updates_lost"] == 0
            and report["residents_replies_out_of_order"] == 0
            and report["replies_repeated_without_a_kill"] == 0)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak_workers", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--kill-every", type=float, default=KILL_EVERY_SECONDS,
                        help="seconds between kills (default %(default)s)")  # fmt: skip
    parser.add_argument("--patience", type=float, default=PATIENCE_SECONDS,
                        help="seconds a resident waits for each answer")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1581)
    parser.add_argument("--database", help="a PostgreSQL server's address (a database is made)")
    args = parser.parse_args()
    if not args.database and find_bindir() is None:
        print(HOW_TO_GET, file=sys.stderr)
        return 1
    plan = Plan(workers=args.workers, residents=args.residents, kill_every=args.kill_every,
                patience=args.patience, seed=args.seed)  # fmt: skip
    with fresh_database_on(args.database) as url:
        report = asyncio.run(soak_workers(url, plan))
    print(json.dumps(report, indent=2))
    print("soak_workers: OK" if ok(report) else "soak_workers: FAILED", file=sys.stderr)
    return 0 if ok(report) else 1


if __name__ == "__main__":
    sys.exit(main())

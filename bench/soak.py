"""Crash runs (`make soak`): `minga run` as a subprocess, killed with SIGKILL at random moments
(or every --kill-every seconds) while residents write their ideas and a broadcast goes out, and
started again each time. Telegram in polling mode, or with --webhook in webhook mode: then each
update is posted to Minga's /webhooks/telegram as Telegram does, a delivery that got no 200
posted again until it does.

Afterwards: every resident has exactly one idea (no draft lost, none sent twice), every
broadcast recipient got the message (none missed), and the repeats are counted against the
kills. Residents behave as people do: each answers the question the bot shows last (a reply
sent again after a restart is recognised as one already answered), and an answer that does
not come within a few seconds is asked for again by sending the same again; with --no-resend
they never send anything twice and wait (--patience seconds), so that a message or a reply the
kills lost leaves its resident waiting, counted in `residents_left_waiting`.
python -m bench.soak [--kills 10] [--residents 30] [--audience 300] [--webhook] [--no-resend]
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import aiohttp

from bench.residents import INTAKE, Action
from bench.seeding import queue_announcement
from storage.database import Database
from tests.fakes.telegram_api import TOKEN, FakeBotApi

BROADCAST = "Minga de limpieza del parque, el sábado a las 9"
ANSWER_SECONDS = 4.0  # a resident who hears nothing for this long sends the same again
PATIENCE_SECONDS = 30.0  # with --no-resend: how long a resident waits before counted as left
POLICY = "2026-08"
WEBHOOK_SECRET = "soak-webhook-secret"
RETRY_SECONDS = 0.5  # Telegram posts an update again after a delivery got no 200

# How the bot shows it waits for each action of the intake (INTAKE, in its order): the button
# a press needs, or a button of the question a text or a location answers. A resident answers
# the question on screen, never one the bot has not asked yet.
LOCATION = "<request_location>"  # the reply keyboard's "send my location" button
ASKS: tuple[str | None, ...] = (
    None, "role:resident", "consent:yes", "problem:back", LOCATION, "category:mobility",
    "idea:none", "photos:done", "identity:anonymous", "publish:text", "summary:send",
)  # fmt: skip
FILED = "upd:on"  # asked once the idea is filed: the intake is over
RESTART = "restart:no"  # "start again?" after a /start sent again: no, carry on
assert len(ASKS) == len(INTAKE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(folder: Path, api: FakeBotApi, web_port: int | None = None) -> Path:
    """Minga's config; with `web_port`, Telegram in webhook mode served on that port."""
    webhook = ""
    if web_port is not None:
        webhook = (
            'mode = "webhook"\nwebhook_url = "https://minga.example.org/webhooks/telegram"\n'
            f'webhook_secret = "{WEBHOOK_SECRET}"\n'
        )
    path = folder / "config.toml"
    path.write_text(
        f"""[telegram]
token = "{TOKEN}"
base_url = "{api.base_url}"
base_file_url = "{api.base_file_url}"
poll_timeout_seconds = 1
retry_backoff_seconds = 0.05
{webhook}[web]
port = {web_port or 0}
[storage]
database = "{folder / "minga.sqlite3"}"
media_dir = "{folder / "media"}"
[log]
level = "{os.environ.get("SOAK_LOG_LEVEL", "WARNING")}"
""",
        "utf-8",
    )
    return path


class WebhookBotApi(FakeBotApi):
    """The fake Bot API in webhook mode, as Telegram behaves: each update is posted to Minga's
    webhook, one chat's updates in order, and a delivery answered with anything but 200 (or
    not at all: the process is dead) is posted again after a pause, until it gets its 200."""

    def __init__(self, web_port: int) -> None:
        super().__init__()
        self.webhook_url = f"http://127.0.0.1:{web_port}/webhooks/telegram"
        self.retried = 0
        self._chats: dict[int, asyncio.Queue[bytes]] = {}
        self._posters: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None

    async def push(self, update: dict[str, Any]) -> int:
        body = self.webhook_body(update)
        update_id = int(json.loads(body)["update_id"])
        self.pushed.append(update_id)
        sender = (update.get("message") or update.get("callback_query") or {})["from"]["id"]
        if sender not in self._chats:
            self._chats[sender] = asyncio.Queue()
            self._posters.append(asyncio.create_task(self._post_in_order(self._chats[sender])))
        self._chats[sender].put_nowait(body)
        return update_id

    async def _post_in_order(self, queue: asyncio.Queue[bytes]) -> None:
        while True:
            body = await queue.get()
            while not await self._delivered(body):
                self.retried += 1
                await asyncio.sleep(RETRY_SECONDS)

    async def _delivered(self, body: bytes) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"content-type": "application/json",
                   "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}  # fmt: skip
        timeout = aiohttp.ClientTimeout(total=10)
        try:
            async with self._session.post(
                self.webhook_url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def stop(self) -> None:
        for poster in self._posters:
            poster.cancel()
        await asyncio.gather(*self._posters, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        await super().stop()


async def _seed(folder: Path, audience: int) -> int:
    """Residents who said yes to announcements, and a broadcast to them all, queued."""
    return await queue_announcement(
        folder / "minga.sqlite3",
        BROADCAST,
        policy=POLICY,
        first_chat=8_000_000,
        recipients=audience,
        by="soak",
    )


def _marks(api: FakeBotApi, message: dict[str, Any]) -> set[str]:
    """The buttons of a message, by id (the location keyboard's as LOCATION)."""
    return {LOCATION if button.get("request_location") else str(button.get("callback_data"))
            for button in api.buttons(message)}  # fmt: skip


def _known(marks: set[str]) -> bool:
    """Whether a message asks something of the intake (or says it is over)."""
    return bool(marks & {FILED, RESTART, *(ask for ask in ASKS if ask)})


@dataclass
class Seen:
    """The question a resident last answered: where it is in the chat, and what it said."""

    index: int = -1
    text: str = ""
    marks: frozenset[str] = frozenset()


async def _next_question(
    api: FakeBotApi, user: int, answered: Seen, patience: float
) -> Seen | None:
    """The newest question the bot asked after the one answered (a copy of that one, sent
    again after a restart, is no new question), within `patience` seconds; else None."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        question = newest_question(api, user, answered)
        if question is not None:
            return question
        # Polling, as a person glances at their phone: the bot is another process.
        await asyncio.sleep(0.05)
    return None


def newest_question(api: FakeBotApi, user: int, answered: Seen) -> Seen | None:
    """The newest question in the chat after the one answered (a copy of that one, sent
    again after a restart, is no new question), or None yet."""
    chat = api.sent[user]
    for index in range(len(chat) - 1, answered.index, -1):
        marks = _marks(api, chat[index])
        text = chat[index].get("text") or ""
        if not _known(marks):
            continue
        if text == answered.text and frozenset(marks) == answered.marks:
            continue  # the question answered, sent again: not a new one
        return Seen(index, text, frozenset(marks))
    return None


def _answer(question: Seen) -> Action:
    """What a resident does on this question."""
    if RESTART in question.marks:
        return lambda api, user: api.press(user, RESTART)
    step = max(i for i, ask in enumerate(ASKS) if ask in question.marks)
    return INTAKE[step]


@dataclass
class Intake:
    """How one resident's intake went."""

    resent: int = 0  # messages sent again after no answer came in time
    left_waiting: bool = False  # with no resending: an answer never came


async def _resident(api: FakeBotApi, user: int, *, resend: bool, patience: float) -> Intake:
    """One intake, answering whatever the bot asks last, until the idea is filed."""
    outcome, answered, action = Intake(), Seen(), INTAKE[0]
    while True:
        await action(api, user)
        question = await _next_question(api, user, answered, patience)
        while question is None:
            if not resend:
                outcome.left_waiting = True
                return outcome
            outcome.resent += 1
            await action(api, user)
            question = await _next_question(api, user, answered, patience)
        if FILED in question.marks:
            return outcome
        answered, action = question, _answer(question)


async def _start(config: Path) -> asyncio.subprocess.Process:
    log = os.environ.get("SOAK_BOT_LOG")  # to read what the bot said: a file it appends to
    stderr = open(log, "a") if log else asyncio.subprocess.DEVNULL  # noqa: ASYNC230, SIM115
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
    )  # fmt: skip


class Outcome(TypedDict):
    """What the database holds after a soak: pending outbox rows, ideas per resident."""

    pending: int
    ideas: dict[str, int]
    integrity: str


class Report(TypedDict):
    """A soak's result, printed as JSON: what the kills cost residents and the broadcast."""

    mode: str
    kills: int
    seconds: float
    residents: int
    residents_with_one_idea: int
    residents_with_more: int
    answers_sent_again: int
    residents_left_waiting: int
    webhook_deliveries_retried: int
    broadcast_recipients: int
    broadcast_missed: int
    broadcast_repeats: int
    integrity_check: str
    folder: str


async def _outcome(folder: Path, broadcast_id: int) -> Outcome:
    database = await Database.open(folder / "minga.sqlite3")
    try:
        counts = await database.reader().outbox.counts(broadcast_id)
        rows = await database.reader().outbox._db.execute_fetchall(
            "SELECT r.user_key, count(i.id) FROM residents AS r JOIN ideas AS i "
            "ON i.resident_id = r.id GROUP BY r.id"
        )
        [(check,)] = await database.reader().outbox._db.execute_fetchall("PRAGMA integrity_check")
    finally:
        await database.close()
    return {"pending": counts.pending, "ideas": {str(k): int(v) for k, v in rows},
            "integrity": str(check)}  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """How a soak runs: Telegram's mode, how residents behave, how often the bot is killed."""

    webhook: bool = False
    resend: bool = True  # residents send the same again when no answer comes in time
    patience: float = ANSWER_SECONDS
    kill_every: float | None = None  # seconds between kills; None: at random, 0.3 to 2.5 s


async def soak(
    kills: int, residents: int, audience: int, seed: int, folder: Path | None = None,
    plan: Plan = Plan(),
) -> Report:  # fmt: skip
    """The run; its database stays in `folder` (a new temporary one by default) to look at."""
    chance = random.Random(seed)
    web_port = _free_port() if plan.webhook else None
    api = WebhookBotApi(web_port) if web_port is not None else FakeBotApi()
    await api.start()
    folder = folder or Path(tempfile.mkdtemp(prefix="minga-soak-"))
    config = _config(folder, api, web_port)
    broadcast_id = await _seed(folder, audience)
    users = [7_000_001 + number for number in range(residents)]
    started = time.monotonic()
    process = await _start(config)
    intakes = [
        asyncio.create_task(_resident(api, user, resend=plan.resend, patience=plan.patience))
        for user in users
    ]
    done_kills = 0
    while done_kills < kills:
        await asyncio.sleep(plan.kill_every or chance.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        await process.wait()
        done_kills += 1
        process = await _start(config)
    results = await asyncio.gather(*intakes)
    while (await _outcome(folder, broadcast_id))["pending"]:  # noqa: ASYNC110 (another process)
        await asyncio.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    await process.wait()
    outcome = await _outcome(folder, broadcast_id)
    await api.stop()
    received = Counter(chat for chat, messages in api.sent.items() for m in messages
                       if m.get("text") == BROADCAST)  # fmt: skip
    recipients = [8_000_000 + number for number in range(audience)]
    ideas = outcome["ideas"]
    return {
        "mode": "webhook" if plan.webhook else "polling",
        "kills": done_kills,
        "seconds": round(time.monotonic() - started, 1),
        "residents": residents,
        "residents_with_one_idea": sum(1 for u in users if ideas.get(str(u)) == 1),
        "residents_with_more": sum(1 for u in users if ideas.get(str(u), 0) > 1),
        "answers_sent_again": sum(result.resent for result in results),
        "residents_left_waiting": sum(1 for result in results if result.left_waiting),
        "webhook_deliveries_retried": api.retried if isinstance(api, WebhookBotApi) else 0,
        "broadcast_recipients": audience,
        "broadcast_missed": sum(1 for chat in recipients if received[chat] == 0),
        "broadcast_repeats": sum(received[chat] - 1 for chat in recipients if received[chat] > 1),
        "integrity_check": outcome["integrity"],
        "folder": str(folder),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--residents", type=int, default=30)
    parser.add_argument("--audience", type=int, default=300)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", "1581")))
    parser.add_argument("--webhook", action="store_true", help="Telegram in webhook mode")
    parser.add_argument("--no-resend", action="store_true",
                        help="residents never send twice; count those left waiting")  # fmt: skip
    parser.add_argument("--patience", type=float, default=PATIENCE_SECONDS,
                        help="with --no-resend: seconds to wait for an answer")  # fmt: skip
    parser.add_argument("--kill-every", type=float, default=None,
                        help="seconds between kills (default: at random, 0.3 to 2.5)")  # fmt: skip
    args = parser.parse_args()
    plan = Plan(webhook=args.webhook, resend=not args.no_resend,
                patience=ANSWER_SECONDS if not args.no_resend else args.patience,
                kill_every=args.kill_every)  # fmt: skip
    report = asyncio.run(soak(args.kills, args.residents, args.audience, args.seed, plan=plan))
    print(json.dumps(report, indent=2))
    ok = (report["residents_with_one_idea"] == report["residents"]
          and report["residents_left_waiting"] == 0
          and report["broadcast_missed"] == 0
          and report["broadcast_repeats"] <= report["kills"]
          and report["integrity_check"] == "ok")  # fmt: skip
    print("soak: OK" if ok else "soak: FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

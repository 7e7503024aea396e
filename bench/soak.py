"""Crash runs (`make soak`): `minga run` as a subprocess, killed with SIGKILL at random moments
while residents write their ideas and a broadcast goes out, and started again each time.

Afterwards: every resident has exactly one idea (no draft lost, none sent twice), every
broadcast recipient got the message (none missed), and the repeats are counted against the
kills. Residents behave as people do: an answer that does not come within a few seconds is
sent again. python -m bench.soak [--kills 10] [--residents 30] [--audience 300]
"""

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from bench.residents import INTAKE
from handlers.outbound.broadcasts import Audience, queue_broadcast
from handlers.privacy.consent import Purpose, changes
from storage.database import Database
from tests.fakes.telegram_api import TOKEN, FakeBotApi

BROADCAST = "Minga de limpieza del parque, el sábado a las 9"
ANSWER_SECONDS = 4.0  # a resident who hears nothing for this long sends the same again
POLICY = "2026-08"


def _config(folder: Path, api: FakeBotApi) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f"""[telegram]
token = "{TOKEN}"
base_url = "{api.base_url}"
base_file_url = "{api.base_file_url}"
poll_timeout_seconds = 1
retry_backoff_seconds = 0.05
[storage]
database = "{folder / "minga.sqlite3"}"
media_dir = "{folder / "media"}"
[log]
level = "WARNING"
[web]
port = 0
""",
        "utf-8",
    )
    return path


async def _seed(folder: Path, audience: int) -> int:
    """Residents who said yes to announcements, and a broadcast to them all, queued."""
    database = await Database.open(folder / "minga.sqlite3")
    now = datetime.now(UTC)
    try:
        async with database.transaction() as repos:
            for number in range(audience):
                resident = await repos.residents.get_or_create(
                    "telegram", str(8_000_000 + number), now
                )
                agreed = resident.model_copy(
                    update=changes(Purpose.ANNOUNCEMENTS, True, POLICY, now)
                )
                await repos.residents.save_consents(agreed)
            broadcast = await queue_broadcast(repos, text=BROADCAST, event_id=None,
                                              audience=Audience("all"), created_by="soak",
                                              reporter_id=None, now=now)  # fmt: skip
        return broadcast.id
    finally:
        await database.close()


async def _answered(api: FakeBotApi, user: int, before: int) -> bool:
    """Whether the bot said something after the `before`-th message, within a few seconds."""
    deadline = time.monotonic() + ANSWER_SECONDS
    # Polling, as a person glances at their phone: the bot is another process.
    while len(api.sent[user]) == before and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return len(api.sent[user]) > before


async def _resident(api: FakeBotApi, user: int) -> int:
    """One intake; returns how many times a message had to be sent again."""
    resent = 0
    for action in INTAKE:
        while True:
            before = len(api.sent[user])
            await action(api, user)
            if await _answered(api, user, before):
                break
            resent += 1
        # Their first /start was taken after all, and the one sent again asks "start again?":
        # a person says no and carries on with the question they were at.
        last = api.sent[user][-1]
        if "restart:no" in [button.get("callback_data") for button in api.buttons(last)]:
            while True:
                before = len(api.sent[user])
                await api.press(user, "restart:no")
                if await _answered(api, user, before):
                    break
                resent += 1
    return resent


async def _start(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


class Outcome(TypedDict):
    """What the database holds after a soak: pending outbox rows, ideas per resident."""

    pending: int
    ideas: dict[str, int]
    integrity: str


class Report(TypedDict):
    """A soak's result, printed as JSON: what the kills cost residents and the broadcast."""

    kills: int
    seconds: float
    residents: int
    residents_with_one_idea: int
    residents_with_more: int
    answers_sent_again: int
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


async def soak(
    kills: int, residents: int, audience: int, seed: int, folder: Path | None = None
) -> Report:
    """The run; its database stays in `folder` (a new temporary one by default) to look at."""
    chance = random.Random(seed)
    api = FakeBotApi()
    await api.start()
    folder = folder or Path(tempfile.mkdtemp(prefix="minga-soak-"))
    config = _config(folder, api)
    broadcast_id = await _seed(folder, audience)
    users = [7_000_001 + number for number in range(residents)]
    started = time.monotonic()
    process = await _start(config)
    intakes = [asyncio.create_task(_resident(api, user)) for user in users]
    done_kills = 0
    while done_kills < kills:
        await asyncio.sleep(chance.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        await process.wait()
        done_kills += 1
        process = await _start(config)
    resent = sum(await asyncio.gather(*intakes))
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
        "kills": done_kills,
        "seconds": round(time.monotonic() - started, 1),
        "residents": residents,
        "residents_with_one_idea": sum(1 for u in users if ideas.get(str(u)) == 1),
        "residents_with_more": sum(1 for u in users if ideas.get(str(u), 0) > 1),
        "answers_sent_again": resent,
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
    args = parser.parse_args()
    report = asyncio.run(soak(args.kills, args.residents, args.audience, args.seed))
    print(json.dumps(report, indent=2))
    ok = (report["residents_with_one_idea"] == report["residents"]
          and report["broadcast_missed"] == 0
          and report["broadcast_repeats"] <= report["kills"]
          and report["integrity_check"] == "ok")  # fmt: skip
    print("soak: OK" if ok else "soak: FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

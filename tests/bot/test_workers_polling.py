"""Two `minga run` processes polling Telegram on one SQLite file (issue 19): exactly one polls
at a time (the holder of the lease "telegram-polling"), the other waits; when the poller is
SIGKILLed, the other takes over within the lease time, and every update is answered once.
The scheduler's jobs move with their own lease too."""

import asyncio
import signal
import sqlite3
from pathlib import Path

from tests.fakes.graph_api import free_port
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for
from tests.fakes.workers import Worker, minga, telegram_environment

LEASE_SECONDS = 3  # short, so that the test takes seconds: production's is 30


def _holder(database: Path, lease: str) -> str | None:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT holder FROM leases WHERE name = ?", (lease,)).fetchone()
    return None if row is None else str(row[0])


async def _holds(worker: Worker, database: Path, lease: str) -> bool:
    holder = await asyncio.to_thread(_holder, database, lease)
    return holder is not None and f" pid {worker.pid} " in holder


async def test_one_worker_polls_and_the_other_takes_over_when_it_is_killed(
    api: FakeBotApi, tmp_path: Path
) -> None:
    database = tmp_path / "minga.sqlite3"
    workers: dict[str, Worker] = {}
    for name in ("one", "two"):
        environment = telegram_environment(
            api, tmp_path, MINGA_TELEGRAM__BASE_URL=api.base_url_of(name),
            MINGA_WEB__PORT=str(free_port()), MINGA_WORKERS__LEASE_SECONDS=str(LEASE_SECONDS),
            MINGA_STORAGE__UPGRADE_AT_START="false",
        )  # fmt: skip
        workers[name] = Worker(environment, tmp_path, tmp_path / f"{name}.log")
    assert (await minga("db", "upgrade", environment=workers["one"].environment,
                        cwd=tmp_path))[0] == 0  # fmt: skip
    try:
        for worker in workers.values():
            await worker.start()
        for worker in workers.values():
            await worker.ready()
        await wait_for(lambda: bool(api.polls))
        [poller] = set(api.polls)  # one of them polls, the other waits for the lease
        other = "two" if poller == "one" else "one"
        assert await _holds(workers[poller], database, "telegram-polling")

        before = [1000 + i for i in range(5)]
        for chat in before:
            await api.send_text(chat, "hola")
        await wait_for(lambda: all(api.sent[chat] for chat in before))
        assert set(api.polls) == {poller}

        polls_before_kill = len(api.polls)
        assert await workers[poller].stop(signal.SIGKILL) == -signal.SIGKILL
        after = [2000 + i for i in range(5)]
        for chat in after:  # nobody polls now: Telegram keeps them
            await api.send_text(chat, "hola")
        # The other worker takes over once the dead one's lease expires (a bound for a hung
        # test, not a measure: the lease time is 3 s).
        await wait_for(lambda: all(api.sent[chat] for chat in after), timeout=60)
        assert set(api.polls[polls_before_kill:]) == {other}
        assert await _holds(workers[other], database, "telegram-polling")
        await wait_for(lambda: _holds(workers[other], database, "scheduler"), timeout=60)
        assert await workers[other].stop() == 0
    finally:
        for worker in workers.values():
            if worker.process is not None and worker.process.returncode is None:
                await worker.stop(signal.SIGKILL)
    # Every update answered once: each person got what the first one got, no more.
    first = len(api.sent[before[0]])
    assert first >= 1
    assert [len(api.sent[chat]) for chat in before + after] == [first] * 10
    assert api.polls_overlapping == 0
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM inbound_messages").fetchone()[0] == 10

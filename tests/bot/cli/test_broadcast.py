"""`minga broadcast send --wait` as a lab's operator lives it: with `minga run` delivering, it
follows the broadcast to the end; with no bot running (never started, stopped, crashed, or
only a `minga chat` for the console) it says so at once and exits 1, the broadcast queued."""

import argparse
import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime
from bot.cli import broadcast as cli_broadcast
from bot.cli.main import main
from bot.cli.output import NotDone
from bot.config import load_settings
from bot.sending.outbox_worker import HEARTBEAT_STALE_SECONDS
from bot.sending.pacer import Gate, Pacer
from bot.sending.sender import RetryPolicy, Sender
from handlers.engine.messages import Reply
from storage.timefmt import to_db
from tests.fakes.clock import FakeClock
from tests.fakes.wait import wait_for

DATABASE = Path("data") / "minga.sqlite3"


class Transport:
    """Telegram as far as the sender can tell: records what it sends."""

    channel = "telegram"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def render(self, replies: Sequence[Reply]) -> Sequence[Any]:
        return list(replies)

    async def send(self, recipient: str, message: Any, *, bulk: bool) -> None:
        self.sent.append(recipient)


async def _instant(seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    with sqlite3.connect(DATABASE) as db:
        db.executemany(
            "INSERT INTO residents (channel, user_key, language, created_at, announcements_at, "
            "announcements_version) VALUES ('telegram', ?, 'es', '2026-01-01T00:00:00Z', "
            "'2026-01-01T00:00:00Z', (SELECT version FROM privacy_policy))",
            [(str(9000 + i),) for i in range(5)],
        )


def _send_args() -> argparse.Namespace:
    return argparse.Namespace(broadcast_command="send", text="¡Les esperamos!", event=None,
                              audience="all", yes=True, wait=True, json=True)  # fmt: skip


def _pending() -> int:
    with sqlite3.connect(DATABASE) as db:
        return db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]


def test_with_no_bot_running_it_says_so_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["broadcast", "send", "--text", "Hola", "--yes", "--wait"])
    err = capsys.readouterr().err
    assert status == 1
    assert len(err.strip().splitlines()) == 1 and "minga run" in err and "telegram" in err
    assert _pending() == 5  # still queued: it goes out when a bot starts


def test_console_residents_wait_for_minga_chat_not_minga_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Someone who tried `minga chat` opted in: their copy is shown by `minga chat`."""
    with sqlite3.connect(DATABASE) as db:
        db.execute("DELETE FROM residents")
        db.execute(
            "INSERT INTO residents (channel, user_key, language, created_at, announcements_at, "
            "announcements_version) VALUES ('console', 'local', 'es', '2026-01-01T00:00:00Z', "
            "'2026-01-01T00:00:00Z', (SELECT version FROM privacy_policy))"
        )
    assert main(["broadcast", "send", "--text", "Hola", "--yes", "--wait"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "minga chat" in err and "minga run" not in err


async def _with_worker(clock: FakeClock, transport: Transport, follow: Any) -> None:
    """A running bot's outbox worker (its heartbeat included) while `follow` runs."""
    runtime = await Runtime.open(load_settings(None), clock=clock)
    sender = Sender(transport, Pacer(Gate(1000)), RetryPolicy(attempts=1, backoff_seconds=0,
                    bulk_seconds_per_chat=0), sleep=_instant)  # fmt: skip
    worker = runtime.outbox_worker({"telegram": sender}, poll_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await follow()
    finally:
        stop.set()
        await task
        await runtime.close()


async def test_with_a_bot_running_it_follows_the_broadcast_to_the_end() -> None:
    clock, transport = FakeClock(), Transport()

    async def follow() -> None:
        await cli_broadcast.run(_send_args(), load_settings(None), clock=clock)

    await _with_worker(clock, transport, follow)
    assert sorted(transport.sent) == [str(9000 + i) for i in range(5)]
    assert _pending() == 0


async def test_a_bot_that_stopped_is_noticed() -> None:
    clock = FakeClock()
    await _with_worker(clock, Transport(), lambda: asyncio.sleep(0))  # started, then stopped
    with pytest.raises(NotDone, match="minga run"):
        await cli_broadcast.run(_send_args(), load_settings(None), clock=clock)


async def test_a_bot_that_crashed_is_noticed_once_its_heartbeat_is_old() -> None:
    clock = FakeClock()
    with sqlite3.connect(DATABASE) as db:  # what a killed bot leaves behind
        db.execute("INSERT INTO leases (name, holder, renewed_at, expires_at) VALUES "
                   "('outbox:telegram', 'gone', ?, ?)", (to_db(clock.now()),) * 2)  # fmt: skip
    clock.advance(seconds=HEARTBEAT_STALE_SECONDS + 1)
    with pytest.raises(NotDone, match="telegram"):
        await cli_broadcast.run(_send_args(), load_settings(None), clock=clock)


async def test_a_console_chat_does_not_deliver_telegram_messages() -> None:
    clock = FakeClock()
    with sqlite3.connect(DATABASE) as db:  # `minga chat` is running: it beats for the console
        db.execute("INSERT INTO leases (name, holder, renewed_at, expires_at) VALUES "
                   "('outbox:console', 'chat', ?, ?)", (to_db(clock.now()),) * 2)  # fmt: skip
    with pytest.raises(NotDone, match="telegram"):
        await cli_broadcast.run(_send_args(), load_settings(None), clock=clock)


def test_the_heartbeat_is_fresh_while_the_bot_runs() -> None:
    """The worker beats again as time passes (the clock moved by the test)."""

    async def scenario() -> None:
        clock = FakeClock()

        async def follow() -> None:
            runtime = await Runtime.open(load_settings(None), clock=clock)
            try:
                reader = runtime.database.reader()
                for _ in range(3):
                    clock.advance(seconds=HEARTBEAT_STALE_SECONDS)

                    async def beat_now() -> bool:
                        beats = await reader.leases.renewed("outbox:")
                        return beats.get("telegram") == clock.now()

                    await wait_for(beat_now)  # the worker's loop turns every 0.05 s
            finally:
                await runtime.close()

        await _with_worker(clock, Transport(), follow)
        with sqlite3.connect(DATABASE) as db:  # a clean stop takes its heartbeat away
            assert db.execute("SELECT count(*) FROM leases").fetchone()[0] == 0

    asyncio.run(scenario())

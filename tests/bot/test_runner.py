"""`minga run`'s outbound half: a bot whose outbox worker died does not go on looking alive."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime
from bot.config import Settings
from bot.runner import run_outbound
from bot.sending.pacer import Gate, Pacer
from bot.sending.sender import RetryPolicy, Sender
from handlers.engine.messages import Media
from tests.bot.sending.test_outbox_worker import Recorder, _instant
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.sql import database_for
from tests.handlers.staff.helpers import submit_idea


class BrokenWorker:
    def notify(self) -> None:
        pass

    async def run(self, stop: asyncio.Event) -> None:
        raise OSError("disk full")


async def test_a_dead_outbox_worker_stops_the_bot(tmp_path: Path, monkeypatch: Any) -> None:
    settings = Settings(
        storage={"database": database_for(tmp_path), "media_dir": tmp_path / "media"}
    )
    runtime = await Runtime.open(settings)
    monkeypatch.setattr(Runtime, "outbox_worker", lambda self, senders: BrokenWorker())
    stop = asyncio.Event()
    try:
        with pytest.raises(OSError, match="disk full"):
            await asyncio.wait_for(run_outbound(runtime, {}, stop), timeout=10)
    finally:
        await runtime.close()
    assert stop.is_set()  # the scheduler and everything else were told to stop


async def test_a_turn_that_queues_a_message_wakes_the_outbox_worker(tmp_path: Path) -> None:
    """The composition root gives the dispatcher the outbox's wake-up: with no poll in
    sight, the staff group hears of a new idea as soon as the resident sends it."""
    settings = Settings(
        storage={"database": database_for(tmp_path), "media_dir": tmp_path / "media"},
        staff={"group_chat_id": -100555, "alert_each_idea": True},
    )
    clock = FakeClock()
    runtime = await Runtime.open(settings, clock=clock)
    group = Recorder()
    group.channel = "telegram"
    sender = Sender(group, Pacer(Gate(1000)), RetryPolicy(attempts=1, backoff_seconds=0,
                    bulk_seconds_per_chat=0), sleep=_instant)  # fmt: skip
    worker = runtime.outbox_worker({"telegram": sender}, poll_seconds=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(20):
            await runtime.outbox.until_caught_up()
            reference = await submit_idea(Chat(runtime.dispatcher, runtime.catalog, clock))
            # Not woken, it would still be caught up from before: nothing sent.
            await runtime.outbox.until_caught_up()
    finally:
        stop.set()
        await task
        await runtime.close()
    [alert] = group.sent["-100555"]
    assert reference in alert.text


async def test_the_running_bot_deletes_a_file_no_turn_keeps(tmp_path: Path) -> None:
    """The composition root gives the dispatcher what deletes released media: a photo sent
    where none is asked is gone from the media folder after the turn."""
    media = tmp_path / "media"
    settings = Settings(storage={"database": database_for(tmp_path), "media_dir": media})
    clock = FakeClock()
    runtime = await Runtime.open(settings, clock=clock)
    try:
        chat = Chat(runtime.dispatcher, runtime.catalog, clock)
        await chat.command("start")
        (media / "test").mkdir(parents=True)
        (media / "test" / "idle.jpg").write_bytes(b"\xff\xd8\xff photo")
        await chat.send(media=Media("photo", "test/idle.jpg", "idle.jpg"))
    finally:
        await runtime.close()
    assert not (media / "test" / "idle.jpg").exists()

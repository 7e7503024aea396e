"""`minga run`'s outbound half: a bot whose outbox worker died does not go on looking alive."""

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime
from bot.config import Settings
from bot.leases import SCHEDULER, Lease
from bot.runner import run_outbound
from bot.sending.pacer import Gate, Pacer
from bot.sending.sender import RetryPolicy, Sender
from bot.similar import SimilarIndex
from handlers.engine.messages import Media
from tests.bot.sending.test_outbox_worker import Recorder, _instant
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.sql import database_for
from tests.fakes.wait import wait_for
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


async def test_minga_run_keeps_start_up_out_of_garbage_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With Python's defaults the collector took an eighth of a busy bot's CPU, going over
    everything start-up made again and again: `minga run` freezes it before serving and
    collects young objects less often (the settings are the process's own: recorded here,
    not applied to the test run)."""
    import gc

    from bot import runner

    done: list[object] = []
    monkeypatch.setattr(gc, "freeze", lambda: done.append("freeze"))
    monkeypatch.setattr(gc, "set_threshold", lambda *values: done.append(values))

    async def serve(settings: Settings, stop: asyncio.Event) -> None:
        done.append("serving")

    monkeypatch.setattr(runner, "run_channels", serve)
    await runner.run_until_signal(Settings())
    assert done == ["freeze", runner.GC_THRESHOLDS, "serving"]
    assert runner.GC_THRESHOLDS[0] > gc.get_threshold()[0]  # Python's default: 700


class CountingEncoder:
    """Encodes every text as (1, 0) and counts the texts."""

    model = "counting"

    def __init__(self) -> None:
        self.texts = 0

    async def encode(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts += len(texts)
        return [[1.0, 0.0] for _ in texts]


async def _run_outbound_briefly(runtime: Runtime, monkeypatch: Any) -> None:
    """run_outbound until the scheduler's lease was asked for once and, if it was gained,
    the backfill it starts has finished."""
    asked: list[bool] = []
    step = Lease.step

    async def recorded(lease: Lease) -> bool:
        held = await step(lease)
        if lease.name == SCHEDULER:
            asked.append(held)
        return held

    monkeypatch.setattr(Lease, "step", recorded)
    reader = runtime.database.reader().similar
    stop = asyncio.Event()
    task = asyncio.create_task(run_outbound(runtime, {}, stop))
    try:
        await wait_for(lambda: bool(asked))
        if asked[0]:
            await wait_for(lambda: _none_left(reader))
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _none_left(reader: Any) -> bool:
    return await reader.count_without_vector("counting") == 0


@pytest.mark.parametrize("holds_the_scheduler", [True, False])
async def test_only_the_scheduler_lease_holder_backfills_vectors(
    tmp_path: Path, holds_the_scheduler: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several workers start together after an upgrade: the earlier ideas' vectors are
    computed by the one running the scheduler, not once per worker."""
    settings = Settings(
        storage={"database": database_for(tmp_path), "media_dir": tmp_path / "media"}
    )
    clock = FakeClock()
    runtime = await Runtime.open(settings, clock=clock)
    encoder = CountingEncoder()
    runtime.similar = index = SimilarIndex(runtime.database, encoder)
    backfills: list[bool] = []
    run = index.run

    async def recorded(stop: asyncio.Event) -> None:
        backfills.append(True)
        await run(stop)

    monkeypatch.setattr(index, "run", recorded)
    try:
        await submit_idea(Chat(runtime.dispatcher, runtime.catalog, clock))
        if not holds_the_scheduler:
            async with runtime.database.transaction() as repos:
                ttl = settings.workers.lease
                assert await repos.leases.take(SCHEDULER, "another-worker", clock.now(), ttl)
        await _run_outbound_briefly(runtime, monkeypatch)
        left = await runtime.database.reader().similar.count_without_vector("counting")
    finally:
        await runtime.close()
    expected = (1, 1, 0) if holds_the_scheduler else (0, 0, 1)
    assert (len(backfills), encoder.texts, left) == expected

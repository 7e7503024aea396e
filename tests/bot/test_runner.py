"""`minga run`'s outbound half: a bot whose outbox worker died does not go on looking alive."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime
from bot.config import Settings
from bot.runner import run_outbound


class BrokenWorker:
    def notify(self) -> None:
        pass

    async def run(self, stop: asyncio.Event) -> None:
        raise OSError("disk full")


async def test_a_dead_outbox_worker_stops_the_bot(tmp_path: Path, monkeypatch: Any) -> None:
    settings = Settings(storage={"database": tmp_path / "m.db", "media_dir": tmp_path / "media"})
    runtime = await Runtime.open(settings)
    monkeypatch.setattr(Runtime, "outbox_worker", lambda self, senders: BrokenWorker())
    stop = asyncio.Event()
    try:
        with pytest.raises(OSError, match="disk full"):
            await asyncio.wait_for(run_outbound(runtime, {}, stop), timeout=10)
    finally:
        await runtime.close()
    assert stop.is_set()  # the scheduler and everything else were told to stop

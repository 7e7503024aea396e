"""One worker at a time does what a lease guards (bot/leases.py): the holder starts the work,
renews, and stops it when the lease is lost; another takes over once it expires or is given
back. Two workers on one SQLite file, with a clock the test moves."""

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.leases import Lease, gone, worker_name
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.fakes.wait import wait_for

TTL = timedelta(seconds=30)


class Worker:
    """A worker's side of the lease "polling": what it started and stopped, in order (named
    "a", "b": not this machine's processes, so only expiry hands their leases over)."""

    def __init__(self, database: Database, name: str, clock: FakeClock) -> None:
        self.database = database
        self.log: list[str] = []
        self.fail_start = False
        self.lease = Lease(database, "polling", name, clock, TTL, start=self._start,
                           stop=self._stop)  # fmt: skip

    async def _start(self) -> None:
        if self.fail_start:
            raise OSError("network down")
        self.log.append("start")

    async def _stop(self) -> None:
        self.log.append("stop")


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    path = tmp_path / "minga.sqlite3"
    first, second = await Database.open(path), await Database.open(path)
    yield first, second
    await first.close()
    await second.close()


async def test_one_worker_works_and_another_takes_over_when_it_dies(
    databases: tuple[Database, Database], clock: FakeClock
) -> None:
    a, b = Worker(databases[0], "a", clock), Worker(databases[1], "b", clock)
    assert await a.lease.step() and a.log == ["start"]
    assert not await b.lease.step() and b.log == []  # b waits
    for _ in range(6):  # a renews every third of the lease time: b never gets it
        clock.advance(seconds=TTL.total_seconds() / 3)
        assert await a.lease.step()
        assert not await b.lease.step()
    assert a.log == ["start"] and b.log == []
    # a dies (it asks no more): once its lease has expired, b takes over.
    clock.advance(seconds=TTL.total_seconds() - 1)
    assert not await b.lease.step()
    clock.advance(seconds=1)
    assert await b.lease.step() and b.log == ["start"]
    # a was only stalled and comes back: it finds the lease taken and stops its work.
    assert not await a.lease.step()
    assert a.log == ["start", "stop"]


async def test_a_worker_that_loses_its_database_stops_the_work(
    databases: tuple[Database, Database], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = Worker(databases[0], "a", clock)
    assert await a.lease.step()

    def down() -> None:
        raise OSError("database down")

    monkeypatch.setattr(databases[0], "transaction", down)
    assert not await a.lease.step()  # not sure to hold it any more: stop rather than risk two
    assert a.log == ["start", "stop"]
    monkeypatch.undo()
    assert await a.lease.step()  # back: nobody took it meanwhile, a takes it again
    assert a.log == ["start", "stop", "start"]


async def test_a_worker_that_cannot_start_lets_another_take_over_at_once(
    databases: tuple[Database, Database], clock: FakeClock
) -> None:
    a, b = Worker(databases[0], "a", clock), Worker(databases[1], "b", clock)
    a.fail_start = True
    assert not await a.lease.step()
    assert await b.lease.step() and b.log == ["start"]  # no need to wait for an expiry


async def test_a_clean_stop_gives_the_lease_back(
    databases: tuple[Database, Database], clock: FakeClock
) -> None:
    a, b = Worker(databases[0], "a", clock), Worker(databases[1], "b", clock)
    stop = asyncio.Event()
    running = asyncio.create_task(a.lease.run(stop))
    await wait_for(lambda: a.lease.held)
    stop.set()
    await running
    assert a.log == ["start", "stop"]
    assert await b.lease.step()  # at once, the clock unmoved


def _ended_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(ended.stdout)


def test_a_worker_of_this_machine_whose_process_ended_is_gone() -> None:
    host = socket.gethostname()
    ended = _ended_pid()
    assert gone(f"{host} pid {ended} abc123")  # killed, restarted: take it now
    assert not gone(f"{host} pid {os.getppid()} abc123")  # alive
    assert not gone(f"elsewhere pid {ended} abc123")  # only its expiry tells
    assert gone(f"{host} pid {os.getpid()} abc123")  # an earlier life with our pid (container)
    assert not gone(worker_name())  # this process's own
    assert not gone("b")


async def test_a_restarted_worker_takes_over_from_its_dead_self_at_once(
    databases: tuple[Database, Database], clock: FakeClock
) -> None:
    """One `minga run`, killed and started again by its supervisor, polls again at once."""
    dead = f"{socket.gethostname()} pid {await asyncio.to_thread(_ended_pid)} 0a0a0a"
    async with databases[0].transaction() as repos:
        assert await repos.leases.take("polling", dead, clock.now(), TTL)
    b = Worker(databases[1], worker_name(), clock)
    assert await b.lease.step() and b.log == ["start"]  # the clock unmoved

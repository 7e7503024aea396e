"""Webhook bodies kept in the database from before the platform is answered 200 until they are
handled, so that a process that dies in between loses nothing: the next start handles what it
finds here again (the inbound dedup by message id makes a replay harmless)."""

import logging
from collections.abc import Sequence

from handlers.engine.clock import Clock
from handlers.engine.dispatcher import Dispatcher
from storage.database import Database
from storage.pending import Kept, QueuedBody

log = logging.getLogger(__name__)


class InboundQueue:
    def __init__(
        self, database: Database, clock: Clock, channel: str, dispatcher: Dispatcher
    ) -> None:
        self._database = database
        self._clock = clock
        self._channel = channel
        self._dispatcher = dispatcher

    async def keep(self, key: str, body: str, user_key: str | None = None,
                   position: int = 0) -> None:  # fmt: skip
        """Commit a body before it is acknowledged (raises when the database cannot take it:
        the platform is then answered with an error, and sends it again). `user_key`: whose
        conversation it is, `position` its place there (see storage/pending.py::Kept)."""
        await self.keep_all([Kept(key, body, user_key, position)])

    async def keep_all(self, bodies: Sequence[Kept]) -> None:
        """Commit several bodies in one transaction (a polled batch, a batched WhatsApp body)."""
        async with self._database.transaction() as repos:
            await repos.inbound_queue.put_all(self._channel, bodies, self._clock.now())

    async def handled(self, key: str, *, message: bool = False) -> None:
        """The body's messages are handled (their turns committed): forgotten with the next
        turn's write, not in a transaction of its own (Dispatcher.body_handled). `message`:
        the body was one message, given to the dispatcher with its key."""
        await self._dispatcher.body_handled(self._channel, key, message=message)

    async def done(self, key: str) -> None:
        """Forget a body now (one that cannot be read). Failing here only means it is
        handled once more at the next start, and dropped there as a duplicate."""
        try:
            async with self._database.transaction() as repos:
                await repos.inbound_queue.done(self._channel, key)
        except Exception:
            log.exception("could not forget a handled %s webhook body", self._channel)

    async def waiting(self) -> list[QueuedBody]:
        """Bodies a stopped process acknowledged and did not finish, oldest first."""
        return await self._database.reader().inbound_queue.waiting(self._channel)

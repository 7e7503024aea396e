"""What must survive a crash between two steps: webhook bodies taken but not yet handled, and
a turn's replies committed but not yet sent (migration 0009)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.sql import Db, fetch_all, write_returning_one
from storage.timefmt import to_db


@dataclass(frozen=True, slots=True)
class QueuedBody:
    key: str
    body: str


@dataclass(frozen=True, slots=True)
class PendingReplies:
    id: int
    channel: str
    user_key: str
    chat: str
    replies: str  # JSON, read by handlers.engine.messages.load_replies


class InboundQueueRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def put(self, channel: str, key: str, body: str, now: datetime) -> None:
        """Keep a body until it is handled (a retry of one already kept changes nothing)."""
        await self._db.execute(
            "INSERT INTO inbound_queue (channel, key, body, received_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (channel, key) DO NOTHING",
            (channel, key, body, to_db(now)),
        )

    async def put_all(self, channel: str, bodies: Sequence[tuple[str, str]], now: datetime) -> None:
        """Keep several bodies, each (key, body), as `put` does."""
        await self._db.executemany(
            "INSERT INTO inbound_queue (channel, key, body, received_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (channel, key) DO NOTHING",
            [(channel, key, body, to_db(now)) for key, body in bodies],
        )

    async def done(self, channel: str, key: str) -> None:
        await self._db.execute(
            "DELETE FROM inbound_queue WHERE channel = ? AND key = ?", (channel, key)
        )

    async def done_all(self, keys: Sequence[tuple[str, str]]) -> None:
        """Forget handled bodies, each (channel, key)."""
        if keys:
            values = ", ".join(["(?, ?)"] * len(keys))
            await self._db.execute(
                f"DELETE FROM inbound_queue WHERE (channel, key) IN (VALUES {values})",  # noqa: S608
                [part for pair in keys for part in pair],
            )

    async def waiting(self, channel: str) -> list[QueuedBody]:
        """The bodies of this channel not handled yet, oldest first."""
        rows = await fetch_all(
            self._db,
            # Telegram's keys are update ids, in the order they came: as numbers, not text.
            "SELECT key, body FROM inbound_queue WHERE channel = ? "
            "ORDER BY received_at, length(key), key",
            (channel,),
        )
        return [QueuedBody(row["key"], row["body"]) for row in rows]


class PendingReplyRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def add(self, channel: str, user_key: str, chat: str, replies: str, now: datetime) -> int:
        """Keep a turn's replies until they are sent; the row's id."""
        # RETURNING rather than the cursor's lastrowid: the same SQL on PostgreSQL.
        row = await write_returning_one(
            self._db,
            "INSERT INTO pending_replies (channel, user_key, chat, replies, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (channel, user_key, chat, replies, to_db(now)),
        )
        assert row is not None
        return int(row["id"])

    async def sent(self, ids: Sequence[int]) -> None:
        """Forget replies that were sent (or given up on)."""
        if ids:
            marks = ",".join("?" * len(ids))
            await self._db.execute(f"DELETE FROM pending_replies WHERE id IN ({marks})", ids)  # noqa: S608

    async def unsent(self) -> list[PendingReplies]:
        """Every turn's replies not sent yet, in the order they were committed."""
        rows = await fetch_all(
            self._db,
            "SELECT id, channel, user_key, chat, replies FROM pending_replies ORDER BY id",
        )
        return [
            PendingReplies(row["id"], row["channel"], row["user_key"], row["chat"], row["replies"])
            for row in rows
        ]

"""What must survive a crash between two steps: webhook bodies taken but not yet handled, and
a turn's replies committed but not yet sent (migration 0009)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.sql import Db, Statement, fetch_all, write_returning_one
from storage.timefmt import from_db, to_db


@dataclass(frozen=True, slots=True)
class QueuedBody:
    key: str
    body: str
    user_key: str | None = None  # whose conversation it is (None: nobody's, e.g. statuses)


@dataclass(frozen=True, slots=True)
class Kept:
    """A body to keep: its key, its text, whose conversation and its place there (Telegram's
    update_id; 0 where the arrival order decides)."""

    key: str
    body: str
    user_key: str | None = None
    position: int = 0


@dataclass(frozen=True, slots=True)
class PendingReplies:
    id: int
    channel: str
    user_key: str
    chat: str
    replies: str  # JSON, read by handlers.engine.messages.load_replies
    created_at: datetime | None = None  # when its turn committed them
    worker: str | None = None  # the worker that committed them (None: unknown, or alone)


def done_all_statement(keys: Sequence[tuple[str, str]]) -> Statement:
    """The DELETE of handled bodies, each (channel, key); `keys` is not empty."""
    values = ", ".join(["(?, ?)"] * len(keys))
    return (
        f"DELETE FROM inbound_queue WHERE (channel, key) IN (VALUES {values})",  # noqa: S608
        tuple(part for pair in keys for part in pair),
    )


def sent_statement(ids: Sequence[int]) -> Statement:
    """The DELETE of replies sent (or given up on); `ids` is not empty."""
    marks = ",".join("?" * len(ids))
    return f"DELETE FROM pending_replies WHERE id IN ({marks})", tuple(ids)  # noqa: S608


def add_replies_statement(
    channel: str, user_key: str, chat: str, replies: str, now: datetime,
    worker: str | None = None,
) -> Statement:  # fmt: skip
    """The INSERT that keeps a turn's replies until they are sent (RETURNING their id);
    `worker`: the process committing them, which is to send them."""
    return ADD_REPLIES, (channel, user_key, chat, replies, to_db(now), worker)


class InboundQueueRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def put(self, channel: str, key: str, body: str, now: datetime) -> None:
        """Keep a body until it is handled (a retry of one already kept changes nothing)."""
        await self.put_all(channel, [Kept(key, body)], now)

    async def put_all(self, channel: str, bodies: Sequence[Kept], now: datetime) -> None:
        """Keep several bodies, in this order, as `put` does."""
        await self._db.executemany(
            "INSERT INTO inbound_queue (channel, key, user_key, position, body, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, key) DO NOTHING",
            [(channel, b.key, b.user_key, b.position, b.body, to_db(now)) for b in bodies],
        )

    async def done(self, channel: str, key: str) -> None:
        await self._db.execute(
            "DELETE FROM inbound_queue WHERE channel = ? AND key = ?", (channel, key)
        )

    async def done_all(self, keys: Sequence[tuple[str, str]]) -> None:
        """Forget handled bodies, each (channel, key)."""
        if keys:
            await self._db.execute(*done_all_statement(keys))

    async def waiting(self, channel: str) -> list[QueuedBody]:
        """The bodies of this channel not handled yet, in the order they came."""
        rows = await fetch_all(
            self._db,
            "SELECT key, body, user_key FROM inbound_queue WHERE channel = ? ORDER BY position, id",
            (channel,),
        )
        return [QueuedBody(row["key"], row["body"], row["user_key"]) for row in rows]

    async def of_conversation(self, channel: str, user_key: str) -> list[QueuedBody]:
        """One conversation's messages not handled yet (by any worker), in the order they
        came."""
        rows = await fetch_all(
            self._db,
            "SELECT key, body, user_key FROM inbound_queue WHERE channel = ? AND user_key = ? "
            "ORDER BY position, id",
            (channel, user_key),
        )
        return [QueuedBody(row["key"], row["body"], row["user_key"]) for row in rows]

    async def left_behind(
        self, before: datetime, replies_before: datetime, dead: Sequence[str] = ()
    ) -> list[tuple[str, str]]:
        """Conversations (channel, user_key) with a message kept before `before` and not
        handled yet, or replies not sent and committed before `replies_before` or by one of
        the `dead` workers: oldest first."""
        by_dead = f" OR worker IN ({','.join('?' * len(dead))})" if dead else ""
        rows = await fetch_all(
            self._db, LEFT_BEHIND.format(by_dead=by_dead),
            (to_db(before), to_db(replies_before), *dead),
        )  # fmt: skip
        return [(str(row["channel"]), str(row["user_key"])) for row in rows]


# Only placeholders go in {by_dead}: the dead workers' names are parameters.
LEFT_BEHIND = (
    "SELECT channel, user_key, min(at) AS since FROM ("
    "SELECT channel, user_key, received_at AS at FROM inbound_queue "
    "WHERE received_at < ? AND user_key IS NOT NULL "
    "UNION ALL SELECT channel, user_key, created_at AS at FROM pending_replies "
    "WHERE created_at < ?{by_dead}) AS late GROUP BY channel, user_key ORDER BY since"
)
ADD_REPLIES = (
    "INSERT INTO pending_replies (channel, user_key, chat, replies, created_at, worker) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
)


class PendingReplyRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def add(
        self, channel: str, user_key: str, chat: str, replies: str, now: datetime,
        worker: str | None = None,
    ) -> int:  # fmt: skip
        """Keep a turn's replies until they are sent; the row's id."""
        # RETURNING rather than the cursor's lastrowid: the same SQL on PostgreSQL.
        row = await write_returning_one(
            self._db, *add_replies_statement(channel, user_key, chat, replies, now, worker)
        )
        assert row is not None
        return int(row["id"])

    async def sent(self, ids: Sequence[int]) -> None:
        """Forget replies that were sent (or given up on)."""
        if ids:
            await self._db.execute(*sent_statement(ids))

    async def unsent_of(self, channel: str, user_key: str) -> list[PendingReplies]:
        """One conversation's replies not sent yet, in the order they were committed."""
        rows = await fetch_all(
            self._db,
            "SELECT id, channel, user_key, chat, replies, created_at, worker FROM "
            "pending_replies WHERE channel = ? AND user_key = ? ORDER BY id",
            (channel, user_key),
        )
        return [
            PendingReplies(
                row["id"],
                row["channel"],
                row["user_key"],
                row["chat"],
                row["replies"],
                from_db(row["created_at"]),
                row["worker"],
            )
            for row in rows
        ]

    async def writers(self) -> list[str]:
        """The workers whose committed replies are not all sent (the named ones)."""
        rows = await fetch_all(
            self._db, "SELECT DISTINCT worker FROM pending_replies WHERE worker IS NOT NULL"
        )
        return [str(row["worker"]) for row in rows]

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

"""The outbox: every bulk message as a row, written with what caused it, marked as it goes."""

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from storage.models import DeliveryCounts, NewOutbox, OutboxItem, OutboxStatus
from storage.outbox_kinds import OutboxKind
from storage.residents import resident_from_row
from storage.sql import Db, dialect, fetch_all, fetch_one, write_returning
from storage.timefmt import from_db_optional, to_db, to_db_optional

# Residents a broadcast may reach: opted in to announcements under the privacy policy in force,
# and not known to block the bot.
REACHABLE = (
    "r.announcements_at IS NOT NULL AND r.unreachable_at IS NULL "
    "AND r.announcements_version = (SELECT version FROM privacy_policy)"
)


def _due_rows(
    now: datetime, holder: str, channels: Sequence[str], limit: int, skipped: list[int],
    chat_gap: Mapping[str, timedelta],
) -> tuple[str, tuple[object, ...]]:  # fmt: skip
    """The SELECT of the ids `OutboxRepository.claim` takes, and its parameters."""
    channel_marks = ", ".join("?" * len(channels))
    # Only with ids: PostgreSQL refuses an empty IN ().
    not_skipped = f"AND o.id NOT IN ({', '.join('?' * len(skipped))}) " if skipped else ""
    moment = to_db(now)
    # A row of the same person finished by another worker within the channel's gap.
    gaps = [(channel, to_db(now - gap)) for channel, gap in chat_gap.items()]
    recent = f"OR busy.done_at > CASE r.channel {'WHEN ? THEN ? ' * len(gaps)}END" if gaps else ""
    picked = (
        "SELECT o.id FROM outbox AS o JOIN residents AS r ON r.id = o.recipient_id "  # noqa: S608
        "WHERE o.status = 'pending' AND o.not_before <= ? "
        "AND (o.claimed_until IS NULL OR o.claimed_until <= ?) "
        f"AND r.channel IN ({channel_marks}) {not_skipped}"
        "AND NOT EXISTS (SELECT 1 FROM outbox AS busy WHERE busy.recipient_id = "
        "o.recipient_id AND busy.claimed_by <> ? AND (busy.status = 'pending' "
        f"AND busy.claimed_until > ? {recent})) "
        "ORDER BY o.priority, o.not_before, o.id LIMIT ?"
    )
    gap_values = [value for pair in gaps for value in pair]
    return picked, (moment, moment, *channels, *skipped, holder, moment, *gap_values, limit)


class OutboxRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def add(self, items: Iterable[NewOutbox], now: datetime) -> None:
        """Queue messages; one already queued for the same (kind, subject, recipient) stays."""
        await self._db.executemany(
            "INSERT INTO outbox (kind, subject, recipient_id, payload, priority, "
            "not_before, expires_at, broadcast_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [
                (
                    item.kind.value,
                    item.subject,
                    item.recipient_id,
                    item.payload.stored(),
                    item.priority,
                    to_db(item.not_before),
                    to_db_optional(item.expires_at),
                    item.broadcast_id,
                    to_db(now),
                )
                for item in items
            ],
        )

    async def claim(
        self,
        now: datetime,
        *,
        holder: str,
        until: datetime,
        channels: Sequence[str],
        limit: int,
        skip: Iterable[int] = (),
        chat_gap: Mapping[str, timedelta] | None = None,
    ) -> list[OutboxItem]:
        """Claim up to `limit` due rows for `holder` until `until` and return them, most urgent
        first: pending, their time come, for residents of these channels, unclaimed or their
        claim lapsed (its worker died), and no other row of the same resident in another
        worker's hands (one chat, one worker at a time), nor finished by another worker less
        than the channel's `chat_gap` ago (its bulk spacing per chat, which each worker's
        sender keeps for its own messages). `skip` are ids already being sent.

        One statement claims, so two workers never get the same row: on PostgreSQL it locks
        the rows it picks and passes over rows another worker is claiming (SKIP LOCKED); on
        SQLite writers take turns anyway. Run it in a unit of work (a write)."""
        picked, values = _due_rows(now, holder, channels, limit, list(skip), chat_gap or {})
        if dialect(self._db) == "postgresql":
            # The rows picked are locked until the claim commits; a row another worker is
            # claiming is passed over, not waited for (and once its claim commits, the
            # re-check of the WHERE under the lock sees it claimed).
            sql = (
                f"WITH picked AS ({picked} FOR UPDATE OF o SKIP LOCKED) "  # noqa: S608
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? FROM picked "
                "WHERE outbox.id = picked.id RETURNING outbox.id"
            )
            rows = await write_returning(self._db, sql, (*values, holder, to_db(until)))
        else:  # one writer at a time: the picking and the claiming cannot interleave
            sql = (
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? "  # noqa: S608
                f"WHERE id IN ({picked}) RETURNING id"
            )
            rows = await write_returning(self._db, sql, (holder, to_db(until), *values))
        return await self._items([int(row[0]) for row in rows])

    async def _items(self, ids: Sequence[int]) -> list[OutboxItem]:
        """These rows with their residents, most urgent first."""
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = await fetch_all(
            self._db,
            "SELECT o.id AS outbox_id, o.kind, o.subject, o.payload, o.attempts, "  # noqa: S608
            "o.expires_at, o.broadcast_id, r.* FROM outbox AS o JOIN residents AS r "
            f"ON r.id = o.recipient_id WHERE o.id IN ({marks}) "
            "ORDER BY o.priority, o.not_before, o.id",
            tuple(ids),
        )
        return [
            OutboxItem(
                id=row["outbox_id"],
                kind=row["kind"],
                subject=row["subject"],
                payload=json.loads(row["payload"]),
                attempts=row["attempts"],
                expires_at=from_db_optional(row["expires_at"]),
                broadcast_id=row["broadcast_id"],
                recipient=resident_from_row(row),
            )
            for row in rows
        ]

    async def renew_claims(self, ids: Sequence[int], holder: str, until: datetime) -> int:
        """`holder` still has these rows in hand: their claims last until `until` (a claim
        another worker took meanwhile, after this one lapsed, stays theirs). How many."""
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        cursor = await self._db.execute(
            "UPDATE outbox SET claimed_until = ? WHERE claimed_by = ? "  # noqa: S608
            f"AND status = 'pending' AND id IN ({marks})",
            (to_db(until), holder, *ids),
        )
        return cursor.rowcount

    async def release_claims(self, holder: str) -> int:
        """`holder` is gone: the rows it claimed and did not finish are due again now."""
        cursor = await self._db.execute(
            "UPDATE outbox SET claimed_until = NULL WHERE claimed_by = ? AND status = 'pending' "
            "AND claimed_until IS NOT NULL",
            (holder,),
        )
        return cursor.rowcount

    async def mark_sent(self, ids: Sequence[int], attempts: Sequence[int], now: datetime) -> None:
        await self._db.executemany(
            "UPDATE outbox SET status = 'sent', attempts = ?, done_at = ? WHERE id = ?",
            [(n, to_db(now), outbox_id) for outbox_id, n in zip(ids, attempts, strict=True)],
        )

    async def mark(
        self,
        outbox_id: int,
        status: OutboxStatus,
        now: datetime,
        *,
        attempts: int | None = None,
        error: str | None = None,
    ) -> None:
        await self._db.execute(
            "UPDATE outbox SET status = ?, attempts = coalesce(?, attempts), "
            "last_error = coalesce(?, last_error), done_at = ? WHERE id = ?",
            (status.value, attempts, error, to_db(now), outbox_id),
        )

    async def requeue(
        self,
        outbox_id: int,
        not_before: datetime,
        *,
        attempts: int | None = None,
        error: str | None = None,
    ) -> None:
        """Back to pending, to be tried again from `not_before`."""
        await self._db.execute(
            "UPDATE outbox SET status = 'pending', not_before = ?, attempts = coalesce(?, "
            "attempts), last_error = coalesce(?, last_error), done_at = NULL, "
            "claimed_until = NULL WHERE id = ?",
            (to_db(not_before), attempts, error, outbox_id),
        )

    async def after_report(
        self, outbox_id: int, not_before: datetime, *, error: str, max_tries: int
    ) -> bool:
        """A message the platform accepted then reported failed: back to pending (False when it
        was tried `max_tries` times already: then it is marked failed)."""
        cursor = await self._db.execute(
            "UPDATE outbox SET status = CASE WHEN attempts + 1 < ? THEN 'pending' ELSE 'failed' "
            "END, not_before = ?, attempts = attempts + 1, last_error = ?, done_at = CASE WHEN "
            "attempts + 1 < ? THEN NULL ELSE ? END, claimed_until = NULL "
            "WHERE id = ? AND status = 'sent' "
            "RETURNING status",
            (max_tries, to_db(not_before), error, max_tries, to_db(not_before), outbox_id),
        )
        row = await cursor.fetchone()
        return row is not None and row[0] == "pending"

    async def block_recipient(self, resident_id: int, now: datetime) -> None:
        """The resident blocked the bot: mark them, and give up what was waiting for them."""
        await self._db.execute(
            "UPDATE residents SET unreachable_at = ? WHERE id = ?", (to_db(now), resident_id)
        )
        await self._db.execute(
            "UPDATE outbox SET status = 'blocked', last_error = 'blocked the bot', done_at = ? "
            "WHERE recipient_id = ? AND status = 'pending'",
            (to_db(now), resident_id),
        )

    async def skip_pending(
        self,
        now: datetime,
        reason: str,
        *,
        recipient_id: int | None = None,
        kinds: Sequence[OutboxKind] = (),
        subject_prefix: str | None = None,
    ) -> int:
        """Give up pending messages that are no longer wanted; returns how many."""
        conditions: list[str] = ["status = 'pending'"]
        values: list[int | str] = []
        if recipient_id is not None:
            conditions.append("recipient_id = ?")
            values.append(recipient_id)
        if kinds:
            conditions.append(f"kind IN ({', '.join('?' * len(kinds))})")
            values.extend(kind.value for kind in kinds)
        if subject_prefix is not None:
            conditions.append("substr(subject, 1, ?) = ?")
            values.extend((len(subject_prefix), subject_prefix))
        cursor = await self._db.execute(
            "UPDATE outbox SET status = 'skipped', last_error = ?, done_at = ? "  # noqa: S608
            f"WHERE {' AND '.join(conditions)}",
            (reason, to_db(now), *values),
        )
        return cursor.rowcount

    async def counts(self, broadcast_id: int) -> DeliveryCounts:
        rows = await fetch_all(
            self._db,
            "SELECT status, count(*) AS n FROM outbox WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        )
        return DeliveryCounts(**{row["status"]: row["n"] for row in rows})

    async def backlog(self) -> int:
        row = await fetch_one(self._db, "SELECT count(*) FROM outbox WHERE status = 'pending'")
        return int(row[0]) if row else 0

    async def backlog_by_kind(self) -> dict[str, int]:
        """Messages waiting to be sent, by kind (the partial index of pending rows)."""
        rows = await fetch_all(
            self._db, "SELECT kind, count(*) FROM outbox WHERE status = 'pending' GROUP BY kind"
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def due_backlog(self, now: datetime) -> int:
        """Messages whose time has come and that are not sent yet."""
        row = await fetch_one(
            self._db,
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND not_before <= ?",
            (to_db(now),),
        )
        return int(row[0]) if row else 0

    async def pending_by_broadcast(self, now: datetime) -> dict[int, int]:
        """Messages each unfinished broadcast has left whose time has come."""
        rows = await fetch_all(
            self._db,
            "SELECT broadcast_id, count(*) FROM outbox WHERE status = 'pending' "
            "AND not_before <= ? AND broadcast_id IS NOT NULL GROUP BY broadcast_id",
            (to_db(now),),
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def pending_channels(self, broadcast_id: int) -> set[str]:
        """The channels a broadcast still has messages to send on."""
        rows = await fetch_all(
            self._db,
            "SELECT DISTINCT r.channel FROM outbox AS o JOIN residents AS r "
            "ON r.id = o.recipient_id WHERE o.broadcast_id = ? AND o.status = 'pending'",
            (broadcast_id,),
        )
        return {str(row[0]) for row in rows}

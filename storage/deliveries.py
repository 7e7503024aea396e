"""Platform message ids of outbox rows, and what the platform later reported about them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.sql import Db, fetch_one, write_returning_one
from storage.timefmt import from_db_optional, to_db

# A later report never takes a message back: "sent" arriving after "read" is ignored.
PROGRESS = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
# The statuses in that order, as SQL: a report applies only where it moves a delivery on.
RANK = "CASE status " + " ".join(f"WHEN '{n}' THEN {r}" for n, r in PROGRESS.items()) + " END"
WINDOW_CLOSED = 131047  # Meta's "more than 24 hours since the customer last replied"


@dataclass(frozen=True, slots=True)
class Report:
    """One status from a webhook: where a message got to."""

    message_id: str
    status: str  # sent, delivered, read, failed
    at: datetime
    error_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Reported:
    """A report that moved a delivery on, with the outbox row it belongs to."""

    outbox_id: int
    recipient_id: int
    status: str
    error_code: int | None


@dataclass(frozen=True, slots=True)
class Window:
    """When a resident last wrote, when Meta last said their window was closed, and the
    language they chose (what a template is sent in)."""

    last_message_at: datetime | None
    closed_at: datetime | None
    language: str | None = None

    def open_at(
        self, now: datetime, length: timedelta, *, closed_at: datetime | None = None
    ) -> bool:
        """Open at `now` for a window of `length` after their last message; `closed_at`: a
        closing Meta reported that is not stored (yet)."""
        if self.last_message_at is None:
            return False
        for closed in (self.closed_at, closed_at):
            if closed is not None and closed >= self.last_message_at:
                return False
        return now - self.last_message_at < length


class DeliveryRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def record(
        self,
        channel: str,
        outbox_id: int,
        recipient_id: int,
        message_ids: Sequence[str],
        now: datetime,
    ) -> None:
        await self._db.executemany(
            "INSERT INTO deliveries (message_id, channel, outbox_id, recipient_id, "
            "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(mid, channel, outbox_id, recipient_id, to_db(now)) for mid in message_ids],
        )

    async def report(self, channel: str, report: Report) -> Reported | None:
        """Apply a status; None when the id is not one of ours or the news is old."""
        rank = PROGRESS.get(report.status)
        if rank is None:  # "played", "deleted", ...: nothing the outbox needs
            return None
        row = await write_returning_one(
            self._db,
            "UPDATE deliveries SET status = ?, error_code = ?, updated_at = ? "  # noqa: S608
            f"WHERE message_id = ? AND channel = ? AND ({RANK}) < ? "
            "RETURNING outbox_id, recipient_id",
            (report.status, report.error_code, to_db(report.at), report.message_id, channel, rank),
        )
        if row is None:
            return None
        return Reported(row["outbox_id"], row["recipient_id"], report.status, report.error_code)

    async def window(self, channel: str, user_key: str) -> Window:
        row = await fetch_one(
            self._db,
            "SELECT r.language, c.updated_at AS last_message_at, (SELECT max(d.updated_at) "
            "FROM deliveries AS d WHERE d.recipient_id = r.id AND d.error_code = ?) AS closed_at "
            "FROM residents AS r LEFT JOIN conversations AS c ON c.resident_id = r.id "
            "WHERE r.channel = ? AND r.user_key = ?",
            (WINDOW_CLOSED, channel, user_key),
        )
        if row is None:
            return Window(None, None)
        return Window(from_db_optional(row["last_message_at"]), from_db_optional(row["closed_at"]))

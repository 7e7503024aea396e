"""Residents: one row per person per channel identity."""

from collections.abc import Callable
from datetime import datetime

from storage.models import ConsentEntry, Resident
from storage.sql import Db, Row, Statement, fetch_all, fetch_one, write_returning_one
from storage.timefmt import from_db, from_db_optional, to_db, to_db_optional

# The resident's own fields a conversation turn may change (language, role, consents), with
# how each is written: saved at the end of every turn, together with its conversation.
TURN_COLUMNS: tuple[tuple[str, Callable[[Resident], str | None]], ...] = (
    ("language", lambda r: r.language),
    ("role", lambda r: None if r.role is None else r.role.value),
    ("consent_version", lambda r: r.consent_version),
    ("consent_at", lambda r: to_db_optional(r.consent_at)),
    ("consent_refused_at", lambda r: to_db_optional(r.consent_refused_at)),
    ("announcements_at", lambda r: to_db_optional(r.announcements_at)),
    ("announcements_version", lambda r: r.announcements_version),
    ("announcements_off_at", lambda r: to_db_optional(r.announcements_off_at)),
    ("updates_at", lambda r: to_db_optional(r.updates_at)),
    ("updates_version", lambda r: r.updates_version),
    ("updates_off_at", lambda r: to_db_optional(r.updates_off_at)),
    ("username", lambda r: r.username),
)

# Someone who writes to the bot has not blocked it (or has unblocked it since): every turn
# marks them reachable again, so announcements and news about their ideas reach them again.
_SAVE_TURN = (
    f"UPDATE residents SET {', '.join(f'{column} = ?' for column, _ in TURN_COLUMNS)}, "  # noqa: S608
    "unreachable_at = NULL WHERE id = ?"
)


def save_turn_statement(resident: Resident) -> Statement:
    """The write of the resident's turn columns as given, marking them reachable (they wrote)."""
    return _SAVE_TURN, (*(value(resident) for _, value in TURN_COLUMNS), resident.id)


def resident_from_row(row: Row) -> Resident:
    return Resident(
        id=row["id"],
        channel=row["channel"],
        user_key=row["user_key"],
        language=row["language"],
        role=row["role"],
        consent_version=row["consent_version"],
        consent_at=from_db_optional(row["consent_at"]),
        consent_refused_at=from_db_optional(row["consent_refused_at"]),
        announcements_at=from_db_optional(row["announcements_at"]),
        announcements_version=row["announcements_version"],
        announcements_off_at=from_db_optional(row["announcements_off_at"]),
        unreachable_at=from_db_optional(row["unreachable_at"]),
        updates_at=from_db_optional(row["updates_at"]),
        updates_version=row["updates_version"],
        updates_off_at=from_db_optional(row["updates_off_at"]),
        erased_at=from_db_optional(row["erased_at"]),
        username=row["username"],
        created_at=from_db(row["created_at"]),
    )


class ResidentRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def get_or_create(self, channel: str, user_key: str, now: datetime) -> Resident:
        # The no-op update makes RETURNING give the row whether it was just made or not.
        row = await write_returning_one(
            self._db,
            "INSERT INTO residents (channel, user_key, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (channel, user_key) DO UPDATE SET channel = excluded.channel "
            "RETURNING *",
            (channel, user_key, to_db(now)),
        )
        assert row is not None
        return resident_from_row(row)

    async def get(self, resident_id: int) -> Resident | None:
        row = await fetch_one(self._db, "SELECT * FROM residents WHERE id = ?", (resident_id,))
        return None if row is None else resident_from_row(row)

    async def save_turn(self, resident: Resident) -> None:
        """Write the resident's turn columns as given, and mark them reachable (they wrote)."""
        await self._db.execute(*save_turn_statement(resident))

    async def save_consents(self, resident: Resident) -> None:
        """Write a resident's consent columns as given (outside a conversation turn)."""
        await self._db.execute(
            "UPDATE residents SET consent_at = ?, consent_version = ?, consent_refused_at = ?, "
            "updates_at = ?, updates_version = ?, updates_off_at = ?, announcements_at = ?, "
            "announcements_version = ?, announcements_off_at = ? WHERE id = ?",
            (
                to_db_optional(resident.consent_at), resident.consent_version,
                to_db_optional(resident.consent_refused_at), to_db_optional(resident.updates_at),
                resident.updates_version, to_db_optional(resident.updates_off_at),
                to_db_optional(resident.announcements_at), resident.announcements_version,
                to_db_optional(resident.announcements_off_at), resident.id,
            ),
        )  # fmt: skip

    async def set_language(self, channel: str, user_key: str, language: str) -> None:
        """Change the language of someone already known (outside a conversation turn)."""
        await self._db.execute(
            "UPDATE residents SET language = ? WHERE channel = ? AND user_key = ?",
            (language, channel, user_key),
        )

    async def set_policy_version(self, version: str) -> None:
        """The privacy policy version in force (consents count only under it)."""
        await self._db.execute("UPDATE privacy_policy SET version = ? WHERE id = 1", (version,))

    async def consent_log(self, resident_id: int) -> list[ConsentEntry]:
        rows = await fetch_all(
            self._db,
            "SELECT purpose, granted, policy_version, at FROM consent_log "
            "WHERE resident_id = ? ORDER BY id",
            (resident_id,),
        )
        return [
            ConsentEntry(purpose=row["purpose"], granted=bool(row["granted"]),
                         policy_version=row["policy_version"], at=from_db(row["at"]))
            for row in rows
        ]  # fmt: skip

    async def find(self, channel: str, user_key: str) -> Resident | None:
        row = await fetch_one(
            self._db,
            "SELECT * FROM residents WHERE channel = ? AND user_key = ?",
            (channel, user_key),
        )
        return None if row is None else resident_from_row(row)

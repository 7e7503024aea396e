"""The lab's team as the database keeps it: its members and their roles, the staff group, and
the one-time codes that link a group (issue 20). Who counts as staff right now, the config's
seed included, is handlers/engine/team.py's to say."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.sql import Db, fetch_all, fetch_one, write_returning_one
from storage.timefmt import to_db

Role = Literal["staff", "admin"]
ROLES: tuple[Role, ...] = ("staff", "admin")
Added = Literal["added", "changed", "same"]


@dataclass(frozen=True, slots=True)
class StaffMember:
    telegram_id: int
    role: Role
    username: str | None  # the latest Telegram showed, else the one given when added
    added_by: str
    added_at: str


@dataclass(frozen=True, slots=True)
class StaffRow:
    """A row as the team's cache reads it: a removed member's row too (it stops the seed)."""

    telegram_id: int
    role: Role
    removed: bool


class StaffRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    async def rows(self) -> list[StaffRow]:
        """Every member ever added, removed ones included."""
        rows = await fetch_all(self._db, "SELECT telegram_id, role, removed_at FROM staff_members")
        return [StaffRow(int(row["telegram_id"]), row["role"], row["removed_at"] is not None)
                for row in rows]  # fmt: skip

    async def members(self) -> list[StaffMember]:
        """The current members, admins first, each with the @username last seen."""
        rows = await fetch_all(
            self._db,
            "SELECT s.telegram_id, s.role, s.added_by, s.added_at, "
            "COALESCE(r.username, s.username) AS username FROM staff_members s "
            "LEFT JOIN residents r ON r.channel = 'telegram' "
            "AND r.user_key = CAST(s.telegram_id AS TEXT) "
            "WHERE s.removed_at IS NULL ORDER BY s.role, s.telegram_id",
        )
        return [StaffMember(int(row["telegram_id"]), row["role"], row["username"],
                            row["added_by"], row["added_at"])
                for row in rows]  # fmt: skip

    async def get(self, telegram_id: int) -> StaffRow | None:
        row = await fetch_one(
            self._db,
            "SELECT telegram_id, role, removed_at FROM staff_members WHERE telegram_id = ?",
            (telegram_id,),
        )
        if row is None:
            return None
        return StaffRow(int(row["telegram_id"]), row["role"], row["removed_at"] is not None)

    async def add(
        self, telegram_id: int, role: Role, *, username: str | None, by: str, now: datetime
    ) -> Added:
        """Make them a member with this role (back again if they were removed)."""
        before = await self.get(telegram_id)
        await self._db.execute(
            "INSERT INTO staff_members (telegram_id, username, role, added_by, added_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
            "role = excluded.role, "
            "username = COALESCE(excluded.username, staff_members.username), "
            "added_by = CASE WHEN staff_members.removed_at IS NULL THEN staff_members.added_by "
            "ELSE excluded.added_by END, "
            "added_at = CASE WHEN staff_members.removed_at IS NULL THEN staff_members.added_at "
            "ELSE excluded.added_at END, "
            "removed_by = NULL, removed_at = NULL",
            (telegram_id, username, role, by, to_db(now)),
        )
        if before is None or before.removed:
            return "added"
        return "same" if before.role == role else "changed"

    async def remove(self, telegram_id: int, *, by: str, now: datetime) -> None:
        """No longer a member; the row stays, so that the config's seed does not bring them
        back (one only in the config gets such a row now)."""
        await self._db.execute(
            "INSERT INTO staff_members (telegram_id, role, added_by, added_at, removed_by, "
            "removed_at) VALUES (?, 'staff', 'config', ?, ?, ?) "
            "ON CONFLICT (telegram_id) DO UPDATE SET removed_by = excluded.removed_by, "
            "removed_at = excluded.removed_at",
            (telegram_id, to_db(now), by, to_db(now)),
        )

    async def seed(self, telegram_ids: Iterable[int], now: datetime) -> int:
        """The config's members who have no row yet, added as staff; how many were."""
        added = 0
        for telegram_id in telegram_ids:
            row = await write_returning_one(
                self._db,
                "INSERT INTO staff_members (telegram_id, role, added_by, added_at) "
                "VALUES (?, 'staff', 'config', ?) ON CONFLICT (telegram_id) DO NOTHING "
                "RETURNING telegram_id",
                (telegram_id, to_db(now)),
            )
            added += row is not None
        return added

    async def group(self) -> int | None:
        """The staff group linked with /vincular, if one was."""
        row = await fetch_one(self._db, "SELECT chat_id FROM staff_group WHERE id = 1")
        return None if row is None else int(row["chat_id"])

    async def link_group(self, chat_id: int, *, by: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO staff_group (id, chat_id, linked_by, linked_at) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET chat_id = excluded.chat_id, "
            "linked_by = excluded.linked_by, linked_at = excluded.linked_at",
            (chat_id, by, to_db(now)),
        )

    async def add_code(self, code_hash: str, now: datetime, expires_at: datetime) -> None:
        """A new one-time code (the expired ones go)."""
        await self._db.execute("DELETE FROM staff_link_codes WHERE expires_at < ?", (to_db(now),))
        await self._db.execute(
            "INSERT INTO staff_link_codes (code_hash, created_at, expires_at) VALUES (?, ?, ?)",
            (code_hash, to_db(now), to_db(expires_at)),
        )

    async def use_code(self, code_hash: str, chat_id: int, now: datetime) -> bool:
        """Spend a code on a group: False when it is unknown, used or expired. One statement,
        so that two workers given the same code cannot both spend it."""
        row = await write_returning_one(
            self._db,
            "UPDATE staff_link_codes SET used_at = ?, used_in = ? WHERE code_hash = ? "
            "AND used_at IS NULL AND expires_at > ? RETURNING code_hash",
            (to_db(now), chat_id, code_hash, to_db(now)),
        )
        return row is not None

    async def telegram_user(self, username: str) -> tuple[int, str] | None:
        """The Telegram id of whoever last wrote to the bot as this @username (any case), and
        the username as Telegram spells it."""
        row = await fetch_one(
            self._db,
            "SELECT r.user_key, r.username FROM residents r LEFT JOIN conversations c "
            "ON c.resident_id = r.id WHERE r.channel = 'telegram' "
            "AND lower(r.username) = lower(?) "
            "ORDER BY COALESCE(c.updated_at, r.created_at) DESC LIMIT 1",
            (username.lstrip("@"),),
        )
        if row is None or not str(row["user_key"]).isdigit():
            return None
        return int(row["user_key"]), row["username"]

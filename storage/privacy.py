"""What residents' data rights and the retention rules do to the database: find, erase, prune.

The handlers decide (what to mask, which steps hold a draft); this module only runs the SQL,
within the caller's transaction."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from storage.sql import Db, Dialect, dialect, fetch_all
from storage.timefmt import from_db, to_db

# Statuses after which an idea is closed: nothing more will be asked of its author.
CLOSED_STATUSES = ("implemented", "not_selected", "duplicate")


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _bodies_naming(dialect: Dialect, channel: str, user_key: str) -> tuple[str, tuple[str, ...]]:
    """The DELETE of a channel's kept webhook bodies of `user_key`'s conversation, or holding
    their key as any JSON value (a WhatsApp status to them, a staff group's update they sent).

    SQLite's form walks the JSON with json_tree, PostgreSQL's as jsonb; both skip a body that
    is not JSON (json_valid; minga_jsonb_or_null, migration postgres/0009), and PostgreSQL's
    reads as JSON only the bodies whose text holds the key."""
    if dialect == "postgresql":
        return (
            "DELETE FROM inbound_queue WHERE channel = ? AND (user_key = ? OR CASE "
            "WHEN strpos(body, ?) > 0 THEN EXISTS (SELECT 1 FROM "
            "jsonb_path_query(coalesce(minga_jsonb_or_null(body), '{}'), 'strict $.**') "
            "AS v(value) "
            "WHERE jsonb_typeof(v.value) IN ('string', 'number') AND v.value #>> '{}' = ?) "
            "ELSE false END)",
            (channel, user_key, user_key, user_key),
        )
    # json_valid first: a body that is not JSON must not make the erasure fail.
    return (
        "DELETE FROM inbound_queue WHERE channel = ? AND (user_key = ? OR EXISTS (SELECT 1 "
        "FROM json_tree(CASE WHEN json_valid(body) THEN body ELSE '{}' END) "
        "WHERE type IN ('text', 'integer') AND CAST(atom AS TEXT) = ?))",
        (channel, user_key, user_key),
    )


# The step a draft returns to (its JSON's "return_to"), read by the database.
RETURN_TO: dict[Dialect, str] = {
    "sqlite": "json_extract(draft, '$.return_to')",
    "postgresql": "(draft::jsonb ->> 'return_to')",
}
# Whether the draft's text holds the parameter (not LIKE: "_" in a file name is no wildcard).
CONTAINS: dict[Dialect, str] = {
    "sqlite": "instr(draft, ?) > 0",
    "postgresql": "strpos(draft, ?) > 0",
}


class PrivacyRepository:
    def __init__(self, connection: Db) -> None:
        self._db = connection

    # -- retention ------------------------------------------------------------------------------

    async def stale_drafts(self, before: datetime, steps: Sequence[str]) -> list[tuple[int, str]]:
        """(resident id, draft JSON) of conversations left at a draft step since `before`."""
        rows = await fetch_all(
            self._db,
            "SELECT resident_id, draft FROM conversations WHERE updated_at < ? AND "  # noqa: S608
            f"(step IN ({_marks(steps)}) "
            f"OR {RETURN_TO[dialect(self._db)]} IN ({_marks(steps)}))",
            (to_db(before), *steps, *steps),
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    async def clear_conversation(self, resident_id: int, now: datetime) -> None:
        """Back to the start, with nothing kept of what they were writing."""
        await self._db.execute(
            "UPDATE conversations SET step = 'idle', draft = '{}', updated_at = ? "
            "WHERE resident_id = ?",
            (to_db(now), resident_id),
        )

    async def remove_old_contacts(self, closed_before: datetime) -> int:
        """Contact details of ideas closed before the date; returns how many ideas."""
        cursor = await self._db.execute(
            "UPDATE ideas SET contact_name = NULL, contact = NULL "  # noqa: S608
            "WHERE (contact_name IS NOT NULL OR contact IS NOT NULL) "
            f"AND status IN ({_marks(CLOSED_STATUSES)}) AND (SELECT max(at) FROM idea_events "
            "WHERE idea_id = ideas.id AND kind = 'status') < ?",
            (*CLOSED_STATUSES, to_db(closed_before)),
        )
        return cursor.rowcount

    async def prune_inbound(self, before: datetime) -> int:
        cursor = await self._db.execute(
            "DELETE FROM inbound_messages WHERE received_at < ?", (to_db(before),)
        )
        return cursor.rowcount

    async def prune_kept_messages(self, before: datetime) -> int:
        """Webhook bodies and turns' replies kept since before `before` (migration 0009);
        returns how many rows."""
        stamp = to_db(before)
        bodies = await self._db.execute("DELETE FROM inbound_queue WHERE received_at < ?", (stamp,))
        replies = await self._db.execute(
            "DELETE FROM pending_replies WHERE created_at < ?", (stamp,)
        )
        return bodies.rowcount + replies.rowcount

    async def paths_in_use(self, paths: Iterable[str]) -> set[str]:
        """Which of these media paths an idea, a support of one (its photo) or a draft still
        keeps (the same photo may be sent twice, or by two people: a platform names a file by
        its content)."""
        wanted = sorted(set(paths))
        if not wanted:
            return set()
        marks = _marks(wanted)
        rows = await fetch_all(
            self._db,
            f"SELECT path FROM idea_media WHERE path IN ({marks}) "  # noqa: S608
            f"UNION SELECT photo_path FROM idea_supports WHERE photo_path IN ({marks})",
            [*wanted, *wanted],
        )
        kept = {str(row[0]) for row in rows}
        for path in wanted:
            if path in kept:
                continue
            # A draft holds its files' paths in its JSON: a substring test finds them
            # (instr, not LIKE: "_" in a file name is not a wildcard).
            found = await fetch_all(
                self._db,
                f"SELECT 1 FROM conversations WHERE {CONTAINS[dialect(self._db)]} LIMIT 1",  # noqa: S608
                (path,),
            )
            if found:
                kept.add(path)
        return kept

    # -- erasure --------------------------------------------------------------------------------

    async def idea_texts(self, resident_id: int) -> list[tuple[int, str, str | None]]:
        rows = await fetch_all(
            self._db, "SELECT id, problem, idea FROM ideas WHERE resident_id = ?", (resident_id,)
        )
        return [(int(row[0]), str(row[1]), row[2]) for row in rows]

    async def media_of(self, resident_id: int) -> list[str]:
        rows = await fetch_all(
            self._db,
            "SELECT m.path FROM idea_media AS m JOIN ideas AS i ON i.id = m.idea_id "
            "WHERE i.resident_id = ?",
            (resident_id,),
        )
        return [str(row[0]) for row in rows]

    async def support_photos(self, resident_id: int) -> list[str]:
        """The photos the resident added when joining ideas."""
        rows = await fetch_all(
            self._db,
            "SELECT photo_path FROM idea_supports WHERE resident_id = ? AND photo_path IS NOT NULL",
            (resident_id,),
        )
        return [str(row[0]) for row in rows]

    async def supporters_photos_on_ideas_of(self, resident_id: int) -> list[str]:
        """The photos others added when joining the resident's ideas (they go if the ideas
        are withdrawn)."""
        rows = await fetch_all(
            self._db,
            "SELECT s.photo_path FROM idea_supports AS s JOIN ideas AS i ON i.id = s.idea_id "
            "WHERE i.resident_id = ? AND s.photo_path IS NOT NULL",
            (resident_id,),
        )
        return [str(row[0]) for row in rows]

    async def withdraw_ideas(self, resident_id: int) -> int:
        """Delete the resident's ideas entirely (their media, history, followers and
        supporters go with them; other ideas that pointed at one as their original no longer
        do)."""
        await self._db.execute(
            "UPDATE ideas SET duplicate_of = NULL WHERE duplicate_of IN "
            "(SELECT id FROM ideas WHERE resident_id = ?)",
            (resident_id,),
        )
        cursor = await self._db.execute("DELETE FROM ideas WHERE resident_id = ?", (resident_id,))
        return cursor.rowcount

    async def anonymise_idea(
        self, idea_id: int, problem: str, idea: str | None, places: Sequence[str]
    ) -> None:
        """Keep the idea without anything that points at its author: no name or contact, no
        exact point (a neighbourhood from the lab's list stays), no photos or voice notes."""
        await self._db.execute(
            "UPDATE ideas SET contact_name = NULL, contact = NULL, anonymous = 1, "  # noqa: S608
            "latitude = NULL, longitude = NULL, problem = ?, idea = ?, "
            "publish = CASE WHEN publish = 'photos' THEN 'text' ELSE publish END, "
            f"location_text = CASE WHEN location_text IN ({_marks(places) or 'NULL'}) "
            "THEN location_text END WHERE id = ?",
            (problem, idea, *places, idea_id),
        )
        await self._db.execute("DELETE FROM idea_media WHERE idea_id = ?", (idea_id,))

    async def erase_kept_messages(self, channel: str, user_key: str) -> None:
        """The person's webhook bodies not handled yet and replies not sent yet (migration
        0009). A body is matched when any value in its JSON is their key (WhatsApp's `from`,
        `wa_id`, `recipient_id`; Telegram's `from.id`, `chat.id`). A WhatsApp body may batch
        several people's messages: it is deleted whole, so the others' messages in it are not
        handled again after a crash (they are handled now, or were already; a replay would
        only be dropped as a duplicate) - a lost replay weighs less than a kept phone number."""
        await self._db.execute(
            "DELETE FROM pending_replies WHERE channel = ? AND (user_key = ? OR chat = ?)",
            (channel, user_key, user_key),
        )
        await self._db.execute(*_bodies_naming(dialect(self._db), channel, user_key))

    async def erase_resident(self, resident_id: int, now: datetime) -> None:
        """Everything about the person but a row their kept ideas can point to: their channel
        identity is replaced, their answers to events, follows, supports of ideas (with what
        they added), conversation and the words of messages queued for them go, and every
        consent is withdrawn (the log keeps the proof, by row id only)."""
        stamp = to_db(now)
        for sql in (
            "DELETE FROM rsvps WHERE resident_id = ?",
            "DELETE FROM idea_followers WHERE resident_id = ?",
            "DELETE FROM idea_supports WHERE resident_id = ?",
            "DELETE FROM conversations WHERE resident_id = ?",
        ):
            await self._db.execute(sql, (resident_id,))
        await self._db.execute(
            "UPDATE outbox SET status = 'skipped', last_error = 'erased', done_at = ? "
            "WHERE recipient_id = ? AND status = 'pending'",
            (stamp, resident_id),
        )
        await self._db.execute(
            "UPDATE outbox SET payload = '{}' WHERE recipient_id = ?", (resident_id,)
        )
        await self._db.execute(
            "UPDATE residents SET user_key = 'erased:' || id, language = NULL, role = NULL, "
            "consent_at = NULL, consent_version = NULL, "
            "consent_refused_at = CASE WHEN consent_at IS NOT NULL THEN ? "
            "ELSE consent_refused_at END, "
            "updates_at = NULL, updates_version = NULL, "
            "updates_off_at = CASE WHEN updates_at IS NOT NULL THEN ? ELSE updates_off_at END, "
            "announcements_at = NULL, announcements_version = NULL, "
            "announcements_off_at = CASE WHEN announcements_at IS NOT NULL THEN ? "
            "ELSE announcements_off_at END, unreachable_at = NULL, username = NULL, erased_at = ? "
            "WHERE id = ?",
            (stamp, stamp, stamp, stamp, resident_id),
        )

    # -- access ---------------------------------------------------------------------------------

    async def rsvps_of(self, resident_id: int) -> list[dict[str, Any]]:
        rows = await fetch_all(
            self._db,
            "SELECT e.title, e.starts_at, r.status, r.answered_at FROM rsvps AS r "
            "JOIN events AS e ON e.id = r.event_id WHERE r.resident_id = ? ORDER BY e.starts_at",
            (resident_id,),
        )
        return [dict(row) for row in rows]

    async def followed_by(self, resident_id: int) -> list[str]:
        rows = await fetch_all(
            self._db,
            "SELECT i.reference FROM idea_followers AS f JOIN ideas AS i ON i.id = f.idea_id "
            "WHERE f.resident_id = ? ORDER BY i.id",
            (resident_id,),
        )
        return [str(row[0]) for row in rows]

    async def supported_by(self, resident_id: int) -> list[dict[str, Any]]:
        """The ideas the resident joined: reference, when, the detail they added, and whether
        they added a photo (not the file's name: it says nothing to them)."""
        rows = await fetch_all(
            self._db,
            "SELECT i.reference, s.created_at, s.detail, s.photo_path IS NOT NULL AS photo "
            "FROM idea_supports AS s JOIN ideas AS i ON i.id = s.idea_id "
            "WHERE s.resident_id = ? ORDER BY s.created_at, i.id",
            (resident_id,),
        )
        return [
            {"reference": str(row[0]), "joined_at": from_db(str(row[1])).isoformat(),
             "detail": row[2],
             "photo": bool(row[3])}
            for row in rows
        ]  # fmt: skip

    async def ideas_of(self, resident_id: int) -> list[int]:
        rows = await fetch_all(
            self._db, "SELECT id FROM ideas WHERE resident_id = ? ORDER BY id", (resident_id,)
        )
        return [int(row[0]) for row in rows]

    async def named_contacts(self, resident_id: int) -> list[tuple[str | None, str | None]]:
        """(name, contact) on each of the resident's ideas sent with their name."""
        rows = await fetch_all(
            self._db,
            "SELECT contact_name, contact FROM ideas WHERE resident_id = ? AND anonymous = 0 "
            "ORDER BY id",
            (resident_id,),
        )
        return [(row[0], row[1]) for row in rows]

    async def update_contact(
        self, resident_id: int, *, name: str | None, contact: str | None
    ) -> int:
        """/corregir: the name and the contact on every one of their named ideas."""
        cursor = await self._db.execute(
            "UPDATE ideas SET contact_name = coalesce(?, contact_name), "
            "contact = coalesce(?, contact) WHERE resident_id = ? AND anonymous = 0",
            (name, contact, resident_id),
        )
        return cursor.rowcount

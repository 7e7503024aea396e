"""Data the crash runs and the workers' bench start from."""

from datetime import UTC, datetime
from pathlib import Path

from handlers.outbound.broadcasts import Audience, queue_broadcast
from handlers.privacy.consent import Purpose, changes
from storage.database import Database


async def queue_announcement(
    target: str | Path, text: str, *, policy: str, first_chat: int, recipients: int, by: str
) -> int:
    """Telegram residents (chats first_chat, first_chat + 1, ...) who said yes to
    announcements under `policy`, and a broadcast of `text` to them all, queued; its id."""
    database = await Database.open(target)
    now = datetime.now(UTC)
    try:
        async with database.transaction() as repos:
            for number in range(recipients):
                resident = await repos.residents.get_or_create(
                    "telegram", str(first_chat + number), now
                )
                agreed = resident.model_copy(
                    update=changes(Purpose.ANNOUNCEMENTS, True, policy, now)
                )
                await repos.residents.save_consents(agreed)
            broadcast = await queue_broadcast(repos, text=text, event_id=None,
                                              audience=Audience("all"), created_by=by,
                                              reporter_id=None, now=now)  # fmt: skip
        return broadcast.id
    finally:
        await database.close()

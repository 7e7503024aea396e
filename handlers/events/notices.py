"""Outbox rows the events write: reminders, promotions from the waitlist, changes."""

from datetime import datetime

from storage.models import NewOutbox
from storage.outbox_kinds import EventNoticePayload, OutboxKind
from storage.repositories import Repositories
from storage.timefmt import to_db


def reminder_subject(event_id: int, starts_at: datetime, offset_s: int) -> str:
    return f"{event_id}@{to_db(starts_at)}:{offset_s}"


def event_subject_prefix(event_id: int) -> str:
    return f"{event_id}@"


async def queue_promotions(
    repos: Repositories, event_id: int, residents: list[int], now: datetime
) -> None:
    """Tell those who moved up from the waitlist that they have a place."""
    await repos.outbox.add(
        (
            NewOutbox(
                kind=OutboxKind.PROMOTED,
                subject=f"{event_id}@{to_db(now)}",
                recipient_id=resident_id,
                payload=EventNoticePayload(event_id=event_id),
                not_before=now,
            )
            for resident_id in residents
        ),
        now,
    )


async def fill_and_tell(repos: Repositories, event_id: int, now: datetime) -> list[int]:
    """Give free places to the waitlist and queue the good news."""
    promoted = await repos.rsvps.fill_places(event_id)
    if promoted:
        await queue_promotions(repos, event_id, promoted, now)
    return promoted

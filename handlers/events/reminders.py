"""Which reminders are due: the database says, the scheduler only wakes this up."""

from datetime import datetime, timedelta

from handlers.events.notices import reminder_subject
from storage.models import NewOutbox, OutboxItem, RsvpStatus
from storage.outbox_kinds import OutboxKind, ReminderPayload
from storage.repositories import Repositories


async def queue_due_reminders(repos: Repositories, offsets: tuple[int, ...], now: datetime) -> int:
    """Queue the reminders whose time has come, to everyone with a place; returns how many.

    Each (event, offset, start time) is handled once, so a second wake-up queues nothing; the
    insert of its record is the claim, so two workers waking at once queue it once.
    An event that has started gets none, however late the bot woke up. When several of an
    event's reminders are due at once (the bot was down), only the one nearest the start goes.
    """
    queued = 0
    for event in await repos.events.upcoming(now):
        if event.starts_at <= now:
            continue
        handled = await repos.reminders.handled(event.id, event.starts_at)
        due = [
            o for o in offsets if o not in handled and event.starts_at - timedelta(seconds=o) <= now
        ]
        if not due:
            continue
        nearest = min(due)
        claimed = False
        for offset in due:
            outcome = "queued" if offset == nearest else "skipped"
            recorded = await repos.reminders.record(event.id, offset, event.starts_at, outcome,
                                                    now)  # fmt: skip
            claimed = claimed or (offset == nearest and recorded)
        if not claimed:
            # Another worker recorded it between our read and our write (several workers on
            # one database): the record is the claim, and it won, so it queues the messages.
            continue
        going = await repos.rsvps.residents(event.id, (RsvpStatus.GOING,))
        await repos.outbox.add(
            (
                NewOutbox(
                    kind=OutboxKind.REMINDER,
                    subject=reminder_subject(event.id, event.starts_at, nearest),
                    recipient_id=resident_id,
                    payload=ReminderPayload(event_id=event.id, offset_s=nearest),
                    not_before=now,
                    expires_at=event.starts_at,
                )
                for resident_id in going
            ),
            now,
        )
        queued += len(going)
    return queued


async def next_reminder_at(
    repos: Repositories, offsets: tuple[int, ...], now: datetime
) -> datetime | None:
    """When the next reminder falls due (None: no upcoming event has one left)."""
    soonest: datetime | None = None
    for event in await repos.events.upcoming(now):
        if event.starts_at <= now:
            continue
        handled = await repos.reminders.handled(event.id, event.starts_at)
        for offset in offsets:
            if offset in handled:
                continue
            due = max(now, event.starts_at - timedelta(seconds=offset))
            soonest = due if soonest is None else min(soonest, due)
    return soonest


def reminder_time(item: OutboxItem) -> datetime | None:
    """When a reminder row was due (its event's start less its offset); None for other rows."""
    if item.kind != OutboxKind.REMINDER or item.expires_at is None:  # expires at the start
        return None
    return item.expires_at - timedelta(seconds=item.payload_as(ReminderPayload).offset_s)

"""Creating, changing and cancelling events, the same from the command line and from chat:
checks, reminders already past, and the notices to those who said they would come."""

from datetime import datetime, timedelta

from handlers.engine.catalog import Translator
from handlers.engine.textinput import valid_coordinates
from handlers.events.notices import event_subject_prefix, fill_and_tell
from storage.models import Event, EventFields, EventStatus, NewOutbox, RsvpStatus
from storage.outbox_kinds import EventNoticePayload, OutboxKind
from storage.repositories import Repositories
from storage.timefmt import to_db

DEFAULT_LENGTH = timedelta(hours=2)
TITLE_LIMITS = (3, 100)
VENUE_LIMITS = (2, 100)
ADDRESS_MAX = 200
DESCRIPTION_MAX = 700  # the card goes as a file's caption: 1024 characters in all
# What, when it changes, those who said yes must hear about.
WHERE_AND_WHEN = ("starts_at", "ends_at", "venue", "address", "latitude", "longitude")


class EventProblem(ValueError):
    """Why event details were refused: a catalog key (under event_error.) and its values."""

    def __init__(self, key: str, values: tuple[tuple[str, object], ...] = ()) -> None:
        super().__init__(key)
        self.key = key
        self.values = dict(values)

    def text(self, translate: Translator) -> str:
        return translate(f"event_error.{self.key}", **self.values)


def check(fields: EventFields, now: datetime, *, new_time: bool) -> EventFields:
    """The details tidied up, or EventProblem. `new_time`: the start must be in the future."""
    title, venue = fields.title.strip(), fields.venue.strip()
    if not TITLE_LIMITS[0] <= len(title) <= TITLE_LIMITS[1]:
        raise EventProblem("title", (("min", TITLE_LIMITS[0]), ("max", TITLE_LIMITS[1]),
                                     ("count", TITLE_LIMITS[1])))  # fmt: skip
    if not VENUE_LIMITS[0] <= len(venue) <= VENUE_LIMITS[1]:
        raise EventProblem("venue", (("min", VENUE_LIMITS[0]), ("max", VENUE_LIMITS[1]),
                                     ("count", VENUE_LIMITS[1])))  # fmt: skip
    if len(fields.address) > ADDRESS_MAX:
        raise EventProblem("address", (("max", ADDRESS_MAX), ("count", ADDRESS_MAX)))
    if len(fields.description) > DESCRIPTION_MAX:
        raise EventProblem("description", (("max", DESCRIPTION_MAX), ("count", DESCRIPTION_MAX)))
    if new_time and fields.starts_at <= now:
        raise EventProblem("past")
    if fields.ends_at <= fields.starts_at:
        raise EventProblem("ends_before")
    if (fields.latitude is None) != (fields.longitude is None):
        raise EventProblem("half_location")
    at = (fields.latitude, fields.longitude)
    if at[0] is not None and at[1] is not None and not valid_coordinates(at[0], at[1]):
        raise EventProblem("bad_location")
    if fields.capacity is not None and fields.capacity < 1:
        raise EventProblem("capacity")
    return fields.model_copy(
        update={"title": title, "venue": venue, "address": fields.address.strip(),
                "description": fields.description.strip()}
    )  # fmt: skip


async def skip_past_reminders(
    repos: Repositories, event: Event, offsets: tuple[int, ...], now: datetime
) -> None:
    """Reminders already due when a start time is set are not sent (the news itself says it)."""
    for offset in offsets:
        if event.starts_at - timedelta(seconds=offset) <= now:
            await repos.reminders.record(event.id, offset, event.starts_at, "skipped", now)


async def create_event(
    repos: Repositories,
    fields: EventFields,
    *,
    created_by: str,
    offsets: tuple[int, ...],
    now: datetime,
) -> Event:
    event = await repos.events.create(check(fields, now, new_time=True), created_by=created_by,
                                      now=now)  # fmt: skip
    await skip_past_reminders(repos, event, offsets, now)
    return event


async def _tell(repos: Repositories, event: Event, kind: OutboxKind, now: datetime) -> int:
    """Queue a notice to everyone who said yes or waits for a place."""
    residents = await repos.rsvps.residents(event.id, (RsvpStatus.GOING, RsvpStatus.WAITLIST))
    await repos.outbox.add(
        (
            NewOutbox(kind=kind, subject=f"{event.id}@{to_db(now)}", recipient_id=resident,
                      payload=EventNoticePayload(event_id=event.id), not_before=now)
            for resident in residents
        ),
        now,
    )  # fmt: skip
    return len(residents)


async def edit_event(
    repos: Repositories,
    event: Event,
    fields: EventFields,
    *,
    offsets: tuple[int, ...],
    now: datetime,
) -> tuple[Event, int]:
    """Change an event; a new time or place marks it moved and tells those coming (returns
    the event and how many were told). Its reminders follow the new start time."""
    if event.status is EventStatus.CANCELLED:
        raise EventProblem("cancelled")
    new_time = fields.starts_at != event.starts_at
    fields = check(fields, now, new_time=new_time)
    moved = any(getattr(fields, name) != getattr(event, name) for name in WHERE_AND_WHEN)
    status = EventStatus.MOVED if moved else event.status
    updated = await repos.events.update(event.id, fields, status, now)
    told = 0
    if moved:
        told = await _tell(repos, updated, OutboxKind.EVENT_CHANGED, now)
    if new_time:  # reminders for the old start are no longer wanted
        old_start = f"{event_subject_prefix(event.id)}{to_db(event.starts_at)}"
        await repos.outbox.skip_pending(
            now, "event moved", kinds=(OutboxKind.REMINDER,), subject_prefix=old_start
        )
        await skip_past_reminders(repos, updated, offsets, now)
    await fill_and_tell(repos, event.id, now)  # a larger capacity frees places
    return updated, told


async def cancel_event(repos: Repositories, event: Event, now: datetime) -> tuple[Event, int]:
    """Cancel an event: no reminders from now on, and those coming are told."""
    if event.status is EventStatus.CANCELLED:
        return event, 0
    updated = await repos.events.update(event.id, event, EventStatus.CANCELLED, now)
    await repos.outbox.skip_pending(
        now,
        "event cancelled",
        kinds=(OutboxKind.REMINDER,),
        subject_prefix=event_subject_prefix(event.id),
    )
    return updated, await _tell(repos, updated, OutboxKind.EVENT_CANCELLED, now)

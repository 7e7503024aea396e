"""How an event is shown to a resident: its text, RSVP buttons, calendar file and map pin."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from handlers.engine.buttons import button_id
from handlers.engine.catalog import Translator
from handlers.engine.messages import Choice, Reply, Venue
from handlers.engine.settings import LabSettings
from handlers.events.calendar import calendar_document
from storage.models import Event, EventCounts, EventStatus, RsvpStatus

EVENT = "ev"  # the prefix of event buttons, which work from any step: "ev:12:yes"


@dataclass(frozen=True, slots=True)
class Voice:
    """How to speak to one person: their language's texts and the lab's settings."""

    t: Translator
    language: str
    lab: LabSettings

    @property
    def zone(self) -> ZoneInfo:
        return self.lab.zone


def when(voice: Voice, start: datetime, end: datetime) -> str:
    """ "domingo 16 de agosto, 2:00 p. m. a 4:00 p. m." in the lab's time zone."""
    start, end = start.astimezone(voice.zone), end.astimezone(voice.zone)
    day = format_datetime(start, voice.t("events.date_format"), locale=voice.language)
    if start.date() == end.date():
        until = format_datetime(end, voice.t("events.time_format"), locale=voice.language)
    else:
        until = format_datetime(end, voice.t("events.date_format"), locale=voice.language)
    return voice.t("events.when", start=day, end=until)


def starts(voice: Voice, event: Event) -> str:
    start = event.starts_at.astimezone(voice.zone)
    return format_datetime(start, voice.t("events.date_format"), locale=voice.language)


def place(event: Event) -> str:
    return ", ".join(part for part in (event.venue, event.address) if part)


def event_text(
    voice: Voice,
    event: Event,
    *,
    counts: EventCounts | None = None,
    mine: RsvpStatus | None = None,
    position: int = 0,
) -> str:
    t = voice.t
    lines = []
    if event.status is EventStatus.CANCELLED:
        lines.append(t("events.cancelled_mark"))
    elif event.status is EventStatus.MOVED:
        lines.append(t("events.moved_mark"))
    lines.append(t("events.title", title=event.title))
    lines.append(t("events.line_when", value=when(voice, event.starts_at, event.ends_at)))
    lines.append(t("events.line_where", value=place(event)))
    if event.description:
        lines.append(event.description)
    if event.capacity is not None and counts is not None:
        free = max(0, event.capacity - counts.going)
        key = "events.places_left" if free else "events.full"
        lines.append(t(key, free=free, capacity=event.capacity))
    if mine is RsvpStatus.GOING:
        lines.append(t("events.you_going"))
    elif mine is RsvpStatus.WAITLIST:
        lines.append(t("events.you_waitlisted", position=position))
    elif mine is RsvpStatus.DECLINED:
        lines.append(t("events.you_declined"))
    return "\n".join(lines)


def rsvp_choices(voice: Voice, event: Event) -> tuple[Choice, ...]:
    if event.status is EventStatus.CANCELLED:
        return ()
    return (
        Choice(button_id(EVENT, event.id, "yes"), voice.t("events.yes")),
        Choice(button_id(EVENT, event.id, "no"), voice.t("events.no")),
    )


def venue_of(event: Event) -> Venue | None:
    if event.latitude is None or event.longitude is None:
        return None
    return Venue(event.venue, event.address, event.latitude, event.longitude)


def event_card(
    voice: Voice,
    event: Event,
    now: datetime,
    *,
    intro: str | None = None,
    counts: EventCounts | None = None,
    mine: RsvpStatus | None = None,
    position: int = 0,
    calendar: bool = True,
) -> Reply:
    """One reply: the text (after an optional intro) with the RSVP buttons, the .ics file and
    the map pin (a cancelled event: only the text)."""
    text = event_text(voice, event, counts=counts, mine=mine, position=position)
    if intro:
        text = f"{intro}\n\n{text}"
    if event.status is EventStatus.CANCELLED:
        return Reply(text)
    document = None
    if calendar:
        document = calendar_document(event, voice.zone, organiser=voice.lab.name,
                                     email=voice.lab.email, now=now)  # fmt: skip
    return Reply(text, rsvp_choices(voice, event), venue=venue_of(event), document=document)

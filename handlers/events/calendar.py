"""An event as an iCalendar (.ics) file, so that residents can add it to their calendar."""

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, vCalAddress
from icalendar import Event as CalendarEvent

from handlers.engine.messages import Document
from storage.models import Event, EventStatus

PRODUCT_ID = "-//Minga//Eventos//ES"


def _organiser(name: str, email: str) -> vCalAddress:
    """ORGANIZER is a cal-address, a mailto: URI (RFC 5545 3.8.4.3), named by CN."""
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = name
    return address


def event_calendar(
    event: Event, zone: ZoneInfo, *, organiser: str, email: str | None, now: datetime
) -> bytes:
    """The event in the lab's time zone (with its VTIMEZONE), as calendar apps expect."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    if email:  # iTIP's PUBLISH needs an ORGANIZER (RFC 5546 3.2.1): without one, a plain file
        calendar.add("method", "PUBLISH")
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}@minga")
    entry.add("dtstamp", now)
    entry.add("dtstart", event.starts_at.astimezone(zone))
    entry.add("dtend", event.ends_at.astimezone(zone))
    entry.add("summary", event.title)
    entry.add("location", ", ".join(part for part in (event.venue, event.address) if part))
    if event.description:
        entry.add("description", event.description)
    if event.has_pin:
        entry.add("geo", (event.latitude, event.longitude))
    if email:
        entry.add("organizer", _organiser(organiser, email))
    entry.add("status", "CANCELLED" if event.status is EventStatus.CANCELLED else "CONFIRMED")
    # Each change of time or place is a new version calendar apps replace the old one with.
    entry.add("sequence", int(event.updated_at.timestamp() - event.created_at.timestamp()))
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical


def calendar_document(
    event: Event, zone: ZoneInfo, *, organiser: str, email: str | None, now: datetime
) -> Document:
    return Document(
        filename=f"evento-{event.id}.ics",
        content=event_calendar(event, zone, organiser=organiser, email=email, now=now),
        mime_type="text/calendar",
    )

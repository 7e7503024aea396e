"""The .ics file of an event: a valid iCalendar whose ORGANIZER, when there is one, is a
cal-address (a mailto: URI, RFC 5545 3.8.4.3), never a bare name."""

from zoneinfo import ZoneInfo

from icalendar import Calendar, vCalAddress

from handlers.events.calendar import event_calendar
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import add_event

BOGOTA = ZoneInfo("America/Bogota")
# What RFC 5545 requires of a VEVENT (3.6.1), and of the VCALENDAR (3.6).
REQUIRED_EVENT = ("UID", "DTSTAMP", "DTSTART")
REQUIRED_CALENDAR = ("PRODID", "VERSION")


def _parsed(content: bytes) -> tuple[Calendar, Calendar]:
    calendar = Calendar.from_ical(content)
    assert all(name in calendar for name in REQUIRED_CALENDAR)
    [entry] = calendar.walk("VEVENT")
    assert all(name in entry for name in REQUIRED_EVENT)
    assert not calendar.errors and not entry.errors  # icalendar's parser found nothing wrong
    return calendar, entry


async def test_the_organiser_is_the_labs_mailto_address(
    database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now())
    content = event_calendar(event, BOGOTA, organiser="Usme Innova",
                             email="innovacion@usme.gov.co", now=clock.now())  # fmt: skip
    calendar, entry = _parsed(content)
    organiser = entry["ORGANIZER"]
    assert isinstance(organiser, vCalAddress)
    assert str(organiser) == "mailto:innovacion@usme.gov.co"
    assert organiser.params["CN"] == "Usme Innova"
    assert str(calendar["METHOD"]) == "PUBLISH"


async def test_without_an_email_no_organiser_is_made_up(
    database: Database, clock: FakeClock
) -> None:
    event = await add_event(database, clock.now())
    content = event_calendar(event, BOGOTA, organiser="Usme Innova", email=None,
                             now=clock.now())  # fmt: skip
    calendar, entry = _parsed(content)
    assert "ORGANIZER" not in entry
    # iTIP's PUBLISH requires an ORGANIZER (RFC 5546): a plain calendar file has no METHOD.
    assert "METHOD" not in calendar
    assert b"CN=Usme" not in content

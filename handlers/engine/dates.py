"""Dates as staff write them ("16 Aug 2 p.m.", "16/08/2027 2 pm", "mañana a las 3",
"31 de marzo de 2027") read in the lab's time zone, and dates shown in full (weekday, day,
month, year, time; never seconds), the same in chat and on the command line."""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format
from dateparser.date import DateDataParser

LANGUAGES = ["es", "en"]
# How far ahead the question's example lies: a date that is still future when it is read.
EXAMPLE_AHEAD = timedelta(weeks=3)
TOO_LONG = 80  # characters: no date is written longer; longer text is not a date

# What people write that dateparser does not read as it stands, rewritten before it reads.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"\bp\.?\s*m\b\.?", "pm"),
        (r"\ba\.?\s*m\b\.?", "am"),
        (r"\bde la (tarde|noche)\b", "pm"),
        (r"\bde la mañana\b", "am"),
        (r"\b(al )?medio\s*d[ií]a\b|\bnoon\b", "12:00"),
        (r"\b(a las|a la|desde las|a|at)\s+(?=\d)", ""),
        (r"\bpasado mañana\b", "en 2 días"),
        (r"^\s*(el|la|on|the)\s+", ""),
        (r"\b(\d{1,2})\s*(?:h|hs|hrs|horas)\.?\s*(\d{2})\b", r"\1:\2"),
        (r"\b(\d{1,2})\s*(?:h|hs|hrs|horas)\b\.?", r"\1:00"),
    )
)
# A time in the rewritten text: "14:00", "2 pm", "2:30pm", "T14:00".
_TIME = re.compile(r"(?:\d{1,2}:\d{2})|(?:\b\d{1,2}\s*(?:am|pm)\b)|(?:T\d{2}:\d{2})")
# A bare hour after a day ("mañana 3", "16/08 3"): taken as the afternoon below 7, since
# a lab's events do not start at 3 in the morning; the confirmation shows what was read.
_BARE_HOUR = re.compile(r"(?<=[^\d:/.\-])\s(?P<hour>\d{1,2})\s*$")
AFTERNOON_BEFORE = 7


@dataclass(frozen=True)
class Reading:
    """What a date text was read as: the moment, and whether a time of day was written."""

    moment: datetime
    has_time: bool


def _rewrite(text: str) -> str:
    text = " ".join(text.lower().split())
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    bare = _BARE_HOUR.search(text)
    if bare and not _TIME.search(text) and 0 <= int(bare["hour"]) <= 23:
        hour = int(bare["hour"])
        if 1 <= hour < AFTERNOON_BEFORE:
            hour += 12
        text = f"{text[: bare.start()]} {hour:02d}:00"
    return " ".join(text.split())


def _parser(zone: ZoneInfo, now: datetime, day_first: bool) -> DateDataParser:
    settings = {
        "TIMEZONE": zone.key,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY" if day_first else "MDY",
        "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),
        "PREFER_DAY_OF_MONTH": "first",
    }
    return DateDataParser(languages=LANGUAGES, settings=settings)


def read_when(
    text: str, zone: ZoneInfo, now: datetime, *, day_first: bool = True
) -> Reading | None:
    """The moment a text names, in the lab's zone, or None when it names none. A day
    without a year is the next one to come ("16 Aug" in December: next August)."""
    if not text or len(text) > TOO_LONG or text.strip().isdigit():
        return None  # "3" alone is a button's number or a slip, not a date
    rewritten = _rewrite(text)
    data = _parser(zone, now, day_first).get_date_data(rewritten)
    if data.date_obj is None:
        return None
    moment = data.date_obj.astimezone(zone)
    has_time = _TIME.search(rewritten) is not None
    if not has_time:  # dateparser puts "now"'s clock on "mañana": the day alone is meant
        moment = moment.replace(hour=0, minute=0)
    return Reading(moment.replace(second=0, microsecond=0), has_time)


class DateProblem(ValueError):
    """Why a date was refused: "bad_date" (unreadable), "no_time" (a day without the time
    an event needs) or "past" (with the moment it was read as)."""

    def __init__(self, key: str, moment: datetime | None = None) -> None:
        super().__init__(key)
        self.key = key
        self.moment = moment


def future_when(
    text: str, zone: ZoneInfo, now: datetime, *, need_time: bool, day_first: bool = True
) -> datetime:
    """A moment to come as staff write it, or DateProblem. Without `need_time`, a day alone
    means until its last minute (a deadline)."""
    reading = read_when(text, zone, now, day_first=day_first)
    if reading is None:
        raise DateProblem("bad_date")
    if need_time and not reading.has_time:
        raise DateProblem("no_time", reading.moment)
    moment = end_of_day(reading)
    if moment <= now:
        raise DateProblem("past", moment)
    return moment


def end_of_day(reading: Reading) -> datetime:
    """A deadline written as a day alone lasts until that day's last minute."""
    if reading.has_time:
        return reading.moment
    return datetime.combine(reading.moment.date(), time(23, 59), tzinfo=reading.moment.tzinfo)


def full_when(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """ "viernes, 16 de agosto de 2027, 2:00 p. m.": weekday, day, month, year and time in
    the lab's zone, in the locale's own order; never seconds."""
    local = moment.astimezone(zone)
    day = format_date(local, format="full", locale=language)
    clock = format_time(local, format="short", locale=language)
    pattern = str(get_datetime_format("long", locale=language)).replace("'", "")
    return pattern.replace("{1}", day).replace("{0}", clock)


def short_when(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """ "16 ago 2027, 14:00": a date in a list or a table line; never seconds."""
    local = moment.astimezone(zone)
    day = format_date(local, format="medium", locale=language)
    clock = format_time(local, format="short", locale=language)
    pattern = str(get_datetime_format("medium", locale=language)).replace("'", "")
    return pattern.replace("{1}", day).replace("{0}", clock)


def example_moment(now: datetime, zone: ZoneInfo) -> datetime:
    """A date a few weeks ahead at 2 p.m. for the questions' examples: never in the past."""
    return (now.astimezone(zone) + EXAMPLE_AHEAD).replace(hour=14, minute=0, second=0,
                                                           microsecond=0)  # fmt: skip


def typed_form(moment: datetime, zone: ZoneInfo, language: str, *, clock: bool = True) -> str:
    """A moment as one would type it: "16/08/2027 14:00" (es, day first) or
    "2027-08-16 14:00" (en: ISO, which no reader takes for another day)."""
    local = moment.astimezone(zone)
    day = local.strftime("%d/%m/%Y" if language == "es" else "%Y-%m-%d")
    return f"{day} {local:%H:%M}" if clock else day


def example_text(now: datetime, zone: ZoneInfo, language: str, *, clock: bool = True) -> str:
    """The questions' example, a few weeks ahead of now: never a date already past."""
    return typed_form(example_moment(now, zone), zone, language, clock=clock)

"""Dates as staff write them, in Spanish and English, read against a fixed clock in the lab's
time zone; shown in full (weekday, day, month, year, time) and never with seconds."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.engine.dates import (
    DateProblem,
    example_moment,
    full_when,
    future_when,
    read_when,
    short_when,
)

BOGOTA = ZoneInfo("America/Bogota")
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=BOGOTA)  # a Friday morning


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BOGOTA)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16 Aug 2 p.m.", at(2027, 8, 16, 14, 0)),  # a day without a year: the next one
        ("16/08/2027 2 pm", at(2027, 8, 16, 14, 0)),
        ("16/08 14:00", at(2027, 8, 16, 14, 0)),  # day first: 16 August, not a 16th month
        ("05/01 9:30", at(2027, 1, 5, 9, 30)),  # 5 January, not 1 May
        ("mañana a las 3", at(2026, 12, 5, 15, 0)),  # a bare 3 is the afternoon
        ("mañana a las 10", at(2026, 12, 5, 10, 0)),
        ("mañana 15h", at(2026, 12, 5, 15, 0)),
        ("pasado mañana a las 9 a. m.", at(2026, 12, 6, 9, 0)),
        ("16 de agosto a las 2 p. m.", at(2027, 8, 16, 14, 0)),
        ("el 16 de agosto de 2027 a las 14:00", at(2027, 8, 16, 14, 0)),
        ("16 de agosto, 2 de la tarde", at(2027, 8, 16, 14, 0)),
        ("el sábado a las 10 a. m.", at(2026, 12, 5, 10, 0)),
        ("viernes 5 pm", at(2026, 12, 11, 17, 0)),  # this Friday's 5 pm... next week's
        ("sábado a mediodía", at(2026, 12, 5, 12, 0)),
        ("2027-08-16 14:00", at(2027, 8, 16, 14, 0)),
        ("2027-01-15T09:30", at(2027, 1, 15, 9, 30)),
        ("tomorrow at 3pm", at(2026, 12, 5, 15, 0)),
        ("August 16, 2027 at 2:00 PM", at(2027, 8, 16, 14, 0)),
        ("Aug 16 2pm", at(2027, 8, 16, 14, 0)),
    ],
)
def test_an_event_time_is_read_as_people_write_it(text: str, expected: datetime) -> None:
    assert future_when(text, BOGOTA, NOW, need_time=True) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31 de marzo de 2027", at(2027, 3, 31, 23, 59)),  # a day alone: until its end
        ("31 de marzo", at(2027, 3, 31, 23, 59)),
        ("31/03/2027", at(2027, 3, 31, 23, 59)),
        ("2027-03-31", at(2027, 3, 31, 23, 59)),
        ("March 31, 2027", at(2027, 3, 31, 23, 59)),
        ("15 Jan", at(2027, 1, 15, 23, 59)),
        ("2027-03-31 18:00", at(2027, 3, 31, 18, 0)),
        ("31 de marzo de 2027 a las 6 p. m.", at(2027, 3, 31, 18, 0)),
        ("mañana", at(2026, 12, 5, 23, 59)),
        ("hoy", at(2026, 12, 4, 23, 59)),  # still today: the deadline is tonight
    ],
)
def test_a_deadline_day_lasts_until_its_end(text: str, expected: datetime) -> None:
    assert future_when(text, BOGOTA, NOW, need_time=False) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("hola", "bad_date"),
        ("3", "bad_date"),  # a button's number, not a date
        ("", "bad_date"),
        ("x" * 200, "bad_date"),
        ("16/08/2026 14:00", "past"),  # a year given is kept, and that day has passed
        ("2026-08-16 14:00", "past"),
        ("ayer a las 3 pm", "past"),
        ("yesterday 3pm", "past"),
        ("16 de agosto", "no_time"),  # an event needs its time of day
        ("mañana", "no_time"),
    ],
)
def test_what_cannot_be_an_event_time_is_refused_with_its_reason(text: str, key: str) -> None:
    with pytest.raises(DateProblem) as refused:
        future_when(text, BOGOTA, NOW, need_time=True)
    assert refused.value.key == key
    if key == "past":  # the refusal can say which date it read
        assert refused.value.moment is not None and refused.value.moment < NOW


def test_month_first_for_an_english_speaking_lab() -> None:
    reading = read_when("08/16/2027 2 pm", BOGOTA, NOW, day_first=False)
    assert reading is not None and reading.moment == at(2027, 8, 16, 14, 0)


@pytest.mark.parametrize(
    ("language", "parts"),
    [
        ("es", ("lunes", "16", "agosto", "2027", "14:00")),
        ("en", ("Monday", "16", "August", "2027", "2:00")),
    ],
)
def test_a_date_is_shown_in_full_without_seconds(language: str, parts: tuple[str, ...]) -> None:
    shown = full_when(at(2027, 8, 16, 14, 0), BOGOTA, language)
    assert all(part in shown for part in parts), shown
    for text in (shown, short_when(at(2027, 8, 16, 14, 0), BOGOTA, language)):
        assert not re.search(r"\d:\d\d:\d\d", text), text


def test_a_date_is_shown_in_the_labs_zone() -> None:
    utc_evening = datetime(2027, 8, 17, 2, 0, tzinfo=ZoneInfo("UTC"))  # 9 p.m. in Bogotá
    assert "16" in full_when(utc_evening, BOGOTA, "en")
    assert "9:00" in full_when(utc_evening, BOGOTA, "en")


def test_the_example_is_always_to_come() -> None:
    for month in range(1, 13):
        now = at(2026 + month // 12, month % 12 + 1, 28, 23, 0)
        assert example_moment(now, BOGOTA) > now

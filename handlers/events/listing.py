"""/eventos: every upcoming event in a compact list (title, day and time), one button each that
opens its card (RSVP buttons, map pin, calendar file).

The list goes in messages of at most PAGE events: one WhatsApp list holds 10 rows, 9 events and
"more". One answer sends up to PAGES_AT_ONCE such messages, so a launch month's events are each
one tap from /eventos and their RSVP one more. Past that, the last message's "more" button
(ev:more:<id of the last event listed>) brings the next ones: it names an event, not a
position, so it keeps working when the list changes in between."""

from babel.dates import format_datetime

from handlers.engine.buttons import button_id
from handlers.engine.messages import Choice
from handlers.engine.textinput import short
from handlers.engine.turn import Turn
from handlers.events.cards import EVENT, Voice
from storage.models import Event, EventStatus

PAGE = 9  # events in one message: with "more", the 10 rows of a WhatsApp list
PAGES_AT_ONCE = 3  # messages in one answer
TITLE_SHOWN = 40  # characters of a title in the list's text (the card has it in full)
LABEL_SHOWN = 30  # ... and on its button
MORE = "more"  # ev:more:<event id>


def _day(voice: Voice, event: Event, key: str) -> str:
    start = event.starts_at.astimezone(voice.zone)
    return format_datetime(start, voice.t(key), locale=voice.language)


def _line(voice: Voice, number: int, event: Event) -> str:
    day = _day(voice, event, "events.date_format")
    return voice.t("events.list_line", number=number, title=short(event.title, TITLE_SHOWN),
                   day=day)  # fmt: skip


def open_button(voice: Voice, event: Event) -> Choice:
    """The button that opens an event's card (the id cards already knew: ev:<id>:show)."""
    detail = _day(voice, event, "events.short_date_format")
    return Choice(button_id(EVENT, event.id, "show"), short(event.title, LABEL_SHOWN), detail)


async def list_events(turn: Turn, voice: Voice, after: Event | None = None) -> int:
    """Say the upcoming events (those after `after`, when given); returns how many."""
    repos, now = turn.repos, turn.now
    events = await repos.events.upcoming(now, limit=PAGE * PAGES_AT_ONCE + 1, after=after)
    if not events:
        return 0
    total = await repos.events.count_upcoming(now)
    before = await repos.events.count_upcoming(now, through=after) if after else 0
    more = len(events) > PAGE * PAGES_AT_ONCE
    events = events[: PAGE * PAGES_AT_ONCE]
    pages = [events[i : i + PAGE] for i in range(0, len(events), PAGE)]
    for index, page in enumerate(pages):
        first = before + index * PAGE + 1
        if first == 1:
            head = voice.t("events.list_head", count=total)
        else:
            head = voice.t("events.list_page", first=first, last=first + len(page) - 1,
                           count=total)  # fmt: skip
        lines = [head, *(_line(voice, first + i, event) for i, event in enumerate(page))]
        choices = [open_button(voice, event) for event in page]
        if more and index == len(pages) - 1:
            choices.append(Choice(button_id(EVENT, MORE, page[-1].id), voice.t("events.list_more")))
        turn.say("\n".join(lines), tuple(choices))
    return len(events)


async def list_more(turn: Turn, voice: Voice, value: str) -> None:
    """ "more:<id>": the events after that one. When it is gone (cancelled, over) or nothing
    follows it any more, the list changed since: say so and show it as it is now."""
    after = await turn.repos.events.get(int(value)) if value.isdigit() else None
    gone = after is None or after.status is EventStatus.CANCELLED or after.ends_at <= turn.now
    if not gone and await list_events(turn, voice, after):
        return
    if await turn.repos.events.count_upcoming(turn.now):
        turn.say(voice.t("events.list_changed"))
        await list_events(turn, voice)
    else:
        turn.say(voice.t("events.none"))

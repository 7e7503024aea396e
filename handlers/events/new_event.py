"""/nuevo_evento (/new_event): staff create an event step by step, see it as residents will,
and confirm."""

from collections.abc import Callable
from datetime import datetime

from handlers.engine.dates import DateProblem, example_text, full_when, future_when, typed_form
from handlers.engine.replies import expected_choice
from handlers.engine.state import StaffDraft, Step
from handlers.engine.textinput import valid_coordinates
from handlers.engine.turn import Turn, ask, go_to
from handlers.events.cards import event_card
from handlers.events.rsvp import voice
from handlers.events.service import (
    ADDRESS_MAX,
    DEFAULT_LENGTH,
    DESCRIPTION_MAX,
    TITLE_LIMITS,
    VENUE_LIMITS,
    EventProblem,
    create_event,
)
from handlers.staff.common import enter, leave, quit_button, quit_if_asked, staff_draft, typed
from storage.models import Event, EventCounts, EventFields

ORDER = (Step.NEW_EVENT_TITLE, Step.NEW_EVENT_STARTS, Step.NEW_EVENT_ENDS, Step.NEW_EVENT_VENUE,
         Step.NEW_EVENT_ADDRESS, Step.NEW_EVENT_PIN, Step.NEW_EVENT_CAPACITY,
         Step.NEW_EVENT_DESCRIPTION)  # fmt: skip
STEPS = frozenset((*ORDER, Step.NEW_EVENT_PREVIEW))
# Steps where a typed number is an answer (a capacity, a date), not a button's number.
TYPED = frozenset(ORDER) - {Step.NEW_EVENT_PIN}

ANSWERED: dict[Step, Callable[[StaffDraft], bool]] = {
    Step.NEW_EVENT_TITLE: lambda d: d.title is not None,
    Step.NEW_EVENT_STARTS: lambda d: d.starts_at is not None,
    Step.NEW_EVENT_ENDS: lambda d: d.ends_done,
    Step.NEW_EVENT_VENUE: lambda d: d.venue is not None,
    Step.NEW_EVENT_ADDRESS: lambda d: d.address_done,
    Step.NEW_EVENT_PIN: lambda d: d.pin_done,
    Step.NEW_EVENT_CAPACITY: lambda d: d.capacity_done,
    Step.NEW_EVENT_DESCRIPTION: lambda d: d.description_done,
}


async def start(turn: Turn) -> None:
    """Staff only: the caller is checked by the command first."""
    enter(turn, Step.NEW_EVENT_TITLE)


def _next(turn: Turn) -> None:
    draft = staff_draft(turn)
    go_to(turn, next((s for s in ORDER if not ANSWERED[s](draft)), Step.NEW_EVENT_PREVIEW))


def ask_step(turn: Turn) -> None:
    step = turn.state.step
    key = f"staff.event_{step.value.removeprefix('ne_')}"
    extra: dict[Step, tuple[str, str]] = {
        Step.NEW_EVENT_ENDS: ("default", "staff.two_hours"),
        Step.NEW_EVENT_ADDRESS: ("skip", "staff.skip"),
        Step.NEW_EVENT_PIN: ("skip", "staff.skip"),
        Step.NEW_EVENT_CAPACITY: ("skip", "staff.no_limit"),
        Step.NEW_EVENT_DESCRIPTION: ("skip", "staff.skip"),
    }
    choices = []
    if step in extra:
        choices.append(turn.option(step, *extra[step]))
    choices.append(quit_button(turn, step))
    pin = step is Step.NEW_EVENT_PIN
    location = turn.t("location.share") if pin else None
    values = {"zone": turn.settings.lab.timezone, "example": _example(turn)}
    turn.say(turn.t(key, **values), tuple(choices), location_button=location,
             choices_text=turn.t("staff.event_pin_or") if pin else None)  # fmt: skip


def _example(turn: Turn) -> str:
    """A date to copy: a few weeks ahead for the start, two hours after it for the end."""
    zone, draft = turn.settings.lab.zone, staff_draft(turn)
    if turn.state.step is Step.NEW_EVENT_ENDS and draft.starts_at is not None:
        return typed_form(draft.starts_at + DEFAULT_LENGTH, zone, turn.language)
    return example_text(turn.now, zone, turn.language)


def _fields(draft: StaffDraft) -> EventFields:
    assert draft.starts_at is not None and draft.title and draft.venue
    return EventFields(
        title=draft.title, starts_at=draft.starts_at,
        ends_at=draft.ends_at or draft.starts_at + DEFAULT_LENGTH, venue=draft.venue,
        address=draft.address or "", latitude=draft.latitude, longitude=draft.longitude,
        capacity=draft.capacity, description=draft.description or "",
    )  # fmt: skip


def ask_preview(turn: Turn) -> None:
    fields = _fields(staff_draft(turn))
    preview = Event(id=0, created_at=turn.now, updated_at=turn.now, **fields.model_dump())
    zone = turn.settings.lab.zone
    turn.say(turn.t("staff.event_preview"))
    turn.say(turn.t("staff.event_dates", start=full_when(fields.starts_at, zone, turn.language),
                    end=full_when(fields.ends_at, zone, turn.language)))  # fmt: skip
    counts = EventCounts() if preview.capacity else None
    card = event_card(voice(turn), preview, turn.now, counts=counts, calendar=False)
    turn.replies.append(card)
    step = Step.NEW_EVENT_PREVIEW
    turn.say(turn.t("staff.event_confirm"),
             (turn.option(step, "create", "staff.create"), quit_button(turn, step)))  # fmt: skip


def _length_ok(text: str, low: int, high: int) -> bool:
    return low <= len(text) <= high


async def on_answer(turn: Turn, value: str | None) -> None:
    step, draft = turn.state.step, staff_draft(turn)
    if quit_if_asked(turn, value):
        return None
    if step is Step.NEW_EVENT_PREVIEW:
        return await _create(turn, value)
    if step is Step.NEW_EVENT_PIN:
        return _pin(turn, draft, value)
    if value == "skip" or (value == "default" and step is Step.NEW_EVENT_ENDS):
        _skip(draft, step)
        return _next(turn)
    text = typed(turn)
    if text is None:
        return ask(turn)
    problem = _take(turn, draft, step, text)
    if problem is not None:
        turn.say(problem)
        return ask(turn)
    _next(turn)


def _skip(draft: StaffDraft, step: Step) -> None:
    if step is Step.NEW_EVENT_ENDS:
        draft.ends_at, draft.ends_done = None, True
    elif step is Step.NEW_EVENT_ADDRESS:
        draft.address, draft.address_done = None, True
    elif step is Step.NEW_EVENT_CAPACITY:
        draft.capacity, draft.capacity_done = None, True
    elif step is Step.NEW_EVENT_DESCRIPTION:
        draft.description, draft.description_done = None, True


def _take(turn: Turn, draft: StaffDraft, step: Step, text: str) -> str | None:
    """Keep a typed answer; the problem with it, in words, when it cannot be kept."""
    error = turn.t
    if step is Step.NEW_EVENT_TITLE:
        if not _length_ok(text, *TITLE_LIMITS):
            return error(
                "event_error.title", min=TITLE_LIMITS[0], max=TITLE_LIMITS[1], count=TITLE_LIMITS[1]
            )
        draft.title = text
    elif step in (Step.NEW_EVENT_STARTS, Step.NEW_EVENT_ENDS):
        # The end is read from the start: "6 pm" is that day's evening.
        base = draft.starts_at if step is Step.NEW_EVENT_ENDS else None
        try:
            moment = _moment(turn, text, base)
        except DateProblem as problem:
            if base is not None and problem.key == "past":
                return error("event_error.ends_before")
            return _date_problem(turn, problem)
        if step is Step.NEW_EVENT_STARTS:
            draft.starts_at = moment
        else:
            if draft.starts_at is None or moment <= draft.starts_at:
                return error("event_error.ends_before")
            draft.ends_at, draft.ends_done = moment, True
    elif step is Step.NEW_EVENT_VENUE:
        if not _length_ok(text, *VENUE_LIMITS):
            return error(
                "event_error.venue", min=VENUE_LIMITS[0], max=VENUE_LIMITS[1], count=VENUE_LIMITS[1]
            )
        draft.venue = text
    elif step is Step.NEW_EVENT_ADDRESS:
        if len(text) > ADDRESS_MAX:
            return error("event_error.address", max=ADDRESS_MAX, count=ADDRESS_MAX)
        draft.address, draft.address_done = text, True
    elif step is Step.NEW_EVENT_CAPACITY:
        if not text.isdigit() or int(text) < 1:
            return error("event_error.capacity")
        draft.capacity, draft.capacity_done = int(text), True
    elif step is Step.NEW_EVENT_DESCRIPTION:
        if len(text) > DESCRIPTION_MAX:
            return error("event_error.description", max=DESCRIPTION_MAX, count=DESCRIPTION_MAX)
        draft.description, draft.description_done = text, True
    return None


def _moment(turn: Turn, text: str, base: datetime | None) -> datetime:
    lab = turn.settings.lab
    return future_when(text, lab.zone, base or turn.now, need_time=True,
                       day_first=lab.default_language == "es")  # fmt: skip


def _date_problem(turn: Turn, problem: DateProblem) -> str:
    """The refusal in words, with the date as it was read when there is one."""
    zone, example = turn.settings.lab.zone, _example(turn)
    if problem.key == "past" and problem.moment is not None:
        return turn.t("staff.date_past", when=full_when(problem.moment, zone, turn.language),
                      example=example)  # fmt: skip
    if problem.key == "no_time":
        return turn.t("staff.date_no_time", example=example)
    return turn.t("staff.bad_date", example=example)


def _pin(turn: Turn, draft: StaffDraft, value: str | None) -> None:
    point = turn.inbound.location
    if value == "skip":
        draft.latitude, draft.longitude, draft.pin_done = None, None, True
    elif point is not None and valid_coordinates(point.latitude, point.longitude):
        draft.latitude, draft.longitude, draft.pin_done = point.latitude, point.longitude, True
    else:
        return expected_choice(turn)
    _next(turn)


async def _create(turn: Turn, value: str | None) -> None:
    if value != "create":
        return expected_choice(turn)
    draft = staff_draft(turn)
    try:
        event = await create_event(
            turn.repos, _fields(draft), created_by=turn.actor,
            offsets=turn.settings.events.offsets_seconds, now=turn.now,
        )  # fmt: skip
    except EventProblem as problem:  # e.g. the start passed while they were typing
        turn.say(problem.text(turn.t))
        draft.starts_at, draft.ends_at, draft.ends_done = None, None, False
        return _next(turn)
    turn.say(turn.t("staff.event_created", id=event.id))
    leave(turn)


QUESTIONS = {step: ask_step for step in ORDER} | {Step.NEW_EVENT_PREVIEW: ask_preview}
ANSWERS = {step: on_answer for step in STEPS}

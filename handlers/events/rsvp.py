"""Residents and events: the list, one event's card, "I'll come" / "I can't", and the
consent an RSVP needs (it is personal data)."""

from handlers.engine.buttons import ButtonId, button_id
from handlers.engine.replies import expected_choice
from handlers.engine.sidetrip import come_back, detour
from handlers.engine.state import DRAFT_STEPS, Step
from handlers.engine.turn import Turn, ask
from handlers.events import listing
from handlers.events.cards import Voice, event_card
from handlers.events.notices import fill_and_tell
from handlers.intake.navigation import consent_is_current
from storage.models import EventStatus, RsvpStatus


def voice(turn: Turn) -> Voice:
    return Voice(turn.t, turn.language, turn.settings.lab)


def carry_on(turn: Turn) -> None:
    """After something done from any step: ask the pending question again, if one is open
    (never in the staff group: a resident's question is for their private chat)."""
    if turn.state.step in DRAFT_STEPS and turn.inbound.group is None:
        ask(turn)


async def show_event(turn: Turn, event_id: int, intro: str | None = None) -> bool:
    event = await turn.repos.events.get(event_id)
    if event is None:
        turn.say(turn.t("events.not_found"))
        return False
    mine = await turn.repos.rsvps.status(event.id, turn.resident.id)
    position = 0
    if mine is RsvpStatus.WAITLIST:
        position = await turn.repos.rsvps.waitlist_position(event.id, turn.resident.id)
    counts = await turn.repos.rsvps.counts(event.id) if event.capacity else None
    turn.replies.append(
        event_card(
            voice(turn), event, turn.now, intro=intro, counts=counts, mine=mine, position=position
        )
    )
    return True


async def list_events(turn: Turn) -> bool:
    """/eventos: all upcoming events as a list whose buttons open each one's card; False
    (and nothing said) when there is none."""
    if not await listing.list_events(turn, voice(turn)):
        return False
    carry_on(turn)
    return True


def _parse(value: str) -> tuple[int, str] | None:
    """ "12:yes": an event's number and what to do (also the form kept while consent is
    asked, in the draft's pending_event)."""
    pressed = ButtonId.parse(value)
    if not pressed.prefix.isdigit() or pressed.rest not in ("yes", "no", "show"):
        return None
    return int(pressed.prefix), pressed.rest


async def on_event_button(turn: Turn, value: str) -> None:
    """ "12:yes", "12:no" or "12:show", pressed on a card or a list from any step; "more:12",
    the list's next events."""
    pressed = ButtonId.parse(value)
    if pressed.prefix == listing.MORE:
        await listing.list_more(turn, voice(turn), pressed.rest)
        return carry_on(turn)
    parsed = _parse(value)
    if parsed is None:
        turn.say(turn.t("input.stale_button"))
        return ask(turn)
    event_id, action = parsed
    if action != "show" and not consent_is_current(turn):
        return ask_consent_for(turn, event_id, action)
    await act(turn, event_id, action)
    carry_on(turn)


async def open_from_link(turn: Turn, event_id: int) -> None:
    """A deep link to an event (t.me/<bot>?start=ev12): its card. Seeing it keeps nothing
    about them; "I'll come" asks for their consent first, as it does from the list."""
    await show_event(turn, event_id)


def ask_consent_for(turn: Turn, event_id: int, action: str) -> None:
    turn.state.draft.pending_event = button_id(str(event_id), action)
    # Asked again (another event's button meanwhile): still back to where it was first asked.
    detour(turn, Step.EVENT_CONSENT, within={Step.EVENT_CONSENT})


def ask_event_consent(turn: Turn) -> None:
    text = turn.t("events.consent_ask", policy_url=turn.settings.lab.privacy_policy_url)
    options = {"yes": "consent.accept", "no": "consent.decline"}
    turn.say(text, turn.options(Step.EVENT_CONSENT, options))


async def on_event_consent(turn: Turn, value: str | None) -> None:
    if value not in ("yes", "no"):
        return expected_choice(turn)
    draft = turn.state.draft
    pending = _parse(draft.pending_event or "")
    draft.pending_event = None
    if value == "yes":
        turn.update_resident(
            consent_version=turn.settings.lab.privacy_policy_version,
            consent_at=turn.now,
            consent_refused_at=None,
        )
        if pending is not None:
            await act(turn, *pending)
    else:
        turn.say(turn.t("events.consent_declined"))
        if pending is not None:
            await show_event(turn, pending[0])
    come_back(turn)
    carry_on(turn)


async def act(turn: Turn, event_id: int, action: str) -> None:
    if action == "show":
        await show_event(turn, event_id)
        return
    event = await turn.repos.events.get(event_id)
    if event is None or event.status is EventStatus.CANCELLED:
        turn.say(turn.t("events.cancelled_now"))
        return
    if turn.now >= event.starts_at:
        turn.say(turn.t("events.already_started"))
        return
    if action == "yes":
        await say_yes(turn, event_id)
    else:
        await say_no(turn, event_id)


async def say_yes(turn: Turn, event_id: int) -> None:
    status = await turn.repos.rsvps.say_yes(event_id, turn.resident.id, turn.now)
    if status is RsvpStatus.GOING:
        turn.say(turn.t("events.going"))
    else:
        position = await turn.repos.rsvps.waitlist_position(event_id, turn.resident.id)
        turn.say(turn.t("events.waitlisted", position=position))


async def say_no(turn: Turn, event_id: int) -> None:
    before = await turn.repos.rsvps.say_no(event_id, turn.resident.id, turn.now)
    if before is RsvpStatus.GOING:
        await fill_and_tell(turn.repos, event_id, turn.now)
    turn.say(turn.t("events.declined"))

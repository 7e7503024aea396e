"""/difundir (/broadcast): staff write an announcement, attach an event if they want, choose
who gets it, see it exactly as residents will (with the number of recipients), and confirm.
The running bot's outbox sends it; they hear how it went when it ends."""

from handlers.engine.buttons import NEIGHBOURHOOD, args_of, neighbourhood_args
from handlers.engine.legacy_buttons import LEGACY_NEIGHBOURHOOD, neighbourhood_filtered
from handlers.engine.messages import Reply
from handlers.engine.replies import expected_choice, reject
from handlers.engine.state import Step
from handlers.engine.turn import Turn, ask, go_to
from handlers.events.cards import event_card
from handlers.events.rsvp import voice
from handlers.outbound.broadcasts import (
    TEXT_LIMITS,
    Audience,
    BroadcastProblem,
    count,
    parse_audience,
    queue_broadcast,
)
from handlers.staff.common import enter, leave, quit_button, quit_if_asked, staff_draft, typed

STEPS = frozenset((Step.BROADCAST_TEXT, Step.BROADCAST_EVENT, Step.BROADCAST_AUDIENCE,
                   Step.BROADCAST_FILTER, Step.BROADCAST_PREVIEW))  # fmt: skip
TYPED = frozenset((Step.BROADCAST_TEXT,))
# Events offered at once: with "none", "more" and "quit" (or the audience's three and "quit")
# they fit in a WhatsApp list's 10 rows; "more" brings the next ones.
EVENTS_OFFERED = 6
MORE = "more"  # "bc_event:more:<id of the last event offered>": the next ones


async def start(turn: Turn) -> None:
    """Staff only: the caller is checked by the command first."""
    enter(turn, Step.BROADCAST_TEXT)


def ask_text(turn: Turn) -> None:
    turn.say(turn.t("staff.broadcast_text"), (quit_button(turn, Step.BROADCAST_TEXT),))


async def _offer_events(turn: Turn, after: str = "") -> None:
    """Questions are asked without the database: what they offer is read before. `after`: the
    id of the last event offered, for the next ones (from the first when it is gone or none
    follow it any more)."""
    draft, upcoming = staff_draft(turn), turn.repos.events.upcoming
    last = await turn.repos.events.get(int(after)) if after.isdigit() else None
    events = await upcoming(turn.now, limit=EVENTS_OFFERED + 1, after=last) if last else []
    if not events:
        events = await upcoming(turn.now, limit=EVENTS_OFFERED + 1)
    draft.offered = [(event.id, event.title) for event in events[:EVENTS_OFFERED]]
    draft.more_events = len(events) > EVENTS_OFFERED


def ask_event(turn: Turn) -> None:
    step, draft = Step.BROADCAST_EVENT, staff_draft(turn)
    offered = draft.offered
    choices = [turn.labelled(step, str(event_id), title[:40]) for event_id, title in offered]
    if draft.more_events and offered:
        choices.append(turn.labelled(step, (MORE, offered[-1][0]), turn.t("staff.more_events")))
    choices += [turn.option(step, "none", "staff.no_event"), quit_button(turn, step)]
    turn.say(turn.t("staff.broadcast_event"), tuple(choices))


def ask_audience(turn: Turn) -> None:
    step = Step.BROADCAST_AUDIENCE
    choices = [turn.option(step, "all", "staff.audience_all"),
               turn.option(step, "neighbourhood", "staff.audience_neighbourhood"),
               turn.option(step, "category", "staff.audience_category")]  # fmt: skip
    for event_id, title in staff_draft(turn).offered:
        label = turn.t("staff.audience_event", title=title[:30])
        choices.append(turn.labelled(step, ("event", event_id), label))
    choices.append(quit_button(turn, step))
    turn.say(turn.t("staff.broadcast_audience"), tuple(choices))


def ask_filter(turn: Turn) -> None:
    step, lab = Step.BROADCAST_FILTER, turn.settings.lab
    if staff_draft(turn).filter_kind == "category":
        choices = [turn.labelled(step, ("category", c.id), c.label(turn.language))
                   for c in lab.categories]  # fmt: skip
    else:
        choices = [turn.labelled(step, neighbourhood_args(name), name)
                   for name in lab.neighbourhoods]  # fmt: skip
    turn.say(turn.t("staff.broadcast_filter"), (*choices, quit_button(turn, step)))


async def _to_preview(turn: Turn) -> None:
    """The broadcast exactly as residents will see it, then the confirmation."""
    draft = staff_draft(turn)
    assert draft.audience is not None
    draft.recipients = await count(turn.repos, parse_audience(draft.audience, turn.settings.lab))
    turn.say(turn.t("staff.broadcast_preview"))
    turn.replies.extend(await _as_residents_see_it(turn))
    go_to(turn, Step.BROADCAST_PREVIEW)


def ask_preview(turn: Turn) -> None:
    draft, step = staff_draft(turn), Step.BROADCAST_PREVIEW
    turn.say(turn.t("staff.broadcast_confirm", count=draft.recipients),
             (turn.option(step, "send", "staff.send"), quit_button(turn, step)))  # fmt: skip


async def _as_residents_see_it(turn: Turn) -> list[Reply]:
    draft = staff_draft(turn)
    assert draft.text is not None
    event = await turn.repos.events.get(draft.event_id) if draft.event_id else None
    if event is None:
        return [Reply(draft.text)]
    counts = await turn.repos.rsvps.counts(event.id) if event.capacity else None
    return [event_card(voice(turn), event, turn.now, intro=draft.text, counts=counts)]


async def on_answer(turn: Turn, value: str | None) -> None:
    step, draft = turn.state.step, staff_draft(turn)
    if quit_if_asked(turn, value):
        return None
    if step is Step.BROADCAST_TEXT:
        text = typed(turn)
        if text is None:
            return ask(turn)
        if not TEXT_LIMITS[0] <= len(text) <= TEXT_LIMITS[1]:
            turn.say(
                turn.t(
                    "broadcast_error.text",
                    min=TEXT_LIMITS[0],
                    max=TEXT_LIMITS[1],
                    count=TEXT_LIMITS[1],
                )
            )
            return ask(turn)
        draft.text = text
        await _offer_events(turn)
        return go_to(turn, Step.BROADCAST_EVENT)
    if step is Step.BROADCAST_EVENT:
        args = args_of(value)
        if len(args) == 2 and args[0] == MORE:
            await _offer_events(turn, args[1])
            return ask(turn)
        if value == "none":
            draft.event_id = None
        elif value and value.isdigit() and await turn.repos.events.get(int(value)):
            draft.event_id = int(value)
        else:
            return expected_choice(turn)
        return go_to(turn, Step.BROADCAST_AUDIENCE)
    if step is Step.BROADCAST_AUDIENCE:
        return await _audience(turn, value)
    if step is Step.BROADCAST_FILTER:
        return await _filter(turn, value)
    await _send(turn, value)


async def _audience(turn: Turn, value: str | None) -> None:
    draft, args = staff_draft(turn), args_of(value)
    if value in ("neighbourhood", "category"):
        draft.filter_kind = value
        return go_to(turn, Step.BROADCAST_FILTER)
    if value == "all" or (len(args) == 2 and args[0] == "event"):
        draft.audience = value
        return await _to_preview(turn)
    expected_choice(turn)


async def _filter(turn: Turn, value: str | None) -> None:
    draft, lab, args = staff_draft(turn), turn.settings.lab, args_of(value)
    kind, chosen = (args[0], args[1]) if len(args) == 2 else ("", "")
    if kind == "category" and lab.category(chosen) is not None:
        draft.audience = str(Audience("category", chosen))
    elif kind in (NEIGHBOURHOOD, LEGACY_NEIGHBOURHOOD):
        place = neighbourhood_filtered(args, lab.neighbourhoods)
        if place is None:  # gone from the config since the button was sent
            return reject(turn, "input.stale_button")
        draft.audience = str(Audience("neighbourhood", place))
    else:
        return expected_choice(turn)
    await _to_preview(turn)


async def _send(turn: Turn, value: str | None) -> None:
    if value != "send":
        return expected_choice(turn)
    draft = staff_draft(turn)
    assert draft.text is not None and draft.audience is not None
    try:
        broadcast = await queue_broadcast(
            turn.repos, text=draft.text, event_id=draft.event_id,
            audience=parse_audience(draft.audience, turn.settings.lab),
            created_by=turn.actor,
            reporter_id=turn.resident.id, now=turn.now,
        )  # fmt: skip
    except BroadcastProblem as problem:
        turn.say(turn.t(f"broadcast_error.{problem.key}", **problem.values))
        return leave(turn)
    turn.say(turn.t("staff.broadcast_queued", id=broadcast.id, count=broadcast.recipients))
    leave(turn)


QUESTIONS = {
    Step.BROADCAST_TEXT: ask_text,
    Step.BROADCAST_EVENT: ask_event,
    Step.BROADCAST_AUDIENCE: ask_audience,
    Step.BROADCAST_FILTER: ask_filter,
    Step.BROADCAST_PREVIEW: ask_preview,
}
ANSWERS = {step: on_answer for step in STEPS}

"""Every staff button ("st:..."), from any step and in the staff group. The caller is checked
first: a button forwarded to, or forged by, anyone else gets a polite refusal and no data."""

from collections.abc import Awaitable, Callable, Mapping

from handlers.calls import staff_form as calls_staff
from handlers.engine.buttons import ButtonId, args_of
from handlers.engine.legacy_buttons import button_status
from handlers.engine.state import Step
from handlers.engine.turn import Turn
from handlers.events.rsvp import carry_on
from handlers.exports import chat as export_chat
from handlers.staff import duplicates, ideas_view, triage_flow
from handlers.staff.common import refuse
from handlers.staff.ideas_view import (
    AWARD,
    DUPLICATE,
    FILTER,
    LIST,
    NOTE,
    REPLY,
    STATUS,
    VIEW,
    View,
)
from handlers.staff.triage import TriageProblem, change_status, set_award
from storage.models import Award, IdeaRecord, IdeaStatus

TYPED_ACTIONS = {NOTE: Step.TRIAGE_NOTE, REPLY: Step.TRIAGE_REPLY, DUPLICATE: Step.TRIAGE_DUPLICATE}
Action = Callable[[Turn, str], Awaitable[None]]


async def on_button(turn: Turn, value: str) -> None:
    """ "v:12": an action's letter, then what it acts on (the handler reads the rest)."""
    if refuse(turn):
        return carry_on(turn)
    pressed = ButtonId.parse(value)
    handler = ACTIONS.get(pressed.prefix)
    if handler is None:
        turn.say(turn.t("input.stale_button"))
    else:
        await handler(turn, pressed.rest)


async def _list(turn: Turn, rest: str) -> None:
    await ideas_view.show_list(turn, View.decode(args_of(rest), turn.settings.lab))


async def _filter(turn: Turn, rest: str) -> None:
    pressed = ButtonId.parse(rest)  # "s:<view>": the filter's kind, then the list's view
    view = View.decode(pressed.args, turn.settings.lab)
    await ideas_view.choose_filter(turn, pressed.prefix, view)


async def _idea(turn: Turn, idea_id: str) -> IdeaRecord | None:
    idea = await turn.repos.idea_search.get(int(idea_id)) if idea_id.isdigit() else None
    if idea is None:
        turn.say(turn.t("input.stale_button"))
    return idea


async def _view(turn: Turn, rest: str) -> None:
    idea = await _idea(turn, rest)
    if idea is not None:
        await ideas_view.show_card(turn, idea)


def status_pressed(value: str) -> IdeaStatus | None:
    """The status a button names: its stored name ("in_review"), or in an older version's
    button its position in the order statuses had then ("1")."""
    name = button_status(value)
    return IdeaStatus(name) if name is not None and name in set(IdeaStatus) else None


async def _status(turn: Turn, rest: str) -> None:
    pressed = ButtonId.parse(rest)  # "12:in_review"
    idea = await _idea(turn, pressed.prefix)
    if idea is None:
        return
    status = status_pressed(pressed.rest)
    if status is None:
        turn.say(turn.t("input.stale_button"))
        return
    if status is IdeaStatus.NOT_SELECTED:  # the reason is asked, and told to the resident
        return triage_flow.start(turn, Step.TRIAGE_REASON, idea)
    try:
        outcome = await change_status(turn.repos, idea, status, actor=turn.actor,
                                      now=turn.now)  # fmt: skip
    except TriageProblem as problem:
        turn.say(turn.t(f"triage_error.{problem.key}", **problem.values))
        return
    text = triage_flow.status_done(turn, idea.reference, status, outcome.told)
    turn.say(text, ideas_view.card_buttons(turn, outcome.idea))


async def _typed(turn: Turn, action: str, rest: str) -> None:
    idea = await _idea(turn, rest)
    if idea is not None:
        triage_flow.start(turn, TYPED_ACTIONS[action], idea)


async def _award(turn: Turn, rest: str) -> None:
    pressed = ButtonId.parse(rest)  # "12:winner"
    idea, value = await _idea(turn, pressed.prefix), pressed.rest
    if idea is None:
        return
    if value != "none" and value not in set(Award):
        turn.say(turn.t("input.stale_button"))
        return
    award = None if value == "none" else Award(value)
    try:
        outcome = await set_award(turn.repos, idea, award, actor=turn.actor,
                                  now=turn.now)  # fmt: skip
    except TriageProblem as problem:
        turn.say(turn.t(f"triage_error.{problem.key}", **problem.values))
        return
    key = f"triage.award_{value}"
    turn.say(turn.t(key, reference=idea.reference, told=outcome.told),
             ideas_view.card_buttons(turn, outcome.idea))  # fmt: skip


async def _note(turn: Turn, rest: str) -> None:
    await _typed(turn, NOTE, rest)


async def _reply(turn: Turn, rest: str) -> None:
    await _typed(turn, REPLY, rest)


async def _duplicate(turn: Turn, rest: str) -> None:
    await _typed(turn, DUPLICATE, rest)


async def _export(turn: Turn, rest: str) -> None:
    await export_chat.on_format(turn, rest)


def action_table(*tables: Mapping[str, Action]) -> dict[str, Action]:
    """The actions of several flows as one table; a letter two of them use is refused (one
    would silently answer the other's buttons)."""
    merged: dict[str, Action] = {}
    for table in tables:
        shared = merged.keys() & table.keys()
        if shared:
            raise ValueError(f"staff button letters used twice: {sorted(shared)}")
        merged.update(table)
    return merged


ACTIONS = action_table(
    {
        LIST: _list,
        FILTER: _filter,
        VIEW: _view,
        STATUS: _status,
        AWARD: _award,
        NOTE: _note,
        REPLY: _reply,
        DUPLICATE: _duplicate,
    },
    {export_chat.EXPORT: _export},
    calls_staff.BUTTONS,
    duplicates.BUTTONS,
)

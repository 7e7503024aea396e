"""/convocatoria (/call): the calls for ideas, each with its entries and awards; a new one
step by step (title, description, categories, deadline); closing early; announcing winners
as a broadcast. Staff only: the command and every button check the caller first."""

from handlers.calls.intake import DEFAULT_CATEGORIES
from handlers.calls.service import (
    CallProblem,
    announce,
    categories_from_names,
    close_call,
    open_call,
    results_text,
)
from handlers.engine.buttons import button_id
from handlers.engine.dates import DateProblem, example_text, full_when, future_when, short_when
from handlers.engine.messages import Choice
from handlers.engine.replies import expected_choice
from handlers.engine.state import Step
from handlers.engine.textinput import short
from handlers.engine.turn import Turn, ask, go_to
from handlers.outbound.broadcasts import BroadcastProblem, count, parse_audience
from handlers.staff.common import enter, leave, quit_button, quit_if_asked, staff_draft, typed
from handlers.staff.ideas_view import STAFF, View, list_button
from storage.models import Call

STEPS = frozenset((Step.CALL_TITLE, Step.CALL_DESCRIPTION, Step.CALL_CATEGORIES,
                   Step.CALL_DEADLINE, Step.CALL_PREVIEW))  # fmt: skip
TYPED = frozenset((Step.CALL_TITLE, Step.CALL_DESCRIPTION, Step.CALL_CATEGORIES,
                   Step.CALL_DEADLINE))  # fmt: skip
LISTED = 8
# Its staff buttons ("st:cv:3"), answered through staff/buttons.py like every "st" button:
CALLS = "c"  # the list of calls, as /convocatoria shows it
CALL_VIEW = "cv"  # a call's record
CALL_NEW = "cn"  # a new call, step by step
CALL_CLOSE = "cc"  # close it now
CALL_ANNOUNCE = "ca"  # the winners' announcement, to preview
CALL_SEND = "cs"  # send that announcement


def _when(turn: Turn, call: Call) -> str:
    """Its deadline; for a call closed early, the moment it closed (not a date to come)."""
    moment = call.deadline
    if call.closed_at is not None and call.closed_at < moment:
        moment = call.closed_at
    return short_when(moment, turn.settings.lab.zone, turn.language)


def _state(turn: Turn, call: Call) -> str:
    if call.is_open(turn.now):
        return turn.t("calls.open", when=_when(turn, call))
    return turn.t("calls.closed", when=_when(turn, call))


async def show_calls(turn: Turn) -> None:
    """/convocatoria: every call, open ones first, a button for the first LISTED; or, with a
    number (/convocatoria 3), that call's own record."""
    wanted = (turn.inbound.argument or "").strip().lstrip("#")
    if wanted:
        if wanted.isdigit() and await turn.repos.calls.get(int(wanted)) is not None:
            return await show_call(turn, wanted)
        turn.say(turn.t("call_error.no_call", id=short(wanted, 20)))
    calls = await turn.repos.calls.all()
    calls.sort(key=lambda call: not call.is_open(turn.now))  # stable: newest first in each
    lines = [turn.t("calls.title")] if calls else [turn.t("calls.none")]
    choices = []
    for call in calls:
        entries = sum((await turn.repos.calls.entries(call.id)).values())
        lines.append(turn.t("calls.line", id=call.id, title=call.title, state=_state(turn, call),
                            entries=entries, count=entries))  # fmt: skip
    for call in calls[:LISTED]:
        choices.append(
            Choice(button_id(STAFF, CALL_VIEW, call.id), f"#{call.id} {short(call.title, 30)}")
        )
    if len(calls) > LISTED:  # every call is listed; the rest open by their number
        lines.append(turn.t("calls.open_by_number", example=calls[LISTED].id))
    choices.append(Choice(button_id(STAFF, CALL_NEW), turn.t("calls.new")))
    turn.say("\n".join(lines), tuple(choices))


async def _call(turn: Turn, rest: str) -> Call | None:
    call = await turn.repos.calls.get(int(rest)) if rest.isdigit() else None
    if call is None:
        turn.say(turn.t("input.stale_button"))
    return call


async def show_call(turn: Turn, rest: str) -> None:
    call = await _call(turn, rest)
    if call is None:
        return
    entries = await turn.repos.calls.entries(call.id)
    awarded = await turn.repos.calls.awarded(call.id)
    lines = [turn.t("calls.head", id=call.id, title=call.title, state=_state(turn, call))]
    if call.description:
        lines.append(call.description)
    for category in call.categories:
        mine = [i for i in awarded if i.call_category == category.id]
        winners = ", ".join(i.reference for i in mine if i.award == "winner") or "-"
        shortlisted = ", ".join(i.reference for i in mine if i.award == "shortlisted") or "-"
        lines.append(turn.t("calls.category", category=category.label(turn.language),
                            entries=entries.get(category.id, 0), count=entries.get(category.id, 0),
                            winners=winners,
                            shortlisted=shortlisted))  # fmt: skip
    lines.append(turn.t("calls.how_to_award"))
    choices = [Choice(list_button(View(call=call.id)), turn.t("calls.see_ideas"))]
    if call.is_open(turn.now):
        choices.append(Choice(button_id(STAFF, CALL_CLOSE, call.id), turn.t("calls.close")))
    elif any(i.award == "winner" for i in awarded):
        choices.append(Choice(button_id(STAFF, CALL_ANNOUNCE, call.id), turn.t("calls.announce")))
    turn.say("\n".join(lines), tuple(choices))


async def close_now(turn: Turn, rest: str) -> None:
    try:
        call = await close_call(turn.repos, int(rest) if rest.isdigit() else 0, turn.now)
    except CallProblem as problem:
        turn.say(turn.t(f"call_error.{problem.key}", **problem.values))
        return
    turn.say(turn.t("calls.closed_now", title=call.title))


async def preview_results(turn: Turn, rest: str) -> None:
    call = await _call(turn, rest)
    if call is None:
        return
    text = await results_text(turn.repos, call, turn.t, turn.language)
    recipients = await count(turn.repos, parse_audience("all", turn.settings.lab))
    turn.say(turn.t("calls.announce_preview"))
    turn.say(text)
    turn.say(turn.t("staff.broadcast_confirm", count=recipients),
             (Choice(button_id(STAFF, CALL_SEND, call.id), turn.t("staff.send")),))  # fmt: skip


async def send_results(turn: Turn, rest: str) -> None:
    call = await _call(turn, rest)
    if call is None:
        return
    try:
        broadcast = await announce(
            turn.repos, call, turn.t, turn.language,
            actor=turn.actor,
            reporter_id=turn.resident.id, now=turn.now,
        )  # fmt: skip
    except CallProblem as problem:
        turn.say(turn.t(f"call_error.{problem.key}", **problem.values))
        return
    except BroadcastProblem as problem:
        turn.say(turn.t(f"broadcast_error.{problem.key}", **problem.values))
        return
    turn.say(turn.t("staff.broadcast_queued", id=broadcast.id, count=broadcast.recipients))


async def start_new(turn: Turn, rest: str = "") -> None:
    enter(turn, Step.CALL_TITLE)


def ask_step(turn: Turn) -> None:
    step = turn.state.step
    if step is Step.CALL_TITLE:
        return turn.say(turn.t("calls.ask_title"), (quit_button(turn, step),))
    if step is Step.CALL_DESCRIPTION:
        skip = turn.option(step, "skip", "staff.skip")
        return turn.say(turn.t("calls.ask_description"), (skip, quit_button(turn, step)))
    if step is Step.CALL_CATEGORIES:
        names = " / ".join(c.label(turn.language) for c in DEFAULT_CATEGORIES)
        return turn.say(turn.t("calls.ask_categories", names=names),
                        (turn.option(step, "default", "calls.default_categories"),
                         quit_button(turn, step)))  # fmt: skip
    if step is Step.CALL_DEADLINE:
        return turn.say(turn.t("calls.ask_deadline", zone=turn.settings.lab.timezone,
                               **_examples(turn)), (quit_button(turn, step),))  # fmt: skip
    draft = staff_draft(turn)
    categories = draft.category_names or [c.label(turn.language) for c in DEFAULT_CATEGORIES]
    assert draft.deadline is not None
    deadline = full_when(draft.deadline, turn.settings.lab.zone, turn.language)
    turn.say(turn.t("calls.preview", title=draft.title, description=draft.description or "-",
                    categories=" · ".join(categories), deadline=deadline),
             (turn.option(step, "create", "calls.create"), quit_button(turn, step)))  # fmt: skip


async def on_answer(turn: Turn, value: str | None) -> None:
    step, draft = turn.state.step, staff_draft(turn)
    if quit_if_asked(turn, value, ask_again=False):
        return await show_calls(turn)  # back to the calls, where "new call" was
    if step is Step.CALL_PREVIEW:
        return await _create(turn, value)
    if step is Step.CALL_DESCRIPTION and value == "skip":
        draft.description = ""
        return go_to(turn, Step.CALL_CATEGORIES)
    if step is Step.CALL_CATEGORIES and value == "default":
        draft.category_names = None
        return go_to(turn, Step.CALL_DEADLINE)
    text = typed(turn)
    if text is None:
        return ask(turn)
    if step is Step.CALL_TITLE:
        draft.title = text
        return go_to(turn, Step.CALL_DESCRIPTION)
    if step is Step.CALL_DESCRIPTION:
        draft.description = text
        return go_to(turn, Step.CALL_CATEGORIES)
    if step is Step.CALL_CATEGORIES:
        draft.category_names = [c.es for c in categories_from_names(text.split(";"))]
        return go_to(turn, Step.CALL_DEADLINE)
    lab = turn.settings.lab
    try:
        draft.deadline = future_when(text, lab.zone, turn.now, need_time=False,
                                     day_first=lab.default_language == "es")  # fmt: skip
    except DateProblem as problem:
        turn.say(_deadline_problem(turn, problem))
        return ask(turn)
    go_to(turn, Step.CALL_PREVIEW)


def _examples(turn: Turn) -> dict[str, str]:
    """Dates to copy, a few weeks ahead: with a time, and a day alone."""
    zone, language = turn.settings.lab.zone, turn.language
    return {"example": example_text(turn.now, zone, language),
            "example_day": example_text(turn.now, zone, language, clock=False)}  # fmt: skip


def _deadline_problem(turn: Turn, problem: DateProblem) -> str:
    if problem.key == "past" and problem.moment is not None:
        when = full_when(problem.moment, turn.settings.lab.zone, turn.language)
        return turn.t("call_error.deadline_past", when=when, **_examples(turn))
    return turn.t("call_error.deadline", **_examples(turn))


async def _create(turn: Turn, value: str | None) -> None:
    if value != "create":
        return expected_choice(turn)
    draft = staff_draft(turn)
    assert draft.title is not None and draft.deadline is not None
    categories = (categories_from_names(draft.category_names) if draft.category_names
                  else DEFAULT_CATEGORIES)  # fmt: skip
    try:
        call = await open_call(turn.repos, title=draft.title, description=draft.description or "",
                               categories=categories, deadline=draft.deadline,
                               actor=turn.actor,
                               now=turn.now)  # fmt: skip
    except CallProblem as problem:
        turn.say(turn.t(f"call_error.{problem.key}", **problem.values))
        leave(turn, ask_again=False)
        return await show_calls(turn)
    turn.say(turn.t("calls.created", id=call.id, title=call.title))
    leave(turn, ask_again=False)
    await show_call(turn, str(call.id))  # its record, with its buttons


QUESTIONS = dict.fromkeys(STEPS, ask_step)
ANSWERS = dict.fromkeys(STEPS, on_answer)
BUTTONS = {
    CALLS: lambda turn, rest: show_calls(turn),
    CALL_VIEW: show_call,
    CALL_NEW: start_new,
    CALL_CLOSE: close_now,
    CALL_ANNOUNCE: preview_results,
    CALL_SEND: send_results,
}

"""The conversation engine: one turn in, the new state and the replies out."""

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from handlers import calls, commands, subscriptions
from handlers.answers import INTAKE_ANSWERS
from handlers.events import rsvp
from handlers.events.cards import EVENT
from handlers.matching import IGNORED_KEY, MEANINGS, Option, Words, match
from handlers.messages import Choice
from handlers.navigation import previous_step
from handlers.privacy import rights
from handlers.questions import QUESTIONS, ask, go_to
from handlers.review import on_edit, on_summary
from handlers.staff import broadcast as staff_broadcast
from handlers.staff import buttons as staff_buttons
from handlers.staff import calls_flow, triage_flow
from handlers.staff import new_event as staff_new_event
from handlers.staff.common import is_staff
from handlers.staff.group import GROUP_ACTIONS, in_group
from handlers.staff.ideas_view import STAFF
from handlers.state import DRAFT_STEPS, Step
from handlers.turn import MENU, Turn

log = logging.getLogger(__name__)

Answer = Callable[[Turn, str | None], Awaitable[None]]

ANSWERS: dict[Step, Answer] = {
    **INTAKE_ANSWERS,
    Step.IDLE: commands.on_idle,
    Step.LANGUAGE: commands.on_language,
    Step.SUMMARY: on_summary,
    Step.EDIT: on_edit,
    Step.CONFIRM_CANCEL: commands.on_confirm_cancel,
    Step.CONFIRM_RESTART: commands.on_confirm_restart,
    Step.RESUME: commands.on_resume,
    Step.EVENT_CONSENT: rsvp.on_event_consent,
    **staff_new_event.ANSWERS,
    **staff_broadcast.ANSWERS,
    **triage_flow.ANSWERS,
    **calls_flow.ANSWERS,
    **rights.ANSWERS,
}
# The staff flows' questions join the intake's (they live with their flows).
QUESTIONS.update(staff_new_event.QUESTIONS)
QUESTIONS.update(staff_broadcast.QUESTIONS)
QUESTIONS.update(triage_flow.QUESTIONS)
QUESTIONS.update(calls_flow.QUESTIONS)
QUESTIONS[Step.CALL] = calls.ask_call

# Buttons that work from any step, by the prefix of their id.
ANYWHERE: dict[str, Callable[[Turn, str], Awaitable[None]]] = {
    MENU: commands.run_menu,
    EVENT: rsvp.on_event_button,
    subscriptions.SUBSCRIBE: subscriptions.on_button,
    subscriptions.UPDATES: subscriptions.on_updates_button,
    STAFF: staff_buttons.on_button,
}

# Where a typed number is a free answer, not the number of a button ("Calle 80").
FREE_TEXT_STEPS = frozenset(
    (Step.PROBLEM, Step.LOCATION, Step.IDEA, Step.NAME, Step.CONTACT,
     *staff_new_event.TYPED, *staff_broadcast.TYPED, *triage_flow.TYPED, *calls_flow.TYPED,
     *rights.TYPED)
)  # fmt: skip
# In the staff group, text and places are answers only at these steps (the rest is talk).
GROUP_TYPED = frozenset((*staff_new_event.TYPED, *staff_broadcast.TYPED, *triage_flow.TYPED,
                         *calls_flow.TYPED, Step.NEW_EVENT_PIN))  # fmt: skip


def _shown(turn: Turn, language: str) -> tuple[Choice, ...]:
    """The buttons the current question offers in a language (asked on a scratch copy)."""
    resident, mark = turn.resident, len(turn.replies)
    turn.resident = resident.model_copy(update={"language": language})
    try:
        ask(turn)
    finally:
        turn.resident = resident
    shown = turn.replies[mark:]
    del turn.replies[mark:]
    return shown[-1].choices if shown else ()


def current_options(turn: Turn) -> tuple[Option, ...]:
    """The buttons of the pending question, each with its label in every language; at rest,
    the buttons last shown (an event's card, "news of your idea?"), else the menu's."""
    if turn.state.step is Step.IDLE and turn.state.draft.offered:
        return tuple(Option(id, (label,)) for id, label in turn.state.draft.offered)
    mine = _shown(turn, turn.language)
    others = [_shown(turn, lang) for lang in turn.catalog.languages() if lang != turn.language]
    labels: dict[str, list[str]] = {choice.id: [choice.label] for choice in mine}
    for choices in others:
        for choice in choices:
            labels.get(choice.id, []).append(choice.label)
    return tuple(Option(id, tuple(names)) for id, names in labels.items())


def typed_words(turn: Turn) -> Words:
    """The catalogs' words for yes, no and back, and those that tell no button apart."""
    catalog, languages = turn.catalog, turn.catalog.languages()
    lists = {m: [catalog.raw(lang, f"input.words_{m}") for lang in languages] for m in MEANINGS}
    return Words.from_lists(lists, [catalog.raw(lang, IGNORED_KEY) for lang in languages])


def match_typed(turn: Turn, text: str) -> str | None:
    """The id of the button the typed text names (its label, a word of it, "sí", its number
    where free text is not expected), or None."""
    free_text = turn.state.step in FREE_TEXT_STEPS
    return match(text, current_options(turn), typed_words(turn), free_text=free_text)


def remember_offered(turn: Turn) -> None:
    """At rest, keep the buttons this turn showed, so that typing "sí" answers them."""
    if turn.state.step is not Step.IDLE or in_group(turn):
        return
    if turn.replies:
        shown = {choice.id: choice.label for reply in turn.replies for choice in reply.choices}
        turn.state.draft.offered = list(shown.items())


async def first_contact(turn: Turn) -> None:
    """Someone new: their platform's language if we speak it (else we ask), then the greeting."""
    hint = (turn.inbound.language_hint or "").lower()[:2]
    if turn.resident.language is None and hint in turn.catalog.languages():
        turn.update_resident(language=hint)
    command = commands.COMMAND_ALIASES.get(turn.inbound.command or "")
    event_id = commands.deep_link_event(turn.inbound.argument) if command == "start" else None
    if turn.resident.language is None:
        if event_id is not None:  # keep the link for after the language
            turn.state.draft.pending_event = f"{event_id}:show"
        return go_to(turn, Step.LANGUAGE)
    if event_id is not None:
        commands.say_hello(turn)
        return await rsvp.open_from_link(turn, event_id)
    if command is not None and command not in ("start", "cancel"):
        return await commands.ACTIONS[command](turn)
    if (turn.inbound.choice or "").partition(":")[0] == STAFF and not is_staff(turn):
        turn.say(turn.t("staff.only"))  # a staff button forwarded to someone new
    commands.begin(turn, greet=True)


async def in_staff_group(turn: Turn) -> None:
    """A staff member in the group: the team's commands and buttons, and the typed answers
    of a staff flow; a resident's command is for a private chat; other talk is ignored."""
    inbound = turn.inbound
    hint = (inbound.language_hint or "").lower()[:2]
    if turn.resident.language is None and hint in turn.catalog.languages():
        turn.update_resident(language=hint)
    if inbound.command is not None:
        action = commands.COMMAND_ALIASES.get(inbound.command)
        if action in GROUP_ACTIONS:
            return await commands.ACTIONS[action](turn)
        if action is not None:
            turn.say(turn.t("staff.group_private_only"))
        return None
    if inbound.choice is not None:
        prefix = inbound.choice.partition(":")[0]
        if prefix in ANYWHERE or turn.state.step in commands.STAFF_FLOW_STEPS:
            return await answer(turn)
        turn.say(turn.t("input.stale_button"))
        return None
    if turn.state.step in GROUP_TYPED and (inbound.text is not None or inbound.location):
        return await answer(turn)
    return None  # talk among the team, or a photo: not for the bot


async def respond(turn: Turn, paused_for: timedelta | None) -> None:
    """Decide what this inbound means at the current step, and answer it."""
    inbound = turn.inbound
    if in_group(turn):
        return await in_staff_group(turn)
    if turn.first_contact:
        return await first_contact(turn)
    if subscriptions.is_opt_out(inbound.text):
        return await commands.unsubscribe(turn)
    if inbound.command is not None:
        return await commands.run_command(turn, inbound.command)
    prefix, _, rest = (inbound.choice or "").partition(":")
    if prefix in ANYWHERE:
        return await ANYWHERE[prefix](turn, rest)
    if turn.state.step is Step.IDLE and subscriptions.needs_asking_again(turn):
        # A new privacy policy: a yes given under the old one is asked again before its use.
        subscriptions.ask_next(turn)
        return None
    resume_after = timedelta(hours=turn.settings.intake.resume_prompt_after_hours)
    if turn.state.step in DRAFT_STEPS and paused_for is not None and paused_for > resume_after:
        return commands.pause_for_resume(turn)
    if inbound.is_opening:
        return ask(turn)
    await answer(turn)


async def answer(turn: Turn) -> None:
    """The inbound as the answer to the current step's question (a button or words)."""
    inbound = turn.inbound
    prefix = (inbound.choice or "").partition(":")[0]
    if prefix in ANYWHERE:
        return await ANYWHERE[prefix](turn, inbound.choice.partition(":")[2])  # type: ignore[union-attr]
    value = None
    if inbound.choice is not None:
        step_name, _, value = inbound.choice.partition(":")
        if step_name != turn.state.step.value:
            turn.say(turn.t("input.stale_button"))
            return None if in_group(turn) else ask(turn)
    elif inbound.text is not None:
        typed = match_typed(turn, inbound.text)
        prefix, _, value = (typed or "").partition(":")
        if prefix in ANYWHERE:  # at rest: a card's or a question's button, typed
            return await ANYWHERE[prefix](turn, value)
        value = value if typed else None
    if value == "back":
        return go_back(turn)
    await ANSWERS[turn.state.step](turn, value)


def go_back(turn: Turn) -> None:
    draft = turn.state.draft
    if draft.editing:
        draft.editing = False
        return go_to(turn, Step.SUMMARY)
    before = previous_step(turn, turn.state.step)
    go_to(turn, before or turn.state.step)

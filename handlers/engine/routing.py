"""The conversation engine: one turn in, the new state and the replies out."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from handlers.account import commands, subscriptions
from handlers.calls import intake as calls
from handlers.calls import staff_form as calls_flow
from handlers.engine.matching import Option, match
from handlers.engine.messages import Choice, Inbound
from handlers.engine.state import DRAFT_STEPS, Request, Step
from handlers.engine.turn import MENU, Turn
from handlers.engine.wordlists import typed_words
from handlers.events import new_event as staff_new_event
from handlers.events import rsvp
from handlers.events.cards import EVENT
from handlers.intake.answers import INTAKE_ANSWERS
from handlers.intake.navigation import previous_step
from handlers.intake.questions import QUESTIONS, ask, ask_idle, go_to
from handlers.intake.review import on_edit, on_summary
from handlers.privacy import rights
from handlers.staff import broadcast as staff_broadcast
from handlers.staff import buttons as staff_buttons
from handlers.staff import triage_flow
from handlers.staff.group import GROUP_ACTIONS, in_group
from handlers.staff.ideas_view import STAFF

log = logging.getLogger(__name__)

Answer = Callable[[Turn, str | None], Awaitable[None]]

ANSWERS: dict[Step, Answer] = {
    **INTAKE_ANSWERS,
    Step.IDLE: commands.on_idle,
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


def match_typed(turn: Turn, text: str) -> str | None:
    """The id of the button the typed text names (its label, a word of it, "sí", its number
    where free text is not expected), or None."""
    free_text = turn.state.step in FREE_TEXT_STEPS
    return match(text, current_options(turn), typed_words(turn.catalog), free_text=free_text)


def remember_offered(turn: Turn) -> None:
    """At rest, keep the buttons this turn showed, so that typing "sí" answers them."""
    if turn.state.step is not Step.IDLE or in_group(turn):
        return
    if turn.replies:
        shown = {choice.id: choice.label for reply in turn.replies for choice in reply.choices}
        turn.state.draft.offered = list(shown.items())


# Requests kept while a new person is asked their language (a few taps, not a queue to fill).
HELD_MAX = 5


def held_request(inbound: Inbound) -> Request | None:
    """What a message asks for, to answer once the language is known: a command, a button,
    an opt-out word. Other words, a place or a photo ask for nothing: they start an idea."""
    if inbound.command is not None:
        return Request(command=inbound.command, argument=inbound.argument)
    if inbound.choice is not None:
        return Request(choice=inbound.choice)
    if subscriptions.is_opt_out(inbound.text):
        return Request(text=inbound.text)
    return None


def answers_language(request: Request) -> bool:
    """/idioma or a language button: the language question is its answer."""
    asked = commands.COMMAND_ALIASES.get(request.command or "") == "language"
    return asked or (request.choice or "").partition(":")[0] == Step.LANGUAGE


def at_language_gate(turn: Turn) -> bool:
    """Someone new, asked their language before anything else (not a change by /idioma)."""
    return turn.state.step is Step.LANGUAGE and turn.state.draft.return_to is None


def hold(turn: Turn, request: Request | None) -> None:
    requests = turn.state.draft.requests
    if request is not None and len(requests) < HELD_MAX:
        requests.append(request)


async def first_contact(turn: Turn) -> None:
    """Someone new: their platform's language if we speak it (else we ask it first, keeping
    what they asked for), then the greeting and the answer to what they asked."""
    hint = (turn.inbound.language_hint or "").lower()[:2]
    if turn.resident.language is None and hint in turn.catalog.languages():
        turn.update_resident(language=hint)
    request = held_request(turn.inbound)
    if turn.resident.language is None:
        hold(turn, request)
        return go_to(turn, Step.LANGUAGE)
    # The chat just opened (the console does so): nothing asked yet, so the menu, not an idea.
    await welcome(turn, [] if request is None else [request], asked=turn.inbound.is_opening)


async def on_language(turn: Turn, value: str | None) -> None:
    """The language chosen: back where they were, or (someone new) on to what they asked."""
    first = at_language_gate(turn)
    if not commands.set_language(turn, value):
        return None
    if not first:
        return commands.come_back(turn)
    draft = turn.state.draft
    requests = [r for r in draft.requests if not answers_language(r)]
    asked = bool(draft.requests)
    if draft.pending_event is not None:  # a link kept by an older version at this question
        event = draft.pending_event.partition(":")[0]
        requests.insert(0, Request(command="start", argument=f"ev{event}"))
    draft.requests, draft.pending_event = [], None
    turn.state.step = Step.IDLE
    await welcome(turn, requests, asked=asked)


ANSWERS[Step.LANGUAGE] = on_language


def _plain_start(request: Request) -> bool:
    command = commands.COMMAND_ALIASES.get(request.command or "")
    return command == "start" and commands.deep_link_event(request.argument) is None


async def welcome(turn: Turn, requests: list[Request], *, asked: bool = False) -> None:
    """A new person's first answer: the greeting, then each request answered as if sent now.
    Nothing asked for (words, a photo, /start): the idea intake begins, as it always has."""
    if (not requests and not asked) or (len(requests) == 1 and _plain_start(requests[0])):
        return commands.begin(turn, greet=True)
    commands.say_hello(turn)
    for request in requests:
        if _plain_start(request) and not commands.has_draft(turn):
            commands.begin(turn, greet=False)  # greeted just now
            continue
        turn.inbound = replace(
            turn.inbound, text=request.text, command=request.command,
            argument=request.argument, choice=request.choice,
            location=None, media=None, unsupported=None,
        )  # fmt: skip
        await respond_to(turn, None)
    if turn.state.step is Step.IDLE and not (turn.replies and turn.replies[-1].choices):
        ask_idle(turn)  # what else they can do here, as buttons


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
    if at_language_gate(turn):
        request = held_request(inbound)
        if request is not None and not answers_language(request):
            hold(turn, request)  # answered with the others once the language is chosen
            return ask(turn)
    await respond_to(turn, paused_for)


async def respond_to(turn: Turn, paused_for: timedelta | None) -> None:
    """A message from someone who has been here before (or a new person's request, now)."""
    inbound = turn.inbound
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

"""Every message's first stop, before it is an answer: the staff group, someone new (their
language, the greeting, what they asked meanwhile), opt-out words, commands, buttons that work
from anywhere, a new privacy policy, a long pause. Else the answer to the current question."""

from dataclasses import replace
from datetime import timedelta

from handlers.account import commands, subscriptions
from handlers.account.language import (
    answers_language,
    at_language_gate,
    held_request,
    hold,
    set_language,
)
from handlers.engine.buttons import ButtonId
from handlers.engine.group import in_group
from handlers.engine.routing import answer
from handlers.engine.state import DRAFT_STEPS, Request, Step
from handlers.engine.turn import Turn, ask, go_to
from handlers.staff.group import GROUP_ACTIONS


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
    if not set_language(turn, value):
        return None
    if not first:
        return commands.back_where_they_were(turn)
    draft = turn.state.draft
    requests = [r for r in draft.requests if not answers_language(r)]
    asked = bool(draft.requests)
    if draft.pending_event is not None:  # a link kept by an older version at this question
        event = ButtonId.parse(draft.pending_event).prefix  # "12:yes": the event, then what
        requests.insert(0, Request(command="start", argument=f"ev{event}"))
    draft.requests, draft.pending_event = [], None
    turn.state.step = Step.IDLE
    await welcome(turn, requests, asked=asked)


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
        commands.ask_idle(turn)  # what else they can do here, as buttons


async def in_staff_group(turn: Turn) -> None:
    """A staff member in the group: the team's commands and buttons, and the typed answers
    of a staff flow; a resident's command is for a private chat; other talk is ignored."""
    inbound, routes = turn.inbound, turn.routes
    hint = (inbound.language_hint or "").lower()[:2]
    if turn.resident.language is None and hint in turn.catalog.languages():
        turn.update_resident(language=hint)
    if inbound.command is not None:
        action = commands.COMMAND_ALIASES.get(inbound.command)
        if action in GROUP_ACTIONS:
            return await routes.commands[action](turn)
        if action is not None:
            turn.say(turn.t("staff.group_private_only"))
        return None
    if inbound.choice is not None:
        prefix = ButtonId.parse(inbound.choice).prefix
        if prefix in routes.buttons or turn.state.step in routes.staff_steps:
            return await answer(turn)
        turn.say(turn.t("input.stale_button"))
        return None
    if turn.state.step in routes.group_typed and (inbound.text is not None or inbound.location):
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
    inbound, buttons = turn.inbound, turn.routes.buttons
    if subscriptions.is_opt_out(inbound.text):
        return await commands.unsubscribe(turn)
    if inbound.command is not None:
        return await commands.run_command(turn, inbound.command)
    pressed = ButtonId.parse(inbound.choice)
    if pressed.prefix in buttons:
        return await buttons[pressed.prefix](turn, pressed.rest)
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

"""The language question: asked of someone new before anything else (what they asked for
meanwhile is held, and answered after it), and again by /idioma, as a side trip."""

from handlers.account.commands import COMMAND_ALIASES
from handlers.account.subscriptions import is_opt_out
from handlers.engine.buttons import ButtonId
from handlers.engine.messages import Inbound
from handlers.engine.replies import expected_choice
from handlers.engine.sidetrip import paused_at
from handlers.engine.state import Request, Step
from handlers.engine.turn import Turn

# Requests kept while a new person is asked their language (a few taps, not a queue to fill).
HELD_MAX = 5


def ask_language(turn: Turn) -> None:
    options = {"es": "language.es", "en": "language.en"}
    turn.say(turn.t("language.ask"), turn.options(Step.LANGUAGE, options))


def set_language(turn: Turn, value: str | None) -> bool:
    """Take the language chosen; False (and the question again) when it is not one we speak.
    Where the conversation goes next is the caller's (entry.on_language)."""
    if value not in turn.catalog.languages():
        expected_choice(turn)
        return False
    turn.update_resident(language=value)
    turn.say(turn.t("language.set"))
    return True


def held_request(inbound: Inbound) -> Request | None:
    """What a message asks for, to answer once the language is known: a command, a button,
    an opt-out word. Other words, a place or a photo ask for nothing: they start an idea."""
    if inbound.command is not None:
        return Request(command=inbound.command, argument=inbound.argument)
    if inbound.choice is not None:
        return Request(choice=inbound.choice)
    if is_opt_out(inbound.text):
        return Request(text=inbound.text)
    return None


def answers_language(request: Request) -> bool:
    """/idioma or a language button: the language question is its answer."""
    asked = COMMAND_ALIASES.get(request.command or "") == "language"
    return asked or ButtonId.parse(request.choice).prefix == Step.LANGUAGE


def at_language_gate(turn: Turn) -> bool:
    """Someone new, asked their language before anything else (not a change by /idioma)."""
    return turn.state.step is Step.LANGUAGE and paused_at(turn) is None


def hold(turn: Turn, request: Request | None) -> None:
    requests = turn.state.draft.requests
    if request is not None and len(requests) < HELD_MAX:
        requests.append(request)

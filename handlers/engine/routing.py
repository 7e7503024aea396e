"""A message as the answer to the current question: a button of the question, a button that
works from anywhere, or typed words matched to a button; each found through the turn's
routing tables (built once from the flows: handlers/engine/flow.py)."""

from handlers.engine.buttons import ButtonId
from handlers.engine.group import in_group
from handlers.engine.matching import Option, match
from handlers.engine.messages import Choice
from handlers.engine.state import Step
from handlers.engine.turn import Turn, ask
from handlers.engine.wordlists import typed_words


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
    # Every message of the question counts, in order (an offer of similar ideas is one
    # message per idea, each with its button): numbered as the console numbers them.
    return tuple(choice for reply in shown for choice in reply.choices)


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
    free_text = turn.state.step in turn.routes.typed
    return match(text, current_options(turn), typed_words(turn.catalog), free_text=free_text)


def remember_offered(turn: Turn) -> None:
    """At rest, keep the buttons this turn showed, so that typing "sí" answers them."""
    if turn.state.step is not Step.IDLE or in_group(turn):
        return
    if turn.replies:
        shown = {choice.id: choice.label for reply in turn.replies for choice in reply.choices}
        turn.state.draft.offered = list(shown.items())


async def answer(turn: Turn) -> None:
    """The inbound as the answer to the current step's question (a button or words)."""
    inbound, buttons = turn.inbound, turn.routes.buttons
    pressed = ButtonId.parse(inbound.choice)
    if pressed.prefix in buttons:
        return await buttons[pressed.prefix](turn, pressed.rest)
    value = None
    if inbound.choice is not None:
        value = pressed.rest
        if pressed.prefix != turn.state.step.value:
            turn.say(turn.t("input.stale_button"))
            return None if in_group(turn) else ask(turn)
    elif inbound.text is not None:
        typed = match_typed(turn, inbound.text)
        named = ButtonId.parse(typed)
        if named.prefix in buttons:  # at rest: a card's or a question's button, typed
            return await buttons[named.prefix](turn, named.rest)
        value = named.rest if typed else None
    if value == "back":
        return turn.routes.back(turn)
    await turn.routes.answers[turn.state.step](turn, value)

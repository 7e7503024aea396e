"""Kind answers to input a step cannot take: say why, then ask the same question again."""

from handlers.engine.turn import Turn, ask


def describe(turn: Turn) -> str | None:
    """What arrived, in words ("a sticker"), when it was not text."""
    inbound = turn.inbound
    kind = None
    if inbound.media is not None:
        kind = inbound.media.kind
    elif inbound.location is not None:
        kind = "location"
    elif inbound.unsupported is not None:
        kind = inbound.unsupported
    if kind is None:
        return None
    key = f"media.{kind}"
    return turn.t(key if key in turn.catalog.keys(turn.language) else "media.other")


def reject(turn: Turn, key: str, **values: object) -> None:
    turn.say(turn.t(key, **values))
    ask(turn)


def _unexpected(turn: Turn, *, plain: str, media: str) -> None:
    what = describe(turn)
    if what is None:
        reject(turn, plain)
    else:
        reject(turn, media, what=what)


def expected_text(turn: Turn) -> None:
    """For a step that wants written text and got something else."""
    _unexpected(turn, plain="input.empty", media="input.not_text")


def expected_choice(turn: Turn) -> None:
    """For a step that wants a button and got something it cannot match."""
    _unexpected(turn, plain="input.choose", media="input.not_here")

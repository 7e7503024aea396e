"""Side trips: a step that pauses what the person was doing (a confirmation, the language, a
staff form, /corregir) and comes back to it. The place to come back to is the draft's
`return_to` (stored: conversations in progress hold it), kept and cleared only here."""

from collections.abc import Collection

from handlers.engine.state import Step
from handlers.engine.turn import Turn, go_to

# Steps that are themselves a side trip: a trip started from one keeps the place it paused.
SIDE_STEPS = frozenset((Step.CONFIRM_CANCEL, Step.CONFIRM_RESTART, Step.LANGUAGE, Step.RESUME,
                        Step.EVENT_CONSENT))  # fmt: skip


def paused_at(turn: Turn) -> Step | None:
    """Where a side trip will come back to, if one is under way."""
    return turn.state.draft.return_to


def keep_place(turn: Turn, *, within: Collection[Step] = SIDE_STEPS) -> None:
    """Remember the current step to come back to; from a step in `within` (a side trip of
    the same kind already) the place kept before stays."""
    if turn.state.step not in within:
        turn.state.draft.return_to = turn.state.step


def detour(turn: Turn, step: Step, *, within: Collection[Step] = SIDE_STEPS) -> None:
    """Pause where the conversation is and ask the side trip's question."""
    keep_place(turn, within=within)
    go_to(turn, step)


def come_back(turn: Turn) -> Step:
    """End the side trip: the conversation is back at the step it paused (at rest when none),
    not yet asked again (each flow knows whether to ask it)."""
    draft = turn.state.draft
    step, draft.return_to = draft.return_to or Step.IDLE, None
    turn.state.step = step
    return step

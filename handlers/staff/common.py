"""What the staff flows share: who is staff, entering and leaving a flow, typed answers."""

from handlers.engine.state import StaffDraft, Step
from handlers.engine.textinput import clean
from handlers.engine.turn import Turn
from handlers.intake.questions import go_to

SIDE_STEPS = frozenset((Step.CONFIRM_CANCEL, Step.CONFIRM_RESTART, Step.LANGUAGE, Step.RESUME,
                        Step.EVENT_CONSENT))  # fmt: skip


def is_staff(turn: Turn) -> bool:
    return turn.settings.staff.includes(turn.inbound.channel, turn.inbound.user_key)


def refuse(turn: Turn) -> bool:
    """True (and a polite answer) when the caller is not staff."""
    if is_staff(turn):
        return False
    turn.say(turn.t("staff.only"))
    return True


def enter(turn: Turn, first: Step, staff: StaffDraft | None = None) -> None:
    """Start a staff flow on the side: whatever the person was doing waits for it."""
    draft = turn.state.draft
    if turn.state.step not in SIDE_STEPS and draft.staff is None:
        draft.return_to = turn.state.step
    draft.staff = staff or StaffDraft()
    go_to(turn, first)


def leave(turn: Turn, *, ask_again: bool = True) -> None:
    """Back to where they were before the flow. A question of their own that was waiting (an
    idea half told) is asked again in their private chat, unless the flow shows a staff place
    to land on instead (`ask_again=False`: its buttons still work); in the group it waits for
    them there. Nothing waiting: no resident menu, staff stay with what the flow showed."""
    draft = turn.state.draft
    step, draft.return_to, draft.staff = draft.return_to or Step.IDLE, None, None
    if turn.inbound.group is not None or step is Step.IDLE or not ask_again:
        turn.state.step = step
        return
    go_to(turn, step)


def staff_draft(turn: Turn) -> StaffDraft:
    draft = turn.state.draft
    if draft.staff is None:
        draft.staff = StaffDraft()
    return draft.staff


def typed(turn: Turn) -> str | None:
    """The cleaned text of the message, or None (and a reminder) when it was not text."""
    text = clean(turn.inbound.text or "")
    if not text:
        turn.say(turn.t("input.empty"))
        return None
    return text


def quit_if_asked(turn: Turn, value: str | None, *, ask_again: bool = True) -> bool:
    """The flow's "Cancel" button: nothing is kept, and they go back to where they were."""
    if value != "quit":
        return False
    turn.say(turn.t("staff.cancelled"))
    leave(turn, ask_again=ask_again)
    return True

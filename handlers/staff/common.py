"""What the staff flows share: who is staff, staff-only commands, entering and leaving a
flow (a side trip: whatever the person was doing waits for it), typed answers."""

from handlers.engine.messages import Choice
from handlers.engine.sidetrip import come_back, keep_place
from handlers.engine.state import StaffDraft, Step
from handlers.engine.textinput import clean, short
from handlers.engine.turn import Command, Turn, ask, go_to
from handlers.events.rsvp import carry_on

QUIT = "quit"  # the value of a staff form's "Cancel" button: "call_title:quit"


def is_staff(turn: Turn) -> bool:
    """The caller is on the lab's team as it stands now (handlers/engine/team.py)."""
    return turn.team.includes(turn.inbound.channel, turn.inbound.user_key)


def is_admin(turn: Turn) -> bool:
    """The caller may manage the team (/equipo_agregar, /equipo_quitar)."""
    return turn.team.is_admin(turn.inbound.channel, turn.inbound.user_key)


def refuse(turn: Turn) -> bool:
    """True (and a polite answer) when the caller is not staff."""
    if is_staff(turn):
        return False
    turn.say(turn.t("staff.only"))
    return True


def enter(turn: Turn, first: Step, staff: StaffDraft | None = None) -> None:
    """Start a staff flow on the side: whatever the person was doing waits for it."""
    draft = turn.state.draft
    if draft.staff is None:  # not from another staff flow: that one kept the place already
        keep_place(turn)
    draft.staff = staff or StaffDraft()
    go_to(turn, first)


def leave(turn: Turn, *, ask_again: bool = True) -> None:
    """Back to where they were before the flow. A question of their own that was waiting (an
    idea half told) is asked again in their private chat, unless the flow shows a staff place
    to land on instead (`ask_again=False`: its buttons still work); in the group it waits for
    them there. Nothing waiting: no resident menu, staff stay with what the flow showed."""
    turn.state.draft.staff = None
    step = come_back(turn)
    if turn.inbound.group is not None or step is Step.IDLE or not ask_again:
        return
    ask(turn)


def staff_only(action: Command, *, takes_argument: bool = False) -> Command:
    """A staff command: anyone else gets a polite refusal and keeps their place. Staff get the
    answer alone: a pending intake question is not asked again after it (its buttons still
    work), so that the staff tool's own buttons are the last ones shown. Words after a
    command that takes none are not silently dropped: staff hear they were not used."""

    async def checked(turn: Turn) -> None:
        if refuse(turn):
            return carry_on(turn)
        extra = (turn.inbound.argument or "").strip()
        if extra and not takes_argument:
            turn.say(turn.t("staff.no_argument", given=short(extra, 40)))
        await action(turn)

    return checked


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


def quit_button(turn: Turn, step: Step) -> Choice:
    """A staff form's "Cancel" button at this step (quit_if_asked answers it)."""
    return turn.option(step, QUIT, "staff.quit")


def quit_if_asked(turn: Turn, value: str | None, *, ask_again: bool = True) -> bool:
    """The flow's "Cancel" button: nothing is kept, and they go back to where they were."""
    if value != QUIT:
        return False
    turn.say(turn.t("staff.cancelled"))
    leave(turn, ask_again=ask_again)
    return True

"""Triage answers that need words: the reason an idea was not selected (told to the resident),
a staff note, a reply to the resident, the original of a duplicate. Each is asked after its
button on the idea's record, with a way out."""

from handlers.engine.state import StaffDraft, Step
from handlers.engine.turn import Turn, ask
from handlers.staff.common import enter, leave, quit_button, quit_if_asked, staff_draft, typed
from handlers.staff.ideas_view import card_buttons, card_text
from handlers.staff.triage import (
    TriageProblem,
    add_note,
    change_status,
    mark_duplicate,
    reply,
)
from storage.models import IdeaRecord, IdeaStatus

STEPS = frozenset((Step.TRIAGE_REASON, Step.TRIAGE_NOTE, Step.TRIAGE_REPLY,
                   Step.TRIAGE_DUPLICATE))  # fmt: skip
TYPED = STEPS
QUESTION_KEYS = {
    Step.TRIAGE_REASON: "triage.ask_reason",
    Step.TRIAGE_NOTE: "triage.ask_note",
    Step.TRIAGE_REPLY: "triage.ask_reply",
    Step.TRIAGE_DUPLICATE: "triage.ask_duplicate",
}


def start(turn: Turn, step: Step, idea: IdeaRecord) -> None:
    enter(turn, step, StaffDraft(idea_id=idea.id, text=idea.reference))


def ask_typed(turn: Turn) -> None:
    step = turn.state.step
    reference = staff_draft(turn).text or ""
    turn.say(turn.t(QUESTION_KEYS[step], reference=reference),
             (quit_button(turn, step),))  # fmt: skip


async def back_to_idea(turn: Turn, idea_id: int) -> None:
    """Where staff land after a triage answer, or giving it up: the idea's record with its
    triage buttons, not the resident menu (in the team's group the record with its buttons
    is already there, and the group is kept quiet)."""
    leave(turn, ask_again=False)
    idea = await turn.repos.idea_search.get(idea_id)
    if idea is not None and turn.inbound.group is None:
        turn.say(await card_text(turn, idea), card_buttons(turn, idea))


async def on_answer(turn: Turn, value: str | None) -> None:
    draft = staff_draft(turn)
    if quit_if_asked(turn, value, ask_again=False):
        return await back_to_idea(turn, draft.idea_id or 0)
    text = typed(turn)
    if text is None:
        return ask(turn)
    idea = await turn.repos.idea_search.get(draft.idea_id or 0)
    if idea is None:
        turn.say(turn.t("triage_error.no_idea", reference=draft.text or "?"))
        return leave(turn)
    step, who = turn.state.step, turn.actor
    try:
        if step is Step.TRIAGE_REASON:
            outcome = await change_status(turn.repos, idea, IdeaStatus.NOT_SELECTED, actor=who,
                                          now=turn.now, reason=text)  # fmt: skip
            turn.say(status_done(turn, outcome.idea.reference, outcome.idea.status, outcome.told))
        elif step is Step.TRIAGE_NOTE:
            await add_note(turn.repos, idea, text, actor=who, now=turn.now)
            turn.say(turn.t("triage.note_saved", reference=idea.reference))
        elif step is Step.TRIAGE_REPLY:
            outcome = await reply(turn.repos, idea, text, actor=who, now=turn.now)
            key = "triage.reply_queued" if outcome.told else "triage.reply_unreachable"
            turn.say(turn.t(key, reference=idea.reference))
        else:
            outcome = await mark_duplicate(turn.repos, idea, text, actor=who, now=turn.now)
            # Named as its author is told: the first of a chain, not the duplicate typed.
            joined = await turn.repos.idea_search.get(outcome.idea.duplicate_of or 0)
            original = joined.reference if joined else outcome.idea.duplicate_of_reference or text
            turn.say(turn.t("triage.duplicate_done", reference=idea.reference, original=original,
                            told=outcome.told))  # fmt: skip
    except TriageProblem as problem:
        turn.say(turn.t(f"triage_error.{problem.key}", **problem.values))
        return ask(turn)
    await back_to_idea(turn, idea.id)


def status_done(turn: Turn, reference: str, status: IdeaStatus, told: int) -> str:
    return turn.t("triage.status_done", reference=reference,
                  status=turn.t(f"status.{status.value}"), told=told)  # fmt: skip


QUESTIONS = dict.fromkeys(STEPS, ask_typed)
ANSWERS = dict.fromkeys(STEPS, on_answer)

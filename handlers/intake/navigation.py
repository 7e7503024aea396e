"""Which intake question comes next or before, given the draft: the flow's only routing rules."""

from handlers.engine.messages import Choice
from handlers.engine.state import INTAKE_ORDER, Draft, Step
from handlers.engine.turn import Turn, go_to
from storage.models import Role


def consent_is_current(turn: Turn) -> bool:
    resident = turn.resident
    return resident.consent_version == turn.settings.lab.privacy_policy_version


def applies(step: Step, turn: Turn) -> bool:
    """Whether the question is part of this resident's intake."""
    draft = turn.state.draft
    if step is Step.CONSENT and not consent_is_current(turn):
        return True  # e.g. the policy changed while they were writing: asked before sending
    if INTAKE_ORDER.index(step) < INTAKE_ORDER.index(draft.first_step):
        return False
    if step is Step.PHOTOS:
        return turn.settings.intake.max_photos > 0
    if step is Step.FOCUS:
        return draft.role in (Role.OFFICIAL, Role.CONTRACTOR) and not draft.focus_from_call
    if step in (Step.NAME, Step.CONTACT):
        return draft.anonymous is False
    if step is Step.CALL:
        return bool(draft.call_offers)
    if step is Step.SIMILAR:
        return bool(draft.similar_offers)
    return True


def answered(step: Step, turn: Turn) -> bool:
    draft = turn.state.draft
    match step:
        case Step.ROLE:
            return draft.role is not None
        case Step.CONSENT:
            return consent_is_current(turn)
        case Step.PROBLEM:
            return draft.problem is not None
        case Step.LOCATION:
            return draft.location_text is not None or draft.latitude is not None
        case Step.CATEGORY:
            return turn.settings.lab.category(draft.category) is not None
        case Step.IDEA:
            return draft.idea is not None or draft.no_idea
        case Step.PHOTOS:
            return draft.photos_done
        case Step.FOCUS:
            return draft.focus is not None
        case Step.IDENTITY:
            return draft.anonymous is not None
        case Step.NAME:
            return draft.name is not None
        case Step.CONTACT:
            return draft.contact_done
        case Step.CALL:
            return draft.call_done
        case Step.SIMILAR:
            return draft.similar_done
        case Step.PUBLISH:
            return draft.publish is not None
    return True


def next_step(turn: Turn) -> Step:
    """The first question still unanswered, else the summary.

    The same rule serves the first pass, a return after "back", and a change from the summary:
    answers already given are kept, and only what is missing is asked.
    """
    for step in INTAKE_ORDER:
        if applies(step, turn) and not answered(step, turn):
            return step
    return Step.SUMMARY


def previous_step(turn: Turn, step: Step) -> Step | None:
    """The question before `step` in this intake, or None at its first question."""
    if step not in INTAKE_ORDER:
        return None
    before = INTAKE_ORDER[: INTAKE_ORDER.index(step)]
    return next((s for s in reversed(before) if applies(s, turn)), None)


def first_step_for(turn: Turn) -> Step:
    """A returning resident is not asked again who they are or for a consent still valid."""
    if turn.resident.role is None:
        return Step.ROLE
    if not consent_is_current(turn):
        return Step.CONSENT
    return Step.PROBLEM


def fresh_draft(turn: Turn) -> Draft:
    first = first_step_for(turn)
    role = turn.resident.role if first is not Step.ROLE else None
    return Draft(first_step=first, role=role)


def with_back(turn: Turn, step: Step, choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
    """Every question but the first offers a way back (to the summary, when changing)."""
    if turn.state.draft.editing or previous_step(turn, step) is not None:
        return (*choices, turn.option(step, "back", "nav.back"))
    return choices


def go_back(turn: Turn) -> None:
    """A "back" button: the question before (the summary, when changing an answer from it)."""
    draft = turn.state.draft
    if turn.state.step is Step.SIMILAR_DETAIL:  # not joined after all: the offers again
        draft.joined_id, draft.joined_reference = None, None
        return go_to(turn, Step.SIMILAR)
    if draft.editing:
        draft.editing = False
        return go_to(turn, Step.SUMMARY)
    before = previous_step(turn, turn.state.step)
    go_to(turn, before or turn.state.step)

"""The summary, changing an answer from it, and sending the idea."""

from handlers.account import subscriptions
from handlers.calls import intake as calls
from handlers.engine.replies import expected_choice
from handlers.engine.sidetrip import detour
from handlers.engine.state import Draft, Step
from handlers.engine.turn import Turn, go_to
from handlers.intake.answers import go_on
from handlers.intake.navigation import next_step
from handlers.intake.questions import editable_steps
from handlers.intake.similar import on_filed
from handlers.privacy.consent import Purpose, undecided
from handlers.staff import digest
from storage.models import PHOTO, VOICE_IDEA, VOICE_PROBLEM, Focus, NewIdea, NewMedia, Publish, Role


async def on_summary(turn: Turn, value: str | None) -> None:
    if value == "send":
        return await submit(turn)
    if value == "change":
        return go_to(turn, Step.EDIT)
    if value == "discard":
        return detour(turn, Step.CONFIRM_CANCEL)  # back to this summary on "no"
    expected_choice(turn)


async def on_edit(turn: Turn, value: str | None) -> None:
    draft = turn.state.draft
    if value == "done":
        return go_to(turn, Step.SUMMARY)
    step = next((s for s in editable_steps(turn) if s.value == value), None)
    if step is None:
        return expected_choice(turn)
    # Photos and identity are asked afresh; every other answer stays until replaced.
    if step is Step.PHOTOS:
        draft.photos, draft.photos_done = [], False
    if step is Step.IDENTITY:
        draft.anonymous, draft.name, draft.contact, draft.contact_done = None, None, None, False
    draft.editing = True
    go_to(turn, step)


def _media(draft: Draft) -> tuple[NewMedia, ...]:
    """The photos, then the voice notes that told the problem or the idea."""
    photos = [NewMedia(kind=PHOTO, path=p.path, platform_ref=p.platform_ref) for p in draft.photos]
    voices = ((VOICE_PROBLEM, draft.problem_voice), (VOICE_IDEA, draft.idea_voice))
    return (*photos, *(NewMedia(kind=kind, path=path) for kind, path in voices if path))


def _new_idea(turn: Turn) -> NewIdea:
    draft = turn.state.draft
    assert draft.role is not None and draft.problem is not None and draft.category is not None
    # A resident's idea serves residents, unless the call category they chose says otherwise.
    given = draft.role is not Role.RESIDENT or draft.focus_from_call
    focus = draft.focus if given and draft.focus else Focus.EXTERNAL
    return NewIdea(
        resident_id=turn.resident.id,
        role=draft.role,
        language=turn.language,
        problem=draft.problem,
        idea=None if draft.no_idea else draft.idea,
        category=draft.category,
        focus=focus,
        location_text=draft.location_text,
        latitude=draft.latitude,
        longitude=draft.longitude,
        anonymous=bool(draft.anonymous),
        contact_name=None if draft.anonymous else draft.name,
        contact=None if draft.anonymous else draft.contact,
        media=_media(draft),
        publish=draft.publish or Publish.NO,
        call_id=draft.call_id,
        call_category=draft.call_category if draft.call_id is not None else None,
    )


async def submit(turn: Turn) -> None:
    missing = next_step(turn)
    if missing is not Step.SUMMARY:  # e.g. the consent version changed meanwhile
        return go_on(turn)
    await calls.still_open(turn)  # a call that closed meanwhile: sent as a general idea
    lab = turn.settings.lab
    year = turn.now.astimezone(lab.zone).year
    idea_id, reference = await turn.repos.ideas.create(
        _new_idea(turn), prefix=lab.reference_prefix, year=year, now=turn.now
    )
    await digest.queue_alert(turn.repos, turn.settings, idea_id, reference, turn.now)
    await on_filed(turn, turn.state.draft, idea_id)  # its vector; the offers it declined
    role = turn.state.draft.role
    assert role is not None
    turn.update_resident(role=role)
    turn.state.step, turn.state.draft = Step.IDLE, Draft()
    turn.say(turn.t("receipt.thanks", reference=reference))
    first_idea = await turn.repos.ideas.count_for_resident(turn.resident.id) == 1
    version = lab.privacy_policy_version
    asking = undecided(turn.resident, Purpose.UPDATES, version) or (
        first_idea and undecided(turn.resident, Purpose.ANNOUNCEMENTS, version)
    )
    # With a consent to ask (news of the idea, then announcements), its buttons come last and
    # the menu follows the answers; otherwise the receipt carries the menu.
    turn.say(turn.t("receipt.next", lab=lab.name), () if asking else turn.menu())
    if asking:
        subscriptions.ask_next(turn, announcements=first_idea)

"""What each intake question does with the answer: check it, keep it, move on."""

from collections.abc import Mapping, Sequence

from handlers.calls import intake as calls
from handlers.engine.buttons import args_of
from handlers.engine.legacy_buttons import neighbourhood_pressed
from handlers.engine.replies import expected_choice, expected_text, reject
from handlers.engine.state import Draft, Photo, Step
from handlers.engine.textinput import (
    check_text,
    clean,
    fold,
    looks_like_contact,
    valid_coordinates,
)
from handlers.engine.turn import Answer, Turn, go_to
from handlers.intake.lookup import forget_vector, look_again
from handlers.intake.navigation import next_step
from storage.models import Focus, Publish, Role

NAME_LIMITS = (2, 80)
PLACE_LIMITS = (3, 200)
CONTACT_MAX = 120
# What the photos question says when a photo could not be taken (the adapters' names for why).
PHOTO_REFUSALS = {
    "photo_failed": "photos.failed",
    "photo_too_big": "photos.too_big",
    "file_too_big": "photos.too_big",
    "file_failed": "photos.failed",
    "not_image": "photos.not_image",
}


def go_on(turn: Turn) -> None:
    """After an answer: the next unanswered question, or the summary when all are answered."""
    step = next_step(turn)
    if step is Step.SUMMARY:
        turn.state.draft.editing = False
    go_to(turn, step)


def take_text(turn: Turn, low: int, high: int) -> str | None:
    """The cleaned text if it is acceptable; otherwise say why (and ask again) and give None."""
    raw = turn.inbound.text
    if raw is None:
        expected_text(turn)
        return None
    text = clean(raw)
    problem = check_text(text, min_chars=low, max_chars=high)
    if problem is not None:
        reject(turn, problem.key, **problem.values)
        return None
    return text


def _intake_text(turn: Turn) -> str | None:
    limits = turn.settings.intake
    return take_text(turn, limits.text_min_chars, limits.text_max_chars)


async def on_role(turn: Turn, value: str | None) -> None:
    if value not in {role.value for role in Role}:
        return expected_choice(turn)
    turn.state.draft.role = Role(value)
    go_on(turn)


async def on_consent(turn: Turn, value: str | None) -> None:
    if value == "yes":
        turn.update_resident(
            consent_version=turn.settings.lab.privacy_policy_version,
            consent_at=turn.now,
            consent_refused_at=None,
        )
        return go_on(turn)
    if value == "no":
        # Nothing about them is kept but the refusal: the draft (with their role) goes too.
        turn.update_resident(
            role=None, consent_version=None, consent_at=None, consent_refused_at=turn.now
        )
        turn.state.step, turn.state.draft = Step.IDLE, Draft()
        turn.say(turn.t("consent.declined"))
        return None
    expected_choice(turn)


VOICE_REFUSALS = {"voice_failed": "input.voice_failed", "voice_too_big": "input.voice_too_big"}


def voice_note(turn: Turn) -> str | None:
    """The stored path of a voice note or audio sent as the answer, if that is what came."""
    media = turn.inbound.media
    return media.path if media is not None and media.kind == "voice" else None


async def on_problem(turn: Turn, value: str | None) -> None:
    draft, recording = turn.state.draft, voice_note(turn)
    if turn.inbound.unsupported in VOICE_REFUSALS:
        return reject(turn, VOICE_REFUSALS[turn.inbound.unsupported])
    if recording is not None:
        # Kept as a file for the team; the words say what it is wherever text is shown.
        draft.problem, draft.problem_voice = turn.t("summary.voice_note"), recording
        forget_vector(draft)
        return await _placed(turn)
    text = _intake_text(turn)
    if text is not None:
        if text != draft.problem or draft.problem_voice is not None:
            forget_vector(draft)
        draft.problem, draft.problem_voice = text, None
        await _placed(turn)


async def _placed(turn: Turn) -> None:
    """The problem, the place or the category answered: earlier ideas like it are looked up
    again (the "similar" question may come next), then the next question."""
    await look_again(turn)
    go_on(turn)


async def on_location(turn: Turn, value: str | None) -> None:
    draft, inbound = turn.state.draft, turn.inbound
    if value:  # the question's only buttons are neighbourhoods (and "back", taken before)
        place = neighbourhood_pressed(args_of(value), turn.settings.lab.neighbourhoods)
        if place is None:  # gone from the config since the button was sent
            return reject(turn, "input.stale_button")
        draft.location_text, draft.latitude, draft.longitude = place, None, None
        return await _placed(turn)
    if inbound.location is not None:
        point = inbound.location
        if not valid_coordinates(point.latitude, point.longitude):
            return reject(turn, "input.bad_location")
        draft.location_text, draft.latitude, draft.longitude = None, point.latitude, point.longitude
        return await _placed(turn)
    text = take_text(turn, *PLACE_LIMITS)
    if text is not None:
        # "barrio danubio" is the list's "Danubio": stored as the list names it, so that it
        # is counted, filtered and matched with the ideas of those who tapped its button.
        text = known_neighbourhood(text, turn.settings.lab.neighbourhoods) or text
        draft.location_text, draft.latitude, draft.longitude = text, None, None
        await _placed(turn)


# What residents type before a neighbourhood's name, in either language.
NEIGHBOURHOOD_WORDS = (
    "barrio", "el barrio", "en el barrio", "en", "sector", "en el sector", "localidad",
    "vereda", "neighbourhood", "neighborhood", "in",
)  # fmt: skip


def known_neighbourhood(text: str, names: Sequence[str]) -> str | None:
    """The lab's neighbourhood a typed place is, and nothing more ("Barrio Danubio",
    "en la flora"), without minding case, accents or spaces; None otherwise."""
    typed = fold(text)
    prefixes = ("", *(fold(word) for word in NEIGHBOURHOOD_WORDS))
    for name in names:
        folded = fold(name)
        if any(typed == prefix + folded for prefix in prefixes):
            return name
    return None


async def on_category(turn: Turn, value: str | None) -> None:
    if turn.settings.lab.category(value) is None:
        return expected_choice(turn)
    turn.state.draft.category = value
    await _placed(turn)


async def on_idea(turn: Turn, value: str | None) -> None:
    draft, recording = turn.state.draft, voice_note(turn)
    if value == "none":
        draft.idea, draft.idea_voice, draft.no_idea = None, None, True
    elif turn.inbound.unsupported in VOICE_REFUSALS:
        return reject(turn, VOICE_REFUSALS[turn.inbound.unsupported])
    elif recording is not None:
        draft.idea, draft.idea_voice, draft.no_idea = turn.t("summary.voice_note"), recording, False
    else:
        text = _intake_text(turn)
        if text is None:
            return
        draft.idea, draft.idea_voice, draft.no_idea = text, None, False
    await calls.load_offers(turn)  # the next question may be "is it for the open call?"
    go_on(turn)


async def on_photos(turn: Turn, value: str | None) -> None:
    draft, media = turn.state.draft, turn.inbound.media
    most = turn.settings.intake.max_photos
    if value == "done":
        draft.photos_done = True
        return go_on(turn)
    refusal = PHOTO_REFUSALS.get(turn.inbound.unsupported or "")
    if refusal is not None:
        return reject(turn, refusal)
    if media is None or media.kind != "photo":
        return expected_choice(turn)
    if len(draft.photos) < most:
        draft.photos.append(Photo(path=media.path, platform_ref=media.platform_ref))
    if len(draft.photos) >= most:
        draft.photos_done = True
        turn.say(turn.t("photos.full", max=most, count=most))
        return go_on(turn)
    turn.say(
        turn.t("photos.received", count=len(draft.photos), max=most),
        (turn.option(Step.PHOTOS, "done", "photos.continue"),),
    )


async def on_focus(turn: Turn, value: str | None) -> None:
    if value not in {focus.value for focus in Focus}:
        return expected_choice(turn)
    turn.state.draft.focus = Focus(value)
    go_on(turn)


async def on_identity(turn: Turn, value: str | None) -> None:
    draft = turn.state.draft
    if value == "anonymous":
        draft.anonymous, draft.name, draft.contact, draft.contact_done = True, None, None, False
        return go_on(turn)
    if value == "named":
        draft.anonymous = False
        return go_on(turn)
    expected_choice(turn)


async def on_name(turn: Turn, value: str | None) -> None:
    text = take_text(turn, *NAME_LIMITS)
    if text is not None:
        turn.state.draft.name = text
        go_on(turn)


async def on_contact(turn: Turn, value: str | None) -> None:
    draft = turn.state.draft
    if value == "skip":
        draft.contact, draft.contact_done = None, True
        return go_on(turn)
    text = take_text(turn, 5, CONTACT_MAX)
    if text is None:
        return None
    if not looks_like_contact(text):
        return reject(turn, "contact.invalid")
    draft.contact, draft.contact_done = text, True
    go_on(turn)


async def on_publish(turn: Turn, value: str | None) -> None:
    no_photos = value == "photos" and not turn.state.draft.photos
    if value not in {p.value for p in Publish} or no_photos:
        return expected_choice(turn)
    turn.state.draft.publish = Publish(value)
    go_on(turn)


# The intake's answers; whether the idea is for an open call is the calls'.
INTAKE_ANSWERS: Mapping[Step, Answer] = {
    Step.ROLE: on_role,
    Step.CONSENT: on_consent,
    Step.PROBLEM: on_problem,
    Step.LOCATION: on_location,
    Step.CATEGORY: on_category,
    Step.IDEA: on_idea,
    Step.PHOTOS: on_photos,
    Step.FOCUS: on_focus,
    Step.IDENTITY: on_identity,
    Step.NAME: on_name,
    Step.CONTACT: on_contact,
    Step.PUBLISH: on_publish,
}

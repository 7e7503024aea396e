"""Where a conversation is (its step) and what the resident has answered so far (the draft)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from storage.models import Focus, Publish, Role


class Step(StrEnum):
    IDLE = "idle"
    LANGUAGE = "language"
    ROLE = "role"
    CONSENT = "consent"
    PROBLEM = "problem"
    LOCATION = "location"
    CATEGORY = "category"
    # Earlier ideas that are probably the same problem: join one, or "mine is different".
    SIMILAR = "similar"
    SIMILAR_DETAIL = "similar_detail"  # after joining: an extra detail or a photo (optional)
    IDEA = "idea"
    CALL = "call"  # is the idea for an open call for ideas?
    PHOTOS = "photos"
    FOCUS = "focus"
    IDENTITY = "identity"
    NAME = "name"
    CONTACT = "contact"
    PUBLISH = "publish"  # may it appear in the public catalogue?
    SUMMARY = "summary"
    EDIT = "edit"
    CONFIRM_CANCEL = "cancel"
    CONFIRM_RESTART = "restart"
    RESUME = "resume"
    EVENT_CONSENT = "ev_consent"  # consent asked before an RSVP or an event link
    # A resident's rights: /corregir (name or contact on their ideas), /borrar.
    FIX_WHICH = "fix"
    FIX_NAME = "fix_name"
    FIX_CONTACT = "fix_contact"
    ERASE_CONFIRM = "erase"
    # Staff: a new event (/nuevo_evento), guided.
    NEW_EVENT_TITLE = "ne_title"
    NEW_EVENT_STARTS = "ne_starts"
    NEW_EVENT_ENDS = "ne_ends"
    NEW_EVENT_VENUE = "ne_venue"
    NEW_EVENT_ADDRESS = "ne_address"
    NEW_EVENT_PIN = "ne_pin"
    NEW_EVENT_CAPACITY = "ne_capacity"
    NEW_EVENT_DESCRIPTION = "ne_description"
    NEW_EVENT_PREVIEW = "ne_preview"
    # Staff: a broadcast (/difundir), guided.
    BROADCAST_TEXT = "bc_text"
    BROADCAST_EVENT = "bc_event"
    BROADCAST_AUDIENCE = "bc_audience"
    BROADCAST_FILTER = "bc_filter"
    BROADCAST_PREVIEW = "bc_preview"
    # Staff: triage answers typed after a button (/idea).
    TRIAGE_REASON = "tr_reason"
    TRIAGE_NOTE = "tr_note"
    TRIAGE_REPLY = "tr_reply"
    TRIAGE_DUPLICATE = "tr_dup"
    # Staff: a new call for ideas (/convocatoria), guided.
    CALL_TITLE = "cl_title"
    CALL_DESCRIPTION = "cl_desc"
    CALL_CATEGORIES = "cl_cats"
    CALL_DEADLINE = "cl_deadline"
    CALL_PREVIEW = "cl_preview"


# The intake's questions in the order they are asked; which apply depends on the draft.
INTAKE_ORDER: tuple[Step, ...] = (
    Step.ROLE,
    Step.CONSENT,
    Step.PROBLEM,
    Step.LOCATION,
    Step.CATEGORY,
    Step.SIMILAR,
    Step.IDEA,
    Step.CALL,
    Step.PHOTOS,
    Step.FOCUS,
    Step.IDENTITY,
    Step.NAME,
    Step.CONTACT,
    Step.PUBLISH,
)

# Steps that hold a draft in progress (a pause there gets "continue or start again?").
DRAFT_STEPS = frozenset((*INTAKE_ORDER, Step.SIMILAR_DETAIL, Step.SUMMARY, Step.EDIT))


class Photo(BaseModel):
    path: str
    platform_ref: str | None = None


class CallOffer(BaseModel):
    """An open call the intake offers, read when the idea was written (checked again when
    answered and when sent: it may close meanwhile)."""

    id: int
    title: str
    categories: list[tuple[str, str, str]]  # (id, Spanish label, English label)


class SimilarOffer(BaseModel):
    """An earlier idea the intake offers as probably the same problem: only what its question
    shows (never its author), read when the problem, place and category were last answered."""

    model_config = ConfigDict(extra="ignore")

    idea_id: int
    reference: str
    words: str | None = None  # its problem's first words; None: not published, not shown
    place: str | None = None  # its neighbourhood or the place its author typed
    meters: int | None = None  # how far from the resident's point, when both have one
    status: str = "received"
    supporters: int = 0
    score: float = 0.0


class StaffDraft(BaseModel):
    """What a staff member has given so far for a new event or a broadcast."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    ends_done: bool = False
    venue: str | None = None
    address: str | None = None
    address_done: bool = False
    latitude: float | None = None
    longitude: float | None = None
    pin_done: bool = False
    capacity: int | None = None
    capacity_done: bool = False
    description: str | None = None
    description_done: bool = False
    text: str | None = None
    event_id: int | None = None
    event_done: bool = False
    audience: str | None = None
    filter_kind: str | None = None  # "neighbourhood" or "category", while choosing which
    offered: list[tuple[int, str]] = []  # upcoming events (id, title) the questions offer
    more_events: bool = False  # more upcoming events follow `offered` (a "more" button)
    recipients: int = 0  # how many the chosen audience reaches, for the confirmation
    idea_id: int | None = None  # the idea being triaged
    category_names: list[str] | None = None  # a new call's own categories (None: the default)
    deadline: datetime | None = None


class Request(BaseModel):
    """What a new person asked for before their language was known (a command, a button, an
    opt-out word): kept through the language question and answered after it."""

    model_config = ConfigDict(extra="ignore")

    command: str | None = None
    argument: str | None = None
    choice: str | None = None
    text: str | None = None


class Draft(BaseModel):
    """The answers so far. Stored as JSON, so every field has a default and old drafts load."""

    model_config = ConfigDict(extra="ignore")

    first_step: Step = Step.ROLE  # where this intake began: no "back" before it
    role: Role | None = None
    problem: str | None = None
    problem_voice: str | None = None  # a voice note's path, when the problem was told aloud
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    category: str | None = None
    idea: str | None = None
    idea_voice: str | None = None
    no_idea: bool = False
    photos: list[Photo] = []
    photos_done: bool = False
    focus: Focus | None = None
    anonymous: bool | None = None
    name: str | None = None
    contact: str | None = None
    contact_done: bool = False
    call_offers: list[CallOffer] = []
    call_id: int | None = None
    call_category: str | None = None
    call_done: bool = False
    # The call's category said whether the idea serves residents or the administration:
    # the focus question is not asked (nor shown) again.
    focus_from_call: bool = False
    publish: Publish | None = None
    # Earlier ideas probably about the same problem (empty: none, or a draft stored before
    # they were looked up: then the question does not apply), and "mine is different".
    similar_offers: list[SimilarOffer] = []
    similar_done: bool = False
    # The problem's vector the lookup computed (vectors.pack, base64) and its model: stored
    # with the idea when it is filed, instead of being computed again. Dropped when the
    # problem changes.
    similar_vector: str | None = None
    similar_model: str | None = None
    joined_id: int | None = None  # the earlier idea they chose to join (its detail asked)
    joined_reference: str | None = None
    editing: bool = False  # came from the summary's "change": go back there when done
    return_to: Step | None = None  # where a confirmation or a language change goes back to
    pending_event: str | None = None  # "12:yes": what to do once consent is given
    requests: list[Request] = []  # asked while the language was asked, answered after it
    fix_values: str | None = None  # /corregir: what their ideas carry; /borrar: how many ideas
    staff: StaffDraft | None = None  # a staff member's event or broadcast in the making
    # At rest: the buttons last shown (id, label), so that a typed "sí" can answer them.
    offered: list[tuple[str, str]] = []


def held_by(draft: Draft) -> list[str]:
    """The photos and voice notes a draft holds (kept on disk before the idea is sent)."""
    paths = [photo.path for photo in draft.photos]
    return paths + [path for path in (draft.problem_voice, draft.idea_voice) if path]


class ConversationState(BaseModel):
    step: Step = Step.IDLE
    draft: Draft = Draft()

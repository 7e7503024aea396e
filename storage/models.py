"""Typed rows at the storage boundary (pydantic v2)."""

from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from storage.outbox_kinds import PAYLOADS, OutboxKind, OutboxPayload

P = TypeVar("P", bound=OutboxPayload)


class Role(StrEnum):
    RESIDENT = "resident"
    OFFICIAL = "official"
    CONTRACTOR = "contractor"


class Focus(StrEnum):
    EXTERNAL = "external"  # a service to residents
    INTERNAL = "internal"  # how the administration works inside


class IdeaStatus(StrEnum):
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    SELECTED = "selected"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    NOT_SELECTED = "not_selected"
    DUPLICATE = "duplicate"


class Publish(StrEnum):
    """Whether an idea may appear in the public catalogue (never with the author's name)."""

    NO = "no"
    TEXT = "text"  # the idea's words, without photos
    PHOTOS = "photos"  # with its photos


class Award(StrEnum):
    SHORTLISTED = "shortlisted"
    WINNER = "winner"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class Resident(_Row):
    id: int
    channel: str
    user_key: str
    language: str | None = None
    role: Role | None = None
    consent_version: str | None = None
    consent_at: datetime | None = None
    consent_refused_at: datetime | None = None
    announcements_at: datetime | None = None  # opted in to announcements and invitations
    announcements_version: str | None = None  # ... under this privacy policy version
    announcements_off_at: datetime | None = None  # said no, or withdrew it
    unreachable_at: datetime | None = None  # blocked the bot (cleared when they write again)
    updates_at: datetime | None = None  # agreed to news about their ideas
    updates_version: str | None = None
    updates_off_at: datetime | None = None  # said no to news about their ideas, or withdrew it
    erased_at: datetime | None = None  # their personal data was erased
    # The @username their platform showed with their last message (Telegram's), if any.
    username: str | None = None
    created_at: datetime


class ConsentEntry(_Row):
    """One line of the proof of consent: given or not, for what, under which policy, when."""

    purpose: str  # "handling", "updates" or "announcements"
    granted: bool
    policy_version: str | None
    at: datetime


class ConversationRecord(_Row):
    """A conversation as stored: the step and the draft, which handlers own, as JSON text."""

    step: str
    draft: str
    updated_at: datetime


PHOTO = "photo"
VOICE_PROBLEM = "voice_problem"  # a voice note told the problem
VOICE_IDEA = "voice_idea"  # a voice note told the idea


class NewMedia(_Row):
    kind: str
    path: str
    platform_ref: str | None = None


class NewIdea(_Row):
    resident_id: int
    role: Role
    language: str
    problem: str
    idea: str | None
    category: str
    focus: Focus
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    anonymous: bool
    contact_name: str | None = None
    contact: str | None = None
    media: tuple[NewMedia, ...] = ()
    publish: Publish = Publish.NO
    call_id: int | None = None
    call_category: str | None = None


class IdeaSummary(_Row):
    """What a resident sees of their own idea in "my ideas"."""

    id: int
    reference: str
    status: IdeaStatus
    category: str
    created_at: datetime
    problem: str = ""  # the resident's own words: which idea this is, at a glance


class IdeaRecord(_Row):
    """An idea as staff see it: everything stored, with its author's channel."""

    id: int
    reference: str
    resident_id: int
    channel: str
    role: Role
    language: str
    problem: str
    idea: str | None
    category: str
    focus: Focus
    location_text: str | None
    latitude: float | None
    longitude: float | None
    anonymous: bool
    contact_name: str | None
    contact: str | None
    status: IdeaStatus
    status_reason: str | None = None
    duplicate_of: int | None = None
    duplicate_of_reference: str | None = None
    call_id: int | None = None
    call_category: str | None = None
    award: Award | None = None
    publish: Publish = Publish.NO
    created_at: datetime
    updated_at: datetime
    media: tuple[str, ...] = ()  # photos' paths under the media folder, in order
    voices: tuple[str, ...] = ()  # voice notes' paths (the problem's, then the idea's)
    supporters: int = 0  # residents who joined it as the same problem (its author not counted)

    @property
    def has_pin(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class IdeaEvent(_Row):
    """A line of an idea's history: a status set, a staff note, a reply, an award."""

    id: int
    at: datetime
    kind: str
    status: str | None = None
    note: str | None = None
    actor: str | None = None


class IdeaOrder(StrEnum):
    """How staff's list of ideas is sorted (stored in its buttons: values never change)."""

    NEWEST = "newest"
    SUPPORTERS = "supporters"  # the most residents who joined first


class IdeaFilter(_Row):
    """Which ideas staff look at; every field narrows the list."""

    status: IdeaStatus | None = None
    category: str | None = None
    neighbourhood: str | None = None
    call_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    call_category: str | None = None
    general: bool = False  # only ideas outside any call
    published: bool = False  # only ideas the resident allowed to publish (no duplicates)


class CallCategory(_Row):
    id: str
    es: str
    en: str
    focus: Focus

    def label(self, language: str) -> str:
        return self.es if language == "es" else self.en


class Call(_Row):
    """A call for ideas (convocatoria): open until its deadline or until staff close it."""

    id: int
    title: str
    description: str
    categories: tuple[CallCategory, ...]
    deadline: datetime
    closed_at: datetime | None
    results_at: datetime | None
    created_by: str
    created_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.deadline

    def category(self, category_id: str | None) -> CallCategory | None:
        return next((c for c in self.categories if c.id == category_id), None)


class Digest(_Row):
    day: str
    covers_from: datetime
    covers_until: datetime
    ideas: int
    outcome: str
    created_at: datetime


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    MOVED = "moved"
    CANCELLED = "cancelled"


class EventFields(_Row):
    """What staff give for an event (times aware; stored in UTC)."""

    title: str
    description: str = ""
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    capacity: int | None = None


class Event(EventFields):
    id: int
    status: EventStatus = EventStatus.SCHEDULED
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def has_pin(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class RsvpStatus(StrEnum):
    GOING = "going"
    WAITLIST = "waitlist"
    DECLINED = "declined"


class EventCounts(_Row):
    going: int = 0
    waitlist: int = 0
    declined: int = 0


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"  # the resident blocked the bot
    SKIPPED = "skipped"  # no longer wanted: expired, cancelled event, opted out


class NewOutbox(_Row):
    kind: OutboxKind
    subject: str
    recipient_id: int
    payload: OutboxPayload  # the kind's model (PAYLOADS)
    not_before: datetime
    expires_at: datetime | None = None
    broadcast_id: int | None = None

    @model_validator(mode="after")
    def _payload_of_its_kind(self) -> "NewOutbox":
        if type(self.payload) is not PAYLOADS[self.kind]:
            raise ValueError(f"a {self.kind} row carries {PAYLOADS[self.kind].__name__}")
        return self

    @property
    def priority(self) -> int:
        return self.kind.priority


class OutboxItem(_Row):
    """A bulk message due for sending, with what the sender needs to know of its recipient."""

    id: int
    kind: str  # as stored: an OutboxKind, unless a newer version wrote it
    subject: str
    payload: dict[str, object]  # as stored: read it with payload_as
    attempts: int
    expires_at: datetime | None
    broadcast_id: int | None
    recipient: Resident

    def payload_as(self, model: type[P]) -> P:
        """The stored payload read as its kind's model (ValueError when it is not that)."""
        if PAYLOADS.get(OutboxKind(self.kind)) is not model:
            raise ValueError(f"a {self.kind} row does not carry {model.__name__}")
        return model.model_validate(self.payload)


class Broadcast(_Row):
    id: int
    text: str
    event_id: int | None
    audience: str
    created_by: str
    reporter_id: int | None
    recipients: int
    created_at: datetime
    finished_at: datetime | None


class DeliveryCounts(_Row):
    """How a broadcast's messages stand."""

    pending: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sent + self.failed + self.blocked + self.skipped

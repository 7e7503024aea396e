"""Typed rows at the storage boundary (pydantic v2)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


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
    unreachable_at: datetime | None = None  # blocked the bot (cleared when they write again)
    created_at: datetime


class ConversationRecord(_Row):
    """A conversation as stored: the step and the draft, which handlers own, as JSON text."""

    step: str
    draft: str
    updated_at: datetime


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


class IdeaSummary(_Row):
    """What a resident sees of their own idea in "my ideas"."""

    id: int
    reference: str
    status: IdeaStatus
    category: str
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
    kind: str
    subject: str
    recipient_id: int
    payload: dict[str, object] = {}
    priority: int = 5
    not_before: datetime
    expires_at: datetime | None = None
    broadcast_id: int | None = None


class OutboxItem(_Row):
    """A bulk message due for sending, with what the sender needs to know of its recipient."""

    id: int
    kind: str
    subject: str
    payload: dict[str, object]
    attempts: int
    expires_at: datetime | None
    broadcast_id: int | None
    recipient: Resident


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

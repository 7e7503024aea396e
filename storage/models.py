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

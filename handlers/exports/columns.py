"""The columns every export shares (documented in the README, "Exports"), and contact
details only when asked for."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handlers.engine.settings import LabSettings
from storage.models import IdeaRecord, IdeaStatus
from storage.timefmt import to_db

# Statuses after which nothing more is done with an idea (Open311's "closed").
CLOSED = frozenset((IdeaStatus.IMPLEMENTED, IdeaStatus.NOT_SELECTED, IdeaStatus.DUPLICATE))
# A spreadsheet runs a cell that starts with one of these as a formula: user text is data.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    value: Callable[[IdeaRecord, LabSettings], Any]


def _category_label(idea: IdeaRecord, lab: LabSettings) -> str:
    category = lab.category(idea.category)
    return category.label(lab.default_language) if category else idea.category


COLUMNS: tuple[Column, ...] = (
    Column("reference", lambda i, _: i.reference),
    Column("created_at", lambda i, _: to_db(i.created_at)),
    Column("updated_at", lambda i, _: to_db(i.updated_at)),
    Column("status", lambda i, _: i.status.value),
    Column("status_reason", lambda i, _: i.status_reason),
    Column("category", lambda i, _: i.category),
    Column("category_label", _category_label),
    Column("focus", lambda i, _: i.focus.value),
    Column("role", lambda i, _: i.role.value),
    Column("channel", lambda i, _: i.channel),
    Column("language", lambda i, _: i.language),
    Column("place", lambda i, _: i.location_text),
    Column("latitude", lambda i, _: i.latitude),
    Column("longitude", lambda i, _: i.longitude),
    Column("problem", lambda i, _: i.problem),
    Column("idea", lambda i, _: i.idea),
    Column("anonymous", lambda i, _: i.anonymous),
    Column("photos", lambda i, _: len(i.media)),
    Column("photo_paths", lambda i, _: " ".join(i.media) or None),
    Column("publish", lambda i, _: i.publish.value),
    Column("call_id", lambda i, _: i.call_id),
    Column("call_category", lambda i, _: i.call_category),
    Column("award", lambda i, _: i.award.value if i.award else None),
    Column("duplicate_of", lambda i, _: i.duplicate_of_reference),
    # Residents who joined the idea in the chat (its author not counted). Last, so that
    # spreadsheets built on the columns before it keep their places.
    Column("supporters", lambda i, _: i.supporters),
)
CONTACT_COLUMNS: tuple[Column, ...] = (
    Column("contact_name", lambda i, _: i.contact_name),
    Column("contact", lambda i, _: i.contact),
)


def columns(with_contact: bool) -> tuple[Column, ...]:
    return COLUMNS + CONTACT_COLUMNS if with_contact else COLUMNS


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """ "Ana María Rojas" -> ("Ana", "María Rojas"): Open311 wants first and last names."""
    if not name:
        return None, None
    first, _, last = name.strip().partition(" ")
    return first, last.strip() or None


def split_contact(contact: str | None) -> tuple[str | None, str | None]:
    """The one contact field residents give -> (e-mail, phone)."""
    if not contact:
        return None, None
    return (contact, None) if "@" in contact else (None, contact)


def defuse(text: str) -> str:
    """A leading ' keeps a spreadsheet from running text as a formula (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text

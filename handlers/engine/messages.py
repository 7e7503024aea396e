"""The message types every channel speaks: one `Inbound` in, `Reply` values out."""

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypedDict

from pydantic import ConfigDict, TypeAdapter


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Media:
    """A file the adapter has already stored; `path` is relative to the media folder."""

    kind: str
    path: str
    platform_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a person, whatever the platform. At most one payload field is set."""

    channel: str
    user_key: str
    external_id: str
    at: datetime
    text: str | None = None
    command: str | None = None  # lower case, without "/" or "@botname"
    choice: str | None = None  # the id of a button the person pressed
    location: Location | None = None
    media: Media | None = None
    unsupported: str | None = None  # what arrived that we cannot take: "sticker", "voice", ...
    argument: str | None = None  # what followed a command ("/start ev12" -> "ev12")
    language_hint: str | None = None  # the platform's language code, e.g. "es-419"
    group: str | None = None  # said in a group chat (the staff's), not in a private chat
    # The sender's @username (without "@") where the platform has one (Telegram), else None.
    username: str | None = None

    @property
    def is_opening(self) -> bool:
        """No payload at all: the person just opened the chat (re-show where they are)."""
        return (
            self.text is None
            and self.command is None
            and self.choice is None
            and self.location is None
            and self.media is None
            and self.unsupported is None
        )


class Said(TypedDict, total=False):
    """What a person sent, as Inbound's keyword arguments: one payload field (a command with
    its argument). For code that builds an Inbound from a few words (the console, tests)."""

    text: str | None
    command: str | None
    argument: str | None
    choice: str | None
    location: Location | None
    media: Media | None
    unsupported: str | None


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str
    detail: str = ""  # a second, smaller line (an event's day): a WhatsApp row's description


@dataclass(frozen=True, slots=True)
class Venue:
    """A place to show as a map pin."""

    title: str
    address: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Document:
    """A file made for this person (a calendar entry, an export), sent with the reply's text:
    its bytes, or for a large one the path of a file already written."""

    filename: str
    content: bytes
    mime_type: str
    path: str | None = None
    stored: str | None = None  # or a file kept under the media folder (a voice note)

    @property
    def size(self) -> int:
        """The size of `content` or of the file at `path` (a stored file: its adapter's)."""
        return os.path.getsize(self.path) if self.path else len(self.content)


@dataclass(frozen=True, slots=True)
class Picture:
    """An image to show: made now (`content`, a chart) or stored (`path`, under the media
    folder: a resident's photo)."""

    filename: str
    content: bytes | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """A bulk message in a few plain values, for a channel that may only send an approved
    template at that moment (WhatsApp, 24 hours after the resident last wrote): what it is
    for, in which language, and the values the template's placeholders take, in order."""

    purpose: str  # "reminder", "invitation", "broadcast", "event_update", "idea_update"
    language: str
    parameters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """What to show, not how: each adapter renders it within its platform's limits.

    A reply with a document shows its text with the file (as a caption where it fits); a
    venue is shown as a map pin after the text."""

    text: str
    choices: tuple[Choice, ...] = field(default=())
    location_button: str | None = None  # label of a "share my location" button, where offered
    # What the choices answer, said again for a channel that shows them in a message of their
    # own (WhatsApp: a location request, then the other answers as a list).
    choices_text: str | None = None
    venue: Venue | None = None
    document: Document | None = None
    picture: Picture | None = None
    summary: Summary | None = None  # set on the first reply of an outbox message

    @property
    def is_plain(self) -> bool:
        """Only text: it may be joined to the reply after it."""
        return (
            not self.choices
            and self.location_button is None
            and self.choices_text is None
            and self.venue is None
            and self.document is None
            and self.picture is None
            and self.summary is None
        )


def coalesce(replies: list[Reply]) -> list[Reply]:
    """Join a plain text to the reply after it ("Too short." + the question again): fewer
    messages, which is kinder on a slow connection and cheaper to send."""
    joined: list[Reply] = []
    pending: list[str] = []
    for reply in replies:
        if reply.is_plain:
            pending.append(reply.text)
            continue
        if pending:
            reply = replace(reply, text="\n\n".join([*pending, reply.text]))
            pending = []
        joined.append(reply)
    if pending:
        joined.append(Reply("\n\n".join(pending)))
    return joined


# Bytes (a calendar file, a chart) as base64: replies are kept as JSON until they are sent.
_REPLIES = TypeAdapter(
    list[Reply], config=ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")
)


def dump_replies(replies: Sequence[Reply]) -> str:
    """Replies as JSON, kept with their turn until they are sent (storage/pending.py)."""
    return _REPLIES.dump_json(list(replies), exclude_defaults=True).decode()


def load_replies(stored: str) -> list[Reply]:
    """Replies kept by `dump_replies`, as they were."""
    return _REPLIES.validate_json(stored)

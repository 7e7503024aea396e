"""The kinds of outbox row: the string each is stored as (fixed: rows already queued keep
working after an upgrade), how urgent it is, and the payload it carries (read from the JSON
stored with the row, as every earlier version wrote it)."""

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from storage.timefmt import from_db, to_db


class OutboxKind(StrEnum):
    REMINDER = "reminder"  # an event starts soon
    PROMOTED = "promoted"  # a place came free: off the waitlist
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    IDEA_STATUS = "idea_status"  # a new status of one's idea (or of one it duplicates)
    IDEA_REPLY = "idea_reply"  # the team's reply to an idea's author
    IDEA_AWARD = "idea_award"  # an idea won in a call
    DIGEST = "digest"  # the staff group's daily digest
    IDEA_ALERT = "idea_alert"  # a new idea, to the staff group
    CHANNEL_ALERT = "channel_alert"  # a channel stopped bulk sending, to the staff group
    WATCH_ALERT = "watch_alert"  # a watched condition raised or over, to the staff group
    BROADCAST = "broadcast"
    BROADCAST_REPORT = "broadcast_report"  # how a broadcast went, to who started it

    @property
    def priority(self) -> int:
        """Lower goes first."""
        return PRIORITY[self]


# What is tied to a time or needs someone to act goes first (a channel alert, reminders), then
# news about a person's own place, then news of their ideas and the staff group's posts, then
# broadcasts.
PRIORITY: dict[OutboxKind, int] = {
    OutboxKind.CHANNEL_ALERT: 1,
    OutboxKind.WATCH_ALERT: 1,
    OutboxKind.REMINDER: 2,
    OutboxKind.PROMOTED: 3,
    OutboxKind.EVENT_CHANGED: 3,
    OutboxKind.EVENT_CANCELLED: 3,
    OutboxKind.IDEA_STATUS: 4,
    OutboxKind.IDEA_REPLY: 4,
    OutboxKind.IDEA_AWARD: 4,
    OutboxKind.DIGEST: 4,
    OutboxKind.IDEA_ALERT: 4,
    OutboxKind.BROADCAST_REPORT: 4,
    OutboxKind.BROADCAST: 7,
}

# A time in a payload: stored as the database writes times (storage.timefmt).
StoredTime = Annotated[
    datetime,
    BeforeValidator(lambda value: from_db(value) if isinstance(value, str) else value),
    PlainSerializer(to_db, return_type=str),
]


class OutboxPayload(BaseModel):
    """What a row carries besides its kind and subject. Unknown fields are ignored and the
    defaults are what a row written before the field existed meant."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def stored(self) -> str:
        """The JSON kept in the row."""
        return json.dumps(self.model_dump(mode="json"))


class ReminderPayload(OutboxPayload):
    event_id: int
    offset_s: int  # how long before the start (the reminder's subject carries it too)


class EventNoticePayload(OutboxPayload):
    event_id: int


class IdeaStatusPayload(OutboxPayload):
    idea_id: int
    status: str  # an IdeaStatus value
    author: bool = True  # False: a follower (their idea was a duplicate of this one)
    supporter: bool = False  # not the author: they joined it (or an idea marked a duplicate of it)
    reason: str | None = None
    original: str = ""  # the reference of the idea it duplicates


class IdeaReplyPayload(OutboxPayload):
    idea_id: int
    text: str


class IdeaAwardPayload(OutboxPayload):
    idea_id: int
    author: bool = True
    supporter: bool = False
    call_id: int | None = None


class DigestPayload(OutboxPayload):
    since: StoredTime
    until: StoredTime


class IdeaAlertPayload(OutboxPayload):
    idea_id: int


class ChannelAlertPayload(OutboxPayload):
    channel: str
    reason: str
    minutes: int = 60


class WatchAlertPayload(OutboxPayload):
    """A watched condition (handlers/staff/alerts.py): raised, over, or both at once (it was
    raised while the staff group's platform could not be reached)."""

    condition: str  # unreachable, backlog, broadcast, disk, errors
    state: str  # raised, recovered, both
    since: StoredTime  # when the condition began
    at: StoredTime  # when it was raised, or when it was over
    subject: str = ""  # the platform's name, a broadcast's id
    value: int = 0  # minutes, messages waiting, percent free, errors a minute


class BroadcastPayload(OutboxPayload):
    """Nothing: the text is the broadcast's (the row's broadcast_id)."""


class BroadcastReportPayload(OutboxPayload):
    broadcast_id: int


PAYLOADS: dict[OutboxKind, type[OutboxPayload]] = {
    OutboxKind.REMINDER: ReminderPayload,
    OutboxKind.PROMOTED: EventNoticePayload,
    OutboxKind.EVENT_CHANGED: EventNoticePayload,
    OutboxKind.EVENT_CANCELLED: EventNoticePayload,
    OutboxKind.IDEA_STATUS: IdeaStatusPayload,
    OutboxKind.IDEA_REPLY: IdeaReplyPayload,
    OutboxKind.IDEA_AWARD: IdeaAwardPayload,
    OutboxKind.DIGEST: DigestPayload,
    OutboxKind.IDEA_ALERT: IdeaAlertPayload,
    OutboxKind.CHANNEL_ALERT: ChannelAlertPayload,
    OutboxKind.WATCH_ALERT: WatchAlertPayload,
    OutboxKind.BROADCAST: BroadcastPayload,
    OutboxKind.BROADCAST_REPORT: BroadcastReportPayload,
}

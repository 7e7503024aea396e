"""What each kind of outbox row says to its recipient, composed when it is sent (in their
language, with the event as it is then); None when it is no longer worth sending."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from handlers.engine.catalog import Catalog
from handlers.engine.messages import Reply
from handlers.engine.settings import FlowSettings
from handlers.events.cards import Voice, event_card, starts
from handlers.events.notices import reminder_subject
from handlers.outbound.summaries import BROADCAST, EVENT_UPDATE, INVITATION, summarised
from handlers.outbound.summaries import REMINDER as REMINDER_PURPOSE
from handlers.staff import alerts, digest
from handlers.staff import notices as idea_notices
from storage.models import Broadcast, EventStatus, OutboxItem, RsvpStatus
from storage.outbox_kinds import (
    BroadcastReportPayload,
    EventNoticePayload,
    OutboxKind,
    ReminderPayload,
)
from storage.repositories import Repositories

Composer = Callable[[OutboxItem, Repositories, Voice, datetime], Awaitable[list[Reply] | None]]


async def _reminder(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    payload = item.payload_as(ReminderPayload)
    event = await repos.events.get(payload.event_id)
    if event is None or event.status is EventStatus.CANCELLED:
        return None
    if item.subject != reminder_subject(event.id, event.starts_at, payload.offset_s):
        return None  # the event moved since: the new start has reminders of its own
    if await repos.rsvps.status(event.id, item.recipient.id) is not RsvpStatus.GOING:
        return None  # they said they can't come after all
    intro = voice.t("events.reminder_intro", start=starts(voice, event))
    card = event_card(voice, event, now, intro=intro, mine=RsvpStatus.GOING, calendar=False)
    return summarised([card], voice, REMINDER_PURPOSE, event.title, starts(voice, event))


NOTICE_INTROS = {
    OutboxKind.PROMOTED: "events.promoted",
    OutboxKind.EVENT_CHANGED: "events.changed",
    OutboxKind.EVENT_CANCELLED: "events.cancelled",
}


async def _event_notice(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    event = await repos.events.get(item.payload_as(EventNoticePayload).event_id)
    if event is None:
        return None
    kind = OutboxKind(item.kind)
    mine = await repos.rsvps.status(event.id, item.recipient.id)
    intro_key = NOTICE_INTROS[kind]
    if kind is OutboxKind.PROMOTED and mine is not RsvpStatus.GOING:
        return None  # they gave the place up again before hearing of it
    if kind is not OutboxKind.EVENT_CANCELLED and event.status is EventStatus.CANCELLED:
        return None  # the cancellation notice says it all
    card = event_card(voice, event, now, intro=voice.t(intro_key), mine=mine,
                      calendar=kind is OutboxKind.EVENT_CHANGED)  # fmt: skip
    return summarised([card], voice, EVENT_UPDATE, voice.t(intro_key), event.title,
                      starts(voice, event))  # fmt: skip


class BroadcastCache:
    """A broadcast's text never changes: read it once for its thousands of rows (one cache
    per database, kept by whoever composes)."""

    KEPT = 64

    def __init__(self) -> None:
        self._kept: dict[int, Broadcast | None] = {}

    async def get(self, repos: Repositories, broadcast_id: int) -> Broadcast | None:
        if broadcast_id not in self._kept:
            if len(self._kept) >= self.KEPT:
                self._kept.clear()
            self._kept[broadcast_id] = await repos.broadcasts.get(broadcast_id)
        return self._kept[broadcast_id]


async def _broadcast(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime, cache: BroadcastCache
) -> list[Reply] | None:
    assert item.broadcast_id is not None
    broadcast = await cache.get(repos, item.broadcast_id)
    if broadcast is None:
        return None
    if broadcast.event_id is None:
        return summarised([Reply(broadcast.text)], voice, BROADCAST, broadcast.text)
    event = await repos.events.get(broadcast.event_id)
    if event is None or event.status is EventStatus.CANCELLED or event.ends_at <= now:
        return None  # an invitation to an event that will not happen
    mine = await repos.rsvps.status(event.id, item.recipient.id)
    counts = await repos.rsvps.counts(event.id) if event.capacity else None
    card = event_card(voice, event, now, intro=broadcast.text, counts=counts, mine=mine)
    return summarised([card], voice, INVITATION, broadcast.text, event.title,
                      starts(voice, event))  # fmt: skip


async def _report(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    broadcast_id = item.payload_as(BroadcastReportPayload).broadcast_id
    counts = await repos.outbox.counts(broadcast_id)
    return [Reply(voice.t("broadcast.report", id=broadcast_id, sent=counts.sent,
                          failed=counts.failed, blocked=counts.blocked,
                          skipped=counts.skipped))]  # fmt: skip


# Every kind but the broadcast (composed with the cache of its text, below).
COMPOSERS: dict[OutboxKind, Composer] = {
    OutboxKind.REMINDER: _reminder,
    OutboxKind.PROMOTED: _event_notice,
    OutboxKind.EVENT_CHANGED: _event_notice,
    OutboxKind.EVENT_CANCELLED: _event_notice,
    OutboxKind.BROADCAST_REPORT: _report,
    **idea_notices.COMPOSERS,
    **digest.COMPOSERS,
    **alerts.COMPOSERS,
}


async def compose(
    item: OutboxItem,
    repos: Repositories,
    settings: FlowSettings,
    catalog: Catalog,
    now: datetime,
    cache: BroadcastCache | None = None,
) -> list[Reply] | None:
    language = item.recipient.language or settings.lab.default_language
    voice = Voice(catalog.translator(language), language, settings.lab)
    if item.kind == OutboxKind.BROADCAST:
        return await _broadcast(item, repos, voice, now, cache or BroadcastCache())
    composer = COMPOSERS.get(OutboxKind(item.kind))  # ValueError: a kind this version lacks
    if composer is None:
        raise ValueError(f"no composer for outbox kind {item.kind!r}")
    return await composer(item, repos, voice, now)

"""Telling the staff group that a channel stopped sending (e.g. WhatsApp restricted the
number, or its token expired): someone has to act, and residents are waiting."""

import logging
from datetime import datetime

from handlers.engine.messages import Reply
from handlers.engine.settings import FlowSettings
from handlers.events.cards import Voice
from handlers.staff.digest import group_recipient
from storage.models import NewOutbox, OutboxItem
from storage.outbox_kinds import ChannelAlertPayload, OutboxKind
from storage.repositories import Repositories
from storage.timefmt import to_db

log = logging.getLogger(__name__)


async def queue_channel_alert(
    repos: Repositories,
    settings: FlowSettings,
    channel: str,
    reason: str,
    seconds: float,
    now: datetime,
) -> None:
    """An alert to the staff group (with none configured, the log is all there is)."""
    log.error("staff alert: %s stopped bulk sending: %s", channel, reason)
    recipient = await group_recipient(repos, settings, now)
    if recipient is None:
        return
    await repos.outbox.add(
        [NewOutbox(kind=OutboxKind.CHANNEL_ALERT, subject=f"{channel}:{to_db(now)}",
                   recipient_id=recipient,
                   payload=ChannelAlertPayload(channel=channel, reason=reason[:300],
                                               minutes=max(1, round(seconds / 60))),
                   not_before=now)],
        now,
    )  # fmt: skip


async def _compose(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    payload = item.payload_as(ChannelAlertPayload)
    channel = payload.channel
    name = voice.t(f"channel_alert.{channel}") if channel == "whatsapp" else channel
    return [
        Reply(
            voice.t(
                "channel_alert.halted",
                channel=name,
                reason=payload.reason,
                minutes=payload.minutes,
                count=payload.minutes,
            )
        )
    ]


COMPOSERS = {OutboxKind.CHANNEL_ALERT: _compose}

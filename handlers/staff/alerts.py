"""Telling the staff group that a channel stopped sending (e.g. WhatsApp restricted the
number, or its token expired): someone has to act, and residents are waiting. And the watched
conditions (bot/watch.py measures them): a platform unreachable, the outbox backing up, a
broadcast that does not move, the disk nearly full, errors above normal; each raised once
and its end told once, the state kept in the database (across restarts and workers)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_datetime

from handlers.engine.messages import Reply
from handlers.engine.settings import FlowSettings
from handlers.events.cards import Voice
from handlers.staff.digest import group_recipient
from storage.models import NewOutbox, OutboxItem
from storage.outbox_kinds import ChannelAlertPayload, OutboxKind, WatchAlertPayload
from storage.repositories import Repositories
from storage.timefmt import to_db
from storage.watch import Watched

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


# -- watched conditions ---------------------------------------------------------------------------


# A broadcast's row is this and its id ("broadcast:12").
BROADCAST_ROW = "broadcast:"


@dataclass(frozen=True, slots=True)
class Reading:
    """One watched condition as the checks measured it now (bot/watch.py)."""

    name: str  # its row: "unreachable:telegram", "backlog", "broadcast:12", "disk", "errors"
    condition: str  # its kind, which says the text: unreachable, backlog, broadcast, disk, errors
    failing: bool  # with `growing`: whether there is anything at all (value > 0)
    hold: timedelta = timedelta(0)  # how long it must hold before it is an alert
    value: int = 0  # what was measured, kept for the next check and shown to the staff
    subject: str = ""  # the platform's name, a broadcast's id
    since: datetime | None = None  # when it began, when the caller knows (a platform's outage)
    # Failing only while the value does not go down from one check to the next (a backlog).
    growing: bool = False
    gone: bool = False  # no longer there to measure (a finished broadcast): its row goes


async def watch(
    repos: Repositories, settings: FlowSettings, readings: Sequence[Reading], now: datetime,
    *, staff_reachable: bool = True,
) -> int:  # fmt: skip
    """Raise each condition that has held long enough, once, and tell its end, once; returns
    how many messages were queued. While the staff group's platform cannot be reached nothing
    is queued (it would fail): what happened meanwhile is told once it is back, an alert and
    its end together when both came to pass."""
    rows = await repos.watch.all()
    read = {reading.name for reading in readings}
    # A broadcast no longer sending (finished, cancelled) is over, whatever its row says.
    over = [Reading(name, "broadcast", failing=False, subject=name.removeprefix(BROADCAST_ROW),
                    gone=True)
            for name in rows if name.startswith(BROADCAST_ROW) and name not in read]  # fmt: skip
    queued = 0
    for reading in [*readings, *over]:
        queued += await _check(repos, settings, reading, rows.get(reading.name), now,
                               staff_reachable)  # fmt: skip
    return queued


async def _check(
    repos: Repositories, settings: FlowSettings, reading: Reading, before: Watched | None,
    now: datetime, staff_reachable: bool,
) -> int:  # fmt: skip
    """One condition: its row brought up to date, its message queued if one is due."""
    failing = reading.failing
    if reading.growing:  # not going down since the last check (the first: anything there)
        failing = reading.value > 0 and (before is None or reading.value >= before.value)
    before = before or Watched(name=reading.name)
    if failing:
        return await _failing(repos, settings, reading, before, now, staff_reachable)
    if before.raised_at is None or not staff_reachable:
        # Not an alert: measured, kept for the next check. Or an alert whose end waits for
        # the staff group's platform to come back: kept as it is, to be told then.
        since = before.since if before.raised_at is not None else None
        if reading.gone and before.raised_at is None:
            await repos.watch.forget(reading.name)
            return 0
        await repos.watch.save(before.model_copy(update={"value": reading.value,
                                                         "since": since}), now)  # fmt: skip
        return 0
    state = "recovered" if before.told_at is not None else "both"
    log.warning("staff alert over: %s", reading.name)
    queued = await _queue(repos, settings, reading, state, before.since or now, now)
    await repos.watch.forget(reading.name)
    return queued


async def _failing(
    repos: Repositories, settings: FlowSettings, reading: Reading, before: Watched,
    now: datetime, staff_reachable: bool,
) -> int:  # fmt: skip
    since = reading.since or before.since or now
    raised_at, told_at = before.raised_at, before.told_at
    if raised_at is None and now - since >= reading.hold:
        raised_at = now
        log.warning("staff alert raised: %s", reading.name)
    queued = 0
    if raised_at is not None and told_at is None and staff_reachable:
        queued = await _queue(repos, settings, reading, "raised", since, now)
        told_at = now
    await repos.watch.save(Watched(name=reading.name, since=since, value=reading.value,
                                   raised_at=raised_at, told_at=told_at), now)  # fmt: skip
    return queued


async def _queue(
    repos: Repositories, settings: FlowSettings, reading: Reading, state: str,
    since: datetime, now: datetime,
) -> int:  # fmt: skip
    """The staff group's message (with no group linked or configured, the log is all there
    is); how many were queued."""
    group = await group_recipient(repos, settings, now)
    if group is None:
        return 0
    payload = WatchAlertPayload(condition=reading.condition, state=state, since=since, at=now,
                                subject=reading.subject, value=reading.value)  # fmt: skip
    await repos.outbox.add(
        [NewOutbox(kind=OutboxKind.WATCH_ALERT, subject=f"{reading.name}:{state}:{to_db(now)}",
                   recipient_id=group, payload=payload,
                   not_before=now)],
        now,
    )  # fmt: skip
    return 1


async def _compose_watch(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    """A condition raised, over, or both (told late: the platform was unreachable)."""
    payload = item.payload_as(WatchAlertPayload)
    channel = (voice.t(f"channel_name.{payload.subject}")
               if payload.subject in ("telegram", "whatsapp") else payload.subject)  # fmt: skip
    values = {
        "channel": channel, "broadcast": payload.subject, "number": payload.value,
        "since": _clock_time(voice, payload.since), "at": _clock_time(voice, payload.at),
    }  # fmt: skip
    key = f"watch_alert.{payload.condition}"
    parts = []
    if payload.state in ("raised", "both"):
        parts.append(voice.t(key, **values))
    if payload.state in ("recovered", "both"):
        parts.append(voice.t(f"{key}_over", **values))
    return [Reply("\n\n".join(parts))]


def _clock_time(voice: Voice, moment: datetime) -> str:
    """ "2:05 p. m." in the lab's time zone."""
    local = moment.astimezone(voice.zone)
    return format_datetime(local, voice.t("events.time_format"), locale=voice.language)


COMPOSERS = {OutboxKind.CHANNEL_ALERT: _compose, OutboxKind.WATCH_ALERT: _compose_watch}

"""Broadcasts: who an audience is, and queuing one (the same from chat and the command line)."""

from dataclasses import dataclass
from datetime import datetime

from handlers.engine.settings import LabSettings
from storage.models import Broadcast, EventStatus, NewOutbox
from storage.outbox_kinds import BroadcastReportPayload, OutboxKind
from storage.repositories import Repositories

TEXT_LIMITS = (2, 3500)
AUDIENCE_KINDS = ("all", "neighbourhood", "category", "event")


class BroadcastProblem(ValueError):
    """A broadcast that cannot go: a catalog key (under broadcast_error.) and its values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str
    value: str | None = None

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value}"


def parse_audience(text: str, lab: LabSettings) -> Audience:
    """ "all", "neighbourhood:La Flora", "category:mobility" or "event:12"."""
    kind, _, value = text.strip().partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind == "all" and not value:
        return Audience("all")
    if kind not in AUDIENCE_KINDS or not value:
        raise BroadcastProblem("audience", given=text)
    if kind == "category" and lab.category(value) is None:
        raise BroadcastProblem(
            "category", given=value, known=", ".join(c.id for c in lab.categories)
        )
    if kind == "event" and not value.isdigit():
        raise BroadcastProblem("audience", given=text)
    return Audience(kind, value)


def check_text(text: str) -> str:
    text = text.strip()
    if not TEXT_LIMITS[0] <= len(text) <= TEXT_LIMITS[1]:
        raise BroadcastProblem("text", min=TEXT_LIMITS[0], max=TEXT_LIMITS[1], count=TEXT_LIMITS[1])
    return text


async def check_event(repos: Repositories, event_id: int, now: datetime) -> None:
    event = await repos.events.get(event_id)
    if event is None:
        raise BroadcastProblem("no_event", id=event_id)
    if event.status is EventStatus.CANCELLED or event.ends_at <= now:
        raise BroadcastProblem("event_over", id=event_id)


async def count(repos: Repositories, audience: Audience) -> int:
    return await repos.broadcasts.count_audience(audience.kind, audience.value)


async def queue_broadcast(
    repos: Repositories,
    *,
    text: str,
    event_id: int | None,
    audience: Audience,
    created_by: str,
    reporter_id: int | None,
    now: datetime,
) -> Broadcast:
    """The broadcast and one outbox row per opted-in, reachable resident in the audience, in
    the caller's transaction; the running bot's outbox worker delivers them."""
    text = check_text(text)
    if event_id is not None:
        await check_event(repos, event_id, now)
    if audience.kind == "event":
        await check_event(repos, int(audience.value or 0), now)
    return await repos.broadcasts.create(
        text=text, event_id=event_id, audience=str(audience), kind=audience.kind,
        value=audience.value, created_by=created_by, reporter_id=reporter_id, now=now,
    )  # fmt: skip


async def finish_broadcasts(repos: Repositories, now: datetime) -> list[Broadcast]:
    """Broadcasts with nothing left to send are finished; staff who started one hear how it
    went. Returns those just finished."""
    finished = await repos.broadcasts.finish_done(now)
    reports = [
        NewOutbox(
            kind=OutboxKind.BROADCAST_REPORT,
            subject=str(b.id),
            recipient_id=b.reporter_id,
            payload=BroadcastReportPayload(broadcast_id=b.id),
            not_before=now,
        )
        for b in finished
        if b.reporter_id is not None
    ]
    if reports:
        await repos.outbox.add(reports, now)
    return finished

"""Triage, the same from chat and from the command line: status changes (the resident is
told through the outbox), staff notes, replies to the resident, duplicates and awards."""

from dataclasses import dataclass
from datetime import datetime

from storage.models import Award, IdeaRecord, IdeaStatus, NewOutbox
from storage.outbox_kinds import (
    IdeaAwardPayload,
    IdeaReplyPayload,
    IdeaStatusPayload,
    OutboxKind,
)
from storage.repositories import Repositories

NOTE_LIMITS = (2, 1500)


class TriageProblem(ValueError):
    """A change that cannot be made: a catalog key (under triage_error.) and its values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class Outcome:
    idea: IdeaRecord
    told: int  # residents who will hear of it


def check_note(text: str) -> str:
    text = text.strip()
    if not NOTE_LIMITS[0] <= len(text) <= NOTE_LIMITS[1]:
        raise TriageProblem("length", min=NOTE_LIMITS[0], max=NOTE_LIMITS[1], count=NOTE_LIMITS[1])
    return text


async def find(repos: Repositories, name: str) -> IdeaRecord:
    """The idea staff named, in chat or on the command line: its reference (MNG-2026-000004)
    or its number (4, 000004, #4); TriageProblem when there is none."""
    idea = await repos.idea_search.by_name(name)
    if idea is None:
        raise TriageProblem("no_idea", reference=" ".join(name.split()).upper()[:40])
    return idea


async def _tell(
    repos: Repositories, idea: IdeaRecord, kind: OutboxKind, subject: str,
    payload: IdeaStatusPayload | IdeaAwardPayload, now: datetime,
) -> int:  # fmt: skip
    """Queue the news for the idea's author, followers and supporters, once each (not those
    who opted out); each is told as who they are to the idea."""
    audience = await repos.ideas.audience(idea.id)
    supporters = await repos.supports.heard_as_supporters(idea.id)
    await repos.outbox.add(
        (
            NewOutbox(
                kind=kind,
                subject=subject,
                recipient_id=resident_id,
                payload=payload.model_copy(update=_role(idea.id, author, resident_id, supporters)),
                not_before=now,
            )
            for resident_id, author in audience
        ),
        now,
    )
    return len(audience)


def _role(idea_id: int, author: bool, resident_id: int, supporters: set[int]) -> dict[str, object]:
    """The payload's fields that say who the recipient is to the idea."""
    return {"idea_id": idea_id, "author": author,
            "supporter": not author and resident_id in supporters}  # fmt: skip


async def change_status(
    repos: Repositories,
    idea: IdeaRecord,
    status: IdeaStatus,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    note: str | None = None,
) -> Outcome:
    """Set a status (not "duplicate": see mark_duplicate); the history records who and why,
    and the resident is told in their language. `note` stays with staff."""
    if status is IdeaStatus.DUPLICATE:
        raise TriageProblem("use_duplicate")
    if status is IdeaStatus.NOT_SELECTED and not (reason and reason.strip()):
        raise TriageProblem("reason_needed")
    reason = check_note(reason) if reason else None
    if status is idea.status:
        raise TriageProblem("same_status", reference=idea.reference)
    if note:
        await repos.ideas.add_event(idea.id, "note", actor=actor, now=now, note=check_note(note))
    event_id = await repos.ideas.set_status(idea.id, status, actor=actor, reason=reason, now=now)
    assert event_id is not None
    if idea.duplicate_of is not None:  # no longer a duplicate: no longer follows the original
        await repos.ideas.unfollow(idea.duplicate_of, idea.resident_id)
        for supporter in await repos.supports.supporters(idea.id):  # nor do those who joined it
            await repos.ideas.unfollow(idea.duplicate_of, supporter)
    payload = IdeaStatusPayload(idea_id=idea.id, status=status.value, reason=reason)
    told = await _tell(repos, idea, OutboxKind.IDEA_STATUS, f"{idea.id}:{event_id}", payload, now)
    return Outcome(await _reread(repos, idea), told)


async def mark_duplicate(
    repos: Repositories, idea: IdeaRecord, original_reference: str, *, actor: str, now: datetime
) -> Outcome:
    """The idea joins an earlier one: its author is told and follows the original from now,
    as do those who followed or supported it."""
    original = await find(repos, original_reference)
    while original.duplicate_of is not None:  # join the first of a chain
        parent = await repos.idea_search.get(original.duplicate_of)
        if parent is None:
            break
        original = parent
    if original.id == idea.id:
        raise TriageProblem("same_idea", reference=idea.reference)
    event_id = await repos.ideas.set_status(
        idea.id, IdeaStatus.DUPLICATE, actor=actor, reason=None, now=now, duplicate_of=original.id
    )
    if event_id is None:
        raise TriageProblem("same_status", reference=idea.reference)
    await repos.ideas.follow(original.id, idea.resident_id, now)
    for follower in await repos.ideas.followers(idea.id):  # those who followed it follow on
        await repos.ideas.follow(original.id, follower, now)
    for supporter in await repos.supports.supporters(idea.id):  # and those who joined it
        await repos.ideas.follow(original.id, supporter, now)
    payload = IdeaStatusPayload(idea_id=idea.id, status=IdeaStatus.DUPLICATE.value,
                                original=original.reference)  # fmt: skip
    told = await _tell(repos, idea, OutboxKind.IDEA_STATUS, f"{idea.id}:{event_id}", payload, now)
    return Outcome(await _reread(repos, idea), told)


async def add_note(
    repos: Repositories, idea: IdeaRecord, text: str, *, actor: str, now: datetime
) -> None:
    """A note for the team; never shown to the resident."""
    await repos.ideas.add_event(idea.id, "note", actor=actor, now=now, note=check_note(text))


async def reply(
    repos: Repositories, idea: IdeaRecord, text: str, *, actor: str, now: datetime
) -> Outcome:
    """A message to the idea's author, through the bot, with the idea's reference."""
    text = check_note(text)
    event_id = await repos.ideas.add_event(idea.id, "reply", actor=actor, now=now, note=text)
    author = await repos.residents.get(idea.resident_id)
    if author is None or author.unreachable_at is not None:
        return Outcome(idea, 0)
    await repos.outbox.add(
        [
            NewOutbox(
                kind=OutboxKind.IDEA_REPLY,
                subject=f"{idea.id}:{event_id}",
                recipient_id=idea.resident_id,
                payload=IdeaReplyPayload(idea_id=idea.id, text=text),
                not_before=now,
            )
        ],
        now,
    )
    return Outcome(idea, 1)


async def set_award(
    repos: Repositories, idea: IdeaRecord, award: Award | None, *, actor: str, now: datetime
) -> Outcome:
    """Shortlist or name a winner within the idea's call; a winner's author is told."""
    if idea.call_id is None:
        raise TriageProblem("not_in_call", reference=idea.reference)
    if award is idea.award:
        raise TriageProblem("same_status", reference=idea.reference)
    await repos.ideas.set_award(idea.id, award, now)
    event_id = await repos.ideas.add_event(
        idea.id, "award", actor=actor, now=now, status=None if award is None else award.value
    )
    told = 0
    if award is Award.WINNER:
        award_payload = IdeaAwardPayload(idea_id=idea.id, call_id=idea.call_id)
        told = await _tell(repos, idea, OutboxKind.IDEA_AWARD, f"{idea.id}:{event_id}",
                           award_payload, now)  # fmt: skip
    return Outcome(await _reread(repos, idea), told)


async def _reread(repos: Repositories, idea: IdeaRecord) -> IdeaRecord:
    fresh = await repos.idea_search.get(idea.id)
    assert fresh is not None
    return fresh

"""What residents hear of their ideas, composed when sent: a new status (with the reason), a
reply from the team, a prize in a call. Authors, followers (of a duplicate) and supporters
(who joined the idea) are told apart."""

from datetime import datetime

from handlers.account.subscriptions import UPDATES
from handlers.engine.buttons import button_id
from handlers.engine.messages import Choice, Reply
from handlers.events.cards import Voice
from handlers.outbound.summaries import IDEA_UPDATE, summarised
from storage.models import IdeaStatus, OutboxItem
from storage.outbox_kinds import (
    IdeaAwardPayload,
    IdeaReplyPayload,
    IdeaStatusPayload,
    OutboxKind,
)
from storage.repositories import Repositories


def _news(replies: list[Reply], voice: Voice, reference: str, news: str) -> list[Reply]:
    return summarised(replies, voice, IDEA_UPDATE, reference, news)


def _by_role(key: str, author: bool, supporter: bool) -> str:
    """The notice's text as the recipient is to the idea: its author, someone who joined it,
    or the author of a duplicate of it."""
    if author:
        return key
    return f"{key}_supported" if supporter else f"{key}_followed"


def stop_button(voice: Voice) -> Choice:
    return Choice(button_id(UPDATES, "off"), voice.t("notice.stop_updates"))


async def _status(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    payload = item.payload_as(IdeaStatusPayload)
    idea = await repos.idea_search.get(payload.idea_id)
    if idea is None:
        return None
    status = IdeaStatus(payload.status)
    label = voice.t(f"status.{status.value}")
    if status is IdeaStatus.DUPLICATE:
        key = "notice.duplicate_supported" if payload.supporter else "notice.duplicate"
        text = voice.t(key, reference=idea.reference, original=payload.original)
    else:
        key = _by_role("notice.status", payload.author, payload.supporter)
        text = voice.t(key, reference=idea.reference, status=label)
    reason = payload.reason
    if reason:
        text += "\n" + voice.t("notice.reason", reason=reason)
        label += ": " + reason
    return _news([Reply(text, (stop_button(voice),))], voice, idea.reference, label)


async def _reply(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    payload = item.payload_as(IdeaReplyPayload)
    idea = await repos.idea_search.get(payload.idea_id)
    if idea is None:
        return None
    text = voice.t("notice.reply", reference=idea.reference, lab=voice.lab.name,
                   text=payload.text)  # fmt: skip
    return _news([Reply(text)], voice, idea.reference, payload.text)


async def _award(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    payload = item.payload_as(IdeaAwardPayload)
    idea = await repos.idea_search.get(payload.idea_id)
    if idea is None or idea.call_id is None:
        return None
    call = await repos.calls.get(idea.call_id)
    if call is None:
        return None
    category = call.category(idea.call_category)
    label = category.label(voice.language) if category else ""
    key = _by_role("notice.winner", payload.author, payload.supporter)
    text = voice.t(key, reference=idea.reference, call=call.title, category=label)
    return _news([Reply(text)], voice, idea.reference, text)


COMPOSERS = {
    OutboxKind.IDEA_STATUS: _status,
    OutboxKind.IDEA_REPLY: _reply,
    OutboxKind.IDEA_AWARD: _award,
}

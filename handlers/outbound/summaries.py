"""What an outbox message says in a few values, for a template outside WhatsApp's 24-hour
window. Each purpose is one template per language at Meta (README, "Templates")."""

from dataclasses import replace

from handlers.engine.messages import Reply, Summary
from handlers.events.cards import Voice

REMINDER = "reminder"  # {{1}} the event, {{2}} when
INVITATION = "invitation"  # {{1}} the announcement, {{2}} the event, {{3}} when
BROADCAST = "broadcast"  # {{1}} the announcement
EVENT_UPDATE = "event_update"  # {{1}} what changed, {{2}} the event, {{3}} when
IDEA_UPDATE = "idea_update"  # {{1}} the idea's reference, {{2}} the news


def summarised(replies: list[Reply], voice: Voice, purpose: str, *parameters: str) -> list[Reply]:
    """The replies, the first carrying what a template would say instead."""
    summary = Summary(purpose, voice.language, tuple(parameters))
    return [replace(replies[0], summary=summary), *replies[1:]]

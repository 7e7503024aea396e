"""Erasing a resident's personal data (/borrar, `minga residents forget`): their ideas kept
anonymised, or withdrawn entirely if they choose."""

from dataclasses import dataclass, field
from datetime import datetime

from handlers.engine.settings import FlowSettings
from handlers.exports.catalogue import mask
from handlers.privacy.retention import draft_files, unused
from storage.repositories import Repositories

HIDDEN = "[…]"  # what an e-mail or phone number typed into an idea's text becomes


@dataclass(slots=True)
class Erased:
    ideas_kept: int = 0  # anonymised
    ideas_withdrawn: int = 0
    files: list[str] = field(default_factory=list)  # media paths to delete from disk


async def erase(
    repos: Repositories,
    settings: FlowSettings,
    resident_id: int,
    *,
    withdraw_ideas: bool,
    now: datetime,
) -> Erased:
    """Everything in one transaction (the caller's); the files are deleted after it commits."""
    erased = Erased()
    conversation = await repos.conversations.get(resident_id)
    files = await repos.privacy.media_of(resident_id)
    files += await repos.privacy.support_photos(resident_id)
    if withdraw_ideas:  # their ideas' supporters' photos go with the ideas
        files += await repos.privacy.supporters_photos_on_ideas_of(resident_id)
    if conversation is not None:
        files += draft_files(conversation.draft)
    ideas = await repos.privacy.idea_texts(resident_id)
    names = await _names(repos, resident_id)
    if withdraw_ideas:
        erased.ideas_withdrawn = await repos.privacy.withdraw_ideas(resident_id)
    else:
        places = settings.lab.neighbourhoods
        for idea_id, problem, idea in ideas:
            await repos.privacy.anonymise_idea(
                idea_id,
                mask(problem, HIDDEN, names),
                None if idea is None else mask(idea, HIDDEN, names),
                places,
            )
        erased.ideas_kept = len(ideas)
    resident = await repos.residents.get(resident_id)
    if resident is not None:  # before their key is replaced: bodies and replies are found by it
        await repos.privacy.erase_kept_messages(resident.channel, resident.user_key)
    await repos.privacy.erase_resident(resident_id, now)
    erased.files = await unused(repos, files)
    return erased


async def _names(repos: Repositories, resident_id: int) -> tuple[str, ...]:
    """The names they gave on their ideas, to be hidden where they typed them into a text."""
    pairs = await repos.privacy.named_contacts(resident_id)
    return tuple(sorted({name for name, _ in pairs if name}))

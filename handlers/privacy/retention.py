"""Retention: what residents leave behind is kept no longer than needed ([retention])."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError

from handlers.settings import RetentionSettings
from handlers.state import DRAFT_STEPS, Draft
from storage.repositories import Repositories

DAYS_PER_MONTH = 30  # "12 months" of retention are counted as 360 days


@dataclass(slots=True)
class Pruned:
    drafts: int = 0
    contacts: int = 0
    inbound: int = 0
    files: list[str] = field(default_factory=list)  # media paths no longer kept by anything


def draft_files(draft_json: str) -> list[str]:
    """The photos and voice notes a draft holds (kept on disk before the idea is sent)."""
    try:
        draft = Draft.model_validate_json(draft_json)
    except (ValueError, ValidationError):
        return []
    paths = [photo.path for photo in draft.photos]
    paths += [path for path in (draft.problem_voice, draft.idea_voice) if path]
    return paths


async def unused(repos: Repositories, paths: list[str]) -> list[str]:
    """Those of the paths no idea keeps (the same photo may have been sent for an idea)."""
    kept = await repos.privacy.paths_in_use(paths)
    return sorted({path for path in paths if path not in kept})


async def prune(repos: Repositories, rules: RetentionSettings, now: datetime) -> Pruned:
    """Apply every retention rule once, in the caller's transaction."""
    pruned = Pruned()
    steps = sorted(step.value for step in DRAFT_STEPS)
    abandoned = await repos.privacy.stale_drafts(now - timedelta(days=rules.draft_days), steps)
    files: list[str] = []
    for resident_id, draft_json in abandoned:
        files += draft_files(draft_json)
        await repos.privacy.clear_conversation(resident_id, now)
    pruned.drafts = len(abandoned)
    pruned.files = await unused(repos, files)
    closed_before = now - timedelta(days=rules.contact_months * DAYS_PER_MONTH)
    pruned.contacts = await repos.privacy.remove_old_contacts(closed_before)
    pruned.inbound = await repos.privacy.prune_inbound(now - timedelta(days=rules.inbound_days))
    return pruned

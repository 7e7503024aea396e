"""Retention: what residents leave behind is kept no longer than needed ([retention])."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError

from handlers.engine.settings import RetentionSettings
from handlers.engine.state import DRAFT_STEPS, Draft, held_by
from storage.repositories import Repositories

DAYS_PER_MONTH = 30  # "12 months" of retention are counted as 360 days


@dataclass(slots=True)
class Pruned:
    drafts: int = 0
    contacts: int = 0
    inbound: int = 0
    kept_messages: int = 0  # webhook bodies and turns' replies never handled or sent
    files: list[str] = field(default_factory=list)  # media paths no longer kept by anything


# A webhook body not handled, or a turn's replies not sent, this long after they came is
# dropped (they hold texts, phone numbers, names): a platform retries a delivery for at most
# 7 days, so a message this old is past answering, and only a process down that long or a
# channel switched off for good leaves one.
KEPT_MESSAGE_AGE = timedelta(days=7)
ORPHAN_AGE = timedelta(days=1)  # a file younger than this may belong to a turn in flight


def draft_files(draft_json: str) -> list[str]:
    try:
        return held_by(Draft.model_validate_json(draft_json))
    except (ValueError, ValidationError):
        return []


async def orphans(
    repos: Repositories, on_disk: Sequence[tuple[str, datetime]], now: datetime
) -> list[str]:
    """Files in the media folder that no idea or draft refers to, a day old or more."""
    old = [path for path, modified in on_disk if modified <= now - ORPHAN_AGE]
    return await unused(repos, old)


async def unused(repos: Repositories, paths: list[str]) -> list[str]:
    """Those of the paths no idea keeps (the same photo may have been sent for an idea)."""
    kept = await repos.privacy.paths_in_use(paths)
    return sorted({path for path in paths if path not in kept})


async def prune(
    repos: Repositories,
    rules: RetentionSettings,
    now: datetime,
    on_disk: Sequence[tuple[str, datetime]] = (),
) -> Pruned:
    """Apply every retention rule once, in the caller's transaction; `on_disk` lists the
    media folder's files (path, modified), for those nothing refers to any more."""
    pruned = Pruned()
    steps = sorted(step.value for step in DRAFT_STEPS)
    abandoned = await repos.privacy.stale_drafts(now - timedelta(days=rules.draft_days), steps)
    files: list[str] = []
    for resident_id, draft_json in abandoned:
        files += draft_files(draft_json)
        await repos.privacy.clear_conversation(resident_id, now)
    pruned.drafts = len(abandoned)
    pruned.files = sorted({*await unused(repos, files), *await orphans(repos, on_disk, now)})
    closed_before = now - timedelta(days=rules.contact_months * DAYS_PER_MONTH)
    pruned.contacts = await repos.privacy.remove_old_contacts(closed_before)
    pruned.inbound = await repos.privacy.prune_inbound(now - timedelta(days=rules.inbound_days))
    pruned.kept_messages = await repos.privacy.prune_kept_messages(now - KEPT_MESSAGE_AGE)
    return pruned

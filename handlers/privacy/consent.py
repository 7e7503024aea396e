"""Consent per purpose, under the privacy policy version in force.

Three purposes, each asked where it first matters and withdrawable alone:
- handling (required): to keep an idea or an RSVP. Asked in the intake and before an RSVP.
- updates: news about their ideas. Asked after an idea's receipt.
- announcements: the lab's announcements and event invitations. Offered after the first
  receipt, and by /suscribirme.
A consent counts only under the version it was given for: after a new version, bulk messages
of that purpose stop reaching them (the database checks the version) and they are asked again
the next time they talk to the bot. A "no" stands until they change it themselves.
The database logs every change (consent_log), which is the lab's proof of each consent.
"""

from datetime import datetime
from enum import StrEnum

from storage.models import Resident


class Purpose(StrEnum):
    HANDLING = "handling"
    UPDATES = "updates"
    ANNOUNCEMENTS = "announcements"


def _state(
    resident: Resident, purpose: Purpose
) -> tuple[datetime | None, str | None, datetime | None]:
    """(granted since, under version, refused or withdrawn since)."""
    if purpose is Purpose.HANDLING:
        return resident.consent_at, resident.consent_version, resident.consent_refused_at
    if purpose is Purpose.UPDATES:
        return resident.updates_at, resident.updates_version, resident.updates_off_at
    return resident.announcements_at, resident.announcements_version, resident.announcements_off_at


def granted(resident: Resident, purpose: Purpose, version: str) -> bool:
    """Agreed to this purpose under the policy version in force."""
    since, under, _ = _state(resident, purpose)
    return since is not None and under == version


def stale(resident: Resident, purpose: Purpose, version: str) -> bool:
    """Agreed, but under an older policy version: to be asked again before the next use."""
    since, under, _ = _state(resident, purpose)
    return since is not None and under != version


def undecided(resident: Resident, purpose: Purpose, version: str) -> bool:
    """Never answered, or answered yes under an older policy (a "no" is not asked again)."""
    since, _, off = _state(resident, purpose)
    return (since is None and off is None) or stale(resident, purpose, version)


def changes(purpose: Purpose, agree: bool, version: str, now: datetime) -> dict[str, object]:
    """The resident's fields that record a yes (or a no, or a withdrawal) for a purpose."""
    since, off = (now, None) if agree else (None, now)
    under = version if agree else None
    if purpose is Purpose.HANDLING:
        return {"consent_at": since, "consent_version": under, "consent_refused_at": off}
    if purpose is Purpose.UPDATES:
        return {"updates_at": since, "updates_version": under, "updates_off_at": off}
    return {"announcements_at": since, "announcements_version": under,
            "announcements_off_at": off}  # fmt: skip

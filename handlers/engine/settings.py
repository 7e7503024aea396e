"""The lab's settings that conversations read (names, lists, limits), with working defaults."""

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Language = Literal["es", "en"]
LANGUAGES: tuple[Language, ...] = ("es", "en")

_CATEGORY_ID = re.compile(r"^[a-z0-9_]{1,24}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Section):
    id: str
    es: str = Field(min_length=1, max_length=40)
    en: str = Field(min_length=1, max_length=40)

    @field_validator("id")
    @classmethod
    def _short_id(cls, value: str) -> str:
        if not _CATEGORY_ID.match(value):
            raise ValueError("use 1 to 24 lower-case letters, digits or _ (it goes in buttons)")
        return value

    def label(self, language: str) -> str:
        return self.es if language == "es" else self.en


DEFAULT_CATEGORIES = (
    Category(id="mobility", es="Movilidad y vías", en="Transport and roads"),
    Category(id="safety", es="Seguridad y convivencia", en="Safety and community"),
    Category(id="environment", es="Ambiente y residuos", en="Environment and waste"),
    Category(id="public_space", es="Espacio público y parques", en="Public space and parks"),
    Category(id="health", es="Salud y bienestar", en="Health and well-being"),
    Category(id="education", es="Educación y cultura", en="Education and culture"),
    Category(id="work", es="Empleo y emprendimiento", en="Jobs and enterprise"),
    Category(id="digital", es="Trámites y tecnología", en="Services and technology"),
    Category(id="other", es="Otro tema", en="Something else"),
)

DEFAULT_NEIGHBOURHOODS = (
    "Alfonso López",
    "Comuneros",
    "Danubio",
    "Gran Yomasa",
    "La Flora",
    "Ciudad Usme",
)


class LabSettings(_Section):
    name: str = Field("Usme Innova", min_length=1, max_length=60)
    organisation: str = Field("Alcaldía Local de Usme", max_length=120)
    # The lab's e-mail: the organiser of its events in calendar apps (an .ics ORGANIZER is
    # an address, RFC 5545). Unset: the calendar file names no organiser.
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s:]+@[^@\s]+\.[^@\s]+$")
    timezone: str = "America/Bogota"
    default_language: Language = "es"
    privacy_policy_url: str = "https://www.gobiernobogota.gov.co/politica-de-privacidad"
    privacy_policy_version: str = Field("2026-08", min_length=1, max_length=40)
    reference_prefix: str = Field("MNG", pattern=r"^[A-Z]{2,6}$")
    texts_dir: str | None = None  # a folder with es.toml / en.toml rewording the built-in texts
    neighbourhoods: tuple[str, ...] = DEFAULT_NEIGHBOURHOODS
    categories: tuple[Category, ...] = DEFAULT_CATEGORIES

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use a name like America/Bogota"
            ) from None
        return value

    @field_validator("privacy_policy_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be a web address starting with https://")
        return value

    @model_validator(mode="after")
    def _lists_fit_buttons(self) -> "LabSettings":
        if not self.categories:
            raise ValueError("categories: give at least one category")
        ids = [c.id for c in self.categories]
        if len(set(ids)) != len(ids):
            raise ValueError("categories: every category needs its own id")
        if len(self.categories) > 20:
            raise ValueError("categories: at most 20, so that they fit as buttons")
        if len(self.neighbourhoods) > 20:
            raise ValueError("neighbourhoods: at most 20 suggestions")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def category(self, category_id: str | None) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)


class IntakeSettings(_Section):
    text_min_chars: int = Field(10, ge=1, le=200)
    text_max_chars: int = Field(1500, ge=50, le=3500)
    max_photos: int = Field(3, ge=0, le=10)
    resume_prompt_after_hours: float = Field(12, gt=0)

    @model_validator(mode="after")
    def _min_below_max(self) -> "IntakeSettings":
        if self.text_min_chars >= self.text_max_chars:
            raise ValueError("text_min_chars must be smaller than text_max_chars")
        return self


class FloodSettings(_Section):
    """One person writing faster than a person can: the extra messages are not processed."""

    max_messages: int = Field(20, ge=3, le=1000)
    window_seconds: float = Field(10, gt=0, le=3600)


class RetentionSettings(_Section):
    """How long what residents leave behind is kept (Ley 1581: no longer than needed)."""

    # An idea begun and left unfinished this many days is deleted, with its photos.
    draft_days: int = Field(30, ge=1, le=3650)
    # An idea's contact details (name, phone, e-mail) are removed this many months after it
    # was closed (implemented, not selected or a duplicate).
    contact_months: int = Field(12, ge=1, le=240)
    # Message ids kept to drop a platform's retry are forgotten after this many days.
    inbound_days: int = Field(30, ge=8, le=3650)  # WhatsApp retries for up to 7 days


class SimilarSettings(_Section):
    """Earlier ideas offered as "probably the same problem" (handlers/similar, issue 21)."""

    # Off: the intake never looks for similar ideas (vectors are still computed, so turning
    # it on later finds every idea).
    enabled: bool = True

    # The least similarity in meaning (cosine of the sentence vectors, multilingual-e5-small)
    # for an earlier idea to be offered: bench/similar_eval.py measured 0.86 as the best
    # balance on the labelled set (tests/similar/pairs.toml), with the place filter on.
    min_score: float = Field(0.86, ge=0.0, le=1.0)
    # How near two shared locations must be; without both points, the same neighbourhood.
    radius_meters: float = Field(400.0, gt=0, le=50_000)
    # How many earlier ideas are offered at most.
    limit: int = Field(3, ge=1, le=10)


_DURATION = re.compile(r"^(\d{1,4})([dhm])$")
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60}


def duration_seconds(text: str) -> int:
    """ "1d" -> 86400, "2h" -> 7200, "30m" -> 1800."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f'{text!r} is not a duration like "1d", "2h" or "30m"')
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class EventSettings(_Section):
    # Reminders go this long before an event starts, to everyone with a place.
    reminder_offsets: tuple[str, ...] = ("1d", "2h")

    @field_validator("reminder_offsets")
    @classmethod
    def _durations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seconds = [duration_seconds(text) for text in value]
        if len(set(seconds)) != len(seconds):
            raise ValueError("the same reminder is given twice")
        return value

    @property
    def offsets_seconds(self) -> tuple[int, ...]:
        """Longest first: the order reminders fall due."""
        return tuple(
            sorted((duration_seconds(text) for text in self.reminder_offsets), reverse=True)
        )


_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class StaffSettings(_Section):
    # Telegram user ids of the lab's team: the seed of the team kept in the database (who is
    # staff is handlers/engine/team.py's to say; `minga staff` and /equipo change it).
    telegram_ids: tuple[int, ...] = ()
    # The team's Telegram group (a negative number): digests and alerts go there, and staff
    # commands work there as in a private chat. A group linked with /vincular takes its place.
    group_chat_id: int | None = None
    # When the daily digest goes to the group, in the lab's time zone ("HH:MM").
    digest_time: str = "08:00"
    # Send the digest on a day with no new ideas too.
    digest_when_empty: bool = False
    # Also post each new idea to the group as it arrives.
    alert_each_idea: bool = False
    # Users of `minga chat --user NAME` treated as staff (`minga chat --staff` adds yours).
    console_users: tuple[str, ...] = ()

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK_TIME.match(value.strip()):
            raise ValueError('use a 24-hour time like "08:00"')
        return value.strip()

    @field_validator("group_chat_id")
    @classmethod
    def _group_id(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError(
                "a group's id is negative (e.g. -1001234567890); see README, Staff group"
            )
        return value

    @property
    def digest_clock(self) -> tuple[int, int]:
        hours, minutes = self.digest_time.split(":")
        return int(hours), int(minutes)


class FlowSettings(_Section):
    """Everything the conversation needs to know about the lab."""

    lab: LabSettings = LabSettings()
    intake: IntakeSettings = IntakeSettings()
    events: EventSettings = EventSettings()
    staff: StaffSettings = StaffSettings()
    flood: FloodSettings = FloodSettings()
    retention: RetentionSettings = RetentionSettings()
    similar: SimilarSettings = SimilarSettings()

"""Reading what people type: cleaning, checking and matching it, without trusting it."""

import math
import re
import unicodedata
from dataclasses import dataclass

_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}
_KEEP = {"\n", "\t", "\u200d"}  # new lines, tabs, and the joiner inside composed emoji
_BLANK_LINES = re.compile(r"\n{3,}")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")


def clean(text: str) -> str:
    """NFC, no control characters, no outer spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in _CONTROL)
    return _BLANK_LINES.sub("\n\n", text).strip()


def has_words(text: str) -> bool:
    """True when some letter or digit is there (not only emoji, symbols or punctuation)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


@dataclass(frozen=True, slots=True)
class TextProblem:
    """Why a text was not taken: a catalog key and the values its message needs."""

    key: str
    values: dict[str, int]


def check_text(text: str, *, min_chars: int, max_chars: int) -> TextProblem | None:
    if not text:
        return TextProblem("input.empty", {})
    if not has_words(text):
        return TextProblem("input.emoji_only", {})
    if len(text) < min_chars:
        return TextProblem("input.too_short", {"count": len(text), "min": min_chars})
    if len(text) > max_chars:
        return TextProblem("input.too_long", {"count": len(text), "max": max_chars})
    return None


def valid_coordinates(latitude: float, longitude: float) -> bool:
    return (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    )


def fold(text: str) -> str:
    """A form for matching typed text to a button label: no case, accents, emoji or spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if unicodedata.category(ch)[0] in "LN")


def looks_like_contact(text: str) -> bool:
    """An e-mail address, or a phone number of 7 to 15 digits."""
    if _EMAIL.match(text):
        return True
    digits = sum(ch.isdigit() for ch in text)
    return bool(_PHONE_CHARS.match(text)) and 7 <= digits <= 15


def short(text: str, limit: int = 60) -> str:
    """The first words of a text, cut at a space."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,.;:") + "…"

"""Button ids: how they are written and read, and the stable values they carry.

An id is a prefix (a step's name, or a prefix of buttons that work from anywhere: "menu",
"ev", "st") and its arguments, joined by ":" ("ev:12:yes", "location:nb:la-flora"). A button
stays in a person's chat for weeks, so an id names what it means by a value that does not
move: a status's stored name, a category's id, a neighbourhood's key, a record's number;
never a position in a list that a config edit or a new enum member would shift. Ids made by
older versions carried such positions; their readers live in legacy_buttons.py, so that a
button already sent still means what it meant then.
"""

import base64
import hashlib
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

SEPARATOR = ":"
# Telegram's callback_data takes at most 64 bytes (WhatsApp allows more): every id fits in it.
MAX_BYTES = 64
BACK = "back"  # the value of a question's "back" button

Arg = str | int


@dataclass(frozen=True, slots=True)
class ButtonId:
    """A parsed id: "st:s:12:in_review" is ButtonId("st", ("s", "12", "in_review"))."""

    prefix: str
    args: tuple[str, ...] = ()

    @classmethod
    def make(cls, prefix: str, *args: Arg) -> "ButtonId":
        """An id from its parts; a part may not hold the separator (it would read as two)."""
        parts = tuple(str(arg) for arg in args)
        if any(SEPARATOR in part for part in (prefix, *parts)):
            raise ValueError(f"a button id part holds {SEPARATOR!r}: {(prefix, *parts)!r}")
        return cls(prefix, parts)

    @classmethod
    def parse(cls, text: str | None) -> "ButtonId":
        """Any text reads: a missing or unknown id gives parts that no handler knows."""
        prefix, *args = (text or "").split(SEPARATOR)
        return cls(prefix, tuple(args))

    def __str__(self) -> str:
        return SEPARATOR.join((self.prefix, *self.args))

    def arg(self, index: int) -> str:
        """One argument, or "" when the id has fewer."""
        return self.args[index] if index < len(self.args) else ""

    @property
    def rest(self) -> str:
        """The arguments as one text, as a flow's answer receives them: "12:yes"."""
        return SEPARATOR.join(self.args)

    @property
    def value(self) -> str:
        """What the id stands for, its last part: "consent:yes" -> "yes"."""
        return self.args[-1] if self.args else self.prefix


def button_id(prefix: str, *args: Arg) -> str:
    """The id's text, as a Choice carries it: button_id("ev", 12, "yes") -> "ev:12:yes"."""
    return str(ButtonId.make(prefix, *args))


def args_of(value: str | None) -> tuple[str, ...]:
    """The parts of what follows an id's prefix (the value a flow's answer receives):
    "12:yes" -> ("12", "yes"); None or "" -> ()."""
    return tuple(value.split(SEPARATOR)) if value else ()


def is_back(button: str) -> bool:
    """Whether an id is a "back" button ("location:back"), which goes on a row of its own."""
    pressed = ButtonId.parse(button)
    return bool(pressed.args) and pressed.value == BACK


def fits(button: str) -> bool:
    """Whether an id fits every platform's button (Telegram's 64 bytes are the tightest)."""
    return len(button.encode("utf-8")) <= MAX_BYTES


# --- Stable keys --------------------------------------------------------------------------

KEY_MAX = 24  # characters of a neighbourhood's key
TOKEN_CHARS = 6  # characters of a token: 30 bits, no clash among a config's 20 entries


def token(text: str) -> str:
    """A short digest that names a value where a button has no room for the value itself
    (the staff list packs four filters into one id): the same text, the same token."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=5).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:TOKEN_CHARS]


def slug(text: str) -> str:
    """ASCII letters and digits, other runs as "-": "Alfonso López" -> "alfonso-lopez"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = "".join(ch.lower() if ch.isascii() and ch.isalnum() else "-" for ch in plain)
    return "-".join(part for part in kept.split("-") if part)


def neighbourhood_key(name: str) -> str:
    """A neighbourhood's key in buttons: the slug of its name as configured, which does not
    change when the list is reordered or grows. A long name's slug is cut, and one with no
    Latin letters is empty: a token of the full name then keeps it apart from the others."""
    readable = slug(name)
    if readable and len(readable) <= KEY_MAX:
        return readable
    cut = readable[: KEY_MAX - TOKEN_CHARS - 1].rstrip("-")
    return f"{cut}-{token(name)}" if cut else token(name)


def neighbourhood_named(names: Sequence[str], key: str) -> str | None:
    """The configured neighbourhood whose key this is; None when the config no longer has it.
    (Two names that differ only in case or accents share a key: the first is meant.)"""
    return next((name for name in names if neighbourhood_key(name) == key), None)


def neighbourhood_tokened(names: Sequence[str], value: str) -> str | None:
    """The configured neighbourhood with this token; None when the config no longer has it."""
    return next((name for name in names if token(name) == value), None)


# --- Neighbourhood buttons ------------------------------------------------------------------

NEIGHBOURHOOD = "nb"  # the part before a neighbourhood's key: ("nb", "la-flora")


def neighbourhood_args(name: str) -> tuple[str, str]:
    """The parts that name a neighbourhood in a button."""
    return (NEIGHBOURHOOD, neighbourhood_key(name))


def neighbourhood_of(args: Sequence[str], names: Sequence[str]) -> str | None:
    """The configured neighbourhood ("nb", key) names; None for other parts or a key the
    config no longer has."""
    if len(args) != 2 or args[0] != NEIGHBOURHOOD:
        return None
    return neighbourhood_named(names, args[1])


# --- The staff list's page and filters ------------------------------------------------------

VIEW_SEPARATOR = "."  # between the fields of a list's view, all in one part of an id


class ListView(NamedTuple):
    """A page of the staff list and its filters, as values: a status's stored name, a
    category's id, a neighbourhood's name, a call's number; and its order's stored name
    (None: the default, newest first)."""

    page: int = 0
    status: str | None = None
    category: str | None = None
    neighbourhood: str | None = None
    call: int | None = None
    order: str | None = None


def encode_view(view: ListView) -> str:
    """One part of a button id, small enough for its 64 bytes with four filters and an order
    set: "2.in_review.<category token>.<neighbourhood token>.7.supporters". Category ids and
    neighbourhood keys are too long for that room, so their tokens stand for them. The order
    is written only when there is one: the default view's ids stay as older versions wrote
    them, and an id without it (from before orders existed) reads as the default."""
    fields = (
        view.status or "",
        "" if view.category is None else token(view.category),
        "" if view.neighbourhood is None else token(view.neighbourhood),
        "" if view.call is None else str(view.call),
        *((view.order,) if view.order else ()),
    )
    return VIEW_SEPARATOR.join((str(view.page), *fields))


def decode_view(
    part: str, statuses: Collection[str], categories: Sequence[str], neighbourhoods: Sequence[str]
) -> ListView:
    """A view from its part of an id, given the statuses' stored names and the configured
    category ids and neighbourhoods; a filter no longer among them is left out. The order
    is read as written (the caller knows the orders there are)."""
    fields = [*part.split(VIEW_SEPARATOR), "", "", "", "", ""][:6]
    page, status, category, place, call, order = fields
    return ListView(
        int(page) if page.isdigit() else 0,
        status if status in statuses else None,
        next((c for c in categories if token(c) == category), None),
        neighbourhood_tokened(neighbourhoods, place),
        int(call) if call.isdigit() else None,
        order or None,
    )

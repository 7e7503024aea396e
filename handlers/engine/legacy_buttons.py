"""Ids written by older versions, read as what they meant then.

Before ids carried stable values, some carried a position: a status's index in the enum's
order of the time, a neighbourhood's or a category's index in the config's list. Such a
button may still sit in a person's chat. Each reader here takes a button's current form (read
by buttons.py) or that older form, so the flows call one function and never see the old one.
"""

from collections.abc import Collection, Sequence
from typing import TypeVar

from handlers.engine.buttons import VIEW_SEPARATOR, ListView, decode_view, neighbourhood_of

T = TypeVar("T")

# Staff status buttons ("st:s:<idea>:<n>") and the staff list's status filter carried an
# index into tuple(IdeaStatus) until ids carried the status's stored name. This is that
# order as it was, written out rather than computed from the enum: a new or reordered status
# must not change what a button already sent means.
LEGACY_STATUS_ORDER: tuple[str, ...] = (
    "received",
    "in_review",
    "selected",
    "in_progress",
    "implemented",
    "not_selected",
    "duplicate",
)
# A broadcast filter's neighbourhood button was ("neighbourhood", "<n>") before ("nb", key).
LEGACY_NEIGHBOURHOOD = "neighbourhood"


def legacy_status(index: str) -> str | None:
    """The stored name of the status an old index-form button meant, or None."""
    if not index.isdigit() or int(index) >= len(LEGACY_STATUS_ORDER):
        return None
    return LEGACY_STATUS_ORDER[int(index)]


def legacy_position(values: Sequence[T], index: str) -> T | None:
    """What an old position-form button ("n4", a filter's "4") names: the entry at that
    position of the list as configured now. The list may have changed since the button was
    sent; without a key in the button this is the best we can know. None past its end."""
    if not index.isdigit() or int(index) >= len(values):
        return None
    return values[int(index)]


def button_status(value: str) -> str | None:
    """The stored name a status button names: the name it carries ("in_review"), or in an
    older version's button the name at its index in LEGACY_STATUS_ORDER ("1")."""
    return legacy_status(value) if value.isdigit() else value


def neighbourhood_pressed(args: Sequence[str], names: Sequence[str]) -> str | None:
    """The neighbourhood a button of the location question names: ("nb", key), or before
    keys ("n4",), a position in the list as configured now; None when it names none."""
    if len(args) == 1 and args[0].startswith("n"):
        return legacy_position(names, args[0].removeprefix("n"))
    return neighbourhood_of(args, names)


def neighbourhood_filtered(args: Sequence[str], names: Sequence[str]) -> str | None:
    """The neighbourhood a broadcast's filter button names: ("nb", key), or before keys
    ("neighbourhood", "4"), a position in the list as configured now; None when none."""
    if len(args) == 2 and args[0] == LEGACY_NEIGHBOURHOOD:
        return legacy_position(names, args[1])
    return neighbourhood_of(args, names)


def view_pressed(
    args: Sequence[str],
    statuses: Collection[str],
    categories: Sequence[str],
    neighbourhoods: Sequence[str],
) -> ListView:
    """The staff list's view a button names: one part ("2.in_review.<token>.<token>.7", see
    decode_view), or an older version's two ("0", "1.0.4.") with positions in the lists."""
    if len(args) == 2:
        return _view_positions(args[0], args[1], categories, neighbourhoods)
    return decode_view(args[0] if args else "", statuses, categories, neighbourhoods)


def _view_positions(
    page: str, rest: str, categories: Sequence[str], neighbourhoods: Sequence[str]
) -> ListView:
    """ "0:1.0.4.": positions in the status order of the time, the configured categories
    and neighbourhoods (as configured now: the best we can know), and a call's number."""
    parts = [*rest.split(VIEW_SEPARATOR), "", "", "", ""][:4]
    if not page.isdigit() or not all(p == "" or p.isdigit() for p in parts):
        return ListView()
    status, category, place, call = parts
    return ListView(
        int(page),
        legacy_status(status),
        legacy_position(categories, category),
        legacy_position(neighbourhoods, place),
        int(call) if call else None,
    )

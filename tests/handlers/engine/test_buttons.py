"""Button ids: one codec reads and writes them; they carry stable values that fit a button."""

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.engine.buttons import (
    KEY_MAX,
    ButtonId,
    args_of,
    button_id,
    fits,
    is_back,
    neighbourhood_key,
    neighbourhood_named,
)
from handlers.engine.catalog import Catalog
from handlers.engine.legacy_buttons import LEGACY_STATUS_ORDER, legacy_status, neighbourhood_pressed
from handlers.engine.messages import Choice, Inbound
from handlers.engine.settings import Category, FlowSettings, LabSettings
from handlers.engine.state import ConversationState, Step
from handlers.engine.turn import Turn
from handlers.flows import routes
from handlers.intake.questions import ask_location
from handlers.outbound.broadcast_form import ask_filter
from handlers.staff import ideas_view
from handlers.staff.common import staff_draft
from handlers.staff.ideas_view import View
from storage.models import IdeaStatus, Resident
from storage.repositories import Repositories

CATALOG = Catalog.load()
NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)
ROOT = Path(__file__).parents[3]
HANDLERS = ROOT / "handlers"


def test_an_id_reads_back_as_it_was_made() -> None:
    made = ButtonId.make("st", "s", 12, "in_review")
    assert str(made) == "st:s:12:in_review" == button_id("st", "s", 12, "in_review")
    assert ButtonId.parse(str(made)) == made
    assert made.rest == "s:12:in_review" and made.value == "in_review"
    assert ButtonId.parse("summary").value == "summary"
    assert ButtonId.parse(None) == ButtonId("")
    assert is_back("location:back") and not is_back("back") and not is_back("x:backwards")
    assert args_of("12:yes") == ("12", "yes") and args_of(None) == ()


def test_a_part_holding_the_separator_is_refused() -> None:
    """It would read back as two parts, another button."""
    with pytest.raises(ValueError):
        ButtonId.make("bc_filter", "nb", "a:b")


def test_the_old_status_order_is_the_one_old_buttons_were_made_with() -> None:
    """Frozen: index-form status buttons sent before ids carried names still mean this."""
    assert [legacy_status(str(i)) for i in range(len(LEGACY_STATUS_ORDER))] == [
        "received", "in_review", "selected", "in_progress", "implemented", "not_selected",
        "duplicate",
    ]  # fmt: skip
    assert legacy_status("7") is None and legacy_status("x") is None


def test_neighbourhood_keys_read_well_and_stand_apart() -> None:
    assert neighbourhood_key("Alfonso López") == "alfonso-lopez"
    assert neighbourhood_key("  Gran   Yomasa ") == "gran-yomasa"
    long_a = "Urbanización Los Libertadores Sector Uno"
    long_b = "Urbanización Los Libertadores Sector Dos"
    assert neighbourhood_key(long_a) != neighbourhood_key(long_b)
    assert neighbourhood_key("東京") != neighbourhood_key("大阪")  # no Latin letters: a token


def _turn(lab: LabSettings, step: Step) -> Turn:
    resident = Resident(id=1, channel="test", user_key="u", language="es", created_at=NOW)
    inbound = Inbound(channel="test", user_key="u", external_id="m1", at=NOW)
    # The questions below read no database: they only say what they offer.
    return Turn(inbound, resident, ConversationState(step=step), cast(Repositories, None),
                FlowSettings(lab=lab), CATALOG, NOW, routes())  # fmt: skip


def _choices(turn: Turn) -> list[Choice]:
    return [choice for reply in turn.replies for choice in reply.choices]


NAMES = st.text(min_size=1, max_size=300)
CATEGORY_IDS = st.from_regex(r"[a-z0-9_]{1,24}", fullmatch=True)


@st.composite
def labs(draw: st.DrawFn) -> LabSettings:
    names = draw(st.lists(NAMES, min_size=1, max_size=20))
    ids = draw(st.lists(CATEGORY_IDS, min_size=1, max_size=20, unique=True))
    categories = tuple(Category(id=i, es="x" * 40, en="y" * 40) for i in ids)
    return LabSettings(neighbourhoods=tuple(names), categories=categories)


@settings(max_examples=60, deadline=None)
@given(lab=labs(), page=st.integers(0, 10**6), call=st.integers(1, 10**9))
def test_every_id_listing_the_settings_fits_telegram_and_names_what_it_showed(
    lab: LabSettings, page: int, call: int
) -> None:
    """Neighbourhood names of any length and script, the longest category ids, every filter
    of the staff list set at once: each id fits 64 bytes and reads back to what it showed."""
    turn = _turn(lab, Step.LOCATION)
    ask_location(turn)
    for choice in _choices(turn):
        assert fits(choice.id), choice.id
        if choice.label in lab.neighbourhoods:
            value = ButtonId.parse(choice.id).rest
            named = neighbourhood_pressed(args_of(value), lab.neighbourhoods)
            assert named is not None and neighbourhood_key(named) == neighbourhood_key(choice.label)

    for kind in ("neighbourhood", "category"):
        turn = _turn(lab, Step.BROADCAST_FILTER)
        staff_draft(turn).filter_kind = kind
        ask_filter(turn)
        assert all(fits(choice.id) for choice in _choices(turn))

    longest = max(lab.neighbourhoods, key=lambda name: len(name.encode()))
    category = max((c.id for c in lab.categories), key=len)
    view = View(page, IdeaStatus.NOT_SELECTED, category, longest, call)
    assert View.decode(ButtonId.parse(ideas_view.list_button(view)).args[1:], lab) == view
    for kind in ("s", "c", "n", "k"):
        assert fits(ideas_view.filter_button(kind, view))
    for kind in ("s", "c", "n"):
        turn = _turn(lab, Step.IDLE)
        asyncio.run(ideas_view.choose_filter(turn, kind, view))
        assert all(fits(choice.id) for choice in _choices(turn))


@given(st.lists(NAMES, min_size=1, max_size=20))
def test_a_key_names_its_neighbourhood_wherever_it_sits_in_the_list(names: list[str]) -> None:
    for name in names:
        key = neighbourhood_key(name)
        assert re.fullmatch(f"[a-z0-9-]{{1,{KEY_MAX}}}", key), key
        for order in (names, list(reversed(names))):
            found = neighbourhood_named(order, key)
            assert found is not None and neighbourhood_key(found) == key


# Parsed with partition(":") or split(":") outside the codec, but not a button id: a
# broadcast's audience is "kind:value" as typed on the command line and kept in a staff draft;
# the digest time is "HH:MM"; a Telegram token is "bot_id:secret"; a call's category on the
# command line is "ID:SPANISH:ENGLISH:focus". (A staff actor, "channel:user", is read with
# handlers.engine.turn.parse_actor.)
NOT_BUTTONS = {
    ("handlers/outbound/broadcasts.py", 'text.strip().partition(":")'),
    ("handlers/engine/settings.py", 'self.digest_time.split(":")'),
    ("bot/config.py", 'value.get_secret_value().partition(":")'),
    ("bot/cli/calls.py", 'text.split(":")'),
}
# The codec itself, and its readers of older forms.
CODEC = {"handlers/engine/buttons.py", "handlers/engine/legacy_buttons.py"}
# Splitting at ":", or a prefix or suffix test against a text that begins or ends with it
# ('.endswith(":back")'): how an id is read by hand.
BY_HAND = re.compile(
    r"""[\w.()\[\]"]*\.(?:r?partition|r?split|startswith|endswith)\(\s*f?["'](?::|[^"']*:["'])"""
)


def test_button_ids_are_read_only_through_the_codec() -> None:
    """In handlers/ and in the adapters of bot/ alike."""
    found = []
    for path in sorted([*HANDLERS.rglob("*.py"), *(ROOT / "bot").rglob("*.py")]):
        name = path.relative_to(ROOT).as_posix()
        if name in CODEC:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in BY_HAND.finditer(line):
                if not any(name == where and what in line for where, what in NOT_BUTTONS):
                    found.append(f"{name}:{number}: {match.group(0)}")
    assert not found, "parse button ids with handlers.engine.buttons:\n" + "\n".join(found)


def test_older_forms_are_decoded_only_in_the_engine() -> None:
    """The flows call one reader that takes both forms; none decodes a position itself."""
    readers = re.compile(r"\b(?:legacy_position|legacy_status|LEGACY_STATUS_ORDER)\b")
    found = [
        f"{path.relative_to(ROOT).as_posix()}: {match.group(0)}"
        for path in sorted([*HANDLERS.rglob("*.py"), *(ROOT / "bot").rglob("*.py")])
        if path.parent.name != "engine"
        for match in readers.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, "read older ids with handlers.engine.legacy_buttons:\n" + "\n".join(found)

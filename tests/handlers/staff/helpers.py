"""Staff and residents as the staff tests need them."""

import json
from collections.abc import Callable
from datetime import datetime

from handlers.engine.catalog import Catalog
from handlers.engine.settings import (
    DEFAULT_CATEGORIES,
    DEFAULT_NEIGHBOURHOODS,
    FlowSettings,
    LabSettings,
    StaffSettings,
)
from handlers.flows import Dispatcher
from handlers.outbound.compose import compose
from storage.database import Database
from storage.models import IdeaRecord, OutboxItem
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.walk import to_summary

STAFF = "4242"
GROUP = "-1001234567890"
# The default config with both lists reversed: a lab that reorders them and restarts.
REORDERED = LabSettings(
    neighbourhoods=tuple(reversed(DEFAULT_NEIGHBOURHOODS)),
    categories=tuple(reversed(DEFAULT_CATEGORIES)),
)


def staff_settings(**changes: object) -> FlowSettings:
    values: dict[str, object] = {"telegram_ids": (int(STAFF),), "group_chat_id": int(GROUP)}
    return FlowSettings(staff=StaffSettings.model_validate({**values, **changes}))


def staff_dispatcher(
    database: Database, catalog: Catalog, clock: FakeClock, **changes: object
) -> Dispatcher:
    return Dispatcher(database, staff_settings(**changes), catalog, clock)


async def submit_idea(chat: Chat, role: str = "role.resident", *, updates: bool = True) -> str:
    """A resident sends an anonymous idea from La Flora and agrees to news about it (unless
    told otherwise; the announcements question stays open); returns its reference."""
    await to_summary(chat, role)
    await chat.press("summary.send")
    text = chat.text
    start = text.index("MNG-")
    if chat.asked("consent.updates_ask"):
        await chat.press("consent.updates_yes" if updates else "consent.updates_no")
    return text[start : start + len("MNG-2026-000001")]


async def idea(database: Database, reference: str) -> IdeaRecord:
    found = await database.reader().idea_search.by_reference(reference)
    assert found is not None
    return found


async def composed(
    database: Database, catalog: Catalog, now: datetime, kind: str
) -> list[tuple[str, str]]:
    """Each pending outbox row of `kind` as its recipient will read it: (user key, text)."""
    settings = staff_settings()
    found = []
    for row in await outbox_rows(database, kind):
        recipient = await database.reader().residents.get(row["recipient_id"])
        assert recipient is not None
        item = OutboxItem(id=row["id"], kind=row["kind"], subject=row["subject"],
                          payload=json.loads(row["payload"]), attempts=0,
                          expires_at=None, broadcast_id=None, recipient=recipient)  # fmt: skip
        replies = await compose(item, database.reader(), settings, catalog, now)
        assert replies is not None
        found.append((recipient.user_key, "\n".join(r.text for r in replies)))
    return found


def make_staff_chat(dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock,
                    *, group: bool = False) -> Chat:  # fmt: skip
    return Chat(dispatcher, catalog, clock, language="es", user=STAFF, channel="telegram",
                group=GROUP if group else None)  # fmt: skip


def staff_with(lab: LabSettings, database: Database, catalog: Catalog, clock: FakeClock) -> Chat:
    """The same staff member, talking to a bot restarted with another config."""
    settings = staff_settings().model_copy(update={"lab": lab})
    return make_staff_chat(Dispatcher(database, settings, catalog, clock), catalog, clock)


Factory = Callable[..., Chat]


def button(chat: Chat, label: str) -> str:
    """The id of the button labelled `label` in any message of the last answer."""
    for reply in chat.replies:
        for choice in reply.choices:
            if choice.label == label:
                return choice.id
    shown = [c.label for r in chat.replies for c in r.choices]
    raise AssertionError(f"no button {label!r} in {shown}")

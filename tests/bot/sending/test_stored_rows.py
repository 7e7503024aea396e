"""Outbox rows as earlier versions stored them are still sent after an upgrade: each kind's
string and payload JSON below are frozen literals, written by today's main (and, where a
field came later, by the version before it)."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from handlers.calls.intake import DEFAULT_CATEGORIES
from handlers.engine.catalog import Catalog
from handlers.events.notices import reminder_subject
from handlers.outbound.broadcasts import Audience, queue_broadcast
from handlers.outbound.compose import COMPOSERS
from storage.database import Database
from storage.models import NewOutbox, RsvpStatus
from storage.outbox_kinds import PAYLOADS, PRIORITY, OutboxKind, ReminderPayload
from storage.timefmt import to_db
from tests.bot.sending.test_outbox_worker import Recorder, _drain, _residents, _worker
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import add_event, outbox_rows

# What the outbox table holds today: these strings must keep meaning the same kind.
STORED_KINDS = {
    "reminder", "promoted", "event_changed", "event_cancelled", "idea_status", "idea_reply",
    "idea_award", "digest", "idea_alert", "channel_alert", "broadcast", "broadcast_report",
    "watch_alert",
}  # fmt: skip
# Lower goes first; the order residents and staff have been getting their messages in.
STORED_PRIORITIES = {
    "channel_alert": 1, "reminder": 2, "promoted": 3, "event_changed": 3, "event_cancelled": 3,
    "idea_status": 4, "idea_reply": 4, "idea_award": 4, "digest": 4, "idea_alert": 4,
    "broadcast_report": 4, "broadcast": 7, "watch_alert": 1,
}  # fmt: skip

# (kind, payload) as json.dumps wrote them, for idea 1, event 1, call 1 and broadcast 1.
STORED_ROWS = [
    ("reminder", '{"event_id": 1, "offset_s": 86400}'),
    ("promoted", '{"event_id": 1}'),
    ("event_changed", '{"event_id": 1}'),
    ("event_cancelled", '{"event_id": 1}'),
    ("idea_status", '{"status": "selected", "reason": null, "idea_id": 1, "author": true}'),
    (
        "idea_status",
        '{"status": "not_selected", "reason": "Ya existe", "idea_id": 1, "author": false}',
    ),
    (
        "idea_status",
        '{"status": "duplicate", "original": "MNG-2026-000002", "idea_id": 1, "author": true}',
    ),
    ("idea_status", '{"status": "in_review", "reason": null, "idea_id": 1}'),  # before "author"
    (
        "idea_status",
        '{"idea_id": 1, "status": "selected", "author": false, "supporter": true, "reason": null, '
        '"original": ""}',
    ),  # issue 21: to someone who joined the idea
    ("idea_reply", '{"idea_id": 1, "text": "Gracias, la revisamos el lunes."}'),
    ("idea_award", '{"call_id": 1, "idea_id": 1, "author": true}'),
    ("idea_award", '{"idea_id": 1, "author": false, "supporter": true, "call_id": 1}'),
    ("digest", '{"since": "2026-08-15T19:00:00.000000Z", "until": "2026-08-16T19:00:00.000000Z"}'),
    ("idea_alert", '{"idea_id": 1}'),
    (
        "channel_alert",
        '{"channel": "whatsapp", "reason": "WhatsApp error 368: restricted", "minutes": 60}',
    ),
    ("channel_alert", '{"channel": "telegram", "reason": "Unauthorized"}'),  # before "minutes"
    ("broadcast", "{}"),
    ("broadcast_report", '{"broadcast_id": 1}'),
    (
        "watch_alert",
        '{"condition": "unreachable", "state": "both", "since": "2026-08-16T18:40:00.000000Z", '
        '"at": "2026-08-16T18:52:00.000000Z", "subject": "telegram", "value": 0}',
    ),
]


def test_the_kinds_are_the_strings_stored_today() -> None:
    assert {kind.value for kind in OutboxKind} == STORED_KINDS
    assert {kind for kind, _ in STORED_ROWS} == STORED_KINDS  # every kind below


def test_every_kind_has_its_priority_a_payload_model_and_a_composer() -> None:
    assert {kind.value: kind.priority for kind in OutboxKind} == STORED_PRIORITIES
    assert set(PRIORITY) == set(PAYLOADS) == set(OutboxKind)
    assert set(COMPOSERS) == set(OutboxKind) - {OutboxKind.BROADCAST}  # composed with its cache


def test_a_row_carries_the_payload_of_its_kind() -> None:
    with pytest.raises(ValueError, match="a promoted row carries EventNoticePayload"):
        NewOutbox(kind=OutboxKind.PROMOTED, subject="1", recipient_id=1,
                  payload=ReminderPayload(event_id=1, offset_s=60),
                  not_before=FakeClock().now())  # fmt: skip


async def test_a_row_of_each_kind_stored_before_the_upgrade_is_sent(
    make_chat: Callable[..., Chat], database: Database, clock: FakeClock, catalog: Catalog
) -> None:
    await _residents(make_chat, ["ana", "beto"], subscribe=True)  # ideas 1 and 2
    ana = await database.reader().residents.find("test", "ana")
    assert ana is not None
    event = await add_event(database, clock.now())
    async with database.transaction() as repos:
        assert await repos.rsvps.say_yes(event.id, ana.id, clock.now()) is RsvpStatus.GOING
        call = await repos.calls.create(title="Reto", description="", categories=DEFAULT_CATEGORIES,
                                        deadline=clock.now() + timedelta(days=30),
                                        created_by="test", now=clock.now())  # fmt: skip
        await queue_broadcast(repos, text="¡Hola!", event_id=None, audience=Audience("all"),
                              created_by="test", reporter_id=None, now=clock.now())  # fmt: skip
    subjects = {"reminder": reminder_subject(event.id, event.starts_at, 86400)}
    async with database.transaction() as repos:
        db = repos.outbox._db  # as the old version wrote them: plain SQL
        await db.execute("UPDATE ideas SET call_id = ?, call_category = ? WHERE id = 1",
                         (call.id, DEFAULT_CATEGORIES[0].id))  # fmt: skip
        await db.execute("DELETE FROM outbox")  # only the rows below
        for n, (kind, payload) in enumerate(STORED_ROWS):
            await db.execute(
                "INSERT INTO outbox (kind, subject, recipient_id, payload, priority, not_before, "
                "broadcast_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, subjects.get(kind, f"old-{n}"), ana.id, payload, STORED_PRIORITIES[kind],
                 to_db(clock.now()), 1 if kind == "broadcast" else None, to_db(clock.now())),
            )  # fmt: skip
    transport = Recorder()
    await _drain(_worker(database, transport, clock, catalog), database)
    rows = await outbox_rows(database)
    assert [(r["kind"], r["status"], r["last_error"]) for r in rows] == [
        (kind, "sent", None) for kind, _ in STORED_ROWS
    ]
    assert len(transport.sent["ana"]) >= len(STORED_ROWS)

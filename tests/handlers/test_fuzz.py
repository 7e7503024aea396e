"""Property: whatever arrives, in whatever order, on any channel (commands, any unicode text
up to 10,000 characters, stale or forged buttons, impossible coordinates, any media), the
dispatcher answers without an unhandled error, the database stays intact, and a normal /start
still works afterwards."""

import asyncio
import logging
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.account.commands import COMMAND_ALIASES
from handlers.engine.catalog import Catalog
from handlers.engine.messages import Inbound, Location, Media, Reply, Said
from handlers.engine.settings import FlowSettings, StaffSettings
from handlers.engine.state import Step
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.clock import FakeClock

CATALOG = Catalog.load()
CHANNELS = ("telegram", "whatsapp", "console")
USERS = ("1001", "1002", "573001234567")
STAFF = "1002"  # one of the people is staff on Telegram: the staff flows are fuzzed too
PREFIXES = [step.value for step in Step] + ["menu", "ev", "sub", "upd", "st", "x", ""]
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=300) | st.sampled_from([
    "", " ", "\u202eevil\u202c", "مرحبا بالعالم", "שלום", "\x00\x07\x1b[31m", "🙂" * 50,
    "=HYPERLINK(\"http://x\")", "<b>hola</b> & ' \"", "DROP TABLE ideas;--", "1", "99", "BAJA",
    "x" * 10_000, "Calle 80 # 12-34\n\n\n\nSur",
])  # fmt: skip
VALUES = ["yes", "no", "1", "back", "done", "send", "keep", "all", "off", "on", "99:yes", "n0",
          "n999"]  # fmt: skip
UNSUPPORTED = ["sticker", "video", "not_image", "photo_too_big", "voice_failed", "reaction", "new"]
FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([91.0, -181.0, 4.5])


@st.composite
def inbound_payloads(draw: st.DrawFn) -> Said:
    kind = draw(st.sampled_from(["text", "command", "choice", "location", "media", "other"]))
    if kind == "text":
        return {"text": draw(ANY_TEXT)}
    if kind == "command":
        name = draw(st.sampled_from(sorted(COMMAND_ALIASES)) | st.text(max_size=20))
        argument = draw(st.none() | ANY_TEXT)
        return {"command": name.lower(), "argument": argument}
    if kind == "choice":
        prefix = draw(st.sampled_from(PREFIXES))
        value = draw(st.sampled_from(VALUES) | st.text(max_size=40))
        return {"choice": f"{prefix}:{value}"}
    if kind == "location":
        return {"location": Location(draw(FLOATS), draw(FLOATS))}
    if kind == "media":
        media_kind = draw(st.sampled_from(["photo", "voice", "document", "sticker"]))
        return {"media": Media(media_kind, f"fuzz/{draw(st.text(max_size=10))}.bin", "ref")}
    return {"unsupported": draw(st.sampled_from(UNSUPPORTED))}


MESSAGES = st.lists(
    st.tuples(st.sampled_from(CHANNELS), st.sampled_from(USERS), st.booleans(), inbound_payloads()),
    min_size=1, max_size=25,
)  # fmt: skip


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _run(messages: list[tuple[str, str, bool, Said]]) -> None:
    database = await Database.open(":memory:")
    clock = FakeClock(datetime(2026, 11, 21, 15, tzinfo=UTC))
    flow = FlowSettings(staff=StaffSettings(telegram_ids=(int(STAFF),)))
    dispatcher = Dispatcher(database, flow, CATALOG, clock)
    errors = Errors()
    logging.getLogger("handlers").addHandler(errors)
    got: list[Reply] = []

    async def deliver(replies) -> None:
        got.extend(replies)

    try:
        for number, (channel, user, in_group, payload) in enumerate(messages):
            clock.advance(seconds=2)
            group = "-100" if in_group and channel == "telegram" else None
            inbound = Inbound(channel=channel, user_key=user, external_id=f"f{number}",
                              at=clock.now(), group=group, **payload)  # fmt: skip
            await dispatcher.handle(inbound, deliver)
        assert errors.records == [], [r.getMessage() for r in errors.records]
        async with database.transaction() as repos:
            await repos.outbox.counts(0)
        [(check,)] = await database.reader().outbox._db.execute_fetchall("PRAGMA integrity_check")
        assert check == "ok"
        for channel, user in (("telegram", "1001"), ("whatsapp", "new-person")):
            clock.advance(hours=13)  # past any "continue or start again?" pause
            got.clear()
            start = Inbound(channel=channel, user_key=user, external_id=f"start-{user}",
                            at=clock.now(), command="start")  # fmt: skip
            await dispatcher.handle(start, deliver)
            texts = [reply.text for reply in got]
            assert texts and CATALOG.text("es", "error.internal") not in texts, texts
    finally:
        logging.getLogger("handlers").removeHandler(errors)
        await database.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES)
def test_any_sequence_of_anything_is_answered_and_start_still_works(messages) -> None:
    asyncio.run(_run(messages))


def test_the_fuzzer_reaches_a_long_text_and_a_broken_location() -> None:
    """The shapes the issue names, once each, whatever hypothesis picks."""
    asyncio.run(_run([
        ("telegram", "1001", False, {"command": "start"}),
        ("telegram", "1001", False, {"choice": "role:resident"}),
        ("telegram", "1001", False, {"choice": "consent:yes"}),
        ("telegram", "1001", False, {"text": "x" * 10_000}),
        ("telegram", "1001", False, {"text": "\u202eLa calle 80\x00 tiene huecos \u200f"}),
        ("telegram", "1001", False, {"location": Location(float("nan"), 500.0)}),
        ("telegram", "1001", False, {"location": Location(95.0, -74.1)}),
        ("whatsapp", "573001234567", False, {"location": Location(float("nan"), 500.0)}),
        ("console", "1002", False, {"choice": "ev:999999:yes"}),
        ("telegram", "1002", True, {"choice": "st:forged:1"}),
    ]))  # fmt: skip

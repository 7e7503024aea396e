"""What `minga run` measures, for Prometheus at /metrics (off unless [metrics] says so).

Each app has a registry of its own (never prometheus_client's global one), so that tests and
several apps in one process do not count into each other. The bot's parts are told of what
happens through the small observers they take (handlers.engine.observe.TurnObserver, the
sender's and the outbox worker's); this module and bot/web.py's metrics_route (which serves
it) are the ones that know Prometheus."""

from datetime import datetime
from importlib import metadata

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from handlers.events.reminders import reminder_time
from storage.database import Database
from storage.models import OutboxItem
from storage.outbox_kinds import OutboxKind

# A turn takes milliseconds; a database in trouble, seconds.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A reminder is late by seconds (the scheduler's wake-up) to hours (the bot was down).
_LATE = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 4 * 3600.0)


def version() -> str:
    """This Minga's version, as installed ("unknown" when run from a bare checkout)."""
    try:
        return metadata.version("minga")
    except metadata.PackageNotFoundError:
        return "unknown"


class Metrics:
    """The app's instruments, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "minga_updates", "Messages from people handled, by channel and outcome "
            "(ok, failed, duplicate, outsider, flooded).", ["channel", "outcome"], registry=r,
        )  # fmt: skip
        self.turn_seconds = Histogram(
            "minga_turn_seconds", "Time to handle one message (its turn, replies not included).",
            ["channel"], buckets=_FAST, registry=r,
        )  # fmt: skip
        self.sends = Counter(
            "minga_sends", "Platform answers to messages sent, by channel, lane (reply or "
            "bulk) and result: ok, retried (delivered after a retry), 403 (blocked), 429 "
            "(asked to wait), 5xx (server error or time-out), refused.",
            ["channel", "lane", "result"], registry=r,
        )  # fmt: skip
        self.outbox_backlog = Gauge(
            "minga_outbox_backlog", "Outbox messages waiting to be sent, by kind (read from "
            "the database at each scrape).", ["kind"], registry=r,
        )  # fmt: skip
        self.reminder_lateness = Histogram(
            "minga_reminder_lateness_seconds", "How long after its time a reminder was sent.",
            buckets=_LATE, registry=r,
        )  # fmt: skip
        self.database_wait = Histogram(
            "minga_database_wait_seconds", "Time spent waiting for a database connection or "
            "lock, by what waited (transaction, turn, conversation).", ["kind"],
            buckets=_FAST, registry=r,
        )  # fmt: skip
        self.broadcasts_in_progress = Gauge(
            "minga_broadcasts_in_progress", "Broadcasts started and not finished (read from the "
            "database at each scrape).", registry=r,
        )  # fmt: skip
        self.build = Gauge("minga_build_info", "This process's Minga version (always 1).",
                           ["version"], registry=r)  # fmt: skip
        self.build.labels(version=version()).set(1)
        self._kinds = {kind.value for kind in OutboxKind}  # every kind shows, 0 when none waits
        for kind in self._kinds:
            self.outbox_backlog.labels(kind=kind)

    # -- observers (handlers.engine.observe.TurnObserver and the bot's own) --------------------

    def handled(self, channel: str, outcome: str, seconds: float | None) -> None:
        """A message was handled (`seconds`: its turn's time, when it had one)."""
        self.updates.labels(channel=channel, outcome=outcome).inc()
        if seconds is not None:
            self.turn_seconds.labels(channel=channel).observe(seconds)

    def answered(self, channel: str, lane: str, result: str) -> None:
        """A platform answered a message sent (see `sends` for the results)."""
        self.sends.labels(channel=channel, lane=lane, result=result).inc()

    def sent(self, item: OutboxItem, now: datetime) -> None:
        """An outbox row was sent: a reminder's lateness, from its time."""
        due = reminder_time(item)
        if due is not None:
            self.reminder_lateness.observe(max(0.0, (now - due).total_seconds()))

    def waited(self, kind: str, seconds: float) -> None:
        """Time waited for a database connection or lock."""
        self.database_wait.labels(kind=kind).observe(seconds)

    # -- scraping ------------------------------------------------------------------------------

    async def refresh(self, database: Database) -> None:
        """Read the gauges that live in the database (two small queries on indexed rows)."""
        reader = database.reader()
        backlog = await reader.outbox.backlog_by_kind()
        self._kinds |= backlog.keys()
        for kind in self._kinds:  # a kind with nothing waiting any more goes back to 0
            self.outbox_backlog.labels(kind=kind).set(backlog.get(kind, 0))
        self.broadcasts_in_progress.set(await reader.broadcasts.in_progress())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

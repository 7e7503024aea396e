"""The composition root: settings in, a database, texts, clock, dispatcher and the outbox's
policy out (the WhatsApp channel and the worker are given the policy as they are built; the
dispatcher and the scheduler only its wake-up)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from bot.config import ConfigError, Settings
from bot.leases import gone, worker_name
from bot.metrics import Metrics
from bot.sending.outbox_policy import Alert, OutboxPolicy
from bot.sending.outbox_worker import OutboxWorker
from bot.sending.sender import Sender, SendObserver
from bot.similar import LOOKUPS_WAITING, E5Encoder, SimilarIndex
from bot.watch import Watch
from handlers.engine.catalog import Catalog
from handlers.engine.clock import Clock, SystemClock
from handlers.engine.messages import Reply
from handlers.engine.team import seed
from handlers.flows import Dispatcher
from handlers.outbound.compose import BroadcastCache, compose
from handlers.staff.alerts import queue_channel_alert
from storage.database import Database
from storage.migrations import latest_version
from storage.models import OutboxItem
from storage.private import discard_media, private_dir
from storage.repositories import Repositories


@dataclass(slots=True)
class Runtime:
    settings: Settings
    database: Database
    catalog: Catalog
    clock: Clock
    dispatcher: Dispatcher
    outbox: OutboxPolicy
    # Ideas' vectors for similar ideas (issue 21): the model loads on first use.
    similar: SimilarIndex
    broadcasts: BroadcastCache = field(default_factory=BroadcastCache)
    # This process, as the leases it holds name it (bot/leases.py).
    worker: str = field(default_factory=worker_name)
    # What /metrics shows ([metrics]); what the staff group's alerts watch ([alerts]).
    metrics: Metrics = field(default_factory=Metrics)
    watch: Watch | None = None
    # The intake's similar-ideas lookups (and `minga ideas similar`): encoded at normal priority.
    lookups: E5Encoder | None = None

    @classmethod
    async def open(cls, settings: Settings, *, clock: Clock | None = None) -> "Runtime":
        """Load the texts (failing early on a bad override), open and upgrade the database."""
        texts_dir = settings.lab.texts_dir
        catalog = Catalog.load(Path(texts_dir) if texts_dir else None)
        clock = clock or SystemClock()
        database = await open_database(settings)
        private_dir(settings.storage.media_dir)  # residents' photos and voice notes
        async with database.transaction() as repos:  # consents count under this version
            await repos.residents.set_policy_version(settings.lab.privacy_policy_version)
            # The config's staff ids get their rows (handlers/engine/team.py: the seed).
            await seed(repos, settings.staff, clock.now())
        outbox = OutboxPolicy(database, clock, alert=_alert_staff(settings))
        metrics = Metrics()
        database.watch_waits(metrics.waited)
        similar = SimilarIndex(database, E5Encoder(background=True))
        # The intake's similar-ideas lookups: at normal priority, and never a long line.
        lookups = E5Encoder(max_waiting=LOOKUPS_WAITING)
        # A turn that wrote rows (it may have queued outbox messages) wakes the worker; one
        # that let go of media files (after /borrar, a dropped draft) has them deleted; one
        # that filed an idea has its vector computed. Its replies carry this process's
        # name: another worker of this host that finds the process gone (killed,
        # restarted) sends them at once, not after SENDING_TIME.
        worker = worker_name()
        dispatcher = Dispatcher(
            database, settings.flow, catalog, clock, on_rows_written=outbox.wake,
            release_media=partial(discard_media, settings.storage.media_dir), observer=metrics,
            on_ideas_filed=similar.queue, encoder=lookups, worker=worker, gone=gone,
        )  # fmt: skip
        watch = Watch(database, settings, clock, on_queued=outbox.wake)
        return cls(settings, database, catalog, clock, dispatcher, outbox, similar,
                   metrics=metrics, watch=watch, worker=worker, lookups=lookups)  # fmt: skip

    @property
    def media_dir(self) -> Path:
        return self.settings.storage.media_dir

    def discard_media(self, paths: list[str]) -> None:
        """Delete files no longer kept (an erased resident's photos, an abandoned draft's)."""
        discard_media(self.media_dir, paths)

    async def compose(self, item: OutboxItem, now: datetime) -> list[Reply] | None:
        """What an outbox row says, read as it stands now."""
        return await compose(item, self.database.reader(), self.settings.flow, self.catalog, now,
                             self.broadcasts)  # fmt: skip

    def outbox_worker(
        self, senders: Mapping[str, Sender], *, concurrency: int = 32, poll_seconds: float = 1.0
    ) -> OutboxWorker:
        return OutboxWorker(self.database, senders, self.compose, self.clock, self.outbox,
                            concurrency=concurrency, poll_seconds=poll_seconds,
                            on_sent=self.metrics.sent)  # fmt: skip

    def observe(self, senders: Mapping[str, Sender]) -> None:
        """The senders tell /metrics and the alerts' reachability what the platforms answer."""
        observers: list[SendObserver] = [self.metrics]
        if self.watch is not None:
            observers.append(self.watch.reachability)
        for sender in senders.values():
            sender.observer = SendObservers(observers)

    async def close(self) -> None:
        await self.similar.drain()  # vectors of ideas just filed are written first
        self.similar.close()
        if self.lookups is not None:
            self.lookups.close()
        await self.database.close()


@dataclass(frozen=True, slots=True)
class SendObservers:
    """Several watchers of a sender, told in turn."""

    observers: list[SendObserver]

    def answered(self, channel: str, lane: str, result: str) -> None:
        for observer in self.observers:
            observer.answered(channel, lane, result)


async def open_database(settings: Settings) -> Database:
    """The database, its schema brought up to date if [storage] says so; a database that
    needs `minga db upgrade`, or is newer than this Minga, is refused in one line."""
    storage = settings.storage
    database = await Database.open(
        storage.database, migrate=False, prepared_statements=storage.prepared_statements
    )
    try:
        current, latest = await database.schema_version(), latest_version()
        if current > latest:
            raise ConfigError(
                f"the database {storage.shown_database} is at schema version {current}, newer than "
                f"this Minga ({latest}): upgrade Minga before using this database"
            )
        if current < latest and storage.upgrades_at_start:
            await database.upgrade()
        elif current < latest:
            raise ConfigError(
                f"the database {storage.shown_database} is at schema version {current} and this "
                f"Minga needs {latest}: run `minga db upgrade` once (with several workers, "
                "before starting any), then start again"
            )
    except BaseException:
        await database.close()
        raise
    return database


def _alert_staff(settings: Settings) -> Alert:
    """A channel stopped bulk sending: the staff group hears of it (in the given transaction)."""

    async def alert(
        repos: Repositories, channel: str, reason: str, seconds: float, now: datetime
    ) -> None:
        await queue_channel_alert(repos, settings.flow, channel, reason, seconds, now)

    return alert

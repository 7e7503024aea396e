"""The composition root: settings in, a database, texts, clock and dispatcher out."""

from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from handlers.catalog import Catalog
from handlers.clock import Clock, SystemClock
from handlers.dispatcher import Dispatcher
from storage.database import Database


@dataclass(slots=True)
class Runtime:
    settings: Settings
    database: Database
    catalog: Catalog
    clock: Clock
    dispatcher: Dispatcher

    @classmethod
    async def open(cls, settings: Settings, *, clock: Clock | None = None) -> "Runtime":
        """Load the texts (failing early on a bad override), open and upgrade the database."""
        texts_dir = settings.lab.texts_dir
        catalog = Catalog.load(Path(texts_dir) if texts_dir else None)
        clock = clock or SystemClock()
        database = await Database.open(settings.storage.database)
        dispatcher = Dispatcher(database, settings.flow, catalog, clock)
        return cls(settings, database, catalog, clock, dispatcher)

    @property
    def media_dir(self) -> Path:
        return self.settings.storage.media_dir

    async def close(self) -> None:
        await self.database.close()

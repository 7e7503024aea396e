"""Events made the way staff make them, for tests."""

from datetime import datetime, timedelta

from handlers.events.service import create_event
from storage.database import Database
from storage.models import Event, EventFields

OFFSETS = (86_400, 7_200)


async def add_event(
    database: Database,
    now: datetime,
    *,
    days: float = 3,
    capacity: int | None = None,
    title: str = "Lanzamiento de Usme Innova",
    pin: bool = True,
) -> Event:
    starts = now + timedelta(days=days)
    fields = EventFields(
        title=title, starts_at=starts, ends_at=starts + timedelta(hours=2),
        venue="Auditorio de la Alcaldía Local", address="Calle 137 Sur # 13-51",
        latitude=4.4791 if pin else None, longitude=-74.1264 if pin else None,
        capacity=capacity, description="Conozca el laboratorio y sus frentes de trabajo.",
    )  # fmt: skip
    async with database.transaction() as repos:
        return await create_event(repos, fields, created_by="test", offsets=OFFSETS, now=now)


async def outbox_rows(database: Database, kind: str | None = None) -> list[dict]:
    rows = await database.reader().outbox._db.execute_fetchall("SELECT * FROM outbox ORDER BY id")
    return [dict(row) for row in rows if kind is None or row["kind"] == kind]

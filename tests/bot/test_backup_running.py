"""A backup taken with `minga db backup` while `minga run` sends a broadcast and a resident is
half-way through the intake, restored with `minga db restore` into a fresh data folder (and
database): the restored bot goes on from where the backup was. On SQLite and, with
`make test-postgres`, on PostgreSQL."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.backup import find_program
from bot.cli.main import main
from bot.config import Settings
from handlers.engine.catalog import Catalog
from handlers.outbound.broadcasts import Audience, queue_broadcast
from storage.database import Database
from storage.postgres import is_postgres_url
from tests.fakes.minga import Running, opted_in, telegram_settings
from tests.fakes.sql import connect
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.wait import wait_for

es = Catalog.load().translator("es")
TEXT = "📣 Mañana abrimos la convocatoria de ideas para el parque. ¡Les esperamos!"
RECIPIENTS = 400
RESIDENT = 5_550_123
PHOTO = b"\xff\xd8\xff\xe0" + b"a photo of the dark park" * 40


class Later:
    """The clock of the machine the backup is restored on, some minutes after it was taken:
    the old bot's leases and claims in the backup have expired by then."""

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(minutes=10)


def _config(settings: Settings, path: Path) -> Path:
    """A config file naming the settings' database and media folder, as the operator has."""
    storage = settings.storage
    path.write_text(f'[storage]\ndatabase = "{storage.database}"\n'
                    f'media_dir = "{storage.media_dir}"\n', "utf-8")  # fmt: skip
    return path


def _delivered(api: FakeBotApi) -> Counter[int]:
    return Counter(chat for chat, messages in api.sent.items() for m in messages
                   if m.get("text") == TEXT)  # fmt: skip


async def _queue(database_target: str | Path) -> int:
    """What `minga broadcast send` does, from another connection."""
    database = await Database.open(database_target)
    try:
        async with database.transaction() as repos:
            broadcast = await queue_broadcast(
                repos, text=TEXT, event_id=None, audience=Audience("all"), created_by="cli",
                reporter_id=None, now=datetime.now(UTC),
            )  # fmt: skip
        return broadcast.id
    finally:
        await database.close()


async def _statuses(database_target: str | Path, broadcast_id: int) -> dict[int, str]:
    """Each recipient's chat id and its outbox row's status for the broadcast."""
    async with connect(database_target) as db:
        rows = await db.execute_fetchall(
            "SELECT r.user_key, o.status FROM outbox o JOIN residents r ON r.id = o.recipient_id "
            "WHERE o.broadcast_id = ?",
            (broadcast_id,),
        )
    return {int(user_key): status for user_key, status in rows}


async def _to_the_photos(api: FakeBotApi) -> None:
    """A resident's intake up to the photos step, one photo sent."""
    await api.send_text(RESIDENT, "/start")
    await api.expect(RESIDENT, es("role.ask"))
    await api.press(RESIDENT, "role:resident")
    await api.expect(RESIDENT, "politica-de-privacidad")
    await api.press(RESIDENT, "consent:yes")
    await api.expect(RESIDENT, es("problem.ask"))
    await api.send_text(RESIDENT, "El parque del barrio no tiene luz y de noche es peligroso")
    await api.expect(RESIDENT, es("location.ask"))
    await api.send_text(RESIDENT, "Comuneros")
    await api.expect(RESIDENT, es("category.ask"))
    await api.press(RESIDENT, "category:safety")
    await api.expect(RESIDENT, es("idea.ask"))
    await api.press(RESIDENT, "idea:none")
    await api.expect(RESIDENT, es("photos.ask", max=3))
    await api.send_photo(RESIDENT, PHOTO)
    await api.expect(RESIDENT, es("photos.received", count=1, max=3))


async def _the_rest_of_the_intake(api: FakeBotApi) -> None:
    """From the photos step, where the backup left the resident, to the idea's reference."""
    await api.press(RESIDENT, "photos:done")
    await api.expect(RESIDENT, es("identity.ask"))
    await api.press(RESIDENT, "identity:anonymous")
    await api.expect(RESIDENT, es("publish.ask", lab="Usme Innova"))
    await api.press(RESIDENT, "publish:no")
    await api.expect(RESIDENT, es("summary.intro"))
    await api.press(RESIDENT, "summary:send")
    await api.expect(RESIDENT, "MNG-")


async def test_a_backup_taken_mid_broadcast_and_mid_intake_restores_and_the_bot_goes_on(
    api: FakeBotApi, tmp_path: Path
) -> None:
    if is_postgres_url(telegram_settings(api, tmp_path / "a").storage.database) and (
        find_program("pg_dump") is None or find_program("pg_restore") is None
    ):
        pytest.skip("pg_dump and pg_restore are not installed: apt-get install postgresql-client")
    bot = {"max_messages_per_second": 100}
    first = telegram_settings(api, tmp_path / "a", telegram=bot)
    chats = await opted_in(first.storage.database, RECIPIENTS)
    archive = tmp_path / "backup.tar.gz"
    async with Running(first):
        await _to_the_photos(api)
        broadcast_id = await _queue(first.storage.database)
        await wait_for(lambda: sum(_delivered(api).values()) >= 60, 60)
        # `minga db backup` while the broadcast is being sent (main() runs its own loop).
        config = _config(first, tmp_path / "a.toml")
        done = await asyncio.to_thread(
            main, ["db", "backup", str(archive), "--config", str(config)]
        )
        assert done == 0
    before = _delivered(api)

    second = telegram_settings(api, tmp_path / "b", telegram=bot)
    config = _config(second, tmp_path / "b.toml")
    assert (
        await asyncio.to_thread(main, ["db", "restore", str(archive), "--config", str(config)]) == 0
    )
    in_backup = await _statuses(second.storage.database, broadcast_id)
    sent = {chat for chat, status in in_backup.items() if status == "sent"}
    assert 0 < len(sent) < RECIPIENTS  # taken mid-broadcast
    async with Running(second, clock=Later()):
        await _the_rest_of_the_intake(api)
        await wait_for(lambda: _all_sent(second.storage.database, broadcast_id), 60)
    again = _delivered(api) - before
    assert not set(again) & sent  # nobody the backup recorded as sent got it twice
    unsent = {chat for chat, status in in_backup.items() if status == "pending"}
    assert unsent <= set(again) and max(again.values()) == 1
    assert set(in_backup) == set(chats)
    await _the_photo_is_in_the_restored_idea(second)


async def _all_sent(database_target: str | Path, broadcast_id: int) -> bool:
    statuses = await _statuses(database_target, broadcast_id)
    return set(statuses.values()) == {"sent"}


async def _the_photo_is_in_the_restored_idea(settings: Settings) -> None:
    async with connect(settings.storage.database) as db:
        [(path,)] = await db.execute_fetchall(
            "SELECT m.path FROM idea_media m JOIN ideas i ON i.id = m.idea_id"
        )
    assert (settings.storage.media_dir / path).read_bytes() == PHOTO

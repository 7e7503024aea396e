"""The team managed in chat (issue 20): an admin adds and removes staff by @username or id
(/equipo_agregar, /equipo_quitar), other staff are told they cannot, and a group becomes the
staff group with a one-time code (/vincular): every change counts from the next message, and
the digest goes to the group linked, without a restart."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.scheduler import Scheduler
from handlers.engine.catalog import Catalog
from handlers.engine.team import FRESH
from handlers.flows import Dispatcher
from handlers.staff.team import create_code
from storage.database import Database
from storage.staff import Role
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.events.helpers import outbox_rows
from tests.handlers.staff.helpers import STAFF, make_staff_chat, staff_dispatcher, staff_settings

ANA = "7001"  # a resident who will join the team
NEW_GROUP = "-1009876543210"
# (add, remove) in each language's names: both work whatever the person's language.
NAMES = [("equipo_agregar", "equipo_quitar"), ("staff_add", "staff_remove")]


async def _make(database: Database, telegram_id: str, role: Role, clock: FakeClock) -> None:
    async with database.transaction() as repos:
        await repos.staff.add(int(telegram_id), role, username=None, by="test", now=clock.now())


def _person(dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock, user: str,
            **options: str) -> Chat:  # fmt: skip
    return Chat(dispatcher, catalog, clock, user=user, channel="telegram", **options)


async def _is_staff(chat: Chat) -> bool:
    """Whether /ideas answers them (staff) rather than refusing them."""
    await chat.command("ideas")
    return not chat.said("staff.only")


@pytest.fixture
async def admin(database: Database, dispatcher: Dispatcher, catalog: Catalog,
                clock: FakeClock) -> Chat:  # fmt: skip
    await _make(database, STAFF, "admin", clock)
    return make_staff_chat(dispatcher, catalog, clock)


@pytest.mark.parametrize(("add", "remove"), NAMES, ids=["es", "en"])
async def test_an_admin_adds_by_username_and_removes_at_once(
    admin: Chat, dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock, add: str,
    remove: str,
) -> None:  # fmt: skip
    ana = _person(dispatcher, catalog, clock, ANA, username="Ana_Rojas")
    await ana.command("start")  # she has written to the bot: her @username is known
    assert not await _is_staff(ana)

    await admin.send(command=add, argument="@ana_rojas")  # any case, with or without "@"
    assert admin.said("team.added")
    assert await _is_staff(ana)  # from her next message on: no restart

    await admin.command("equipo")
    assert "@Ana_Rojas (7001)" in admin.text and admin.said("team.role_staff")

    await admin.send(command=remove, argument=ANA)
    assert admin.said("team.removed")
    assert not await _is_staff(ana)
    await admin.command("equipo")
    assert ANA not in admin.text


async def test_admin_word_unknown_usernames_and_usage(
    admin: Chat, dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock
) -> None:
    await admin.send(command="equipo_agregar", argument="@nadie_aqui")
    assert admin.said("team.unknown_username")
    await admin.send(command="equipo_agregar", argument="")
    assert admin.said("team.add_usage")
    await admin.send(command="equipo_agregar", argument="8001 jefe")  # not a role
    assert admin.said("team.add_usage")
    await admin.send(command="equipo_agregar", argument="ana!")
    assert admin.said("team.bad_who")

    await admin.send(command="equipo_agregar", argument="8001 admin")
    assert admin.said("team.added")
    luis = _person(dispatcher, catalog, clock, "8001")
    await luis.send(command="staff_add", argument="8002")  # an admin now: may add others
    assert luis.said("team.added")
    await admin.send(command="equipo_agregar", argument="8001")  # the role changes
    assert admin.said("team.changed")
    await luis.send(command="staff_add", argument="8003")
    assert luis.said("team.admins_only")


async def test_staff_who_are_not_admins_are_refused_and_nothing_changes(
    staff: Chat, dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock
) -> None:
    """The config's staff are staff, not admins: they see the team, cannot change it."""
    for command in ("equipo_agregar", "equipo_quitar"):
        await staff.send(command=command, argument=ANA)
        assert staff.said("team.admins_only")
    await staff.command("equipo")
    assert staff.said("team.title") and not staff.said("team.admin_hint")
    assert not await _is_staff(_person(dispatcher, catalog, clock, ANA))

    resident = _person(dispatcher, catalog, clock, ANA)
    for command in ("equipo", "equipo_agregar", "staff_remove"):
        await resident.send(command=command, argument=STAFF)
        assert resident.said("staff.only")
    assert await _is_staff(staff)


async def test_an_admin_cannot_remove_or_demote_themselves(admin: Chat) -> None:
    await admin.send(command="equipo_quitar", argument=STAFF)
    assert admin.said("team.not_yourself")
    await admin.send(command="equipo_agregar", argument=STAFF)
    assert admin.said("team.not_yourself")
    await admin.command("equipo")
    assert admin.said("team.admin_hint")  # still an admin


async def test_a_change_by_another_process_is_seen_within_seconds(
    staff: Chat, database_target: str | Path, dispatcher: Dispatcher, catalog: Catalog,
    clock: FakeClock,
) -> None:  # fmt: skip
    """`minga staff add` runs in its own process: the bot reads the team again at most FRESH
    after it last did, so the new member is staff within FRESH, without a restart."""
    ana = _person(dispatcher, catalog, clock, ANA)
    assert not await _is_staff(ana)
    other = await Database.open(database_target)  # as another process opens it
    try:
        await _make(other, ANA, "staff", clock)
        clock.advance(seconds=FRESH.total_seconds())
        assert await _is_staff(ana)
        async with other.transaction() as repos:
            await repos.staff.remove(int(STAFF), by="cli", now=clock.now())
    finally:
        await other.close()
    clock.advance(seconds=FRESH.total_seconds())
    assert not await _is_staff(staff)  # the config lists them, the database's removal wins


async def test_a_code_links_a_group_and_the_digest_goes_there(
    database: Database, catalog: Catalog
) -> None:
    """What `minga staff link-group` prints, sent in a group by whoever installs Minga (not
    staff): that group is the staff group from then on, for the digest too."""
    clock = FakeClock(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))  # 07:00 in Bogotá
    unlinked = {"group_chat_id": None, "digest_when_empty": True}
    dispatcher = staff_dispatcher(database, catalog, clock, **unlinked)
    settings = staff_settings(**unlinked)
    scheduler = Scheduler(database, settings, clock, lambda: None)
    await scheduler.wake()
    assert scheduler.next_at is None  # no group: no digest to plan

    installer = _person(dispatcher, catalog, clock, "9100", group=NEW_GROUP)
    await installer.send(command="vincular", argument="ABCD-2345")
    assert installer.said("team.bad_code") and len(installer.replies) == 1
    async with database.transaction() as repos:
        code, _ = await create_code(repos, clock.now())
    await installer.send(command="link", argument=code.lower().replace("-", " "))
    assert installer.said("team.linked")
    await installer.send(command="vincular", argument=code)  # once only
    assert installer.said("team.bad_code")

    staff = make_staff_chat(dispatcher, catalog, clock)
    await staff.command("equipo")
    assert staff.said("team.group") and NEW_GROUP in staff.text

    await scheduler.wake()
    assert scheduler.next_at is not None  # the digest is planned now
    clock.advance(hours=1, minutes=1)  # 08:01 in Bogotá: the digest is due
    await scheduler.wake()
    [digest] = await outbox_rows(database, "digest")
    group = await database.reader().residents.get(digest["recipient_id"])
    assert group is not None and group.user_key == NEW_GROUP


async def test_an_expired_code_and_a_private_chat_get_one_line(
    database: Database, dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock,
    make_chat: Callable[..., Chat],
) -> None:  # fmt: skip
    async with database.transaction() as repos:
        code, _ = await create_code(repos, clock.now())
    clock.advance(hours=1, minutes=1)
    group = _person(dispatcher, catalog, clock, "9100", group=NEW_GROUP)
    await group.send(command="vincular", argument=code)
    assert group.said("team.bad_code") and len(group.replies) == 1
    staff = make_staff_chat(dispatcher, catalog, clock)
    await staff.send(command="vincular", argument=code)
    assert staff.said("team.link_in_group")
    resident = _person(dispatcher, catalog, clock, "9200")
    await resident.command("start")
    await resident.send(command="vincular", argument=code)
    assert resident.said("input.unknown_command")  # nothing special for residents

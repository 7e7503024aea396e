"""The calls tests are staff tests too: the dispatcher knows one staff member and the group."""

import pytest

from handlers.engine.catalog import Catalog
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.staff.helpers import make_staff_chat, staff_dispatcher


@pytest.fixture
def dispatcher(database: Database, catalog: Catalog, clock: FakeClock) -> Dispatcher:
    return staff_dispatcher(database, catalog, clock)


@pytest.fixture
def staff(dispatcher: Dispatcher, catalog: Catalog, clock: FakeClock) -> Chat:
    return make_staff_chat(dispatcher, catalog, clock)

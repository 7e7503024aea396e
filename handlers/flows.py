"""The one place that lists Minga's flows, one per family package: the routing tables are
built from them once, and the dispatcher is given them. The engine (handlers/engine/) imports
no flow."""

from collections.abc import Callable
from functools import cache

from handlers.account.flow import FLOW as ACCOUNT
from handlers.calls.flow import FLOW as CALLS
from handlers.engine import dispatcher
from handlers.engine.catalog import Catalog
from handlers.engine.clock import Clock
from handlers.engine.flow import Flow, build_routes
from handlers.engine.observe import TurnObserver
from handlers.engine.settings import FlowSettings
from handlers.engine.turn import Routes
from handlers.events.flow import FLOW as EVENTS
from handlers.exports.flow import FLOW as EXPORTS
from handlers.intake.flow import FLOW as INTAKE
from handlers.outbound.flow import FLOW as OUTBOUND
from handlers.privacy.flow import FLOW as PRIVACY
from handlers.similar.match import Encoder
from handlers.staff.flow import FLOW as STAFF

FLOWS: tuple[Flow, ...] = (ACCOUNT, INTAKE, CALLS, EVENTS, PRIVACY, STAFF, OUTBOUND, EXPORTS)


@cache
def routes() -> Routes:
    """Every flow's steps, buttons and commands, checked to fit together (built once)."""
    return build_routes(FLOWS)


class Dispatcher(dispatcher.Dispatcher):
    """The engine's dispatcher, answering with Minga's flows."""

    def __init__(
        self,
        database: dispatcher.UnitOfWork,
        settings: FlowSettings,
        catalog: Catalog,
        clock: Clock,
        *,
        on_rows_written: Callable[[], None] | None = None,
        release_media: Callable[[list[str]], object] | None = None,
        observer: TurnObserver | None = None,
        on_ideas_filed: Callable[[list[tuple[int, str]]], None] | None = None,
        encoder: Encoder | None = None,
        worker: str | None = None,
        gone: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(database, settings, catalog, clock, routes=routes(),
                         on_rows_written=on_rows_written, release_media=release_media,
                         observer=observer, on_ideas_filed=on_ideas_filed, encoder=encoder,
                         worker=worker, gone=gone)  # fmt: skip

"""`minga run`: start the configured channels and keep them running until told to stop."""

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot import web
from bot.app import Runtime
from bot.backup import daily_backup
from bot.channels.queue import InboundQueue
from bot.channels.telegram import webhook as telegram_webhook
from bot.channels.telegram.channel import MingaApplication, TelegramChannel
from bot.channels.whatsapp import webhook as whatsapp_webhook
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.config import ConfigError, Settings, WebSettings
from bot.leases import POLLING, SCHEDULER, Lease
from bot.scheduler import Scheduler
from bot.sending.pacer import Lane
from bot.sending.sender import Sender
from bot.version import minga_version
from handlers.engine.clock import Clock
from handlers.engine.dispatcher import SendTo
from handlers.engine.messages import Reply
from storage.migrations import latest_version

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 5  # a database slower than this to say its version is not ready
# Telegram unreachable at start: tried again after 1 s, then twice as long each time, at
# most every minute, until it answers (the web server answers meanwhile).
FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 60.0
# Waits `seconds` or until the event (the run's stop) is set; False when it was set.
RetryWait = Callable[[float, asyncio.Event], Awaitable[bool]]


# How often a worker on a shared database looks for conversations left behind (rows wait
# handlers.engine.dispatcher.LEFT_BEHIND before they are taken over).
SWEEP_SECONDS = 2.0


def telegram_channel(runtime: Runtime) -> TelegramChannel:
    settings = runtime.settings
    return TelegramChannel(
        settings.telegram, runtime.dispatcher, runtime.catalog, runtime.media_dir,
        staff_language=settings.lab.default_language,
    )  # fmt: skip


def whatsapp_channel(runtime: Runtime) -> WhatsAppChannel:
    settings = runtime.settings
    return WhatsAppChannel(
        settings.whatsapp, runtime.dispatcher, runtime.database, runtime.catalog,
        runtime.media_dir, runtime.clock, runtime.outbox,
        default_language=settings.lab.default_language,
    )  # fmt: skip


async def start_telegram(
    channel: TelegramChannel, settings: Settings, stack: AsyncExitStack
) -> MingaApplication:
    """Initialize and start the PTB application (getMe: the token is checked). A token
    Telegram refuses is a ConfigError; a network that fails raises NetworkError (the caller
    tries again: see _connect_telegram)."""
    application = channel.build_application()
    await _initialize(channel, application)
    stack.push_async_callback(application.shutdown)
    await application.start()
    stack.push_async_callback(_stop_application, application)
    return application


async def _initialize(
    channel: TelegramChannel, application: MingaApplication, *, retrying: bool = False
) -> None:
    """PTB's initialize (getMe). `retrying`: a network failure leaves the HTTP sessions open
    for the next attempt (PTB opens them only once per application)."""
    try:
        await application.initialize()
    except BaseException as error:
        if not (retrying and isinstance(error, NetworkError)):
            await channel.close_connections()  # else aiohttp warns "Unclosed client session"
        if isinstance(error, InvalidToken):
            raise ConfigError("Telegram refused telegram.token: check it with BotFather") from None
        raise


async def _stop_application(application: MingaApplication) -> None:
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()


async def run_channels(
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Clock | None = None,
    opened: Callable[[Runtime], None] | None = None,
    retry_wait: RetryWait | None = None,
) -> None:
    """Run until `stop` is set. Built exactly this way by `minga run` and by the tests
    (`opened` hands them the runtime: to wait on its outbox policy or its dispatcher;
    `retry_wait` stands for the pause between attempts to reach Telegram)."""
    log.info("Minga %s starting", minga_version())
    if settings.telegram.token is None and not settings.whatsapp.enabled:
        raise ConfigError(
            "no channel to run: set telegram.token in the config file or the environment "
            "variable MINGA_TELEGRAM__TOKEN, or the [whatsapp] settings "
            "(to try Minga without a token: minga chat)"
        )
    runtime = await Runtime.open(settings, clock=clock)
    errors = runtime.watch.errors if runtime.watch is not None else None
    if errors is not None:  # the alerts' error rate counts this run's errors
        logging.getLogger().addHandler(errors)
    try:
        if opened is not None:
            opened(runtime)
        async with AsyncExitStack() as stack:
            await _run(runtime, stop, stack, retry_wait or _wait_or_stop)
        await runtime.dispatcher.stop()  # replies sent since the last turn: forgotten
    finally:
        if errors is not None:
            logging.getLogger().removeHandler(errors)
        await runtime.close()


async def _run(
    runtime: Runtime, stop: asyncio.Event, stack: AsyncExitStack, retry_wait: RetryWait
) -> None:
    settings = runtime.settings
    senders: dict[str, Sender] = {}
    routes: list[Route] = []
    telegram, application = _build_telegram(runtime, senders, routes)
    whatsapp: WhatsAppChannel | None = None
    if settings.whatsapp.enabled:
        whatsapp = whatsapp_channel(runtime)
        senders["whatsapp"] = whatsapp.sender
        routes += whatsapp_webhook.routes(whatsapp)
    runtime.observe(senders)
    watched = _Watched(application)
    started = watched.started  # the channels' webhooks are answered from then on
    own_routes: list[Route] = []  # /metrics on [web]'s server: never gated
    await _metrics(runtime, own_routes, watched, stack)
    server = web.WebServer(settings.web, [*_until(started, routes), *own_routes],
                           watched.health, ready=lambda: _not_ready(runtime, watched))  # fmt: skip
    polling_task: asyncio.Task[None] | None = None
    try:
        # First, so that /healthz and /readyz answer while Telegram cannot be reached.
        await server.start()
        running = (stack, stop, retry_wait)
        if (
            telegram is not None
            and application is not None
            and not await _connect_telegram(runtime, telegram, application, watched, running)
        ):
            return  # stopped before Telegram could be reached
        await _take_back(runtime, senders, whatsapp, telegram, application, (stack, stop))
        if whatsapp is not None:
            watched.whatsapp = asyncio.create_task(whatsapp.run(stop), name="minga-whatsapp")
        started.set()
        if telegram is not None and application is not None:
            if settings.telegram.mode == "webhook":
                await _connect_webhook(telegram, application, settings)
            else:
                watched.polling = _polling_lease(runtime, telegram, application)
                polling_task = await _start_polling(watched.polling, application, stop)
        await run_outbound(runtime, senders, stop)
    finally:
        stop.set()
        await server.stop()  # no more bodies accepted; then the accepted ones are handled
        if polling_task is not None:
            await polling_task  # polling stops, its lease is given back
        if watched.whatsapp is not None:
            await watched.whatsapp


def _build_telegram(
    runtime: Runtime, senders: dict[str, Sender], routes: list[Route]
) -> tuple[TelegramChannel | None, MingaApplication | None]:
    """The Telegram channel and its application, not connected yet (None, None: no token);
    its sender and webhook route added to the others."""
    settings = runtime.settings
    if settings.telegram.token is None:
        return None, None
    telegram = telegram_channel(runtime)
    application = telegram.build_application()
    senders["telegram"] = telegram.sender
    # Kept from before Telegram is answered (the webhook's 200, the next getUpdates).
    kept = InboundQueue(runtime.database, runtime.clock, "telegram", runtime.dispatcher)
    telegram.kept = kept
    if settings.telegram.mode == "webhook":
        assert settings.telegram.webhook_secret is not None
        secret = settings.telegram.webhook_secret.get_secret_value()
        routes.append(telegram_webhook.route(application, secret, kept))
    return telegram, application


async def _connect_telegram(
    runtime: Runtime, telegram: TelegramChannel, application: MingaApplication,
    watched: "_Watched", running: tuple[AsyncExitStack, asyncio.Event, RetryWait],
) -> bool:  # fmt: skip
    """Start the Telegram application, trying again while the network fails: after
    FIRST_RETRY_SECONDS, then twice as long each time up to LONGEST_RETRY_SECONDS. Said once
    in the log (and by /readyz meanwhile), not at every attempt. False: stopped first."""
    stack, stop, retry_wait = running
    base_url = runtime.settings.telegram.base_url
    pause = FIRST_RETRY_SECONDS
    while True:
        try:
            await _initialize(telegram, application, retrying=True)
            break
        except NetworkError as error:
            if runtime.watch is not None:  # the staff's alert, once it lasts (bot/watch.py)
                runtime.watch.reachability.answered("telegram", "start", "5xx")
            if watched.telegram_unreachable_since is None:
                watched.telegram_unreachable_since = runtime.clock.now()
                log.warning("could not reach Telegram at %s (%s): trying again after %.0f s, "
                            "then longer, up to every %.0f s; the web server answers meanwhile "
                            "(/readyz says what is missing)", base_url, error, pause,
                            LONGEST_RETRY_SECONDS)  # fmt: skip
        if not await retry_wait(pause, stop):
            await telegram.close_connections()  # never initialized: PTB's shutdown skips them
            return False
        pause = min(pause * 2, LONGEST_RETRY_SECONDS)
    if watched.telegram_unreachable_since is not None:
        if runtime.watch is not None:
            runtime.watch.reachability.answered("telegram", "start", "ok")
        log.info("Telegram reached at %s; starting", base_url)
        watched.telegram_unreachable_since = None
    stack.push_async_callback(application.shutdown)
    await application.start()
    stack.push_async_callback(_stop_application, application)
    return True


async def _wait_or_stop(seconds: float, stop: asyncio.Event) -> bool:
    """`seconds`, or less if the run stops meanwhile; False when it did."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return not stop.is_set()


def _until(started: asyncio.Event, routes: list[Route]) -> list[Route]:
    """The channels' webhooks answer 503 until the channels have started (Telegram and Meta
    post the update again later): a body taken before would be handled out of turn."""

    def gated(route: Route) -> Route:
        endpoint = route.endpoint

        async def answer(request: Request) -> Response:
            if not started.is_set():
                return PlainTextResponse("starting\n", 503)
            response: Response = await endpoint(request)
            return response

        return Route(route.path, answer, methods=route.methods, name=route.name)

    return [gated(route) for route in routes]


async def _metrics(
    runtime: Runtime, routes: list[Route], watched: "_Watched", stack: AsyncExitStack
) -> None:
    """/metrics as [metrics] says: off; on [web]'s server behind the bearer token (added to
    `routes`); or on a server of its own, started now and stopped with the run's stack."""
    settings = runtime.settings.metrics
    if not settings.enabled:
        return
    token = settings.bearer_token.get_secret_value() if settings.bearer_token else None
    route = web.metrics_route(runtime.metrics, runtime.database, token)
    if not settings.own_server:
        routes.append(route)
        return
    assert settings.port is not None
    own = WebSettings(host=settings.host, port=settings.port)
    server = web.WebServer(own, [route], watched.health, ready=lambda: _not_ready(runtime, watched),
                           section="[metrics]")  # fmt: skip
    await server.start()
    stack.push_async_callback(server.stop)


async def _take_back(
    runtime: Runtime, senders: dict[str, Sender], whatsapp: WhatsAppChannel | None,
    telegram: TelegramChannel | None, application: MingaApplication | None,
    running: tuple[AsyncExitStack, asyncio.Event],
) -> None:  # fmt: skip
    """What a stopped process left: its committed replies first, then the webhook bodies and
    polled updates it acknowledged and did not finish, before anything new; on a shared
    database, then what other workers leave, until the run's stop (the sweep, ended by the
    run's exit stack)."""
    await runtime.dispatcher.resend_unsent({name: _replies_to(s) for name, s in senders.items()})
    if whatsapp is not None:
        await whatsapp.take_back()
    if telegram is not None and telegram.kept is not None and application is not None:
        await telegram_webhook.take_back(application, telegram.kept)
    stack, stop = running
    await stack.enter_async_context(_sweeping(runtime, stop))


@contextlib.asynccontextmanager
async def _sweeping(runtime: Runtime, stop: asyncio.Event) -> AsyncIterator[None]:
    """On a shared database, the sweep of what other workers left behind (a death, a lone
    message) runs beside the channels until `stop`; it ends after them."""
    if not runtime.database.shared:
        yield
        return
    sweeping = asyncio.create_task(_sweep(runtime, stop), name="minga-sweep")
    try:
        yield
    finally:
        stop.set()
        await sweeping


async def _sweep(runtime: Runtime, stop: asyncio.Event) -> None:
    """Every SWEEP_SECONDS until `stop`, take over conversations left behind by other workers
    (Dispatcher.sweep: one read when there are none)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)
        if stop.is_set():
            return
        try:
            await runtime.dispatcher.sweep()
        except Exception:  # the database is away: the next round tries again
            log.exception("could not take over conversations left behind")


def _replies_to(sender: Sender) -> SendTo:
    """Replies to a chat on the reply lane (replies a stopped process left unsent)."""

    async def send(chat: str, replies: Sequence[Reply]) -> None:
        outcome = await sender.deliver(chat, replies, Lane.REPLY)
        if outcome.status != "sent":
            log.warning("reply left unsent not delivered: %s (%s)", outcome.status, outcome.error)

    return send


@dataclass(slots=True)
class _Watched:
    """What /healthz reports: the channels of this process, never the database (/readyz)."""

    application: MingaApplication | None
    whatsapp: asyncio.Task[None] | None = None
    polling: Lease | None = None
    # Since when Telegram could not be reached at start (None: reached, or not tried yet).
    telegram_unreachable_since: datetime | None = None
    # Set once the channels have started (what the last run left taken back first).
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def health(self) -> dict[str, Any]:
        channels = {}
        if self.application is not None:
            channels["telegram"] = "running" if self.application.running else "stopped"
            if self.telegram_unreachable_since is not None:
                channels["telegram"] = "connecting"  # alive: trying again (/readyz says so)
        if self.whatsapp is not None:
            channels["whatsapp"] = "stopped" if self.whatsapp.done() else "running"
        ok = all(state in ("running", "connecting") for state in channels.values())
        report: dict[str, Any] = {"ok": ok, "channels": channels, "version": minga_version()}
        if self.polling is not None:  # polling, or waiting for its turn (several workers)
            report["telegram_polling"] = "this worker" if self.polling.held else "waiting"
        return report


async def _start_polling(
    polling: Lease, application: MingaApplication, stop: asyncio.Event
) -> asyncio.Task[None]:
    """Ask for the polling lease at once, so that a worker alone polls from the start; then
    renew it, or wait for it, in the background (a start that failed is tried again there)."""
    if await polling.step():
        log.info("telegram channel running as @%s", application.bot.username)
    else:
        log.info("telegram: another worker polls; this one takes over if it stops")
    return asyncio.create_task(polling.run(stop), name="minga-polling")


async def _not_ready(runtime: Runtime, watched: _Watched) -> str | None:
    """/readyz: why this worker should get no traffic (None: it may)."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            version = await runtime.database.schema_version()
    except Exception as error:  # the database cannot be reached, or is too slow to answer
        return f"database unreachable ({type(error).__name__})"
    latest = latest_version()
    if version != latest:
        return f"database at schema version {version}, this Minga needs {latest}: minga db upgrade"
    since = watched.telegram_unreachable_since
    if since is not None:
        return f"telegram: unreachable since {since:%Y-%m-%d %H:%M:%S} UTC (trying again)"
    if not watched.started.is_set():
        return "starting: the channels are not running yet"
    return None


def _polling_lease(
    runtime: Runtime, telegram: TelegramChannel, application: MingaApplication
) -> Lease:
    """Telegram's polling on one worker at a time (Telegram refuses two pollers of one bot).
    A worker that takes over fetches what the other fetched and never confirmed: Telegram
    forgets an update only when the next getUpdates confirms it, and the inbound dedup
    skips those already handled."""

    async def start() -> None:
        await telegram.start_polling(application)

    async def stop() -> None:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()

    return Lease(runtime.database, POLLING, runtime.worker, runtime.clock,
                 runtime.settings.workers.lease, start=start, stop=stop)  # fmt: skip


async def _connect_webhook(
    telegram: TelegramChannel, application: MingaApplication, settings: Settings
) -> None:
    assert settings.telegram.webhook_url and settings.telegram.webhook_secret
    try:
        secret = settings.telegram.webhook_secret.get_secret_value()
        await telegram.start_webhook(application, settings.telegram.webhook_url, secret)
    except TelegramError as error:
        raise ConfigError(
            f"Telegram refused telegram.webhook_url ({settings.telegram.webhook_url}): {error}"
        ) from None
    log.info("telegram channel running as @%s (webhook)", application.bot.username)


async def run_outbound(runtime: Runtime, senders: dict[str, Sender], stop: asyncio.Event) -> None:
    """The outbox worker and, while this worker holds its lease, the scheduler's jobs, until
    `stop` is set."""
    worker = runtime.outbox_worker(senders)
    scheduler_lease = _scheduler_lease(runtime)
    worker_task = asyncio.create_task(worker.run(stop), name="minga-outbox")
    lease_task = asyncio.create_task(scheduler_lease.run(stop), name="minga-scheduler-lease")
    try:
        await asyncio.wait(
            [worker_task, lease_task, asyncio.ensure_future(stop.wait())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        for task in (worker_task, lease_task):
            if task.done() and not stop.is_set():
                # A bot that can no longer send must not look alive: stop, so that the process
                # supervisor starts it again (the outbox resumes where it stopped).
                task.result()  # raises what stopped it
                raise RuntimeError(f"{task.get_name()} stopped unexpectedly")
    finally:
        stop.set()
        await lease_task  # the scheduler stops, its lease is given back
        await worker_task


# Python's cyclic garbage collector, for a long-running `minga run`. Every turn allocates
# thousands of container objects, and with hundreds of turns waiting on I/O at once many
# outlive a collection of the youngest generation (700 allocations by default) and are
# promoted, so the older generations were collected often, each time going over everything
# start-up made as well. In the bench (1,000 residents at once) the collector took 12% of the
# bot's CPU. Start-up's objects are frozen (never collected, never looked at again), and
# the youngest generation is collected every 50,000 net allocations: 1.3% of the CPU, for a
# few megabytes of short-lived garbage held a little longer (reference counting frees most
# objects at once anyway; only cycles wait for the collector).
GC_THRESHOLDS = (50_000, 20, 100)


def settle_heap() -> None:
    """After start-up (imports, settings): freeze what exists, collect young objects less
    often (see GC_THRESHOLDS). For `minga run` only: tests and one-off commands keep
    Python's defaults."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _scheduler_lease(runtime: Runtime) -> Lease:
    """The scheduler's jobs (reminders, replan, retention, digest) on one worker at a time, and
    the similar-ideas backfill: earlier ideas without a vector get one, in the background
    (bot/similar.py), computed once, not by every worker."""
    running: list[Scheduler] = []
    backfills: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start() -> None:
        alerts = runtime.settings.alerts
        scheduler = Scheduler(runtime.database, runtime.settings.flow, runtime.clock,
                              runtime.outbox.wake, discard_media=runtime.discard_media,
                              media_dir=runtime.media_dir,
                              backup=daily_backup(runtime.settings, runtime.clock),
                              watch=runtime.watch.check if runtime.watch and alerts.enabled
                              else None, watch_seconds=alerts.check_seconds)  # fmt: skip
        running.append(scheduler)
        await scheduler.start()
        halt = asyncio.Event()
        backfills.append(
            (halt, asyncio.create_task(runtime.similar.run(halt), name="minga-similar"))
        )

    async def stop() -> None:
        while running:
            running.pop().shutdown()
        while backfills:
            halt, task = backfills.pop()
            halt.set()
            await task

    return Lease(runtime.database, SCHEDULER, runtime.worker, runtime.clock,
                 runtime.settings.workers.lease, start=start, stop=stop)  # fmt: skip


async def run_until_signal(settings: Settings) -> None:
    settle_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_channels(settings, stop)

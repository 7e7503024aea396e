"""`minga run`: start the configured channels and keep them running until told to stop."""

import asyncio
import logging
import signal

from telegram.error import InvalidToken, NetworkError

from bot.app import Runtime
from bot.channels.telegram import TelegramChannel
from bot.config import ConfigError, Settings
from bot.scheduler import Scheduler
from bot.sending.sender import Sender
from handlers.clock import Clock

log = logging.getLogger(__name__)


def telegram_channel(runtime: Runtime) -> TelegramChannel:
    settings = runtime.settings
    return TelegramChannel(
        settings.telegram, runtime.dispatcher, runtime.catalog, runtime.media_dir,
        staff_ids=settings.staff.telegram_ids, staff_language=settings.lab.default_language,
        group_chat_id=settings.staff.group_chat_id,
    )  # fmt: skip


async def run_channels(
    settings: Settings, stop: asyncio.Event, *, clock: Clock | None = None
) -> None:
    """Run until `stop` is set. Built exactly this way by `minga run` and by the tests."""
    if settings.telegram.token is None:
        raise ConfigError(
            "no channel to run: set telegram.token in the config file or the environment "
            "variable MINGA_TELEGRAM__TOKEN (to try Minga without a token: minga chat)"
        )
    runtime = await Runtime.open(settings, clock=clock)
    try:
        channel = telegram_channel(runtime)
        application = channel.build_application()
        try:
            await application.initialize()
        except InvalidToken:
            raise ConfigError("Telegram refused telegram.token: check it with BotFather") from None
        except NetworkError as error:
            raise ConfigError(
                f"could not reach Telegram at telegram.base_url ({settings.telegram.base_url}): "
                f"{error}"
            ) from None
        try:
            await application.start()
            await channel.start_polling(application)
            log.info("telegram channel running as @%s", application.bot.username)
            await run_outbound(runtime, {"telegram": channel.sender}, stop)
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
    finally:
        await runtime.close()


async def run_outbound(runtime: Runtime, senders: dict[str, Sender], stop: asyncio.Event) -> None:
    """The outbox worker and the reminder scheduler, until `stop` is set."""
    worker = runtime.outbox_worker(senders)
    runtime.dispatcher.on_rows_written = worker.notify
    scheduler = Scheduler(runtime.database, runtime.settings.flow, runtime.clock, worker.notify)
    worker_task = asyncio.create_task(worker.run(stop), name="minga-outbox")
    try:
        await scheduler.start()
        await asyncio.wait(
            [worker_task, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        if worker_task.done() and not stop.is_set():
            # A bot that can no longer send must not look alive: stop, so that the process
            # supervisor starts it again (the outbox resumes where it stopped).
            worker_task.result()  # raises what stopped it
            raise RuntimeError("the outbox worker stopped unexpectedly")
    finally:
        scheduler.shutdown()
        stop.set()
        await worker_task


async def run_until_signal(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_channels(settings, stop)

"""The Telegram adapter: the python-telegram-bot Application, each update through the
dispatcher, and the transport the sender drives."""

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.queue import InboundQueue
from bot.channels.telegram import CHANNEL
from bot.channels.telegram.files import Downloads
from bot.channels.telegram.http import AiohttpRequest
from bot.channels.telegram.inbound import to_inbound
from bot.channels.telegram.menus import register_commands
from bot.channels.telegram.polling import KeepingRequest
from bot.channels.telegram.render import OutgoingMessage, render_all
from bot.channels.telegram.send import api_call, as_sender_errors, call, make_sender
from bot.channels.telegram.updates import RawUpdate, RawUpdatesBot
from bot.config import TelegramSettings
from bot.sending.pacer import Lane
from handlers.engine.catalog import Catalog
from handlers.engine.dispatcher import Arrival, Dispatcher
from handlers.engine.messages import Inbound, Reply

log = logging.getLogger(__name__)

# Minga's PTB application, as build_application makes it: PTB's bot handing updates on as
# their JSON (updates.py), PTB's default context, its per-user/chat/bot data unused (dicts),
# and no JobQueue (bot/scheduler.py schedules).
MingaApplication = Application[
    RawUpdatesBot, ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
]

# Private chats are residents'; groups are the staff's (the handlers check who writes).
CHAT_TYPES = frozenset((ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP))
ALLOWED_UPDATES = ["message", "callback_query"]
# PTB makes a task of every update at once and bounds how many run (256 by default). With a
# bound, a crowd's queued messages held every place, each waiting for its person's earlier
# reply, and a new person's first message waited behind all of them before it even reached
# the flood control. Every update starts at once instead: the flood control drops a crowd's
# excess on arrival, the per-person lock keeps order, and the pacer shares the sending fairly.
MAX_CONCURRENT_UPDATES = 1_000_000


class TelegramChannel:
    def __init__(
        self,
        settings: TelegramSettings,
        dispatcher: Dispatcher,
        catalog: Catalog,
        media_dir: Path,
        *,
        staff_language: str = "es",
    ) -> None:
        self._settings = settings
        self._staff_language = staff_language
        self._dispatcher = dispatcher
        self._catalog = catalog
        self._media_dir = media_dir
        # Every Bot API call we make waits for one of these slots: see max_connections.
        self._slots = asyncio.Semaphore(settings.max_connections)
        self._downloads = Downloads(self._slots, media_dir)
        self._bot: RawUpdatesBot | None = None
        self._requests: tuple[AiohttpRequest, ...] = ()
        self.sender = make_sender(self, settings)
        self._kept: InboundQueue | None = None
        self._polled: KeepingRequest | None = None

    @property
    def kept(self) -> InboundQueue | None:
        """Where updates are kept from before Telegram is answered until handled: before the
        webhook's 200, or before polling's next getUpdates confirms them."""
        return self._kept

    @kept.setter
    def kept(self, queue: InboundQueue | None) -> None:
        self._kept = queue
        if self._polled is not None:
            self._polled.kept = queue

    def build_application(self) -> MingaApplication:
        if self._settings.token is None:
            raise ValueError("telegram.token is not set")
        self._polled = KeepingRequest(1)
        self._polled.kept = self._kept
        self._requests = (AiohttpRequest(self._settings.max_connections), self._polled)
        bot = RawUpdatesBot(
            self._settings.token.get_secret_value(),
            base_url=self._settings.base_url,
            base_file_url=self._settings.base_file_url,
            # aiohttp, not PTB's default httpx: a fifth of the CPU per call (http.py)
            request=self._requests[0],
            get_updates_request=self._requests[1],
        )
        application = (
            Application.builder()
            .bot(bot)
            # Updates run concurrently; the dispatcher's per-conversation lock keeps each
            # resident's messages in order. No bound (see MAX_CONCURRENT_UPDATES).
            .concurrent_updates(MAX_CONCURRENT_UPDATES)
            .job_queue(None)  # Minga schedules with its own scheduler (bot/scheduler.py)
            .build()
        )
        # Updates come as their JSON (updates.py): polled, posted to the webhook, kept.
        application.add_handler(TypeHandler(RawUpdate, self.on_update))
        self._bot = bot
        self._dispatcher.attach(CHANNEL, reopen=self.reopen)
        return application

    async def _register_commands(self, application: MingaApplication) -> None:
        """The menus, for the team as it stands at start (one added later sees the staff
        commands in their menu after the next start; typed, they work at once)."""
        team = await self._dispatcher.team.current()
        await register_commands(
            application.bot,
            self._catalog,
            staff_ids=team.telegram_ids,
            staff_language=self._staff_language,
            group_chat_id=team.group,
        )

    async def close_connections(self) -> None:
        """Close the HTTP sessions of an application whose initialize() failed: PTB's
        shutdown() skips a bot that never finished initializing, and leaves them open."""
        for request in self._requests:
            await request.shutdown()

    async def start_webhook(self, application: MingaApplication, url: str, secret: str) -> None:
        """Register the command menus, then ask Telegram to post updates to `url`."""
        await self._register_commands(application)
        await application.bot.set_webhook(url, secret_token=secret,
                                          allowed_updates=ALLOWED_UPDATES)  # fmt: skip

    async def start_polling(self, application: MingaApplication) -> None:
        """Register the command menus, then fetch updates (the application is initialized)."""
        await self._register_commands(application)
        assert application.updater is not None
        await application.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES,
            timeout=self._settings.poll_timeout_seconds,
            poll_interval=self._settings.poll_interval_seconds,
        )

    async def on_update(self, update: RawUpdate, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = await self._handle(update)
        await self._forget(update, message)

    async def _handle(self, update: RawUpdate) -> bool:
        """Hand the update to the dispatcher; False when it is nobody's conversation."""
        arrival = self._arrival(update)
        if arrival is None:
            return False
        kept = str(update.update_id) if self.kept is not None else None
        # No await before this call: the resident's place in line is taken in arrival order.
        await self._dispatcher.handle_prepared(
            CHANNEL, arrival.user_key, arrival.prepare, arrival.deliver, kept
        )
        return True

    def reopen(self, body: str) -> Arrival | None:
        """A kept update, read again to be handled here (another worker received it)."""
        try:
            update = RawUpdate.of(json.loads(body))
        except ValueError:
            return None
        return None if update is None else self._arrival(update)

    def _arrival(self, update: RawUpdate) -> Arrival | None:
        """The update as the dispatcher takes it; None for what is no conversation's."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or user.get("is_bot") or chat.get("type") not in CHAT_TYPES:
            return None  # bots are never residents; channels are not conversations
        chat_id, private = chat.get("id"), chat.get("type") == ChatType.PRIVATE
        if not isinstance(chat_id, int) or not isinstance(user.get("id"), int):
            return None  # not an update Telegram sends
        team = self._dispatcher.team.last
        if not private and (team is None or chat_id != team.group):
            # `minga staff link-group` links a group without this; the id is still logged.
            log.info("update from group chat=%s, which is not the staff group", chat_id)

        async def prepare() -> Inbound | None:
            if update.callback_query is not None:
                await self._answer_button(update)
            inbound = await self.to_inbound(update)
            if inbound is not None and not private:
                inbound = replace(inbound, group=str(chat_id))  # the staff's group
            return inbound

        async def deliver(replies: Sequence[Reply]) -> None:
            outcome = await self.sender.deliver(str(chat_id), replies, Lane.REPLY)
            if outcome.status != "sent":
                log.warning("reply not delivered chat=%s: %s (%s)", chat_id, outcome.status,
                            outcome.error)  # fmt: skip

        return Arrival(str(user["id"]), prepare, deliver)

    async def _forget(self, update: RawUpdate, message: bool) -> None:
        """An update handled (its turn committed) is no longer kept (`message`: the dispatcher
        had it with its key)."""
        if self.kept is not None:
            await self.kept.handled(str(update.update_id), message=message)

    async def _answer_button(self, update: RawUpdate) -> None:
        """Stop the button's spinner; failing that is harmless."""
        assert update.callback_query is not None and self._bot is not None
        try:
            async with self._slots:
                await api_call(self._bot, "answerCallbackQuery",
                               {"callback_query_id": update.callback_query.get("id")})  # fmt: skip
        except TelegramError as error:
            log.info("could not answer callback update=%s: %s", update.update_id, error)

    async def to_inbound(self, update: RawUpdate) -> Inbound | None:
        """The update as the engine reads it (files fetched and kept on the way)."""
        return await to_inbound(update, self._downloads, self._bot)

    # -- the Transport the sender drives ---------------------------------------------------

    channel = CHANNEL

    def render(self, replies: Sequence[Reply]) -> list[OutgoingMessage]:
        return render_all(replies)

    async def send(self, recipient: str, message: OutgoingMessage, *, bulk: bool) -> None:
        """One Bot API call; Telegram's errors become the sender's."""
        assert self._bot is not None, "build_application() first"
        paid = bulk and self._settings.paid_broadcast
        with as_sender_errors():
            async with self._slots:
                await call(self._bot, int(recipient), message, self._media_dir, paid=paid)

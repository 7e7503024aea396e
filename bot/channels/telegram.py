"""The Telegram channel: python-telegram-bot updates in, rendered replies out."""

import asyncio
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import (
    Audio,
    Bot,
    BotCommand,
    BotCommandScopeChat,
    Document,
    InputFile,
    Message,
    PhotoSize,
    Update,
    Voice,
)
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot.channels.files import (
    FILE_FAILED,
    FILE_TOO_BIG,
    NOT_IMAGE,
    PHOTO_FAILED,
    PHOTO_TOO_BIG,
    VOICE_FAILED,
    VOICE_TOO_BIG,
    audio_suffix,
    image_suffix,
)
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_render import OutgoingMessage, render_all
from bot.channels.text import argument_of, command_of
from bot.config import TelegramSettings
from bot.sending.errors import Blocked, RateLimited, Rejected, Transient
from bot.sending.pacer import Gate, Lane, Pacer
from bot.sending.sender import RetryPolicy, Sender
from handlers.account.commands import COMMAND_MENU, STAFF_MENU
from handlers.engine.catalog import Catalog
from handlers.engine.dispatcher import Dispatcher
from handlers.engine.messages import Inbound, Location, Media, Reply
from storage.private import write_private

log = logging.getLogger(__name__)

# Opt in now to python-telegram-bot 23's durations (timedelta, not int), which _seconds reads.
os.environ.setdefault("PTB_TIMEDELTA", "1")
# PTB asks to use send_message instead of do_api_request("sendMessage"): see _call for why not.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

CHANNEL = "telegram"
# Private chats are residents'; groups are the staff's (the handlers check who writes).
CHAT_TYPES = frozenset((ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP))
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile serves files up to 20 MB
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # bots send files up to 50 MB
# PTB makes a task of every update at once and bounds how many run (256 by default). With a
# bound, a crowd's queued messages held every place, each waiting for its person's earlier
# reply, and a new person's first message waited behind all of them before it even reached
# the flood control. Every update starts at once instead: the flood control drops a crowd's
# excess on arrival, the per-person lock keeps order, and the pacer shares the sending fairly.
MAX_CONCURRENT_UPDATES = 1_000_000
# A file (not a photo) is fetched only to see whether it is a photo sent "as a file".
MAX_FILE_AS_PHOTO_BYTES = 10 * 1024 * 1024

Attachment = PhotoSize | Voice | Audio | Document

# Message kinds we cannot take, in the order they are checked (an animation is also a document).
UNSUPPORTED_KINDS = (
    "sticker",
    "video_note",
    "video",
    "animation",
    "document",
    "contact",
    "poll",
)


async def wait_out(seconds: float) -> None:
    """Wait as long as Telegram's flood control asks (tests replace this)."""
    await asyncio.sleep(seconds)


def make_sender(transport: "TelegramChannel", settings: TelegramSettings) -> Sender:
    """Telegram's pace: one gate for replies and bulk at max_messages_per_second, or a second
    gate for bulk at paid_messages_per_second when paid broadcasts are on."""
    free = Gate(settings.max_messages_per_second)
    # The paid gate carries bulk only: no slots kept for replies there.
    paid = (
        Gate(settings.paid_messages_per_second, reply_reserve=0)
        if settings.paid_broadcast
        else None
    )
    policy = RetryPolicy(
        attempts=settings.send_attempts,
        backoff_seconds=settings.retry_backoff_seconds,
        bulk_seconds_per_chat=settings.bulk_seconds_per_chat,
    )
    return Sender(transport, Pacer(free, paid), policy, sleep=lambda s: wait_out(s))


def _seconds(delay: int | timedelta) -> float:
    """PTB gives retry_after as an int or, in newer releases, a timedelta."""
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


def _unsupported_kind(message: Message) -> str:
    return next((kind for kind in UNSUPPORTED_KINDS if getattr(message, kind, None)), "other")


class TelegramChannel:
    def __init__(
        self,
        settings: TelegramSettings,
        dispatcher: Dispatcher,
        catalog: Catalog,
        media_dir: Path,
        *,
        staff_ids: Sequence[int] = (),
        staff_language: str = "es",
        group_chat_id: int | None = None,
    ) -> None:
        self._settings = settings
        self._staff_ids = tuple(staff_ids)
        self._group_chat_id = group_chat_id
        self._staff_language = staff_language
        self._dispatcher = dispatcher
        self._catalog = catalog
        self._media_dir = media_dir
        # Every Bot API call we make waits for one of these slots: see max_connections.
        self._slots = asyncio.Semaphore(settings.max_connections)
        self._bot: Bot | None = None
        self._requests: tuple[AiohttpRequest, ...] = ()
        self.sender = make_sender(self, settings)

    def build_application(self) -> Application:
        if self._settings.token is None:
            raise ValueError("telegram.token is not set")
        self._requests = (AiohttpRequest(self._settings.max_connections), AiohttpRequest(1))
        application = (
            Application.builder()
            .token(self._settings.token.get_secret_value())
            .base_url(self._settings.base_url)
            .base_file_url(self._settings.base_file_url)
            # Updates run concurrently; the dispatcher's per-conversation lock keeps each
            # resident's messages in order. No bound (see MAX_CONCURRENT_UPDATES).
            .concurrent_updates(MAX_CONCURRENT_UPDATES)
            # aiohttp, not PTB's default httpx: a fifth of the CPU per call (telegram_http.py)
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
            .job_queue(None)  # Minga schedules with its own scheduler (bot/scheduler.py)
            .build()
        )
        application.add_handler(TypeHandler(Update, self.on_update))
        self._bot = application.bot
        return application

    async def close_connections(self) -> None:
        """Close the HTTP sessions of an application whose initialize() failed: PTB's
        shutdown() skips a bot that never finished initializing, and leaves them open."""
        for request in self._requests:
            await request.shutdown()

    async def start_webhook(self, application: Application, url: str, secret: str) -> None:
        """Register the command menus, then ask Telegram to post updates to `url`."""
        await self._register_commands(application)
        await application.bot.set_webhook(url, secret_token=secret,
                                          allowed_updates=ALLOWED_UPDATES)  # fmt: skip

    async def start_polling(self, application: Application) -> None:
        """Register the command menus, then fetch updates (the application is initialized)."""
        await self._register_commands(application)
        assert application.updater is not None
        await application.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES,
            timeout=self._settings.poll_timeout_seconds,
            poll_interval=self._settings.poll_interval_seconds,
        )

    def _menu(self, language: str, commands: Sequence[tuple[str, str]]) -> list[BotCommand]:
        return [
            BotCommand(name, self._catalog.text(language, f"commands.{action}"))
            for name, action in commands
        ]

    async def _register_commands(self, application: Application) -> None:
        """The command menu in Spanish and English; the default (no language) is Spanish.
        The lab's team also see their own commands, in the lab's language."""
        for language, commands in COMMAND_MENU.items():
            menu = self._menu(language, commands)
            try:
                await application.bot.set_my_commands(menu, language_code=language)
                if language == "es":
                    await application.bot.set_my_commands(menu)
            except TelegramError as error:
                log.warning("could not register the command menu (%s): %s", language, error)
        language = self._staff_language
        staff_menu = self._menu(language, (*COMMAND_MENU[language], *STAFF_MENU[language]))
        menus = [(staff_id, staff_menu) for staff_id in self._staff_ids]
        if self._group_chat_id is not None:  # the group: only the team's commands
            menus.append((self._group_chat_id, self._menu(language, STAFF_MENU[language])))
        for chat_id, menu in menus:
            try:
                await application.bot.set_my_commands(menu, scope=BotCommandScopeChat(chat_id))
            except TelegramError as error:  # e.g. they never opened a chat with the bot
                log.info("no staff menu for chat %s: %s", chat_id, error)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or user.is_bot or chat.type not in CHAT_TYPES:
            return  # bots are never residents; channels are not conversations
        if chat.type != ChatType.PRIVATE and chat.id != self._group_chat_id:
            # How an installer finds the staff group's id (README, "Staff and their group").
            log.info("update from group chat=%s, which is not [staff] group_chat_id", chat.id)

        async def prepare() -> Inbound | None:
            if update.callback_query is not None:
                await self._answer_button(update)
            inbound = await self.to_inbound(update)
            if inbound is not None and chat.type != ChatType.PRIVATE:
                inbound = replace(inbound, group=str(chat.id))  # the staff's group
            return inbound

        async def deliver(replies: Sequence[Reply]) -> None:
            outcome = await self.sender.deliver(str(chat.id), replies, Lane.REPLY)
            if outcome.status != "sent":
                log.warning("reply not delivered chat=%s: %s (%s)", chat.id, outcome.status,
                            outcome.error)  # fmt: skip

        # No await before this call: the resident's place in line is taken in arrival order.
        await self._dispatcher.handle_prepared(CHANNEL, str(user.id), prepare, deliver)

    async def _answer_button(self, update: Update) -> None:
        """Stop the button's spinner; failing that is harmless."""
        assert update.callback_query is not None
        try:
            async with self._slots:
                await update.callback_query.answer()
        except TelegramError as error:
            log.info("could not answer callback update=%s: %s", update.update_id, error)

    async def to_inbound(self, update: Update) -> Inbound | None:
        user = update.effective_user
        assert user is not None
        base = {
            "channel": CHANNEL,
            "user_key": str(user.id),
            "external_id": str(update.update_id),
            "language_hint": user.language_code,
        }
        query = update.callback_query
        if query is not None:
            if not query.data:
                return None
            return Inbound(at=datetime.now(UTC), choice=query.data, **base)
        message = update.message
        if message is None:
            return None
        at = message.date
        if message.text is not None:
            command = command_of(message.text)
            if command is not None:
                argument = argument_of(message.text)
                return Inbound(at=at, command=command, argument=argument, **base)
            return Inbound(at=at, text=message.text, **base)
        if message.location is not None:
            point = message.location
            return Inbound(at=at, location=Location(point.latitude, point.longitude), **base)
        if message.photo:
            return self._received(await self._download_photo(message), at, base)
        if message.voice is not None or message.audio is not None:
            return self._received(await self._download_recording(message), at, base)
        if message.document is not None and message.animation is None:
            return self._received(await self._download_document(message), at, base)
        return Inbound(at=at, unsupported=_unsupported_kind(message), **base)

    @staticmethod
    def _received(kept: Media | str, at: datetime, base: dict[str, Any]) -> Inbound:
        """A kept file, or the name of why it was not kept ("photo_too_big", "not_image")."""
        if isinstance(kept, str):
            return Inbound(at=at, unsupported=kept, **base)
        return Inbound(at=at, media=kept, **base)

    async def _download_photo(self, message: Message) -> Media | str:
        """The largest size of the photo that Telegram lets bots fetch, checked to be one."""
        fitting = [p for p in message.photo if (p.file_size or 0) <= MAX_DOWNLOAD_BYTES]
        if not fitting:
            return PHOTO_TOO_BIG
        photo = max(fitting, key=lambda p: p.width * p.height)
        content = await self._fetch(message, photo)
        if content is None:
            return PHOTO_FAILED
        suffix = image_suffix(content)
        if suffix is None:
            return NOT_IMAGE
        return await self._keep(message, photo, "photo", content, suffix) or PHOTO_FAILED

    async def _download_recording(self, message: Message) -> Media | str:
        """A voice note or an audio file."""
        recording = message.voice or message.audio
        assert recording is not None
        if (recording.file_size or 0) > MAX_DOWNLOAD_BYTES:
            return VOICE_TOO_BIG
        content = await self._fetch(message, recording)
        if content is None:
            return VOICE_FAILED
        suffix = ".ogg" if message.voice is not None else audio_suffix(recording.mime_type)
        return await self._keep(message, recording, "voice", content, suffix) or VOICE_FAILED

    async def _download_document(self, message: Message) -> Media | str:
        """A file: taken as a photo when its bytes are an image (people send photos "as a
        file" to keep their quality), whatever its name or stated type says."""
        document = message.document
        assert document is not None
        if (document.file_size or 0) > MAX_FILE_AS_PHOTO_BYTES:
            return FILE_TOO_BIG
        content = await self._fetch(message, document)
        if content is None:
            return FILE_FAILED
        suffix = image_suffix(content)
        if suffix is None:
            return NOT_IMAGE
        return await self._keep(message, document, "photo", content, suffix) or FILE_FAILED

    async def _fetch(self, message: Message, attachment: Attachment) -> bytes | None:
        """The file's bytes (getFile), or None when Telegram would not give them."""
        try:
            async with self._slots:
                file = await attachment.get_file()
                content = bytes(await file.download_as_bytearray())
        except TelegramError as error:
            log.warning("download failed message=%s: %s", message.message_id, error)
            return None
        if len(content) > MAX_DOWNLOAD_BYTES:
            return None
        return content

    async def _keep(
        self, message: Message, attachment: Attachment, kind: str, content: bytes, suffix: str
    ) -> Media | None:
        """Keep a file the person sent as media_dir/telegram/<unique id><suffix>, owner-only."""
        relative = Path(CHANNEL) / f"{attachment.file_unique_id}{suffix}"
        try:
            await asyncio.to_thread(write_private, self._media_dir / relative, content)
        except OSError as error:
            log.error("could not keep %s message=%s: %s", kind, message.message_id, error)
            return None
        return Media(kind, relative.as_posix(), attachment.file_unique_id)

    # -- the Transport the sender drives ---------------------------------------------------

    channel = CHANNEL

    def render(self, replies: Sequence[Reply]) -> list[OutgoingMessage]:
        return render_all(replies)

    async def send(self, recipient: str, message: OutgoingMessage, *, bulk: bool) -> None:
        """One Bot API call; Telegram's errors become the sender's."""
        assert self._bot is not None, "build_application() first"
        extra = {"allow_paid_broadcast": True} if bulk and self._settings.paid_broadcast else {}
        try:
            async with self._slots:
                await self._call(self._bot, int(recipient), message, extra)
        except OSError as error:  # a stored photo or file that is gone
            raise Rejected(str(error)) from None
        except RetryAfter as error:
            raise RateLimited(_seconds(error.retry_after)) from None
        except Forbidden as error:
            raise Blocked(str(error)) from None
        except (BadRequest, InvalidToken) as error:
            raise Rejected(str(error)) from None
        except NetworkError as error:  # 5xx, time-outs, connection errors
            raise Transient(str(error)) from None
        except TelegramError as error:
            raise Rejected(str(error)) from None

    async def _call(self, bot: Bot, chat_id: int, message: OutgoingMessage, extra: dict) -> None:
        if message.picture is not None:
            picture = message.picture
            content = picture.content
            if content is None:  # a resident's stored photo
                assert picture.path is not None
                content = await asyncio.to_thread((self._media_dir / picture.path).read_bytes)
            await bot.send_photo(
                chat_id,
                InputFile(content, filename=picture.filename),
                caption=message.text or None,
                reply_markup=message.markup,
                **extra,
            )
        elif message.document is not None:
            document = message.document
            if document.size > MAX_UPLOAD_BYTES:
                raise Rejected(f"file of {document.size} bytes is over Telegram's upload limit")
            content = document.content
            if document.path:  # an export written to disk: at most 50 MB, checked above
                content = await asyncio.to_thread(Path(document.path).read_bytes)
            elif document.stored:  # a resident's voice note (at most 20 MB, as downloaded)
                content = await asyncio.to_thread((self._media_dir / document.stored).read_bytes)
            await bot.send_document(
                chat_id,
                InputFile(content, filename=document.filename),
                caption=message.text or None,
                reply_markup=message.markup,
                **extra,
            )
        elif message.venue is not None:
            venue = message.venue
            await bot.send_venue(
                chat_id,
                latitude=venue.latitude,
                longitude=venue.longitude,
                title=venue.title,
                address=venue.address,
                reply_markup=message.markup,
                **extra,
            )
        else:
            # The raw call: PTB's send_message would build a Message from Telegram's answer,
            # which Minga never reads (a tenth of the bot's CPU in the paid lane's profile).
            parameters = {"chat_id": chat_id, "text": message.text, **extra}
            if message.markup is not None:
                parameters["reply_markup"] = message.markup
            await bot.do_api_request("sendMessage", api_kwargs=parameters)

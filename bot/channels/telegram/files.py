"""The files residents send on Telegram: fetched (getFile), checked, kept under media_dir."""

import asyncio
import logging
from pathlib import Path

from telegram import Audio, Document, Message, PhotoSize, Voice
from telegram.error import TelegramError

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
from bot.channels.telegram import CHANNEL
from handlers.engine.messages import Media
from storage.private import write_private

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile serves files up to 20 MB
# A file (not a photo) is fetched only to see whether it is a photo sent "as a file".
MAX_FILE_AS_PHOTO_BYTES = 10 * 1024 * 1024

Attachment = PhotoSize | Voice | Audio | Document


class Downloads:
    """Fetches a message's photo, recording or file; each call waits for one of `slots`."""

    def __init__(self, slots: asyncio.Semaphore, media_dir: Path) -> None:
        self._slots = slots
        self._media_dir = media_dir

    async def photo(self, message: Message) -> Media | str:
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

    async def recording(self, message: Message) -> Media | str:
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

    async def document(self, message: Message) -> Media | str:
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

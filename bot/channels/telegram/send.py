"""Sending on Telegram: the pace (gates and retries), one Bot API call per message, and
Telegram's errors as the sender's."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from telegram import Bot, InputFile
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.channels.telegram.http import AiohttpRequest, JsonParameters
from bot.channels.telegram.render import OutgoingMessage, markup_json
from bot.config import TelegramSettings
from bot.sending.errors import Blocked, RateLimited, Rejected, Transient
from bot.sending.pacer import Gate, Pacer
from bot.sending.sender import RetryPolicy, Sender, Transport
from handlers.engine.messages import Document, Picture

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # bots send files up to 50 MB


async def wait_out(seconds: float) -> None:
    """Wait as long as Telegram's flood control asks (tests replace this)."""
    await asyncio.sleep(seconds)


def make_sender(transport: Transport, settings: TelegramSettings) -> Sender:
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


@contextmanager
def as_sender_errors() -> Iterator[None]:
    """Telegram's errors (and a stored file that is gone) raised as the sender's."""
    try:
        yield
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


async def call(
    bot: Bot, chat_id: int, message: OutgoingMessage, media_dir: Path, *, paid: bool
) -> None:
    """The one Bot API call that sends `message`: a photo, a file, a pin or a text. `paid`:
    a bulk message sent as a paid broadcast (beyond the free 30 a second)."""
    # PTB leaves a None parameter out of the call: allow_paid_broadcast is sent only if paid.
    paid_broadcast = True if paid else None
    if message.picture is not None:
        await bot.send_photo(
            chat_id,
            InputFile(await _picture_bytes(message.picture, media_dir),
                      filename=message.picture.filename),
            caption=message.text or None,
            reply_markup=message.markup,
            allow_paid_broadcast=paid_broadcast,
        )  # fmt: skip
    elif message.document is not None:
        await bot.send_document(
            chat_id,
            InputFile(await _document_bytes(message.document, media_dir),
                      filename=message.document.filename),
            caption=message.text or None,
            reply_markup=message.markup,
            allow_paid_broadcast=paid_broadcast,
        )  # fmt: skip
    elif message.venue is not None:
        venue = message.venue
        await bot.send_venue(
            chat_id,
            latitude=venue.latitude,
            longitude=venue.longitude,
            title=venue.title,
            address=venue.address,
            reply_markup=message.markup,
            allow_paid_broadcast=paid_broadcast,
        )
    else:
        await _send_text(bot, chat_id, message, paid=paid)


async def _picture_bytes(picture: Picture, media_dir: Path) -> bytes:
    """A picture made now, or a resident's stored photo read from the media folder."""
    if picture.content is not None:
        return picture.content
    assert picture.path is not None
    return await asyncio.to_thread((media_dir / picture.path).read_bytes)


async def _document_bytes(document: Document, media_dir: Path) -> bytes:
    """A file's bytes, refused (before reading) when over Telegram's upload limit."""
    if document.size > MAX_UPLOAD_BYTES:
        raise Rejected(f"file of {document.size} bytes is over Telegram's upload limit")
    if document.path:  # an export written to disk: at most 50 MB, checked above
        return await asyncio.to_thread(Path(document.path).read_bytes)
    if document.stored:  # a resident's voice note (at most 20 MB, as downloaded)
        return await asyncio.to_thread((media_dir / document.stored).read_bytes)
    return document.content


async def _send_text(bot: Bot, chat_id: int, message: OutgoingMessage, *, paid: bool) -> None:
    """The raw call: PTB's send_message would build a Message from Telegram's answer, which
    Minga never reads (a tenth of the bot's CPU in the paid lane's profile)."""
    parameters: dict[str, object] = {"chat_id": chat_id, "text": message.text}
    if paid:
        parameters["allow_paid_broadcast"] = True
    if message.markup is not None:
        parameters["reply_markup"] = markup_json(message.markup)
    await api_call(bot, "sendMessage", parameters)


async def api_call(bot: Bot, method: str, parameters: dict[str, object]) -> None:
    """A Bot API call whose answer Minga does not read, its parameters in JSON form already:
    through the bot's own request object (its time-outs, PTB's errors), without PTB's
    conversion of each parameter (see JsonParameters)."""
    request = bot.request
    if isinstance(request, AiohttpRequest):
        await request.post(f"{bot.base_url}/{method}", JsonParameters(parameters).as_request_data())
    else:  # another HTTP client (PTB's httpx): PTB's own way
        await bot.do_api_request(method, api_kwargs=parameters)

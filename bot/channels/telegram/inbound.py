"""A python-telegram-bot Update -> the engine's Inbound (a text, a command, a button, a
place, a file, or the kind of message we cannot take)."""

from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

from telegram import Message, Update

from bot.channels.telegram import CHANNEL
from bot.channels.telegram.files import Downloads
from bot.channels.text import argument_of, command_of
from handlers.engine.messages import Inbound, Location, Media

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


def _unsupported_kind(message: Message) -> str:
    return next((kind for kind in UNSUPPORTED_KINDS if getattr(message, kind, None)), "other")


async def to_inbound(update: Update, downloads: Downloads) -> Inbound | None:
    """The update as the engine reads it; None for an update with nothing to answer."""
    user = update.effective_user
    assert user is not None
    person = partial(
        Inbound, channel=CHANNEL, user_key=str(user.id), external_id=str(update.update_id),
        language_hint=user.language_code, username=user.username,
    )  # fmt: skip
    query = update.callback_query
    if query is not None:
        if not query.data:
            return None
        return person(at=datetime.now(UTC), choice=query.data)
    message = update.message
    if message is None:
        return None
    said = person(at=message.date)  # no payload yet: each kind below sets its own
    if message.text is not None:
        command = command_of(message.text)
        if command is not None:
            return replace(said, command=command, argument=argument_of(message.text))
        return replace(said, text=message.text)
    if message.location is not None:
        point = message.location
        return replace(said, location=Location(point.latitude, point.longitude))
    if message.photo:
        return _received(await downloads.photo(message), said)
    if message.voice is not None or message.audio is not None:
        return _received(await downloads.recording(message), said)
    if message.document is not None and message.animation is None:
        return _received(await downloads.document(message), said)
    return replace(said, unsupported=_unsupported_kind(message))


def _received(kept: Media | str, said: Inbound) -> Inbound:
    """A kept file, or the name of why it was not kept ("photo_too_big", "not_image")."""
    if isinstance(kept, str):
        return replace(said, unsupported=kept)
    return replace(said, media=kept)

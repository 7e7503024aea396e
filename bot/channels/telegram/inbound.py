"""A Telegram update (its JSON, `RawUpdate`) -> the engine's Inbound (a text, a command, a
button, a place, a file, or the kind of message we cannot take)."""

from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from telegram.ext import ExtBot

from bot.channels.telegram import CHANNEL
from bot.channels.telegram.files import Downloads
from bot.channels.telegram.updates import Json, RawUpdate, as_message
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


def _unsupported_kind(message: Json) -> str:
    return next((kind for kind in UNSUPPORTED_KINDS if message.get(kind)), "other")


def _point(location: Any) -> Location | None:
    """A place's coordinates (None for a malformed one)."""
    if not isinstance(location, dict):
        return None
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return None
    return Location(float(latitude), float(longitude))


async def to_inbound(
    update: RawUpdate, downloads: Downloads, bot: ExtBot[None] | None = None
) -> Inbound | None:
    """The update as the engine reads it; None for an update with nothing to answer. `bot`
    fetches a message's file (PTB's Message is made for it)."""
    user = update.effective_user
    assert user is not None
    language, username = user.get("language_code"), user.get("username")
    person = partial(
        Inbound, channel=CHANNEL, user_key=str(user["id"]), external_id=str(update.update_id),
        language_hint=language if isinstance(language, str) else None,
        username=username if isinstance(username, str) else None,
    )  # fmt: skip
    query = update.callback_query
    if query is not None:
        data = query.get("data")
        if not data or not isinstance(data, str):
            return None
        return person(at=datetime.now(UTC), choice=data)
    message = update.message
    if message is None:
        return None
    said = person(at=datetime.fromtimestamp(message["date"], UTC))  # each kind sets its payload
    text = message.get("text")
    if isinstance(text, str):
        command = command_of(text)
        if command is not None:
            return replace(said, command=command, argument=argument_of(text))
        return replace(said, text=text)
    point = _point(message.get("location"))
    if point is not None:
        return replace(said, location=point)
    files = message.get("photo") or message.get("voice") or message.get("audio")
    if files or (message.get("document") and not message.get("animation")):
        return await _with_file(message, said, downloads, bot)
    return replace(said, unsupported=_unsupported_kind(message))


async def _with_file(
    data: Json, said: Inbound, downloads: Downloads, bot: ExtBot[None] | None
) -> Inbound:
    """A message with a photo, a recording or a file: fetched and kept (PTB's objects fetch)."""
    message = as_message(data, bot)
    if message.photo:
        return _received(await downloads.photo(message), said)
    if message.voice is not None or message.audio is not None:
        return _received(await downloads.recording(message), said)
    return _received(await downloads.document(message), said)


def _received(kept: Media | str, said: Inbound) -> Inbound:
    """A kept file, or the name of why it was not kept ("photo_too_big", "not_image")."""
    if isinstance(kept, str):
        return replace(said, unsupported=kept)
    return replace(said, media=kept)

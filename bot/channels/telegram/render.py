"""Replies -> Telegram messages, within Telegram's limits. User text goes without parse mode."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.channels.text import split_text as text_split
from handlers.engine.buttons import MAX_BYTES, fits, is_back
from handlers.engine.messages import Choice, Document, Picture, Reply, Venue, coalesce

MAX_TEXT = 4096  # characters in one message
MAX_CAPTION = 1024  # characters in a document's caption
SHORT_LABEL = 16  # labels this short go two to a row
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One Bot API call: a text (sendMessage), a file or a picture with a caption
    (sendDocument, sendPhoto) or a map pin (sendVenue)."""

    text: str
    markup: Markup | None = None
    venue: Venue | None = None
    document: Document | None = None
    picture: Picture | None = None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long text into Telegram messages (at a line break or space near the limit)."""
    return text_split(text, limit)


def _rows(choices: Sequence[Choice]) -> list[list[Choice]]:
    """Short labels two to a row; "back"-style last buttons on a row of their own."""
    main = [c for c in choices if not is_back(c.id)]
    tail = [c for c in choices if is_back(c.id)]
    width = (
        2
        if len(main) > 3 and all(len(c.label) <= SHORT_LABEL and not c.detail for c in main)
        else 1
    )
    rows = [main[i : i + width] for i in range(0, len(main), width)]
    return rows + [[c] for c in tail]


def _callback_data(choice: Choice) -> str:
    if not fits(choice.id):  # Telegram's callback_data: MAX_BYTES at most
        raise ValueError(f"button id longer than {MAX_BYTES} bytes: {choice.id!r}")
    return choice.id


def _label(choice: Choice) -> str:
    """A button's text: the label, and its detail (an event's day) after it."""
    return f"{choice.label} · {choice.detail}" if choice.detail else choice.label


def markup_for(reply: Reply) -> Markup | None:
    if reply.location_button:
        # Only a reply keyboard can ask for the location; its other buttons send their label,
        # which the engine matches back to the option.
        keyboard = [[KeyboardButton(reply.location_button, request_location=True)]]
        keyboard += [[KeyboardButton(c.label) for c in row] for row in _rows(reply.choices)]
        return ReplyKeyboardMarkup(keyboard, one_time_keyboard=True, resize_keyboard=True)
    if reply.choices:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(_label(c), callback_data=_callback_data(c)) for c in row]
                for row in _rows(reply.choices)
            ]
        )
    return None


def _texts(text: str, markup: Markup | None) -> list[OutgoingMessage]:
    chunks = split_text(text)
    last = len(chunks) - 1
    return [OutgoingMessage(chunk, markup if i == last else None) for i, chunk in enumerate(chunks)]


def render(reply: Reply) -> list[OutgoingMessage]:
    markup = markup_for(reply)
    if reply.document is not None or reply.picture is not None:
        attached = partial(OutgoingMessage, document=reply.document, picture=reply.picture)
        if len(reply.text) <= MAX_CAPTION:
            messages = [attached(reply.text, markup)]
        else:  # too long for a caption: the text (with the buttons), then the file alone
            messages = [*_texts(reply.text, markup), attached("")]
    elif reply.text or reply.venue is None:
        messages = _texts(reply.text, markup)
    else:  # only a pin: it carries the buttons
        return [OutgoingMessage("", markup, venue=reply.venue)]
    if reply.venue is not None:
        messages.append(OutgoingMessage("", venue=reply.venue))
    return messages


def render_all(replies: Sequence[Reply]) -> list[OutgoingMessage]:
    return [message for reply in coalesce(list(replies)) for message in render(reply)]

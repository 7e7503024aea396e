"""Replies -> WhatsApp messages, within what the Graph API accepts: nothing it would refuse
with a 400 for a length or a count. Text is sent as plain text (WhatsApp's *bold* markers in
what a resident wrote are shown as written: they are never interpreted as our formatting)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.channels.text import one_line, shorten, split_text
from handlers.engine.messages import Choice, Reply, Venue, coalesce

MAX_TEXT = 4096  # a text message's body
MAX_INTERACTIVE_BODY = 1024  # the body of reply buttons and of a location request
MAX_LIST_BODY = 4096
MAX_CAPTION = 1024  # a document's or an image's caption
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_ROWS = 10
MAX_LIST_BUTTON = 20  # the label of the button that opens the list
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_PLACE_TEXT = 1000  # a location message's name and address
MAX_TEMPLATE_PARAMETER = 1000  # one line, no tabs: Meta refuses line breaks in parameters


@dataclass(frozen=True, slots=True)
class Words:
    """The few words rendering adds itself, in the resident's language (from the catalog)."""

    choose: str = "Opciones"  # the button that opens a list
    numbered_hint: str = "Responda con el número de su opción."
    or_choose: str = "O elija una opción:"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file to upload before the message that carries it (its id goes in the message)."""

    filename: str
    mime_type: str
    content: bytes = b""
    path: str | None = None  # a file already written (an export)
    stored: str | None = None  # a file under the media folder (a photo, a voice note)


@dataclass(frozen=True, slots=True)
class WhatsAppMessage:
    """One Graph API message: its type and that type's object (without the recipient)."""

    body: dict[str, Any]
    upload: Upload | None = None
    template: bool = False
    numbered: tuple[Choice, ...] = field(default=())  # choices offered as numbered text

    @property
    def kind(self) -> str:
        return str(self.body["type"])


def text_message(text: str) -> WhatsAppMessage:
    return WhatsAppMessage({"type": "text", "text": {"body": text, "preview_url": False}})


def _texts(text: str, last_limit: int) -> tuple[list[WhatsAppMessage], str]:
    """Text messages for all but the end of `text`, and that end (within `last_limit`), which
    goes in the interactive message's body."""
    chunks = split_text(text, MAX_TEXT)
    last = chunks.pop()
    if len(last) > last_limit:
        *more, last = split_text(last, last_limit)
        chunks += more
    return [text_message(chunk) for chunk in chunks if chunk], last


def button_titles(choices: Sequence[Choice]) -> list[str] | None:
    """Titles for reply buttons when every label fits whole; None when one would be cut
    ("Dejar de recibir no…" says nothing a person can act on): then a list shows them all,
    each row with its full label below a title cut at a word. Two alike go as a list too."""
    titles = [" ".join(c.label.split()) for c in choices]
    fit = all(len(title) <= MAX_BUTTON_TITLE for title in titles)
    return titles if fit and len(set(titles)) == len(titles) else None  # titles must differ


def _buttons(body: str, choices: Sequence[Choice], titles: list[str]) -> WhatsAppMessage:
    return WhatsAppMessage({"type": "interactive", "interactive": {
        "type": "button",
        "body": {"text": body},
        "action": {"buttons": [{"type": "reply", "reply": {"id": _id(c, MAX_BUTTON_ID),
                                                           "title": title}}
                               for c, title in zip(choices, titles, strict=True)]},
    }})  # fmt: skip


def _row(choice: Choice) -> dict[str, str]:
    """A list row: the label as the title, and below it the detail (an event's day) and the
    label in full where the title had to cut it."""
    row = {"id": _id(choice, MAX_ROW_ID), "title": shorten(choice.label, MAX_ROW_TITLE)}
    cut = len(" ".join(choice.label.split())) > MAX_ROW_TITLE
    below = " · ".join(part for part in (choice.detail, choice.label if cut else "") if part)
    if below:
        row["description"] = shorten(below, MAX_ROW_DESCRIPTION)
    return row


def _list(body: str, choices: Sequence[Choice], words: Words) -> WhatsAppMessage:
    # One row (an offered idea's "join"): the button that opens it says what it is.
    opener = choices[0].label if len(choices) == 1 else words.choose
    return WhatsAppMessage({"type": "interactive", "interactive": {
        "type": "list",
        "body": {"text": body},
        "action": {"button": shorten(opener, MAX_LIST_BUTTON),
                   "sections": [{"rows": [_row(c) for c in choices]}]},
    }})  # fmt: skip


def _id(choice: Choice, limit: int) -> str:
    if len(choice.id) > limit:
        raise ValueError(f"button id longer than {limit} characters: {choice.id!r}")
    return choice.id


def _numbered(text: str, choices: Sequence[Choice], words: Words) -> list[WhatsAppMessage]:
    """More choices than a list holds: numbered lines, answered with the number."""
    lines = [" · ".join(filter(None, (f"{n}. {c.label}", c.detail)))
             for n, c in enumerate(choices, start=1)]  # fmt: skip
    full = "\n\n".join(part for part in (text, "\n".join(lines), words.numbered_hint) if part)
    messages = [text_message(chunk) for chunk in split_text(full, MAX_TEXT)]
    last = messages[-1]
    messages[-1] = WhatsAppMessage(last.body, numbered=tuple(choices))
    return messages


def _again(text: str, choices_text: str | None, words: Words) -> str:
    """The body of choices sent apart from their question: what they answer, never only
    "choose an option" (a person may see this message alone)."""
    if choices_text:
        return choices_text
    question = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not question:
        return words.or_choose
    return f"{shorten(question, MAX_INTERACTIVE_BODY // 2)}\n{words.or_choose}"


def _asking(
    text: str, choices: Sequence[Choice], words: Words, choices_text: str | None = None
) -> list[WhatsAppMessage]:
    """The text with its choices, in the richest form that holds them."""
    if len(choices) > MAX_LIST_ROWS:
        return _numbered(text or _again(text, choices_text, words), choices, words)
    titles = None
    if len(choices) <= MAX_BUTTONS and not any(c.detail for c in choices):
        titles = button_titles(choices)  # a detail (an event's day) needs a list row
    limit = MAX_INTERACTIVE_BODY if titles is not None else MAX_LIST_BODY
    messages, body = _texts(text, limit)
    body = body or _again(text, choices_text, words)  # an interactive message needs a body
    if titles is not None:
        return [*messages, _buttons(body, choices, titles)]
    return [*messages, _list(body, choices, words)]


def _location_request(
    text: str, choices: Sequence[Choice], words: Words, choices_text: str | None
) -> list[WhatsAppMessage]:
    """WhatsApp's "send location" button, then the other answers as their own buttons, in a
    message that says again what they answer."""
    messages, body = _texts(text, MAX_INTERACTIVE_BODY)
    messages.append(WhatsAppMessage({"type": "interactive", "interactive": {
        "type": "location_request_message",
        "body": {"text": body or _again(text, choices_text, words)},
        "action": {"name": "send_location"},
    }}))  # fmt: skip
    if choices:
        messages += _asking(_again(text, choices_text, words), choices, words)
    return messages


def location_message(venue: Venue) -> WhatsAppMessage:
    place: dict[str, float | str] = {"latitude": venue.latitude, "longitude": venue.longitude}
    if venue.title:
        place["name"] = shorten(venue.title, MAX_PLACE_TEXT)
    if venue.address:
        place["address"] = shorten(venue.address, MAX_PLACE_TEXT)
    return WhatsAppMessage({"type": "location", "location": place})


def _file(reply: Reply, caption: str) -> WhatsAppMessage:
    if reply.picture is not None:
        picture = reply.picture
        upload = Upload(picture.filename, "image/jpeg" if picture.filename.endswith(".jpg")
                        else "image/png", picture.content or b"", stored=picture.path)  # fmt: skip
        kind, fields = "image", {}
    else:
        assert reply.document is not None
        document = reply.document
        upload = Upload(document.filename, document.mime_type, document.content,
                        path=document.path, stored=document.stored)  # fmt: skip
        kind, fields = "document", {"filename": document.filename}
    if caption:
        fields["caption"] = caption
    return WhatsAppMessage({"type": kind, kind: fields}, upload=upload)


def render(reply: Reply, words: Words) -> list[WhatsAppMessage]:
    has_file = reply.document is not None or reply.picture is not None
    asks = bool(reply.choices) or reply.location_button is not None
    if has_file and not asks and len(reply.text) <= MAX_CAPTION:
        messages = [_file(reply, reply.text)]
    else:
        text = reply.text
        if not text and reply.venue is not None and asks:
            text = reply.venue.title  # an interactive message needs a body
        if reply.location_button is not None:
            messages = _location_request(text, reply.choices, words, reply.choices_text)
        elif reply.choices:
            messages = _asking(text, reply.choices, words, reply.choices_text)
        else:
            messages = [text_message(chunk) for chunk in split_text(text, MAX_TEXT) if chunk]
        if has_file:
            messages.append(_file(reply, ""))
    if reply.venue is not None:
        messages.append(location_message(reply.venue))
    return messages


def render_all(replies: Sequence[Reply], words: Words) -> list[WhatsAppMessage]:
    return [message for reply in coalesce(list(replies)) for message in render(reply, words)]


def template_message(name: str, language: str, parameters: Sequence[str]) -> WhatsAppMessage:
    """An approved template with its body's placeholders filled, in order."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        values = [{"type": "text", "text": shorten(one_line(p), MAX_TEMPLATE_PARAMETER) or "-"}
                  for p in parameters]  # fmt: skip
        template["components"] = [{"type": "body", "parameters": values}]
    return WhatsAppMessage({"type": "template", "template": template}, template=True)

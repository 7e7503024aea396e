"""A WhatsApp webhook body, read: the messages people sent, the statuses of what we sent, and
errors Meta reports. Pure functions over the JSON; nothing here does I/O.

A body may batch many entries, each with many changes, each with many messages and statuses
(Meta: up to 1,000 updates in one POST). Group messages and the business's own echoes are left
out here, as are fields Minga does not use (user preferences, account updates, ...)."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from storage.deliveries import Report

MESSAGES_FIELD = "messages"  # the only webhook field Minga subscribes to and reads
# Message types read as something a resident said; the rest get a kind "cannot read that".
MEDIA_TYPES = {"image": "photo", "audio": "voice", "document": "document"}
# Types that are not someone talking to the bot: a deleted message, a number change notice.
SILENT_TYPES = frozenset(("revoke", "system", "request_welcome", "ephemeral"))
# What we cannot take, as the engine names it (its "media.<kind>" texts).
UNSUPPORTED_NAMES = {
    "sticker": "sticker",
    "reaction": "reaction",
    "contacts": "contact",
    "edit": "edited",
    "video": "video",
    "unsupported": "unsupported",
    "order": "other",
}


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message a person sent, as far as the webhook tells it (media not fetched yet)."""

    user_key: str  # their wa_id (phone number), or their business-scoped user id
    message_id: str
    at: datetime
    text: str | None = None
    choice: str | None = None  # a reply button's or list row's id, or a template button
    latitude: float | None = None
    longitude: float | None = None
    media_kind: str | None = None  # "photo", "voice" or "document"
    media_id: str | None = None
    mime_type: str | None = None
    unsupported: str | None = None  # "sticker", "document", "reaction", ...


@dataclass(frozen=True, slots=True)
class Status:
    """Where a message we sent got to; `user_key` as for Incoming."""

    user_key: str | None
    report: Report
    error_title: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorNotice:
    """An error Meta reports for the whole number, outside any message (e.g. 130429)."""

    code: int
    title: str


Event = Incoming | Status | ErrorNotice


def _at(value: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def _sender(message: Mapping[str, Any]) -> str | None:
    """wa_id when Meta gives the phone number; else the business-scoped user id (a person with
    a username who hides their number). The profile name is never read."""
    return message.get("from") or message.get("from_user_id") or None


def _first_error(item: Mapping[str, Any]) -> tuple[int | None, str | None]:
    errors = item.get("errors") or []
    if not errors or not isinstance(errors[0], Mapping):
        return None, None
    code = errors[0].get("code")
    detail = (errors[0].get("error_data") or {}).get("details")
    return (int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
            detail or errors[0].get("title") or errors[0].get("message"))  # fmt: skip


def read_message(message: Mapping[str, Any]) -> Incoming | None:
    """One message -> what it says; None for what is not a person talking to the bot."""
    user_key, message_id = _sender(message), message.get("id")
    kind = message.get("type")
    if not user_key or not message_id or kind in SILENT_TYPES or message.get("group_id"):
        return None
    said = partial(
        Incoming, user_key=str(user_key), message_id=str(message_id),
        at=_at(message.get("timestamp")),
    )  # fmt: skip
    body = message.get(kind) if isinstance(kind, str) else None
    body = body if isinstance(body, Mapping) else {}
    if kind == "text":
        return said(text=str(body.get("body") or ""))
    if kind == "interactive":
        for reply_type in ("button_reply", "list_reply"):
            picked = body.get(reply_type)
            if isinstance(picked, Mapping) and picked.get("id"):
                return said(choice=str(picked["id"]))
        return said(unsupported="unsupported")
    if kind == "button":  # a template's quick-reply button
        payload = body.get("payload") or body.get("text")
        return said(choice=str(payload)) if payload else None
    if kind == "location":
        try:
            latitude, longitude = float(body["latitude"]), float(body["longitude"])
        except (KeyError, TypeError, ValueError):
            return said(unsupported="location")
        return said(latitude=latitude, longitude=longitude)
    if kind in MEDIA_TYPES and body.get("id"):
        return said(media_kind=MEDIA_TYPES[kind], media_id=str(body["id"]),
                    mime_type=body.get("mime_type"))  # fmt: skip
    if kind == "reaction" and not (body.get("emoji") or ""):
        return None  # a reaction taken back: nothing was said
    return said(unsupported=UNSUPPORTED_NAMES.get(str(kind), "other"))


def read_status(status: Mapping[str, Any]) -> Status | None:
    if status.get("recipient_type") == "group" or not status.get("id"):
        return None
    code, title = _first_error(status)
    report = Report(message_id=str(status["id"]), status=str(status.get("status") or ""),
                    at=_at(status.get("timestamp")), error_code=code, error=title)  # fmt: skip
    user_key = status.get("recipient_id") or status.get("recipient_user_id")
    return Status(str(user_key) if user_key else None, report, title)


def events(body: Mapping[str, Any]) -> Iterator[Event]:
    """Everything in a webhook body that Minga acts on, in the order Meta wrote it."""
    if body.get("object") != "whatsapp_business_account":
        return
    for entry in body.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            if not isinstance(change, Mapping) or change.get("field") != MESSAGES_FIELD:
                continue  # echoes of the business's own messages, preferences, ...
            value = change.get("value") or {}
            for message in value.get("messages") or []:
                if isinstance(message, Mapping) and (incoming := read_message(message)):
                    yield incoming
            for status in value.get("statuses") or []:
                if isinstance(status, Mapping) and (read := read_status(status)):
                    yield read
            for error in value.get("errors") or []:
                code, title = _first_error({"errors": [error]})
                if code is not None:
                    yield ErrorNotice(code, title or "")


def split(
    body: Mapping[str, Any],
) -> tuple[list[tuple[Incoming, dict[str, Any]]], dict[str, Any] | None]:
    """A body as one body per message a person sent, each kept and handled on its own (in its
    conversation's order, whichever worker holds it), and one body for the rest (statuses,
    errors; None when there is none). Each part reads as Meta's own bodies do (`events`)."""
    if body.get("object") != "whatsapp_business_account":
        return [], None
    singles: list[tuple[Incoming, dict[str, Any]]] = []
    rest: list[dict[str, Any]] = []
    for entry in body.get("entry") or []:
        if not isinstance(entry, Mapping):
            continue
        others: list[dict[str, Any]] = []
        for change in entry.get("changes") or []:
            if not isinstance(change, Mapping) or change.get("field") != MESSAGES_FIELD:
                continue
            value = change.get("value") or {}
            alone = {k: v for k, v in value.items() if k not in ("messages", "statuses", "errors")}
            for message in value.get("messages") or []:
                if isinstance(message, Mapping) and (incoming := read_message(message)):
                    part = {**change, "value": {**alone, "messages": [message]}}
                    singles.append((incoming, {**body, "entry": [{**entry, "changes": [part]}]}))
            if value.get("statuses") or value.get("errors"):
                left = {k: v for k, v in value.items() if k != "messages"}
                others.append({**change, "value": left})
        if others:
            rest.append({**entry, "changes": others})
    return singles, ({**body, "entry": rest} if rest else None)

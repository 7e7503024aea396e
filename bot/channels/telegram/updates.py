"""Telegram updates as the Bot API's JSON, read only where Minga looks.

python-telegram-bot turns every update into a tree of objects (`Update.de_json`): a button
press carries the whole message it belongs to, keyboard included, and that tree was a tenth of
the bot's CPU per update in the throughput bench (bench/README.md, item 10). Minga reads a few
fields of it (who, which chat, the text, the button's data, a place): `RawUpdate` reads them
from the JSON, and PTB's `Message` is made only for a message with a file to fetch.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from telegram import Message
from telegram.ext import ExtBot
from telegram.request import BaseRequest

Json = dict[str, Any]
_DEFAULT = type(BaseRequest.DEFAULT_NONE)  # PTB's "not set" marker class (its module is private)


def _part(data: Json, key: str) -> Json | None:
    """An object of the JSON (None when absent or not an object)."""
    value = data.get(key)
    return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class RawUpdate:
    """One update as Telegram sent it (`data`, its JSON object), with an integer update_id."""

    update_id: int
    data: Json

    @classmethod
    def of(cls, data: object) -> "RawUpdate | None":
        """The update a JSON value is; None when it is not one (no integer update_id)."""
        if not isinstance(data, dict):
            return None
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return None
        return cls(update_id, data)

    @property
    def message(self) -> Json | None:
        return _part(self.data, "message")

    @property
    def callback_query(self) -> Json | None:
        return _part(self.data, "callback_query")

    def _kind(self) -> Json | None:
        """What the update carries: its one part beside update_id (a message, a button
        press, or a kind Minga does not ask for)."""
        for key, value in self.data.items():
            if key != "update_id" and isinstance(value, dict):
                return value
        return None

    @property
    def effective_user(self) -> Json | None:
        """Who sent it (`from`), as PTB's Update.effective_user reads it."""
        part = self._kind()
        return None if part is None else _part(part, "from")

    @property
    def effective_chat(self) -> Json | None:
        """The chat it happened in: the message's, or the pressed button's message's."""
        part = self._kind()
        if part is None:
            return None
        chat = _part(part, "chat")
        if chat is None and (message := _part(part, "message")) is not None:
            chat = _part(message, "chat")
        return chat


class RawUpdatesBot(ExtBot[None]):
    """PTB's bot, whose getUpdates hands the updates on as `RawUpdate`, not parsed into PTB's
    objects (the application dispatches any type; Minga's handler takes this one)."""

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: float | timedelta | None = None,  # noqa: ASYNC109 (PTB's signature)
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
        api_kwargs: Json | None = None,
    ) -> tuple[Any, ...]:  # RawUpdate each: PTB's signature says Update, its Updater and
        # Application take any object with an update_id (the type Minga's handler is for)
        """As PTB's Bot.get_updates (the long poll's timeout added to the read timeout), the
        updates left as JSON (`RawUpdate`); anything in the answer that is not an update is
        dropped."""
        data: Json = {"timeout": timeout, "offset": offset, "limit": limit,
                      "allowed_updates": allowed_updates}  # fmt: skip
        if isinstance(read_timeout, _DEFAULT):  # the getUpdates connection's own
            waited = self._request[0].read_timeout or 0
        else:
            waited = cast(float | None, read_timeout) or 0
        poll = timeout.total_seconds() if isinstance(timeout, timedelta) else (timeout or 0)
        result = await self._post(
            "getUpdates", data, read_timeout=waited + poll, write_timeout=write_timeout,
            connect_timeout=connect_timeout, pool_timeout=pool_timeout, api_kwargs=api_kwargs,
        )  # fmt: skip
        updates = (RawUpdate.of(item) for item in (result if isinstance(result, list) else []))
        return tuple(update for update in updates if update is not None)


def as_message(message: Json, bot: ExtBot[None] | None) -> Message:
    """PTB's Message of a message's JSON, for what needs PTB's objects (a file to fetch)."""
    return Message.de_json(message, bot)

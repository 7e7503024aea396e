"""Polling mode's getUpdates, committing what it fetched before python-telegram-bot sees it.

Telegram forgets an update once a later getUpdates asks from a higher offset, and PTB asks for
the next batch as soon as it has queued this one, long before its turns are done: a process
that died then lost the updates still waiting for their turn (the soak saw a resident's
button press vanish). Here each batch is written to `inbound_queue` before it is handed on,
so the next start handles what the dead one did not (`webhook.take_back`, as for webhook
bodies); the inbound dedup makes a replay of one already handled harmless."""

import json
import logging
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.channels.queue import InboundQueue
from bot.channels.telegram.http import AiohttpRequest
from storage.pending import Kept

log = logging.getLogger(__name__)


def sender_of(update: dict[str, Any]) -> str | None:
    """Whose conversation an update's JSON belongs to (the dispatcher's user key): the sender of
    the message or of the button press; None for anything else."""
    for kind in ("message", "callback_query"):
        part = update.get(kind)
        sender = part.get("from") if isinstance(part, dict) else None
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return str(sender["id"])
    return None


def fetched_updates(body: bytes) -> list[Kept]:
    """Each update of a getUpdates answer, as kept (its update_id the key and its place in its
    conversation); [] for anything else (PTB reports an answer it cannot read)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return []
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(result, list):
        return []
    return [
        Kept(
            str(update["update_id"]),
            json.dumps(update, ensure_ascii=False),
            sender_of(update),
            update["update_id"],
        )
        for update in result
        if isinstance(update, dict) and isinstance(update.get("update_id"), int)
    ]


class KeepingRequest(AiohttpRequest):
    """The connection getUpdates runs on (PTB's get_updates_request: only getUpdates uses it).
    With `kept` set, a batch is committed before PTB reads it; if it cannot be, PTB is told
    the call failed, so it asks for the same batch again (not confirmed, nothing lost)."""

    def __init__(self, connections: int = 1, **timeouts: Any) -> None:
        super().__init__(connections, **timeouts)
        self.kept: InboundQueue | None = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if self.kept is not None and status == 200 and url.endswith("/getUpdates"):
            updates = fetched_updates(body)
            if updates:
                try:
                    await self.kept.keep_all(updates)
                except Exception as error:
                    log.exception("fetched Telegram updates could not be kept; fetching again")
                    raise NetworkError("fetched updates could not be kept") from error
        return status, body

"""Telegram's webhook mode: updates posted to Minga's web server instead of fetched. The
secret Telegram sends with each (set with setWebhook) is checked before anything is read; an
update is committed to the database before Telegram is answered (bot/channels/queue.py)."""

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.queue import InboundQueue
from bot.channels.telegram.channel import MingaApplication
from bot.channels.telegram.updates import RawUpdate

log = logging.getLogger(__name__)

PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # one update: a message of 4,096 characters is far below this


def route(application: MingaApplication, secret: str, kept: InboundQueue) -> Route:
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("Telegram webhook with a missing or wrong secret refused")
            return Response(status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return Response(status_code=413)
        try:
            # JSON but not an update (null, a list, no update_id): 400, as PTB's parsing did.
            update = RawUpdate.of(json.loads(body))
        except ValueError:
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        try:
            # Committed before the 200 (Telegram does not send it again after one): a process
            # that dies now loses nothing. The channel forgets it once handled.
            sender = update.effective_user
            user_key = None if sender is None else str(sender.get("id"))
            await kept.keep(str(update.update_id), body.decode(), user_key, update.update_id)
        except Exception:
            log.exception("Telegram update could not be kept; Telegram will retry")
            return Response(status_code=503)
        # Handled by the application's own update loop, like a polled update.
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Route(PATH, receive, methods=["POST"])


async def take_back(application: MingaApplication, kept: InboundQueue) -> int:
    """Updates a stopped process acknowledged (answered 200, or confirmed by its next
    getUpdates when polling) and did not finish: handled again, first."""
    taken = 0
    for queued in await kept.waiting():
        try:
            update = RawUpdate.of(json.loads(queued.body))
        except ValueError:
            update = None
        if update is None:
            await kept.done(queued.key)
            continue
        await application.update_queue.put(update)
        taken += 1
    if taken:
        log.info("handling again %d Telegram updates left unhandled", taken)
    return taken

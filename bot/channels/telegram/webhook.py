"""Telegram's webhook mode: updates posted to Minga's web server instead of fetched. The
secret Telegram sends with each (set with setWebhook) is checked before anything is read."""

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update

from bot.channels.telegram.channel import MingaApplication

log = logging.getLogger(__name__)

PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # one update: a message of 4,096 characters is far below this


def route(application: MingaApplication, secret: str) -> Route:
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
            data = json.loads(body)
            # JSON but not an object (null, a list, a number): no update; PTB would raise.
            if not isinstance(data, dict):
                return Response(status_code=400)
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return Response(status_code=400)
        # Handled by the application's own update loop, like a polled update.
        await application.update_queue.put(update)
        return Response(status_code=200)

    return Route(PATH, receive, methods=["POST"])

"""WhatsApp's webhook on Minga's web server: Meta's verification (GET) and signed event
bodies (POST), committed to the database, answered, and handled after (Meta retries slow
answers for days)."""

import hashlib
import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.whatsapp.channel import WhatsAppChannel

log = logging.getLogger(__name__)

PATH = "/webhooks/whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY_BYTES = 3 * 1024 * 1024  # Meta batches up to 1,000 updates; far below this


def signature(app_secret: bytes, body: bytes) -> str:
    """The header value Meta sends: "sha256=" and the HMAC-SHA256 of the raw body, in hex."""
    return "sha256=" + hmac.new(app_secret, body, hashlib.sha256).hexdigest()


def signed_by(app_secret: bytes, body: bytes, header: str | None) -> bool:
    """Constant-time check of the header against the body (never of re-serialised JSON)."""
    return header is not None and hmac.compare_digest(signature(app_secret, body), header)


def routes(channel: WhatsAppChannel) -> list[Route]:
    settings = channel.settings
    assert settings.app_secret is not None and settings.verify_token is not None
    secret = settings.app_secret.get_secret_value().encode()
    verify_token = settings.verify_token.get_secret_value()

    async def verify(request: Request) -> Response:
        """Meta's subscription check: echo the challenge when the token is ours."""
        query = request.query_params
        token = query.get("hub.verify_token", "")
        challenge = query.get("hub.challenge")
        if (
            query.get("hub.mode") == "subscribe"
            and challenge
            and hmac.compare_digest(token.encode(), verify_token.encode())
        ):
            log.info("WhatsApp webhook verified")
            return PlainTextResponse(challenge)
        return Response(status_code=403)

    async def receive(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return Response(status_code=413)
        if not signed_by(secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("WhatsApp webhook with a missing or wrong signature refused")
            return Response(status_code=401)
        try:
            parsed = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        if not isinstance(parsed, dict):
            return Response(status_code=400)
        try:
            # Committed before the 200: a process that dies now loses nothing (queue.py).
            taken = await channel.take(body, parsed)
        except Exception:
            log.exception("WhatsApp webhook body could not be kept; Meta will retry")
            return Response(status_code=503)
        if not taken:
            log.warning("WhatsApp webhook: too many bodies waiting; Meta will retry")
            return Response(status_code=503)
        return Response(status_code=200)

    return [Route(PATH, verify, methods=["GET"]), Route(PATH, receive, methods=["POST"])]

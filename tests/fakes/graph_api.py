"""A fake WhatsApp Cloud API (Graph API) server on 127.0.0.1, and what residents do on
WhatsApp: webhook bodies built like Meta's, signed with the app secret, posted to Minga.

The server records the messages Minga sends, serves media residents "sent", takes uploads, and
can answer with Meta's errors (by code) for a recipient. Nothing leaves the machine."""

import asyncio
import itertools
import json
import socket
import time
from collections import defaultdict
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.whatsapp.webhook import signature

PHONE_NUMBER_ID = "1122334455667"
ACCESS_TOKEN = "EAAG-test-access-token"
APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "minga-verify-token"
API_VERSION = "v25.0"
BUSINESS_ACCOUNT_ID = "102290129340398"
DISPLAY_PHONE_NUMBER = "+57 300 1234567"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeGraphApi:
    def __init__(self) -> None:
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.uploads: dict[str, dict[str, Any]] = {}
        self.media: dict[str, tuple[bytes, str]] = {}  # what residents sent: id -> bytes, mime
        # Errors for the next messages to a recipient: {"code": 131047, "status": 400, ...}.
        self.errors: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.unauthorized = 0
        self.count = 0  # messages received, kept or not
        self.keep = True  # benchmarks with thousands of residents keep nothing
        # The business account's message templates, as Meta lists them: name, language, status.
        self.templates: list[dict[str, str]] = []
        self._ids = itertools.count(1)
        self._consumed: dict[str, int] = defaultdict(int)
        self._changed = asyncio.Condition()
        self.app = Starlette(routes=[
            Route("/files/{media_id}", self._file, methods=["GET"]),
            Route("/{version}/{phone}/messages", self._messages, methods=["POST"]),
            Route("/{version}/{phone}/media", self._upload, methods=["POST"]),
            Route("/{version}/{account}/message_templates", self._templates, methods=["GET"]),
            Route("/{version}/{media_id}", self._media_info, methods=["GET"]),
        ])  # fmt: skip

    async def start(self, port: int = 0) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what the bot did ----------------------------------------------------------------------

    def all_sent(self) -> list[dict[str, Any]]:
        return [m for messages in self.sent.values() for m in messages]

    async def expect(
        self, recipient: str, contains: str = "", *, kind: str | None = None,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> dict[str, Any]:  # fmt: skip
        """Wait for a message to `recipient`, after the last one expected, whose text contains
        `contains` (and of this type, if given)."""

        def found() -> dict[str, Any] | None:
            messages = self.sent[recipient]
            for index in range(self._consumed[recipient], len(messages)):
                message = messages[index]
                if contains in text_of(message) and kind in (None, message["type"]):
                    self._consumed[recipient] = index + 1
                    return message
            return None

        try:
            async with asyncio.timeout(timeout), self._changed:
                while (message := found()) is None:
                    await self._changed.wait()
        except TimeoutError:
            texts = [text_of(m)[:80] for m in self.sent[recipient][self._consumed[recipient] :]]
            raise AssertionError(
                f"no message with {contains!r} to {recipient}; got {texts}"
            ) from None
        return message

    # -- the API -------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        ok = request.headers.get("authorization") == f"Bearer {ACCESS_TOKEN}"
        self.unauthorized += not ok
        return ok

    async def _messages(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(190, "Invalid OAuth access token", 401)
        body = await request.json()
        recipient = body.get("to") or body.get("recipient")
        if self.errors[recipient]:
            error = self.errors[recipient].pop(0)
            return _error(error["code"], error.get("message", "error"), error.get("status", 400))
        message_id = f"wamid.fake{next(self._ids)}"
        self.count += 1
        if self.keep:
            self.sent[recipient].append({**body, "id": message_id, "at": time.monotonic()})
            async with self._changed:
                self._changed.notify_all()
        return JSONResponse({"messaging_product": "whatsapp",
                             "contacts": [{"input": recipient, "wa_id": recipient}],
                             "messages": [{"id": message_id}]})  # fmt: skip

    async def _upload(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(190, "Invalid OAuth access token", 401)
        form = await request.form()
        upload = form["file"]
        assert not isinstance(upload, str) and form["messaging_product"] == "whatsapp"
        media_id = f"up{next(self._ids)}"
        self.uploads[media_id] = {"filename": upload.filename, "type": form["type"],
                                  "content": await upload.read()}  # fmt: skip
        return JSONResponse({"id": media_id})

    async def _templates(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(190, "Invalid OAuth access token", 401)
        if request.path_params["account"] != BUSINESS_ACCOUNT_ID:
            return _error(100, "Unsupported get request", 400)
        # One template a page, so that a client must follow the pages.
        after = int(request.query_params.get("after") or 0)
        page: dict[str, Any] = {"data": self.templates[after : after + 1]}
        if after + 1 < len(self.templates):
            next_url = f"{request.url.remove_query_params('after')}&after={after + 1}"
            page["paging"] = {"cursors": {"after": str(after + 1)}, "next": next_url}
        return JSONResponse(page)

    async def _media_info(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        if media_id == PHONE_NUMBER_ID:  # the business number itself (`minga doctor` asks)
            if not self._authorized(request):
                return _error(190, "Invalid OAuth access token", 401)
            return JSONResponse({"id": PHONE_NUMBER_ID, "verified_name": "Usme Innova",
                                 "display_phone_number": DISPLAY_PHONE_NUMBER})  # fmt: skip
        if not self._authorized(request) or media_id not in self.media:
            return _error(100, "Unsupported get request", 400)
        content, mime = self.media[media_id]
        return JSONResponse({"messaging_product": "whatsapp", "id": media_id,
                             "url": f"{self.base_url}/files/{media_id}", "mime_type": mime,
                             "file_size": len(content), "sha256": "x"})  # fmt: skip

    async def _file(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        if not self._authorized(request) or media_id not in self.media:
            return Response(status_code=404)
        content, mime = self.media[media_id]
        return Response(content, media_type=mime)


def _error(code: int, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "OAuthException", "code": code,
                                   "error_data": {"details": message},
                                   "fbtrace_id": "Afake"}}, status)  # fmt: skip


def text_of(message: dict[str, Any]) -> str:
    """The words of a sent message, whatever its type (a template: its name and values)."""
    kind = message["type"]
    if kind == "text":
        return str(message["text"]["body"])
    if kind == "interactive":
        return str(message["interactive"]["body"]["text"])
    if kind in ("document", "image"):
        return str(message[kind].get("caption", ""))
    if kind == "location":
        return str(message["location"].get("name", ""))
    if kind == "template":
        template = message["template"]
        values = [p["text"] for c in template.get("components", []) for p in c["parameters"]]
        return " | ".join([template["name"], *values])
    return ""


def choice_ids(message: dict[str, Any]) -> list[str]:
    """The ids of the reply buttons or list rows of an interactive message."""
    interactive = message.get("interactive") or {}
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        return [b["reply"]["id"] for b in action["buttons"]]
    if interactive.get("type") == "list":
        return [row["id"] for section in action["sections"] for row in section["rows"]]
    return []


# -- what residents do: webhook bodies ---------------------------------------------------------


class WhatsAppResident:
    """A resident on WhatsApp: builds Meta's webhook bodies and posts them, signed, to Minga."""

    def __init__(self, webhook_url: str, wa_id: str = "573001234567", *, name: str = "Vecina",
                 graph: FakeGraphApi | None = None) -> None:  # fmt: skip
        self.url = webhook_url
        self.wa_id = wa_id
        self.name = name
        self.graph = graph
        self._ids = itertools.count(1)

    def body(self, message: dict[str, Any]) -> dict[str, Any]:
        message_id = f"wamid.in.{self.wa_id}.{next(self._ids)}.{time.monotonic_ns()}"
        full = {"from": self.wa_id, "id": message_id, "timestamp": str(int(time.time())),
                **message}  # fmt: skip
        return envelope({"contacts": [{"profile": {"name": self.name}, "wa_id": self.wa_id}],
                         "messages": [full]})  # fmt: skip

    async def post(self, message: dict[str, Any]) -> httpx.Response:
        return await post_signed(self.url, json.dumps(self.body(message)).encode())

    async def says(self, text: str) -> httpx.Response:
        return await self.post({"type": "text", "text": {"body": text}})

    async def taps(self, choice_id: str, title: str = "x") -> httpx.Response:
        reply = {"id": choice_id, "title": title}
        return await self.post(
            {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": reply}}
        )

    async def picks(self, row_id: str, title: str = "x") -> httpx.Response:
        row = {"id": row_id, "title": title}
        return await self.post(
            {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": row}}
        )

    async def shares_location(self, latitude: float, longitude: float) -> httpx.Response:
        return await self.post(
            {"type": "location", "location": {"latitude": latitude, "longitude": longitude}}
        )

    async def sends_media(self, kind: str, content: bytes, mime: str) -> httpx.Response:
        assert self.graph is not None
        media_id = f"{next(self._ids)}{time.monotonic_ns()}"
        self.graph.media[media_id] = (content, mime)
        payload: dict[str, Any] = {"mime_type": mime, "sha256": "x", "id": media_id}
        if kind == "voice":
            kind, payload["voice"] = "audio", True
        return await self.post({"type": kind, kind: payload})


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    account = BUSINESS_ACCOUNT_ID
    return {"object": "whatsapp_business_account", "entry": [{"id": account, "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            **value}}]}]}  # fmt: skip


async def post_signed(
    url: str, body: bytes, *, secret: str | None = APP_SECRET, header: str | None = None
) -> httpx.Response:
    """POST a webhook body as Meta does: X-Hub-Signature-256 over the exact bytes."""
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["X-Hub-Signature-256"] = header
    elif secret is not None:
        headers["X-Hub-Signature-256"] = signature(secret.encode(), body)
    async with httpx.AsyncClient() as client:
        return await client.post(url, content=body, headers=headers)

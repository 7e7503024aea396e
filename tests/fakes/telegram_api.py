"""A fake Telegram Bot API server on 127.0.0.1, for the real python-telegram-bot Application.

It keeps the updates residents "send" for getUpdates, records what the bot sends, and serves
files for getFile. Tests and benchmarks drive it; nothing leaves the machine.
"""

import asyncio
import contextlib
import itertools
import json
import random
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "123456:TEST-abcdefghijklmnopqrstuvwxyz0123"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Minga", "username": "minga_test_bot"}
JSON_PARAMETERS = {"reply_markup", "allowed_updates", "commands", "scope", "chat_id", "offset",
                   "timeout", "limit", "message_id", "show_alert", "latitude", "longitude",
                   "allow_paid_broadcast"}  # fmt: skip
# The methods that send a message: what Telegram's limits count.
SENDING = frozenset(("sendMessage", "sendVenue", "sendDocument", "sendPhoto"))


class TokenBucket:
    """Telegram-like flood control: `rate` messages a second, with one second of burst."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class SlidingWindow:
    """Stricter flood control: more than `limit` messages in any one second (counted as they
    arrive, over every chat) get a 429, with no burst allowance at all."""

    def __init__(self, limit: int = 30, seconds: float = 1.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self.accepted: deque[float] = deque()
        self.busiest = 0  # the most messages any window held

    def take(self) -> bool:
        now = time.monotonic()
        while self.accepted and now - self.accepted[0] > self.seconds:
            self.accepted.popleft()
        if len(self.accepted) >= self.limit:
            return False
        self.accepted.append(now)
        self.busiest = max(self.busiest, len(self.accepted))
        return True


class FakeBotApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.files: dict[str, bytes] = {}
        # Called with (chat id, message as recorded) for every message the bot sends.
        self.on_send: Callable[[int, dict[str, Any]], None] | None = None
        self.keep_sent = True  # benchmarks with thousands of chats keep nothing
        # Errors to answer the next sendMessage calls to a chat with, e.g. a 429 or a 403.
        self.send_errors: dict[int, list[dict[str, Any]]] = defaultdict(list)
        # Chats whose person blocked the bot: every message to them gets a 403.
        self.blocked: set[int] = set()
        # Flood control: messages a second over all chats (None: none), and the 429s it gave.
        self.limiter: TokenBucket | SlidingWindow | None = None
        self.rate_limited = 0
        # Faults: this share of messages is answered with a 500 or a 429 (seeded, repeatable).
        self.fault_rate = 0.0
        self.faults = random.Random(1581)
        self.faults_injected = 0
        # Slowness: this share of every call (getUpdates too) waits up to delay_seconds first.
        self.delay_rate = 0.0
        self.delay_seconds = 0.3
        self.delays_injected = 0
        self.pushed: list[int] = []  # every update id ever offered, confirmed or not
        # What `minga doctor` asks about: the webhook Telegram posts to (setWebhook sets it,
        # deleteWebhook clears it) and its last delivery error; another program polling with
        # the token (getUpdates answered 409 Conflict); the chats the bot knows (getChat),
        # and its status in each group (getChatMember).
        self.registered_webhook = ""
        self.webhook_error = ""
        self.another_poller = False
        self.chats: dict[int, dict[str, Any]] = {}
        self.bot_status: dict[int, str] = {}
        # Several workers: each may call through its own base_url_of(name); their getUpdates
        # calls, in order, by worker, and how many found another worker's still in flight.
        self.polls: list[str] = []
        self.polls_overlapping = 0
        self._polling: dict[str, int] = defaultdict(int)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._consumed: dict[int, int] = defaultdict(int)
        self._changed = asyncio.Condition()
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/as/{worker}/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    # -- running -----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # uvicorn writes a response's head and body apart; without NODELAY on a socket we
        # hand it, Nagle's algorithm holds the body for the client's delayed ACK (~40 ms).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)  # connections wait in the backlog until uvicorn serves them
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            async with self._changed:
                self._changed.notify_all()
            await self._task

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def base_url_of(self, worker: str) -> str:
        """The Bot API as one of several workers calls it: its calls are told apart."""
        return f"http://127.0.0.1:{self.port}/as/{worker}/bot"

    # -- what residents do ---------------------------------------------------------------------

    @staticmethod
    def user(user_id: int, language: str | None = "es") -> dict[str, Any]:
        person = {"id": user_id, "is_bot": False, "first_name": "Vecina"}
        if language:
            person["language_code"] = language
        return person

    async def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.pushed.append(update_id)
        self.updates.append({"update_id": update_id, **update})
        async with self._changed:
            self._changed.notify_all()
        return update_id

    def _message(
        self, user_id: int, language: str | None, group: int | None = None, **content: Any
    ) -> dict[str, Any]:
        chat = {"id": user_id, "type": "private", "first_name": "Vecina"}
        if group is not None:  # said in a group (the staff's)
            chat = {"id": group, "type": "supergroup", "title": "Equipo del laboratorio"}
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id, language),
            **content,
        }

    def text_update(
        self, user_id: int, text: str, language: str | None = "es", *, group: int | None = None
    ) -> dict[str, Any]:
        """An update with a typed text, as Telegram would deliver it (without an update_id)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"message": self._message(user_id, language, group, **content)}

    async def send_text(
        self, user_id: int, text: str, language: str | None = "es", *, group: int | None = None
    ) -> int:
        return await self.push(self.text_update(user_id, text, language, group=group))

    def webhook_body(self, update: dict[str, Any]) -> bytes:
        """What Telegram posts to a webhook: the update with its id."""
        return json.dumps({"update_id": next(self._update_ids), **update}).encode()

    async def send_location(self, user_id: int, latitude: float, longitude: float) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return await self.push({"message": self._message(user_id, "es", location=location)})

    async def send_photo(self, user_id: int, data: bytes, unique: str = "ph1") -> int:
        sizes = []
        for width, name in ((90, "s"), (800, "m")):
            file_id = f"{unique}-{name}"
            self.files[file_id] = data
            sizes.append({"file_id": file_id, "file_unique_id": f"{unique}{name}",
                          "width": width, "height": width, "file_size": len(data)})  # fmt: skip
        return await self.push({"message": self._message(user_id, "es", photo=sizes)})

    async def send_voice(self, user_id: int, data: bytes, unique: str = "vo1") -> int:
        self.files[unique] = data
        voice = {"file_id": unique, "file_unique_id": f"{unique}u", "duration": 4,
                 "mime_type": "audio/ogg", "file_size": len(data)}  # fmt: skip
        return await self.push({"message": self._message(user_id, "es", voice=voice)})

    async def send_document(
        self, user_id: int, data: bytes, name: str, mime_type: str, *, size: int | None = None
    ) -> int:
        """A file sent "as a file" (its name and type are what the sender's phone claims)."""
        file_id = f"doc-{next(self._message_ids)}"
        self.files[file_id] = data
        stated = len(data) if size is None else size  # what the sender's phone claims
        document = {"file_id": file_id, "file_unique_id": f"{file_id}u", "file_name": name,
                    "mime_type": mime_type, "file_size": stated}  # fmt: skip
        return await self.push({"message": self._message(user_id, "es", document=document)})

    async def send_sticker(self, user_id: int) -> int:
        sticker = {"file_id": "st1", "file_unique_id": "st1u", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "type": "regular"}  # fmt: skip
        return await self.push({"message": self._message(user_id, "es", sticker=sticker)})

    async def press(
        self, user_id: int, data: str, language: str | None = "es", *, group: int | None = None
    ) -> int:
        """Press a button: a callback query on the newest message the bot sent this chat that
        has it (a person may press a button on an earlier message), else on the last one.
        As Telegram does, the query's message carries an inline keyboard or none: a reply
        keyboard is not part of it (PTB cannot read a query whose message has one, and its
        poller would stop on it)."""
        chat = user_id if group is None else group
        with_it = [m for m in self.sent[chat]
                   if data in [b.get("callback_data") for b in _inline_buttons(m)]]  # fmt: skip
        if with_it:
            message = with_it[-1]
        elif self.sent[chat]:
            message = dict(self.sent[chat][-1])
            if "inline_keyboard" not in (message.get("reply_markup") or {}):
                message.pop("reply_markup", None)
        else:
            message = self._message(user_id, "es", group)
        query = {"id": str(next(self._message_ids)), "from": self.user(user_id, language),
                 "chat_instance": f"ci{user_id}", "data": data, "message": message}  # fmt: skip
        return await self.push({"callback_query": query})

    # -- what the bot did ----------------------------------------------------------------------

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def expect(
        self,
        chat_id: int,
        contains: str,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Wait for a message to `chat_id`, after the last one expected, that contains the text."""

        def found() -> dict[str, Any] | None:
            messages = self.sent[chat_id]
            for index in range(self._consumed[chat_id], len(messages)):
                if contains in messages[index]["text"]:
                    self._consumed[chat_id] = index + 1
                    return messages[index]
            return None

        async with asyncio.timeout(timeout):
            async with self._changed:
                while (message := found()) is None:
                    await self._changed.wait()
        return message

    def buttons(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        markup = message.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [button for row in rows for button in row]

    # -- the API -------------------------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):  # a file upload (sendDocument)
            form = await request.form()
            params: dict[str, Any] = {}
            for key, value in form.multi_items():
                if isinstance(value, str):
                    params[key] = value
                else:
                    params[key] = {"filename": value.filename, "content": await value.read()}
        else:
            raw = (await request.body()).decode("utf-8")
            if content_type.startswith("application/json"):
                body: dict[str, Any] = json.loads(raw or "{}")
                return body
            params = dict(parse_qsl(raw))
        params |= dict(request.query_params)
        for key in JSON_PARAMETERS & params.keys():
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
        return params

    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        method = request.path_params["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        if self.delay_rate and self.faults.random() < self.delay_rate:
            self.delays_injected += 1
            await asyncio.sleep(self.faults.random() * self.delay_seconds)
        if method in SENDING:
            error = self._refusal(int(params.get("chat_id", 0)))
            if error is not None:
                return JSONResponse({"ok": False, **error}, error["error_code"])
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return JSONResponse({"ok": True, "result": True})
        if method == "getUpdates":
            conflict = self._conflict()
            if conflict is not None:
                return JSONResponse({"ok": False, "error_code": 409, "description": conflict}, 409)
            return JSONResponse({"ok": True, "result": await self._poll(request, params)})
        if method in ("getChat", "getChatMember") and int(params["chat_id"]) not in self.chats:
            return JSONResponse(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, 400
            )
        return JSONResponse({"ok": True, "result": await handler(params)})

    async def _poll(self, request: Request, params: dict[str, Any]) -> list[dict[str, Any]]:
        """getUpdates, noting which worker asks and whether another one is asking too
        (Telegram would answer one of them 409 Conflict)."""
        worker = request.path_params.get("worker", "")
        self.polls.append(worker)
        if any(n for other, n in self._polling.items() if other != worker):
            self.polls_overlapping += 1
        self._polling[worker] += 1
        try:
            return await self._api_getUpdates(params)
        finally:
            self._polling[worker] -= 1

    def _conflict(self) -> str | None:
        """Why Telegram would refuse this getUpdates with 409 Conflict, if it would."""
        if self.registered_webhook:
            return "Conflict: can't use getUpdates method while webhook is active"
        if self.another_poller:
            return ("Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running")  # fmt: skip
        return None

    def group(self, chat_id: int, title: str = "Equipo", *, bot_status: str = "member") -> None:
        """A group the bot was added to (bot_status "left" or "kicked": it is no longer)."""
        self.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}
        self.bot_status[chat_id] = bot_status

    def knows(self, user_id: int) -> None:
        """A person who has written to the bot: Telegram lets it reach their chat."""
        self.chats[user_id] = {"id": user_id, "type": "private", "first_name": "Vecina"}

    def _refusal(self, chat_id: int) -> dict[str, Any] | None:
        """The error a message gets instead of being sent, if any."""
        if self.send_errors[chat_id]:
            return self.send_errors[chat_id].pop(0)
        if chat_id in self.blocked:
            return {"error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        if self.limiter is not None and not self.limiter.take():
            self.rate_limited += 1
            return {"error_code": 429, "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1}}  # fmt: skip
        if self.fault_rate and self.faults.random() < self.fault_rate:
            self.faults_injected += 1
            if self.faults.random() < 0.5:
                return {"error_code": 500, "description": "Internal Server Error"}
            return {"error_code": 429, "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1}}  # fmt: skip
        return None

    async def _file(self, request: Request) -> Response:
        file_id = request.path_params["path"].removeprefix("photos/").removesuffix(".jpg")
        if request.path_params["token"] != self.token or file_id not in self.files:
            return Response(status_code=404)
        return Response(self.files[file_id], media_type="image/jpeg")

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.registered_webhook = str(params.get("url") or "")
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.registered_webhook = ""
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.registered_webhook, "has_custom_certificate": False,
                                "pending_update_count": len(self.updates)}  # fmt: skip
        if self.webhook_error:
            info |= {"last_error_date": int(time.time()), "last_error_message": self.webhook_error}
        return info

    async def _api_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.chats[int(params["chat_id"])]

    async def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        user = BOT_USER if user_id == BOT_USER["id"] else self.user(user_id)
        return {"status": self.bot_status.get(chat_id, "member"), "user": user}

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if not self.updates and timeout > 0:
            try:
                async with asyncio.timeout(timeout), self._changed:
                    while not self.updates and not (self._server and self._server.should_exit):
                        await self._changed.wait()
            except TimeoutError:
                pass
        return self.updates[:limit]

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._record(params, text=params["text"])

    async def _api_sendVenue(self, params: dict[str, Any]) -> dict[str, Any]:
        venue = {"location": {"latitude": float(params["latitude"]),
                              "longitude": float(params["longitude"])},
                 "title": params["title"], "address": params["address"]}  # fmt: skip
        return await self._record(params, text="", venue=venue)

    async def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        upload = params["document"]
        document = {"file_id": f"doc{next(self._message_ids)}", "file_unique_id": "docu",
                    "file_name": upload["filename"]}  # fmt: skip
        self.files[document["file_id"]] = upload["content"]
        return await self._record(params, text=params.get("caption", ""), document=document)

    async def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        upload = params["photo"]
        file_id = f"photo{next(self._message_ids)}"
        self.files[file_id] = upload["content"]
        photo = [{"file_id": file_id, "file_unique_id": f"{file_id}u", "width": 800,
                  "height": 450}]  # fmt: skip
        return await self._record(params, text=params.get("caption", ""), photo=photo)

    async def _record(self, params: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
        """Keep what the bot sent (recorded with its markup) and answer with the Message."""
        chat_id = int(params["chat_id"])
        chat = {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"}
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": chat, "from": BOT_USER, "text": text, **extra}  # fmt: skip
        if "document" in extra or "photo" in extra:
            message["caption"] = message.pop("text")
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        recorded = {**message, "text": text, "reply_markup": markup}
        if self.on_send is not None:
            self.on_send(chat_id, recorded)
        if self.keep_sent:
            self.sent[chat_id].append(recorded)
            async with self._changed:
                self._changed.notify_all()
        return message

    async def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params["file_id"]
        return {"file_id": file_id, "file_unique_id": f"{file_id}u",
                "file_size": len(self.files.get(file_id, b"")),
                "file_path": f"photos/{file_id}.jpg"}  # fmt: skip


def _inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button for row in rows for button in row]

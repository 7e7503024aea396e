"""A launch week's load through the real python-telegram-bot Application and a fake Bot API
that refuses any message over Telegram's limit: residents chatting while a broadcast goes out,
and a crowd flooding the bot while a new person files an idea. The fake runs on its own loop
(tests/fakes/threaded.py), so that it times arrivals as Telegram would, not by when the bot's
busy loop lets it run."""

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from handlers.outbound.broadcasts import Audience, queue_broadcast
from storage.database import Database
from tests.fakes.minga import Running, opted_in, telegram_settings
from tests.fakes.sql import connect
from tests.fakes.telegram_api import SENDING, FakeBotApi, SlidingWindow
from tests.fakes.threaded import InThread
from tests.fakes.wait import wait_for

LIMIT = 30  # Telegram's limit for a bot: about 30 messages a second, all chats together
BROADCAST = "📣 Lanzamiento de Usme Innova: les esperamos el sábado en la Alcaldía Local."


def _settings(api: Any, tmp_path: Path) -> Settings:
    return telegram_settings(api, tmp_path, telegram={"max_messages_per_second": LIMIT})


def _sends(api: Any) -> int:
    """How many messages the bot has sent so far (refused ones included)."""
    return sum(1 for method, _ in api.calls if method in SENDING)


async def _queue_broadcast(path: Path) -> None:
    """What `minga broadcast send` does, from another connection."""
    database = await Database.open(path)
    try:
        async with database.transaction() as repos:
            await queue_broadcast(repos, text=BROADCAST, event_id=None, audience=Audience("all"),
                                  created_by="cli", reporter_id=None,
                                  now=datetime.now(UTC))  # fmt: skip
    finally:
        await database.close()


class Resident:
    """A person filing an idea the way people do: they read the last message and answer it
    (a button when there are buttons, their place when asked for it, words otherwise)."""

    def __init__(self, api: Any, chat: int) -> None:
        self.api = api
        self.chat = chat
        self.bot: Running | None = None  # the bot they write to, once they start
        self.seen = 0
        self.waits: list[int] = []  # messages the bot sent to others before answering each
        self.receipt: str | None = None

    async def _next(self, timeout: float = 60) -> dict[str, Any]:  # noqa: ASYNC109
        """The bot's answer to what this person just did (its last message, once it settles)."""
        start = _sends(self.api)
        await wait_for(lambda: len(self.api.sent[self.chat]) > self.seen, timeout)
        self.waits.append(_sends(self.api) - start)
        # A turn may say two things: read the last, once the turn has delivered them all.
        bot = self.bot
        assert bot is not None
        await wait_for(lambda: not bot.handling("telegram", str(self.chat)), timeout)
        messages = self.api.sent[self.chat]
        self.seen = len(messages)
        return messages[-1]

    async def file_an_idea(self, bot: Running, steps: int = 25) -> None:
        self.bot = bot
        await self.api.send_text(self.chat, "/start")
        for _ in range(steps):
            message = await self._next()
            if "MNG-" in message["text"]:
                self.receipt = message["text"]
                return
            await self._answer(message)
        raise AssertionError(f"no receipt after {steps} answers; last: {message['text']!r}")

    async def _answer(self, message: dict[str, Any]) -> None:
        markup = message.get("reply_markup") or {}
        if "keyboard" in markup and markup["keyboard"][0][0].get("request_location"):
            await self.api.send_location(self.chat, 4.4791, -74.1264)
            return
        buttons = [b for b in self.api.buttons(message) if not b["callback_data"].endswith(":back")]
        if buttons:
            wanted = ("summary:send", "consent:yes", "identity:anonymous", "photos:done")
            chosen = next((b for b in buttons if b["callback_data"] in wanted), buttons[0])
            await self.api.press(self.chat, chosen["callback_data"])
            return
        await self.api.send_text(self.chat, "El alumbrado del parque La Esperanza no funciona")


async def test_replies_and_a_broadcast_together_never_exceed_telegrams_limit(
    tmp_path: Path,
) -> None:
    """Ten residents file ideas while a broadcast to 300 goes out: the fake refuses anything
    over 30 messages in any second, and refuses nothing; everyone is answered, the broadcast
    arrives whole."""
    async with InThread(FakeBotApi()) as api:
        await _replies_and_a_broadcast(api, tmp_path)


async def _replies_and_a_broadcast(api: Any, tmp_path: Path) -> None:
    api.server.limiter = window = SlidingWindow(LIMIT)
    settings = _settings(api, tmp_path)
    followers = await opted_in(settings.storage.database, 300)
    await _queue_broadcast(settings.storage.database)
    residents = [Resident(api, 5_600_000 + i) for i in range(10)]
    async with Running(settings) as bot:
        await wait_for(lambda: len(api.sent) >= 20, 120)  # the broadcast is under way
        await asyncio.gather(*(resident.file_an_idea(bot) for resident in residents))
        await wait_for(lambda: all(api.sent[chat] for chat in followers), 120)
    busiest = window.busiest
    assert api.rate_limited == 0, f"{api.rate_limited} answers 429 (busiest second: {busiest})"
    assert all(resident.receipt for resident in residents)
    assert all([m["text"] for m in api.sent[chat]] == [BROADCAST] for chat in followers), (
        "each follower got the broadcast exactly once"
    )


async def test_a_crowd_flooding_the_bot_does_not_stall_a_new_resident(tmp_path: Path) -> None:
    """40 people send 1,500 messages within about ten seconds (text, commands, stale buttons,
    stickers); a new resident writes /start in the middle of it and files an idea at a normal
    pace; five calm people write within the limits. The new resident's every answer comes
    within about a second's worth of the bot's messages (not behind the crowd's backlog),
    nothing the calm people sent is lost, and Telegram refuses nothing."""
    async with InThread(FakeBotApi()) as api:
        await _a_crowd_and_a_newcomer(api, tmp_path)


async def _a_crowd_and_a_newcomer(api: Any, tmp_path: Path) -> None:
    api.server.limiter = SlidingWindow(LIMIT)
    settings = _settings(api, tmp_path)
    rng = random.Random(17)
    crowd = [5_700_000 + i for i in range(40)]
    calm = [5_800_000 + i for i in range(5)]
    calm_updates: list[int] = []

    async def flood(chat: int) -> None:
        for _ in range(37):
            await asyncio.sleep(rng.random() * 0.5)
            kind = rng.random()
            if kind < 0.4:
                await api.send_text(chat, rng.choice(["hola", "???", "no entiendo", "🙂🙂"]))
            elif kind < 0.6:
                await api.send_text(chat, rng.choice(["/eventos", "/ayuda", "/mis_ideas", "/x"]))
            elif kind < 0.8:
                await api.press(chat, rng.choice(["role:resident", "ev:99:yes", "menu:help"]))
            else:
                await api.send_sticker(chat)

    async def calmly(chat: int) -> None:
        for text in ("/start", "hola", "/ayuda", "/eventos", "/mis_ideas", "gracias"):
            await asyncio.sleep(1.5)
            calm_updates.append(await api.send_text(chat, text))

    newcomer = Resident(api, 5_900_000)

    async def newcomer_after_a_while(bot: Running) -> None:
        await asyncio.sleep(3)  # the crowd's backlog has built up
        await newcomer.file_an_idea(bot)

    async with Running(settings) as bot:
        await asyncio.gather(
            *(flood(chat) for chat in crowd), *(calmly(chat) for chat in calm),
            newcomer_after_a_while(bot),
        )  # fmt: skip
        path = settings.storage.database

        async def calm_handled() -> bool:
            async with connect(path) as db:
                rows = await db.execute_fetchall("SELECT external_id FROM inbound_messages")
            return {str(u) for u in calm_updates} <= {row[0] for row in rows}

        await wait_for(calm_handled, 120, every=0.5)

    assert newcomer.receipt is not None
    # Counted in messages, not seconds (whatever this machine's speed): the first answer
    # goes ahead of the crowd's backlog (hundreds of messages), and every later one waits
    # at most about one round of the 46 chats being answered (under two seconds of sending).
    assert newcomer.waits[0] <= LIMIT, newcomer.waits
    assert max(newcomer.waits) <= 2 * LIMIT, newcomer.waits
    assert api.rate_limited == 0

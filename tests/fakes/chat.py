"""A resident talking to the real dispatcher, without any platform in between."""

import itertools
import re
from collections.abc import Sequence
from typing import Unpack

from handlers.engine.buttons import fits
from handlers.engine.catalog import Catalog
from handlers.engine.messages import Choice, Inbound, Location, Media, Reply, Said
from handlers.flows import Dispatcher
from tests.fakes.clock import FakeClock

_ids = itertools.count(1)
# Time between one person's messages (the flood control counts messages per 10 seconds).
TYPING_SECONDS = 1


_HOLE = "\x00"


class _Any(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return _HOLE


_ANY = _Any()


class Chat:
    def __init__(
        self,
        dispatcher: Dispatcher,
        catalog: Catalog,
        clock: FakeClock,
        *,
        language: str = "es",
        user: str = "resident-1",
        channel: str = "test",
        group: str | None = None,
        username: str | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.catalog = catalog
        self.clock = clock
        self.language = language
        self.user = user
        self.channel = channel
        self.group = group  # writes in this group chat, not in a private one
        self.username = username  # their @username on the platform (Telegram's), if any
        self.replies: list[Reply] = []  # what the last message got back
        self.history: list[Reply] = []

    def t(self, key: str, **values: object) -> str:
        return self.catalog.text(self.language, key, **values)

    def inbound(self, external_id: str | None = None, **said: Unpack[Said]) -> Inbound:
        return Inbound(
            channel=self.channel,
            user_key=self.user,
            external_id=external_id or f"m{next(_ids)}",
            at=self.clock.now(),
            language_hint=self.language,
            group=self.group,
            username=self.username,
            **said,
        )

    async def deliver(self, replies: Sequence[Reply]) -> None:
        # Every button the bot makes must fit every platform (Telegram's 64 bytes).
        too_long = [c.id for reply in replies for c in reply.choices if not fits(c.id)]
        assert not too_long, f"button ids too long for Telegram: {too_long}"
        self.replies = list(replies)
        self.history.extend(replies)

    async def send(self, external_id: str | None = None, **said: Unpack[Said]) -> list[Reply]:
        self.replies = []
        self.clock.advance(seconds=TYPING_SECONDS)  # a person takes a moment per message
        await self.dispatcher.handle(self.inbound(external_id, **said), self.deliver)
        return self.replies

    async def say(self, text: str) -> list[Reply]:
        return await self.send(text=text)

    async def command(self, name: str) -> list[Reply]:
        return await self.send(command=name)

    async def location(self, latitude: float, longitude: float) -> list[Reply]:
        return await self.send(location=Location(latitude, longitude))

    async def photo(self, name: str = "p.jpg") -> list[Reply]:
        return await self.send(media=Media("photo", f"test/{name}", name))

    @property
    def choices(self) -> tuple[Choice, ...]:
        """The buttons of the last reply that had any."""
        for reply in reversed(self.replies):
            if reply.choices:
                return reply.choices
        return ()

    def choice_id(self, label_key: str) -> str:
        """The button labelled with the catalog text, in any message of the last answer."""
        label = self.t(label_key)
        shown = [choice for reply in reversed(self.replies) for choice in reply.choices]
        for choice in shown:
            if choice.label == label:
                return choice.id
        raise AssertionError(f"no button {label!r} in {[c.label for c in shown]}")

    async def press(self, label_key: str) -> list[Reply]:
        """Press the button whose label is the catalog text `label_key`."""
        return await self.send(choice=self.choice_id(label_key))

    async def press_label(self, label: str) -> list[Reply]:
        for choice in self.choices:
            if choice.label == label:
                return await self.send(choice=choice.id)
        raise AssertionError(f"no button {label!r} in {[c.label for c in self.choices]}")

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    def said(self, key: str) -> bool:
        """Whether the last answer has the text `key`, whatever its {placeholders} were."""
        template = self.catalog.raw(self.language, key).format_map(_ANY)
        pattern = ".+?".join(re.escape(part) for part in template.split(_HOLE))
        return any(re.search(pattern, reply.text, re.DOTALL) for reply in self.replies)

    def asked(self, key: str, **values: object) -> bool:
        """Whether the last answer ends with the question `key` (what the bot waits for)."""
        return bool(self.replies) and self.replies[-1].text == self.t(key, **values)

"""The console channel: the real engine and database, typed in a terminal (`minga chat`)."""

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Unpack

from bot.channels.files import NOT_IMAGE, image_suffix
from handlers.engine.catalog import Catalog
from handlers.engine.dispatcher import Dispatcher
from handlers.engine.messages import (
    Choice,
    Document,
    Inbound,
    Location,
    Media,
    Picture,
    Reply,
    Said,
)
from storage.private import write_private

CHANNEL = "console"
QUIT = frozenset(("/quit", "/exit", "/salir"))

ReadLine = Callable[[], Awaitable[str | None]]
Write = Callable[[str], None]


async def read_stdin() -> str | None:
    line = await asyncio.to_thread(sys.stdin.readline)
    return line if line else None  # "" is end of input (Ctrl-D or a closed pipe)


def write_stdout(text: str) -> None:
    print(text, flush=True)


class ConsoleChannel:
    def __init__(
        self,
        dispatcher: Dispatcher,
        catalog: Catalog,
        *,
        lab_name: str,
        media_dir: Path,
        language: str,
        user_key: str = "local",
        read_line: ReadLine = read_stdin,
        write: Write = write_stdout,
    ) -> None:
        self._dispatcher = dispatcher
        self._catalog = catalog
        self._lab = lab_name
        self._media_dir = media_dir
        self._language = language
        self._user_key = user_key
        self._read = read_line
        self._write = write
        self._session = uuid.uuid4().hex[:12]
        self._count = 0
        self._choices: tuple[Choice, ...] = ()

    def _t(self, key: str, **values: object) -> str:
        return self._catalog.text(self._language, key, **values)

    async def run(self) -> None:
        self._write(self._t("console.banner", lab=self._lab))
        await self._send(self._inbound())  # "opened the chat": greeting, or where they were
        while (line := await self._read()) is not None:
            line = line.rstrip("\n")
            if line.strip().lower() in QUIT:
                break
            inbound = self.parse(line)
            if inbound is not None:
                await self._send(inbound)
        self._write(self._t("console.bye"))

    def _inbound(self, **said: Unpack[Said]) -> Inbound:
        self._count += 1
        return Inbound(
            channel=CHANNEL,
            user_key=self._user_key,
            external_id=f"{self._session}-{self._count}",
            at=datetime.now(UTC),
            language_hint=self._language,
            **said,
        )

    def parse(self, line: str) -> Inbound | None:
        """A typed line -> what a platform would have sent; None when it was only a mistake."""
        stripped = line.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= len(self._choices):
            return self._inbound(choice=self._choices[int(stripped) - 1].id)
        word, _, rest = stripped.partition(" ")
        if word == "/location":
            return self._location(rest)
        if word == "/photo":
            return self._photo(rest.strip())
        if stripped.startswith("/") and len(stripped) > 1:
            argument = rest.strip() or None  # "/idea 123": what follows the command
            return self._inbound(command=word[1:].split("@")[0].lower(), argument=argument)
        return self._inbound(text=line)

    def _location(self, rest: str) -> Inbound | None:
        try:
            latitude, longitude = (float(part) for part in rest.replace(",", " ").split())
        except ValueError:
            self._write(self._t("console.bad_location_command"))
            return None
        return self._inbound(location=Location(latitude, longitude))

    def _photo(self, path_text: str) -> Inbound | None:
        source = Path(path_text).expanduser()
        if not source.is_file():
            self._write(self._t("console.photo_missing", path=path_text))
            return None
        content = source.read_bytes()
        suffix = image_suffix(content)  # by its bytes, as the platforms' adapters do
        if suffix is None:
            return self._inbound(unsupported=NOT_IMAGE)
        relative = Path(CHANNEL) / f"{uuid.uuid4().hex}{suffix}"
        write_private(self._media_dir / relative, content)
        return self._inbound(media=Media("photo", relative.as_posix(), source.name))

    async def _send(self, inbound: Inbound) -> None:
        await self._dispatcher.handle(inbound, self.show)

    # -- the Transport the sender drives (broadcasts and reminders in `minga chat`) ----------

    channel = CHANNEL

    def render(self, replies: Sequence[Reply]) -> list[Reply]:
        return list(replies)

    async def send(self, recipient: str, message: Reply, *, bulk: bool) -> None:
        if recipient != self._user_key:  # written for another console user: say whose
            self._write(self._t("console.for_other", user=recipient))
            # Their buttons are theirs: listed, not numbered, so that the next number typed
            # here still picks one of this person's own options.
            return await self.show([message], pickable=False)
        await self.show([message])

    def _file(self, document: Document) -> None:
        """Keep a file the bot sends (an event's .ics) where the person can open it."""
        target = self._received(document.filename)
        target.write_bytes(document.content)
        self._write(self._t("console.file", name=document.filename, path=str(target)))

    def _received(self, filename: str) -> Path:
        folder = self._media_dir / CHANNEL / "received"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / Path(filename).name

    def _picture(self, picture: Picture) -> None:
        """A chart is saved to open; a stored photo is shown by its path."""
        if picture.content is not None:
            target = self._received(picture.filename)
            target.write_bytes(picture.content)
        else:
            target = self._media_dir / (picture.path or "")
        self._write(self._t("console.picture", path=str(target)))

    async def show(self, replies: Sequence[Reply], *, pickable: bool = True) -> None:
        """Print the replies; their options are numbered on from one message to the next, so
        that every option of one answer (three event cards, a long list) can be picked.
        Options that are not pickable here (another person's) are only listed."""
        shown: list[Choice] = []
        for reply in replies:
            self._write("")
            if reply.text:
                self._write(reply.text)
            if reply.document is not None:
                self._file(reply.document)
            if reply.picture is not None:
                self._picture(reply.picture)
            if reply.venue is not None:
                pin = reply.venue
                text = self._t("console.venue", title=pin.title, address=pin.address,
                               latitude=pin.latitude, longitude=pin.longitude)  # fmt: skip
                self._write(text)
            if reply.location_button:
                self._write(self._t("console.location_hint"))
            for number, choice in enumerate(reply.choices, start=len(shown) + 1):
                detail = f" · {choice.detail}" if choice.detail else ""
                mark = f"{number}." if pickable else "·"
                self._write(f"  {mark} {choice.label}{detail}")
            if pickable:
                shown += reply.choices
        if shown:
            self._choices = tuple(shown)
        self._write("")

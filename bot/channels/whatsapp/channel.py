"""The WhatsApp channel: webhook events in (through the same dispatcher as Telegram), replies
and outbox messages out through the sender, with the 24-hour window and Meta's error codes."""

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.channels.files import (
    FILE_FAILED,
    FILE_TOO_BIG,
    NOT_IMAGE,
    PHOTO_FAILED,
    PHOTO_TOO_BIG,
    VOICE_FAILED,
    VOICE_TOO_BIG,
    audio_suffix,
    image_suffix,
)
from bot.channels.queue import InboundQueue
from bot.channels.text import argument_of, command_of
from bot.channels.whatsapp.errors import Reaction, reaction
from bot.channels.whatsapp.graph import (
    MAX_AUDIO_BYTES,
    MAX_DOCUMENT_BYTES,
    MAX_IMAGE_BYTES,
    GraphClient,
    GraphError,
    TooLarge,
)
from bot.channels.whatsapp.payload import ErrorNotice, Incoming, Status, events, split
from bot.channels.whatsapp.render import (
    MAX_BUTTONS,
    Upload,
    WhatsAppMessage,
    Words,
    render_all,
    template_message,
)
from bot.config import WhatsAppSettings
from bot.sending.errors import (
    ChatRateLimited,
    Halted,
    RateLimited,
    Rejected,
    Skipped,
    Transient,
    TryLater,
)
from bot.sending.outbox_policy import OutboxPolicy, Retry
from bot.sending.pacer import Gate, Lane, Pacer
from bot.sending.sender import RetryPolicy, Sender
from handlers.engine.catalog import Catalog
from handlers.engine.clock import Clock
from handlers.engine.dispatcher import Arrival, Dispatcher
from handlers.engine.logids import log_id
from handlers.engine.messages import Inbound, Location, Media, Reply, Summary
from storage.database import Database
from storage.deliveries import Reported, Window
from storage.pending import Kept
from storage.private import write_private

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
WINDOW = timedelta(hours=24)  # free-form messages only this long after the resident wrote
# Near its end, a template rather than a free message that may arrive after the window closed.
WINDOW_MARGIN = timedelta(minutes=10)
MAX_QUEUED_BODIES = 2_000  # webhook bodies waiting; beyond, a 503 makes Meta retry later
THROUGHPUT_PAUSE_SECONDS = 5.0  # after 130429 (Meta does not say how long)
# How large a file of each kind may be fetched: Meta's limits for images and audio; a document
# is fetched only to see whether it is a photo sent "as a file".
MEDIA_LIMITS = {"photo": MAX_IMAGE_BYTES, "document": 10 * 1024 * 1024}
TOO_BIG = {"photo": PHOTO_TOO_BIG, "voice": VOICE_TOO_BIG, "document": FILE_TOO_BIG}
FAILED = {"photo": PHOTO_FAILED, "voice": VOICE_FAILED, "document": FILE_FAILED}


def make_sender(transport: "WhatsAppChannel", settings: WhatsAppSettings) -> Sender:
    policy = RetryPolicy(attempts=settings.send_attempts,
                         backoff_seconds=settings.retry_backoff_seconds,
                         bulk_seconds_per_chat=settings.bulk_seconds_per_chat)  # fmt: skip
    return Sender(transport, Pacer(Gate(settings.max_messages_per_second)), policy)


class WhatsAppChannel:
    def __init__(
        self,
        settings: WhatsAppSettings,
        dispatcher: Dispatcher,
        database: Database,
        catalog: Catalog,
        media_dir: Path,
        clock: Clock,
        outbox: OutboxPolicy,
        *,
        default_language: str = "es",
    ) -> None:
        assert settings.phone_number_id and settings.access_token, "WhatsApp is not configured"
        self.settings = settings
        self._dispatcher = dispatcher
        self._database = database
        self._catalog = catalog
        self._media_dir = media_dir
        self._clock = clock
        self._default_language = default_language
        self._outbox = outbox
        self.client = GraphClient(settings.base_url, settings.api_version,
                                  settings.phone_number_id,
                                  settings.access_token.get_secret_value())  # fmt: skip
        self.sender = make_sender(self, settings)
        self._default_words = self.words(default_language)
        # Each body with the key its statuses are kept under in the database's inbound queue
        # (None: not kept there), and whether its messages are kept (each under "m:" + id).
        self._bodies: asyncio.Queue[tuple[dict[str, Any], str | None, bool]] = asyncio.Queue(
            MAX_QUEUED_BODIES
        )
        self.kept = InboundQueue(database, clock, CHANNEL, dispatcher)
        dispatcher.attach(CHANNEL, reopen=self.reopen)
        self._tasks: set[asyncio.Task[None]] = set()
        # Windows Meta said were closed (131047 at once), until the database knows it.
        self._closed_at: dict[str, datetime] = {}
        self.received = 0  # messages handed to the dispatcher, for health and benchmarks

    # -- webhook bodies in ---------------------------------------------------------------------

    def accept(self, body: dict[str, Any], key: str | None = None, kept: bool = False) -> bool:
        """Take a verified webhook body to handle after the 200; False when too many wait.
        `key`: its statuses are kept in the database's inbound queue under it until handled;
        `kept`: so are its messages, each a row of its own (`take`)."""
        try:
            self._bodies.put_nowait((body, key, kept))
        except asyncio.QueueFull:
            return False
        return True

    async def take(self, raw: bytes, body: dict[str, Any]) -> bool:
        """A verified webhook body, committed to the database before Meta is answered 200
        (raises when it cannot be), then handled; False when too many wait."""
        if self._bodies.full():
            return False
        # Each message a row of its own in its person's conversation (its id the key: Meta's
        # retry keeps nothing twice), handled in order by whichever worker holds it; the rest
        # (statuses) under a digest of the body.
        singles, rest = split(body)
        rows = [Kept(_message_key(incoming.message_id), json.dumps(part), incoming.user_key)
                for incoming, part in singles]  # fmt: skip
        key = None
        if rest is not None:
            key = hashlib.sha256(raw).hexdigest()
            rows.append(Kept(key, json.dumps(rest)))
        if rows:
            await self.kept.keep_all(rows)
        return self.accept(body, key, kept=True)

    async def take_back(self) -> int:
        """Bodies a stopped process answered 200 and did not finish: handled again (first)."""
        taken = 0
        for queued in await self.kept.waiting():
            try:
                body = json.loads(queued.body)
            except ValueError:
                await self.kept.done(queued.key)
                continue
            # A message's row is its own body (kept: handled under its "m:" key); the rest's
            # row is forgotten once handled.
            rest_key = queued.key if queued.user_key is None else None
            if not isinstance(body, dict) or not self.accept(body, rest_key, kept=True):
                continue  # too many: left for the next start
            taken += 1
        if taken:
            log.info("handling again %d WhatsApp bodies left unhandled", taken)
        return taken

    @property
    def waiting(self) -> int:
        return self._bodies.qsize()

    async def run(self, stop: asyncio.Event) -> None:
        """Handle bodies as they come, until `stop`; what was taken is finished first."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                getting = asyncio.ensure_future(self._bodies.get())
                await asyncio.wait([getting, stopping], return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    break
                await self.handle(*getting.result())
        finally:
            stopping.cancel()
            while not self._bodies.empty():  # accepted with a 200: Meta will not send again
                await self.handle(*self._bodies.get_nowait())
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.client.close()

    async def handle(
        self, body: dict[str, Any], key: str | None = None, kept: bool = False
    ) -> None:
        """Every message, status and error of one body. Messages start in order (each takes
        its resident's place in line at once) and run concurrently across residents. A body
        kept under `key` is forgotten once all its messages are handled; `kept`: each message
        is kept on its own too (its row goes with its turn)."""
        started: list[asyncio.Task[None]] = []
        for event in events(body):
            if isinstance(event, Incoming):
                name = f"wa-{log_id(event.message_id)}"
                task = asyncio.create_task(self._incoming(event, kept), name=name)
                started.append(task)
            elif isinstance(event, Status):
                try:
                    await self._status(event)
                except Exception:
                    log.exception(
                        "status %s could not be recorded", log_id(event.report.message_id)
                    )
            elif isinstance(event, ErrorNotice):
                self._error_notice(event)
        if key is not None:
            started.append(asyncio.create_task(self._forget(key, list(started))))
        for task in started:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _forget(self, key: str, handling: list[asyncio.Task[None]]) -> None:
        """Once the body's messages are handled (each turn committed), forget the body."""
        if handling:
            await asyncio.wait(handling)
        await self.kept.handled(key)

    async def _incoming(self, incoming: Incoming, kept: bool = False) -> None:
        self.received += 1
        arrival = self._arrival(incoming)
        key = _message_key(incoming.message_id) if kept else None
        try:
            await self._dispatcher.handle_prepared(
                CHANNEL, incoming.user_key, arrival.prepare, arrival.deliver, key
            )
        except Exception:
            log.exception("message %s could not be handled", log_id(incoming.message_id))

    def reopen(self, body: str) -> Arrival | None:
        """A kept message, read again to be handled here (another worker received it)."""
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        if not isinstance(parsed, dict):
            return None
        for event in events(parsed):
            if isinstance(event, Incoming):
                return self._arrival(event)
        return None

    def _arrival(self, incoming: Incoming) -> Arrival:
        """The message as the dispatcher takes it."""

        async def prepare() -> Inbound | None:
            return await self.to_inbound(incoming)

        async def deliver(replies: Sequence[Reply]) -> None:
            outcome = await self.sender.deliver(incoming.user_key, replies, Lane.REPLY)
            if outcome.status != "sent":
                log.warning("reply not delivered message=%s: %s (%s)", log_id(incoming.message_id),
                            outcome.status, outcome.error)  # fmt: skip

        return Arrival(incoming.user_key, prepare, deliver)

    async def to_inbound(self, incoming: Incoming) -> Inbound:
        base = Inbound(channel=CHANNEL, user_key=incoming.user_key,
                       external_id=incoming.message_id, at=incoming.at)  # fmt: skip
        if incoming.text is not None:
            command = command_of(incoming.text.strip())
            if command is not None:
                return replace(base, command=command, argument=argument_of(incoming.text))
            return replace(base, text=incoming.text)
        if incoming.choice is not None:
            return replace(base, choice=incoming.choice)
        if incoming.latitude is not None and incoming.longitude is not None:
            return replace(base, location=Location(incoming.latitude, incoming.longitude))
        if incoming.media_id is not None and incoming.media_kind is not None:
            return await self._fetch_media(base, incoming)
        return replace(base, unsupported=incoming.unsupported or "other")

    async def _fetch_media(self, base: Inbound, incoming: Incoming) -> Inbound:
        """The file, fetched now (its URL lasts 5 minutes), kept under media_dir/whatsapp/.

        An image must be one by its bytes; a document is taken as a photo when its bytes are
        an image (sent "as a file" to keep its quality), whatever its name or stated type."""
        assert incoming.media_id is not None
        voice = incoming.media_kind == "voice"
        limit = MAX_AUDIO_BYTES if voice else MEDIA_LIMITS[incoming.media_kind or ""]
        failed = FAILED[incoming.media_kind or ""]
        try:
            info = await self.client.media_info(incoming.media_id)
            if info.size is not None and info.size > limit:
                raise TooLarge(f"{info.size} bytes")
            content = await self.client.download(info.url, limit)
        except TooLarge as error:
            log.info("media too large message=%s: %s", log_id(incoming.message_id), error)
            return replace(base, unsupported=TOO_BIG[incoming.media_kind or ""])
        except GraphError as error:
            log.warning("media download failed message=%s: %s", log_id(incoming.message_id), error)
            return replace(base, unsupported=failed)
        if voice:
            suffix: str | None = audio_suffix(info.mime_type or incoming.mime_type)
        else:
            suffix = image_suffix(content)
            if suffix is None:
                return replace(base, unsupported=NOT_IMAGE)
        relative = Path(CHANNEL) / f"{_safe(incoming.media_id)}{suffix}"
        try:
            await asyncio.to_thread(write_private, self._media_dir / relative, content)
        except OSError as error:
            log.error("could not keep media message=%s: %s", log_id(incoming.message_id), error)
            return replace(base, unsupported=failed)
        kind = "voice" if voice else "photo"
        return replace(base, media=Media(kind, relative.as_posix(), incoming.media_id))

    # -- statuses: what happened to what we sent -----------------------------------------------

    async def _status(self, status: Status) -> None:
        def react(reported: Reported, now: datetime) -> Retry:
            return self._react(status, reported, now)

        await self._outbox.reported(CHANNEL, status.report, react)

    def _react(self, status: Status, reported: Reported, now: datetime) -> Retry:
        """What Meta's code for a message it took then failed means: when to try again (a
        template if the window closed), and what the sender holds back meanwhile."""
        code = reported.error_code
        detail = f"WhatsApp error {code}: {status.error_title or 'failed'}"
        how = reaction(code)
        policy = self.settings
        later = {
            Reaction.TEMPLATE: now,  # the window check now sees it closed: a template
            Reaction.BACK_OFF_ALL: now + timedelta(seconds=THROUGHPUT_PAUSE_SECONDS),
            Reaction.SPACE_RESIDENT: now + timedelta(seconds=policy.bulk_seconds_per_chat),
            Reaction.RETRY: now + timedelta(seconds=policy.retry_backoff_seconds * 4),
            Reaction.HALT: now + timedelta(minutes=policy.halt_minutes),
        }.get(how)
        if how is Reaction.BACK_OFF_ALL:
            self.sender.pause_all(THROUGHPUT_PAUSE_SECONDS)
        if how is Reaction.SPACE_RESIDENT and status.user_key:
            self.sender.space(status.user_key, policy.bulk_seconds_per_chat)
        if how is Reaction.HALT:
            self.sender.halt(detail, policy.halt_minutes * 60)
            return Retry(later, detail, halt_seconds=policy.halt_minutes * 60)
        return Retry(later, detail)

    def _error_notice(self, notice: ErrorNotice) -> None:
        log.warning("WhatsApp reported error %s: %s", notice.code, notice.title)
        if reaction(notice.code) is Reaction.BACK_OFF_ALL:
            self.sender.pause_all(THROUGHPUT_PAUSE_SECONDS)

    # -- the Transport the sender drives -------------------------------------------------------

    channel = CHANNEL

    def render(self, replies: Sequence[Reply]) -> list[WhatsAppMessage]:
        return render_all(replies, self.words(self._default_language))

    def words(self, language: str) -> Words:
        t = self._catalog.translator(language)
        return Words(choose=t("whatsapp.choose"), numbered_hint=t("whatsapp.numbered_hint"),
                     or_choose=t("whatsapp.or_choose"))  # fmt: skip

    async def prepare(
        self, recipient: str, replies: Sequence[Reply], *, bulk: bool
    ) -> list[WhatsAppMessage]:
        """Free-form messages while the resident's 24-hour window is open (always for a reply:
        they just wrote); outside it, bulk goes as the template for its purpose, or not at all."""
        if not bulk and not any(_needs_words(reply) for reply in replies):
            return render_all(replies, self._default_words)  # no read for most replies
        window = await self._database.reader().deliveries.window(CHANNEL, recipient)
        language = window.language or self._default_language
        if bulk and not self._window_open(recipient, window):
            summary = next((r.summary for r in replies if r.summary is not None), None)
            return [self._template(summary, language)]
        return render_all(replies, self.words(language))

    def _window_open(self, recipient: str, window: Window) -> bool:
        now = self._clock.now()
        return window.open_at(now + WINDOW_MARGIN, WINDOW, closed_at=self._closed_at.get(recipient))

    def _template(self, summary: Summary | None, language: str) -> WhatsAppMessage:
        if summary is None:
            raise Skipped("outside WhatsApp's 24-hour window, and this message has no template")
        chosen = self.settings.templates.get(summary.purpose, {})
        ref = chosen.get(summary.language) or chosen.get(language)
        if ref is None:
            raise Skipped(
                f"outside WhatsApp's 24-hour window, and no template for {summary.purpose} in "
                f"{summary.language} ([whatsapp.templates.{summary.purpose}] {summary.language})"
            )
        return template_message(ref.name, ref.language or summary.language, summary.parameters)

    async def send(self, recipient: str, message: WhatsAppMessage, *, bulk: bool) -> str | None:
        """One Graph API message (its file uploaded first); Meta's codes become the sender's."""
        try:
            body = message.body
            if message.upload is not None:
                body = await self._with_upload(body, message.kind, message.upload)
            return await self.client.send(recipient, body)
        except OSError as error:  # a stored file that is gone
            raise Rejected(str(error)) from None
        except GraphError as error:
            raise self._delivery_error(recipient, message, error, bulk=bulk) from None

    async def _with_upload(self, body: dict[str, Any], kind: str, upload: Upload) -> dict[str, Any]:
        content = upload.content
        if upload.path:
            content = await asyncio.to_thread(Path(upload.path).read_bytes)
        elif upload.stored:
            content = await asyncio.to_thread((self._media_dir / upload.stored).read_bytes)
        if len(content) > MAX_DOCUMENT_BYTES:
            raise Rejected(f"file of {len(content)} bytes is over WhatsApp's upload limit")
        media_id = await self.client.upload(content, upload.mime_type, upload.filename)
        return {**body, kind: {**body[kind], "id": media_id}}

    def _delivery_error(
        self, recipient: str, message: WhatsAppMessage, error: GraphError, *, bulk: bool
    ) -> Exception:
        how = reaction(error.code)
        if error.code is None:  # no answer, or no code in it: a 5xx or the network
            status = error.status or 500
            return Transient(str(error)) if status >= 500 or status == 429 else Rejected(str(error))
        if how is Reaction.TEMPLATE and not message.template:
            self._closed_at[recipient] = self._clock.now()
            if bulk:
                return TryLater(f"{error} (sent again as a template)")
        if how is Reaction.BACK_OFF_ALL:
            return RateLimited(THROUGHPUT_PAUSE_SECONDS, str(error), everyone=True)
        if how is Reaction.SPACE_RESIDENT:
            return ChatRateLimited(self.settings.bulk_seconds_per_chat, str(error))
        if how is Reaction.RETRY:
            return Transient(str(error))
        if how is Reaction.HALT:
            return Halted(str(error), self.settings.halt_minutes * 60)
        return Rejected(str(error))  # GIVE_UP, REFUSED, a template refused: no retry


def _needs_words(reply: Reply) -> bool:
    """Whether rendering adds words of its own (a list's button, "or choose", a hint)."""
    return len(reply.choices) > MAX_BUTTONS or reply.location_button is not None


def _safe(media_id: str) -> str:
    """A media id as a file name: only letters, digits, - and _."""
    return "".join(c for c in media_id if c.isalnum() or c in "-_")[:128] or "media"


def _message_key(message_id: str) -> str:
    """A message's key in the inbound queue (beside the digests of bodies' statuses)."""
    return f"m:{message_id}"

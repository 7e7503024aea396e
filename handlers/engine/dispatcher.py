"""From one inbound message to sent replies: dedup, per-conversation lock, one transaction."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import ValidationError

from handlers.engine.catalog import Catalog
from handlers.engine.clock import Clock
from handlers.engine.encoder import Encoder
from handlers.engine.flood import FloodGate, Verdict
from handlers.engine.group import is_outsider, outsider_answer
from handlers.engine.logids import log_id
from handlers.engine.messages import Inbound, Reply, dump_replies, load_replies
from handlers.engine.observe import TurnObserver
from handlers.engine.routing import remember_offered
from handlers.engine.settings import FlowSettings
from handlers.engine.state import ConversationState, Draft, Step, held_by
from handlers.engine.team import Team, TeamCache, read_team
from handlers.engine.turn import Routes, Turn
from storage.models import Resident
from storage.pending import PendingReplies
from storage.repositories import Repositories

log = logging.getLogger(__name__)

Deliver = Callable[[Sequence[Reply]], Awaitable[None]]
# Sends replies to a chat of a channel (replies left unsent by a process that stopped).
SendTo = Callable[[str, Sequence[Reply]], Awaitable[None]]
Prepare = Callable[[], Awaitable[Inbound | None]]
# With several workers, a message kept by one and not handled yet is taken over by whichever
# holds its conversation's lock after this long with nobody holding it (Dispatcher.sweep).
LEFT_BEHIND = timedelta(seconds=5)
# Replies another worker committed are its to send while it lives: they are sent after the
# database's lock is let go (a crowd waiting for its answers holds no connection), so the next
# holder of the conversation waits for them, and sends them itself only once they are this old
# (their worker died between its commit and its send; at most once more each).
SENDING_TIME = timedelta(seconds=30)
OWED_POLL_SECONDS = 0.05  # how often a worker looks whether another's replies went out
# What is sent once the conversation's database lock is let go, in order.
Later = list[Callable[[], Awaitable[None]]]


@dataclass(frozen=True, slots=True)
class Arrival:
    """A kept message as its channel reads it again: whose it is, how to read it (its files,
    a button's spinner) and where its replies go."""

    user_key: str
    prepare: Prepare
    deliver: Deliver


# A channel's reading of a body it kept (None: not a message of a conversation).
Reopen = Callable[[str], Arrival | None]


class TurnWriter(Protocol):
    repos: Repositories

    @property
    def wrote_rows(self) -> bool: ...

    async def create_resident(self, channel: str, user_key: str, now: datetime) -> Resident: ...

    async def finish(
        self, *, channel: str, external_id: str, resident: Resident, step: str, draft: str,
        now: datetime, chat: str | None = None, replies: str | None = None,
        sent: Sequence[int] = (), handled: Sequence[tuple[str, str]] = (),
        worker: str | None = None,
    ) -> int | None: ...  # fmt: skip


class UnitOfWork(Protocol):
    # Several processes may share it (then conversation_lock is the database's).
    shared: bool

    def transaction(self) -> AbstractAsyncContextManager[Repositories]: ...

    def conversation_lock(
        self, channel: str, user_key: str, *, wait: bool = True
    ) -> AbstractAsyncContextManager[bool]: ...

    def turn(self) -> AbstractAsyncContextManager[TurnWriter]: ...

    def reader(self) -> Repositories: ...


class KeyedLocks:
    """One asyncio.Lock per key, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)

    def __contains__(self, key: Hashable) -> bool:
        """Someone holds or waits for this key's lock."""
        return key in self._locks


def _brought(inbound: Inbound) -> list[str]:
    """The file the adapter kept for this message (a photo, a voice note), if any."""
    return [inbound.media.path] if inbound.media is not None else []


def _let_go(held: list[str], draft: Draft, turn: Turn) -> list[str]:
    """Files the draft held and no longer does (sent with the idea, replaced, discarded), and
    those the turn released: candidates for deletion (those an idea keeps are not deleted).
    Files the draft still holds are not looked up again on every turn."""
    still = set(held_by(draft))
    return [*(path for path in held if path not in still), *turn.released_media]


def _load_state(step: str, draft: str) -> ConversationState:
    """A stored state; one this version cannot read starts over instead of failing each turn."""
    try:
        return ConversationState(step=Step(step), draft=Draft.model_validate_json(draft))
    except (ValueError, ValidationError):
        log.warning("unreadable conversation state at step %r; starting over", step)
        return ConversationState()


class Dispatcher:
    def __init__(
        self,
        database: UnitOfWork,
        settings: FlowSettings,
        catalog: Catalog,
        clock: Clock,
        *,
        routes: Routes,
        on_rows_written: Callable[[], None] | None = None,
        release_media: Callable[[list[str]], object] | None = None,
        observer: TurnObserver | None = None,
        on_ideas_filed: Callable[[list[tuple[int, str]]], None] | None = None,
        encoder: Encoder | None = None,
        worker: str | None = None,
        gone: Callable[[str], bool] | None = None,
    ) -> None:
        self._database = database
        # Told of each message handled and its turn's time (bot/metrics.py).
        self._observer = observer
        # This process's name, stored with the replies it commits; and whether another
        # worker's name is a process known to be dead (bot/leases.py: of this host, its pid
        # gone): its replies are sent at once, not after SENDING_TIME.
        self._worker = worker
        self._gone = gone or (lambda name: False)
        self._settings = settings
        self._catalog = catalog
        self._clock = clock
        self._routes = routes  # every flow's steps, buttons and commands (handlers/flows.py)
        # Who is staff, and the staff group: read from the database, briefly cached.
        self.team = TeamCache(lambda: read_team(database.reader(), settings.staff), clock)
        self._locks = KeyedLocks()
        self._flood = FloodGate(settings.flood.max_messages, settings.flood.window_seconds)
        # Told after a turn that wrote rows (it may have queued outbox messages).
        self._on_rows_written = on_rows_written
        # Deletes media files a committed turn let go of (after /borrar, a dropped draft).
        self._release_media = release_media
        # Told (id, problem) of the ideas a turn filed, once it has committed: their vectors
        # are computed then, off the turn (bot/similar.py).
        self._on_ideas_filed = on_ideas_filed
        # The sentence encoder a turn's similar-ideas lookup uses (None: no lookups).
        self._encoder = encoder if settings.similar.enabled else None
        self._in_flight: Counter[str] = Counter()  # media paths of turns being processed
        self._keep_books()

    def _keep_books(self) -> None:
        """What this process owes the database's kept messages and replies, and how it reads
        and answers what other workers received (durability, several workers)."""
        # Rows of committed replies sent since, forgotten with the next turn's write (or on
        # their own when no other turn is under way): until then a crash sends them again.
        self._sent: list[int] = []
        # Rows of replies this process committed and has not sent (a delivery that failed):
        # its own to send again at once, never another live worker's (see SENDING_TIME).
        self._own: set[int] = set()
        # Webhook bodies (channel, key) whose messages are all handled: forgotten the same way.
        self._handled: list[tuple[str, str]] = []
        self._resending: set[asyncio.Task[None]] = set()
        # Each channel's reading of its kept bodies and its way to send replies: what another
        # worker received, or left behind, is handled and answered here (several workers).
        self._reopen: dict[str, Reopen] = {}
        self._send_to: dict[str, SendTo] = {}

    def attach(self, channel: str, *, reopen: Reopen | None = None,
               send_to: SendTo | None = None) -> None:  # fmt: skip
        """A channel's reading of kept bodies and its sending of replies left unsent."""
        if reopen is not None:
            self._reopen[channel] = reopen
        if send_to is not None:
            self._send_to[channel] = send_to

    def handling(self, channel: str, user_key: str) -> bool:
        """A message of this conversation is being handled (its replies not all delivered yet)
        or waits in line: tests wait for False before reading a turn's last reply."""
        return (channel, user_key) in self._locks

    async def handle(self, inbound: Inbound, deliver: Deliver) -> bool:
        """Process one inbound message; False when it was a duplicate and was dropped."""
        taken = False

        async def ready() -> Inbound:
            nonlocal taken
            taken = True
            return inbound

        try:
            return await self.handle_prepared(inbound.channel, inbound.user_key, ready, deliver)
        finally:
            if not taken:  # flooded: its file (already written by the adapter) is not kept
                await self._let_go(_brought(inbound))

    async def handle_prepared(
        self, channel: str, user_key: str, prepare: Prepare, deliver: Deliver,
        kept: str | None = None,
    ) -> bool:  # fmt: skip
        """Take the conversation's place in line, then let the adapter finish the message.

        The lock is taken first, before the adapter's own I/O (downloading a photo, answering
        a button press) and before the state is read; it is held until the replies are
        delivered. So one person's messages are handled, and answered, in the order they came.
        `kept`: the message's key in the inbound queue (its row goes with its turn).

        On a shared database the lock is the database's too (the process's own first, so that
        a conversation waits on one connection at most), and its holder handles every message
        of the conversation kept and not handled yet, in the order they came, whichever worker
        received them: False when another worker handled this one already.
        """
        verdict = self._flood.admit((channel, user_key), self._clock.now())
        if verdict is not Verdict.TAKE:
            # Not the user key: on WhatsApp it is a phone number, which logs never carry.
            log.info("flood: a message not processed channel=%s (%s)", channel, verdict.value)
            self._observe(channel, "flooded")
            if kept is not None and self._database.shared:  # nobody else is to take it up
                await self._forget_kept(channel, kept)
            if verdict is Verdict.WARN:
                await deliver([Reply(await self._slow_down_text(channel, user_key))])
            return False
        async with self._locks.hold((channel, user_key)):
            if not self._database.shared:
                return await self._one(channel, kept, prepare, deliver)
            return bool(await self._locked(channel, user_key, (kept, prepare, deliver)))

    async def _locked(
        self, channel: str, user_key: str, own: tuple[str | None, Prepare, Deliver] | None,
        *, wait: bool = True,
    ) -> bool | None:  # fmt: skip
        """The conversation's turns under the database's lock (the caller holds the process's
        own), their replies sent once it is let go; None when `wait` is off and another worker
        holds it."""
        later: Later = []
        async with self._database.conversation_lock(channel, user_key, wait=wait) as held:
            if not held:
                return None
            outcome = await self._in_line(channel, user_key, own, later)
        for send in later:
            await send()
        return outcome

    async def _in_line(
        self, channel: str, user_key: str, own: tuple[str | None, Prepare, Deliver] | None,
        later: Later,
    ) -> bool:  # fmt: skip
        """Under the conversation's locks: replies a dead worker left unsent, then its messages
        not handled yet in the order they came (`own` among them, or after them when it was
        not kept); whether `own` was handled here. Replies go to `later`, behind those another
        live worker is sending."""
        earlier = await self._send_owed(channel, user_key)
        if earlier:
            later.append(lambda: self._after(channel, user_key, earlier))
        kept = own[0] if own is not None else None
        outcome: bool | None = None
        for row in await self._database.reader().inbound_queue.of_conversation(channel, user_key):
            if own is not None and row.key == kept:
                outcome = await self._one(channel, kept, own[1], own[2], later)
                continue
            reopen = self._reopen.get(channel)
            arrival = reopen(row.body) if reopen is not None else None
            if arrival is None:
                if reopen is not None:  # not a message (a channel not running keeps its rows)
                    await self._forget_kept(channel, row.key)
                continue
            await self._one(channel, row.key, arrival.prepare, arrival.deliver, later)
        if own is not None and kept is None:
            return await self._one(channel, None, own[1], own[2], later)
        if own is not None and outcome is None:
            log.info("message handled by another worker channel=%s", channel)
        return bool(outcome)

    async def _one(
        self, channel: str, kept: str | None, prepare: Prepare, deliver: Deliver,
        later: Later | None = None,
    ) -> bool:  # fmt: skip
        """One message, read by its adapter, handled and answered (the caller holds the
        conversation's lock). On a shared database a kept row its turn did not take along
        (nothing to do, an outsider, a duplicate) goes now: the next holder must not redo it."""
        committed: list[bool] = []
        try:
            inbound = await prepare()
            outcome = False
            if inbound is not None:
                outcome = await self._handle_read(inbound, deliver, kept, committed, later)
        except Exception:  # a message that fails is not retried by every next holder
            await self._forget_unless(channel, kept, committed)
            raise
        # Not on a cancellation or a death: the next holder handles the message.
        await self._forget_unless(channel, kept, committed)
        return outcome

    async def _handle_read(
        self, inbound: Inbound, deliver: Deliver, kept: str | None, committed: list[bool],
        later: Later | None,
    ) -> bool:  # fmt: skip
        """A message its adapter read, handled; its files let go of after."""
        dropped: list[str] = []
        self._in_flight.update(_brought(inbound))
        try:
            return await self._process(inbound, deliver, dropped, kept, committed, later)
        finally:
            for path in _brought(inbound):
                self._in_flight[path] -= 1
                if self._in_flight[path] <= 0:
                    del self._in_flight[path]
            # Whatever the turn did (kept the photo, ignored it, failed, was a duplicate),
            # a file no idea or draft refers to is deleted once the turn has committed.
            await self._let_go([*_brought(inbound), *dropped])

    async def _forget_unless(self, channel: str, kept: str | None, committed: list[bool]) -> None:
        """On a shared database, forget a kept message its turn did not take along."""
        if kept is not None and self._database.shared and not committed:
            await self._forget_kept(channel, kept)

    async def _forget_kept(self, channel: str, key: str) -> None:
        """Forget a kept body now (handled without a turn to take it along)."""
        try:
            async with self._database.transaction() as repos:
                await repos.inbound_queue.done(channel, key)
        except Exception:  # the next holder of the conversation handles it again
            log.exception("could not forget a handled %s body", channel)

    async def _process(
        self, inbound: Inbound, deliver: Deliver, dropped: list[str],
        kept: str | None = None, committed: list[bool] | None = None, later: Later | None = None,
    ) -> bool:  # fmt: skip
        """The turn (or an outsider's answer, or an apology), and its replies delivered (now,
        or by `later`); a kept message's row goes with its turn (then `committed` gets True)."""
        committed = [] if committed is None else committed
        team = await self.team.current()
        if is_outsider(inbound, team):
            # Not staff, in a group: nothing is stored about them, nothing is shown.
            answer = outsider_answer(inbound, self._settings, self._catalog)
            self._observe(inbound.channel, "outsider")
            if answer:
                await deliver(answer)
            return True
        owed: int | None = None
        # The turn's time, for the watchers (a measurement: never used to decide anything).
        started = time.perf_counter()
        try:
            outcome = await self._turn(inbound, dropped, kept, team)
            replies, owed = (None, None) if outcome is None else outcome
            if outcome is not None:
                committed.append(True)
            if outcome is None:
                self._observe(inbound.channel, "duplicate")
            else:
                self._observe(inbound.channel, "ok", time.perf_counter() - started)
        except Exception:
            log.exception(
                "turn failed channel=%s message=%s",
                inbound.channel,
                log_id(inbound.external_id),
            )
            self._observe(inbound.channel, "failed", time.perf_counter() - started)
            replies = await self._after_failure(inbound, kept)
            committed.append(True)  # its row went with the message id (or the turn will)
        if replies is None:
            log.info(
                "duplicate dropped channel=%s message=%s",
                inbound.channel,
                log_id(inbound.external_id),
            )
            return False
        if owed is not None:
            self._own.add(owed)
        if later is None:
            await self._deliver(deliver, replies, owed)
        else:
            later.append(lambda: self._deliver(deliver, replies, owed))
        return True

    def _observe(self, channel: str, outcome: str, seconds: float | None = None) -> None:
        if self._observer is not None:
            self._observer.handled(channel, outcome, seconds)

    async def _deliver(self, deliver: Deliver, replies: list[Reply], owed: int | None) -> None:
        """A turn's replies sent, and their row forgotten."""
        await deliver(replies)
        if owed is not None:
            self._own.discard(owed)
            self._sent.append(owed)
            # On a shared database at once: the conversation's next holder, in another worker,
            # waits for the row to go. Alone, with the next turn's write.
            if self._database.shared or len(self._locks) <= 1:
                await self.forget_sent()

    async def forget_sent(self) -> None:
        """Delete the rows of replies sent and of webhook bodies handled since the last turn
        wrote (a clean stop does too)."""
        sent, self._sent = self._sent, []
        handled, self._handled = self._handled, []
        if not sent and not handled:
            return
        try:
            async with self._database.transaction() as repos:
                await repos.pending_replies.sent(sent)
                await repos.inbound_queue.done_all(handled)
        except Exception:  # kept for the next turn's write
            log.exception("could not forget %d sent replies, %d handled bodies",
                          len(sent), len(handled))  # fmt: skip
            self._sent[:0] = sent
            self._handled[:0] = handled

    async def body_handled(self, channel: str, key: str, *, message: bool = False) -> None:
        """A kept webhook body's messages are all handled (their turns committed): its row is
        deleted with the next turn's write rather than in a transaction of its own, or at once
        when no turn is under way. Until then a crash only replays it, and the replay is
        dropped as a duplicate. On a shared database a message's own row (`message`) is gone
        already, with its turn or just after (`_one`): nothing to do."""
        if message and self._database.shared:
            return
        self._handled.append((channel, key))
        if not self._locks:
            await self.forget_sent()

    async def resend_unsent(self, channels: Mapping[str, SendTo]) -> int:
        """Send the replies a stopped process committed and did not send (at most once more
        each), before anything new: each conversation's place in line is taken now, and its
        next message waits behind them. Returns how many turns' replies are sent again."""
        self._send_to.update(channels)
        unsent = [
            row
            for row in await self._database.reader().pending_replies.unsent()
            if row.channel in channels
        ]
        conversations = list(dict.fromkeys((row.channel, row.user_key) for row in unsent))
        for channel, user_key in conversations:
            task = asyncio.create_task(self._resend(channel, user_key), name="resend")
            self._resending.add(task)
            task.add_done_callback(self._resending.discard)
        if unsent:
            log.info("sending again the replies of %d turns left unsent", len(unsent))
        await asyncio.sleep(0)  # the tasks take their places in line before anything else
        return len(unsent)

    async def _resend(self, channel: str, user_key: str) -> None:
        """A conversation's replies left unsent, sent under its locks (re-read there: on a
        shared database another worker may have sent them meanwhile)."""
        async with self._locks.hold((channel, user_key)):
            if self._database.shared:
                await self._locked(channel, user_key, None)
            else:
                await self._send_owed(channel, user_key)
        if not self._locks:
            await self.forget_sent()

    async def _send_owed(self, channel: str, user_key: str) -> list[int]:
        """Send this conversation's replies left unsent (the caller holds its locks). On a
        shared database only those old enough for their worker to be gone: the ids of the
        others, still their worker's to send, are returned."""
        send = self._send_to.get(channel)
        if send is None:
            return []
        rows = await self._database.reader().pending_replies.unsent_of(channel, user_key)
        if not rows:
            return []
        now = self._clock.now()
        shared = self._database.shared
        theirs = [
            row.id
            for row in rows
            if shared and row.id not in self._own and self._being_sent(row, now)
        ]
        await self._send_rows(channel, send, [row for row in rows if row.id not in theirs])
        return theirs

    async def _send_rows(self, channel: str, send: SendTo, rows: Sequence[PendingReplies]) -> None:
        for row in rows:
            try:
                await send(row.chat, load_replies(row.replies))
            except Exception:
                log.exception("replies left unsent could not be sent channel=%s", channel)
                continue
            self._own.discard(row.id)
            self._sent.append(row.id)
        if rows and self._database.shared:  # the next holder waits for their rows to go
            await self.forget_sent()

    async def _after(self, channel: str, user_key: str, earlier: list[int]) -> None:
        """Wait until replies another worker committed before ours are sent (their rows gone),
        sending those it left for SENDING_TIME (it died) ourselves; then ours may go."""
        waiting = set(earlier)
        while waiting:
            rows = await self._database.reader().pending_replies.unsent_of(channel, user_key)
            left = [row for row in rows if row.id in waiting]
            now = self._clock.now()
            gone = [row for row in left if not self._being_sent(row, now)]
            send = self._send_to.get(channel)
            if gone and send is not None:
                await self._send_left(channel, user_key, send, {row.id for row in gone})
            waiting = {row.id for row in left} - {row.id for row in gone}
            if waiting:
                await asyncio.sleep(OWED_POLL_SECONDS)

    async def _send_left(self, channel: str, user_key: str, send: SendTo, ids: set[int]) -> None:
        """Replies a dead worker left, sent under the conversation's database lock and read
        again there: another worker's sweep may be taking them over at the same moment."""
        async with self._database.conversation_lock(channel, user_key):
            rows = await self._database.reader().pending_replies.unsent_of(channel, user_key)
            await self._send_rows(channel, send, [row for row in rows if row.id in ids])

    async def sweep(self) -> int:
        """On a shared database: take over the conversations whose messages or replies have
        waited LEFT_BEHIND with no worker holding them (one that died, or a person who sends
        nothing more after a message another worker left). Cheap when there are none: one
        read. Returns how many conversations were taken over."""
        if not self._database.shared:
            return 0
        now = self._clock.now()
        writers = await self._database.reader().pending_replies.writers()
        dead = [name for name in writers if name != self._worker and self._gone(name)]
        left = await self._database.reader().inbound_queue.left_behind(
            now - LEFT_BEHIND, now - SENDING_TIME, dead
        )
        taken = 0
        for channel, user_key in left:
            if (channel, user_key) in self._locks or channel not in self._reopen:
                continue  # being handled here; or a channel this worker does not run
            async with self._locks.hold((channel, user_key)):
                if await self._locked(channel, user_key, None, wait=False) is not None:
                    taken += 1  # else a live worker has it in hand
        if taken:
            log.info("took over %d conversations left behind", taken)
        return taken

    async def stop(self) -> None:
        """Let replies being sent again finish, and forget every sent one."""
        if self._resending:
            await asyncio.gather(*self._resending, return_exceptions=True)
        await self.forget_sent()

    def _being_sent(self, row: PendingReplies, now: datetime) -> bool:
        """Replies another worker committed are still its to send: for SENDING_TIME, unless
        that worker is known to be dead."""
        if row.worker is not None and row.worker != self._worker and self._gone(row.worker):
            return False
        return _young(row.created_at, now)

    async def _slow_down_text(self, channel: str, user_key: str) -> str:
        resident = await self._database.reader().residents.find(channel, user_key)
        language = (resident and resident.language) or self._settings.lab.default_language
        return self._catalog.text(language, "flood.slow_down")

    async def _let_go(self, paths: list[str]) -> None:
        """Delete the files of these that nothing refers to (nor a turn still in flight)."""
        if not paths or self._release_media is None:
            return
        try:
            kept = await self._database.reader().privacy.paths_in_use(paths)
            loose = sorted({p for p in paths if p not in kept and self._in_flight[p] <= 0})
            if loose:
                self._release_media(loose)
        except Exception:  # the retention sweep deletes it later
            log.exception("could not let go of %d media files", len(paths))

    async def _turn(
        self, inbound: Inbound, dropped: list[str], kept: str | None = None,
        team: Team | None = None,
    ) -> tuple[list[Reply], int | None] | None:  # fmt: skip
        """The turn's replies, and the row keeping them until they are sent; None for a
        message seen before."""
        # Read first, outside the write lock: under the conversation's lock nobody else
        # changes this resident's state, so the read is current, and the serialised
        # transaction below stays short (it bounds how many turns per second Minga takes).
        seen, resident, record = await self._database.reader().conversations.load_turn(
            inbound.channel, inbound.user_key, inbound.external_id
        )
        if seen:
            return None
        now = self._clock.now()
        async with self._database.turn() as work:
            if resident is None:
                resident = await work.create_resident(inbound.channel, inbound.user_key, now)
            state = (
                ConversationState() if record is None else _load_state(record.step, record.draft)
            )
            turn = self._new_turn(inbound, resident, state, work.repos, now, first=record is None)
            turn.team = team if team is not None else await self.team.current()
            if inbound.username != resident.username:  # kept so staff can be added by it
                turn.update_resident(username=inbound.username)
            before, held = state.step, held_by(state.draft)
            await self._routes.entry(turn, None if record is None else now - record.updated_at)
            remember_offered(turn)
            owed = await self._finish(work, inbound, turn, state, now, kept)
        if turn.team_changed:  # committed: this process sees it from the next message on
            self.team.forget()
        if work.wrote_rows and self._on_rows_written is not None:
            self._on_rows_written()
        if turn.filed_ideas and self._on_ideas_filed is not None:
            self._on_ideas_filed(turn.filed_ideas)
        dropped += _let_go(held, state.draft, turn)
        log.info(
            "turn channel=%s resident=%s message=%s step=%s->%s",
            inbound.channel,
            resident.id,
            log_id(inbound.external_id),
            before,
            state.step,
        )
        return turn.replies, owed

    async def _finish(
        self, work: TurnWriter, inbound: Inbound, turn: Turn, state: ConversationState,
        now: datetime, kept: str | None = None,
    ) -> int | None:  # fmt: skip
        """The message id, the new state, the resident's fields and the replies, written
        together and with anything the turn wrote before (a new idea), in one transaction;
        the rows of replies sent since the last turn are forgotten in it."""
        sent, self._sent = self._sent, []
        handled, self._handled = self._handled, []
        try:
            return await work.finish(
                channel=inbound.channel,
                external_id=inbound.external_id,
                resident=turn.resident,
                step=state.step.value,
                draft=state.draft.model_dump_json(exclude_defaults=True),
                now=now,
                chat=inbound.group or inbound.user_key,
                replies=dump_replies(turn.replies) if turn.replies else None,
                sent=sent,
                # The message's own kept row goes with its turn: handled exactly when committed.
                handled=handled if kept is None else [*handled, (inbound.channel, kept)],
                worker=self._worker,
            )
        except BaseException:
            self._sent[:0] = sent  # not forgotten: the next write tries again
            self._handled[:0] = handled
            raise

    def _new_turn(
        self, inbound: Inbound, resident: Resident, state: ConversationState,
        repos: Repositories, now: datetime, *, first: bool,
    ) -> Turn:  # fmt: skip
        """The turn a message starts (`first`: the resident's first message ever)."""
        return Turn(
            inbound=inbound,
            resident=resident,
            state=state,
            repos=repos,
            settings=self._settings,
            catalog=self._catalog,
            now=now,
            routes=self._routes,
            first_contact=first,
            encoder=self._encoder,
        )

    async def _after_failure(self, inbound: Inbound, kept: str | None = None) -> list[Reply] | None:
        """The turn rolled back; remember the message id (so a retry does not fail again and
        again) and apologise. The draft is as it was before this message."""
        try:
            async with self._database.transaction() as repos:
                if kept is not None:
                    await repos.inbound_queue.done(inbound.channel, kept)
                if not await repos.inbound.record(
                    inbound.channel, inbound.external_id, self._clock.now()
                ):
                    return None
                resident = await repos.residents.get_or_create(
                    inbound.channel, inbound.user_key, self._clock.now()
                )
        except Exception:
            log.exception("could not record failed message %s", log_id(inbound.external_id))
            return [
                Reply(self._catalog.text(self._settings.lab.default_language, "error.internal"))
            ]
        language = resident.language or self._settings.lab.default_language
        return [Reply(self._catalog.text(language, "error.internal"))]


def _young(created_at: datetime | None, now: datetime) -> bool:
    """Replies committed this recently are still their worker's to send."""
    return created_at is not None and now - created_at < SENDING_TIME

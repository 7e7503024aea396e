"""`minga broadcast send|status|list`: queue a broadcast for the running bot, and follow it.

The command line never sends: it writes the broadcast and one outbox row per recipient, and
the running `minga run` delivers them at the channel's pace (one sender, one pace)."""

import argparse
import asyncio
import sys
from typing import Any

from bot.app import Runtime
from bot.cli.output import NotDone, UsageError, counted, emit
from bot.config import Settings
from bot.sending.outbox_worker import HEARTBEAT_PREFIX, HEARTBEAT_STALE_SECONDS
from handlers.engine.clock import Clock
from handlers.outbound.broadcasts import BroadcastProblem, count, parse_audience, queue_broadcast
from storage.models import Broadcast, DeliveryCounts

POLL_SECONDS = 0.5
STALL_HINT_SECONDS = 15  # a running bot that sent nothing for this long: say so, once


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    broadcast = commands.add_parser(
        "broadcast", parents=[common], help="announcements to opted-in residents"
    )
    tasks = broadcast.add_subparsers(dest="broadcast_command", required=True, metavar="TASK")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print one JSON document")
    send = tasks.add_parser(
        "send", parents=[common, output],
        help="queue a broadcast; the running `minga run` delivers it",
    )  # fmt: skip
    send.add_argument("--text", required=True, help="the message, as residents will read it")
    send.add_argument("--event", type=int, metavar="ID", help="attach an event's RSVP buttons")
    send.add_argument(
        "--audience", default="all",
        help="all (default), neighbourhood:NAME, category:ID, or event:ID (who said yes)",
    )  # fmt: skip
    send.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    send.add_argument(
        "--wait", action="store_true",
        help="show progress until it is done; exit status 1 at once if no `minga run` is "
        "delivering (the broadcast stays queued and goes out when one starts)",
    )  # fmt: skip
    status = tasks.add_parser("status", parents=[common, output], help="how a broadcast stands")
    status.add_argument("id", type=int)
    tasks.add_parser("list", parents=[common, output], help="the latest broadcasts")


def _document(broadcast: Broadcast, counts: DeliveryCounts) -> dict[str, Any]:
    return {
        "id": broadcast.id, "audience": broadcast.audience, "event": broadcast.event_id,
        "recipients": broadcast.recipients, "created_at": broadcast.created_at.isoformat(),
        "finished_at": broadcast.finished_at.isoformat() if broadcast.finished_at else None,
        **counts.model_dump(),
    }  # fmt: skip


def _line(broadcast: Broadcast, counts: DeliveryCounts) -> str:
    state = "done" if counts.pending == 0 else "sending"
    return (f"{broadcast.id:>4}  {broadcast.audience}  {state}: {counts.sent} sent, "
            f"{counts.pending} pending, {counts.failed} failed, {counts.blocked} blocked, "
            f"{counts.skipped} skipped")  # fmt: skip


async def run(args: argparse.Namespace, settings: Settings, *, clock: Clock | None = None) -> None:
    runtime = await Runtime.open(settings, clock=clock)
    try:
        await _run(args, runtime)
    except BroadcastProblem as problem:
        raise UsageError(runtime.catalog.text("en", f"broadcast_error.{problem.key}",
                                              **problem.values)) from None  # fmt: skip
    finally:
        await runtime.close()


async def _run(args: argparse.Namespace, runtime: Runtime) -> None:
    repos = runtime.database.reader()
    if args.broadcast_command == "list":
        broadcasts = await repos.broadcasts.recent()
        tallied = [(b, await repos.outbox.counts(b.id)) for b in broadcasts]
        lines = [_line(b, c) for b, c in tallied] or ["no broadcasts yet"]
        emit(args, [_document(b, c) for b, c in tallied], "\n".join(lines))
        return
    if args.broadcast_command == "status":
        broadcast = await repos.broadcasts.get(args.id)
        if broadcast is None:
            raise UsageError(f"there is no broadcast {args.id} (see: minga broadcast list)")
        counts = await repos.outbox.counts(broadcast.id)
        emit(args, _document(broadcast, counts), _line(broadcast, counts))
        return
    await _send(args, runtime)


async def _send(args: argparse.Namespace, runtime: Runtime) -> None:
    audience = parse_audience(args.audience, runtime.settings.lab)
    recipients = await count(runtime.database.reader(), audience)
    if not args.yes:
        _confirm(recipients)
    async with runtime.database.transaction() as repos:
        broadcast = await queue_broadcast(
            repos, text=args.text, event_id=args.event, audience=audience, created_by="cli",
            reporter_id=None, now=runtime.clock.now(),
        )  # fmt: skip
    if args.wait and broadcast.recipients:
        await _follow(runtime, broadcast, quiet=args.json)
    counts = await runtime.database.reader().outbox.counts(broadcast.id)
    emit(args, _document(broadcast, counts),
         f"broadcast {broadcast.id} queued for {_residents(broadcast.recipients)}"
         + ("" if args.wait else "; the running `minga run` sends it"))  # fmt: skip


def _confirm(recipients: int) -> None:
    if not sys.stdin.isatty():
        raise UsageError(
            f"this would go to {_residents(recipients)}: add --yes to send without being asked"
        )
    answer = input(
        f"Send to {counted(recipients, 'opted-in resident', 'opted-in residents')}? [y/N] "
    )
    if answer.strip().lower() not in ("y", "yes", "s", "si", "sí"):
        raise UsageError("not sent")


async def _follow(runtime: Runtime, broadcast: Broadcast, *, quiet: bool) -> None:
    """A progress bar until nothing is pending; stops with NotDone when no `minga run` is
    delivering (no fresh heartbeat for a channel with messages pending, and no progress)."""
    # Imported here: rich's progress bar (~20 ms) is needed by this command only.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    reader = runtime.database.reader()
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, disable=quiet, transient=False) as progress:
        task = progress.add_task(f"broadcast {broadcast.id}", total=broadcast.recipients)
        done, moved_at, hinted = -1, runtime.clock.now(), False
        while True:
            counts = await reader.outbox.counts(broadcast.id)
            finished = counts.total - counts.pending
            progress.update(task, completed=finished)
            if counts.pending == 0:
                return
            now = runtime.clock.now()
            if finished != done and done >= 0:
                moved_at, hinted = now, False
            else:  # no progress since the last look (or the first look): is anyone sending?
                silent = await _undelivered_channels(runtime, broadcast.id)
                if silent:
                    raise NotDone(_nobody_sending(broadcast, counts.pending, silent))
                stalled = (now - moved_at).total_seconds() >= STALL_HINT_SECONDS
                if stalled and not hinted:
                    hinted = True
                    progress.console.print(
                        "`minga run` is running but sent nothing for a while: a pause for the "
                        "channel's limits, or see its log"
                    )
            done = finished
            await asyncio.sleep(POLL_SECONDS)


async def _undelivered_channels(runtime: Runtime, broadcast_id: int) -> list[str]:
    """Channels with messages of this broadcast pending and no running worker beating."""
    reader = runtime.database.reader()
    beats = await reader.leases.renewed(HEARTBEAT_PREFIX)
    now = runtime.clock.now()
    pending = await reader.outbox.pending_channels(broadcast_id)
    return sorted(
        channel for channel in pending
        if channel not in beats or (now - beats[channel]).total_seconds() > HEARTBEAT_STALE_SECONDS
    )  # fmt: skip


def _nobody_sending(broadcast: Broadcast, pending: int, channels: list[str]) -> str:
    # Console residents (people who tried `minga chat`) get theirs in `minga chat`, never
    # from `minga run`: say which one the operator should start.
    runners = " or ".join(sorted({"`minga chat`" if c == "console" else "`minga run`"
                                  for c in channels}))  # fmt: skip
    return (
        f"no {runners} is delivering {' and '.join(channels)} messages: broadcast "
        f"{broadcast.id} stays queued ({pending} pending) and goes out when {runners} starts "
        f"(minga broadcast status {broadcast.id})"
    )


def _residents(count: int) -> str:
    return counted(count, "resident", "residents")

"""`minga events add|list|show|edit|cancel|link`: the lab's events from the server."""

import argparse
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import segno

from bot.app import Runtime
from bot.cli.output import UsageError, counted, date_problem_line, emit
from bot.config import Settings
from handlers.engine.dates import DateProblem, future_when
from handlers.events.service import (
    DEFAULT_LENGTH,
    EventProblem,
    cancel_event,
    create_event,
    edit_event,
)
from storage.models import Event, EventCounts, EventFields
from storage.repositories import Repositories

_MINUTE = timedelta(minutes=1)
# A poster's QR printed 8 cm wide at 300 dpi needs about 950 pixels.
PRINT_PIXELS = 1200
QR_BORDER = 4  # modules of quiet zone: the standard's minimum
LINK = "https://t.me/{bot}?start=ev{id}"


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    events = commands.add_parser(
        "events", parents=[common], help="the lab's events: add, list, show, edit, cancel, link"
    )
    tasks = events.add_subparsers(dest="events_command", required=True, metavar="TASK")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print one JSON document")

    add = tasks.add_parser("add", parents=[common, output], help="create an event")
    _fields(add, required=True)
    tasks.add_parser("list", parents=[common, output], help="upcoming events").add_argument(
        "--all", action="store_true", help="also past and cancelled events"
    )
    show = tasks.add_parser("show", parents=[common, output], help="one event and its answers")
    show.add_argument("id", type=int)
    edit = tasks.add_parser(
        "edit", parents=[common, output],
        help="change an event; a new time or place tells everyone who said yes",
    )  # fmt: skip
    edit.add_argument("id", type=int)
    _fields(edit, required=False)
    cancel = tasks.add_parser(
        "cancel", parents=[common, output], help="cancel an event and tell who said yes"
    )
    cancel.add_argument("id", type=int)
    link = tasks.add_parser(
        "link", parents=[common, output], help="the event's Telegram link, and a QR code"
    )
    link.add_argument("id", type=int)
    link.add_argument(
        "--qr",
        metavar="FILE",
        help="also write a QR code of the link, for print: FILE.svg, or FILE.png (1200 px)",
    )


def _fields(parser: argparse.ArgumentParser, *, required: bool) -> None:
    when = (
        "in the lab's time zone: YYYY-MM-DD HH:MM, or as people write it "
        '("16/08/2027 2 pm", "16 Aug 2 p.m.", "mañana a las 3")'
    )
    parser.add_argument("--title", required=required)
    parser.add_argument("--starts", required=required, metavar="WHEN", help=when)
    parser.add_argument("--ends", metavar="WHEN", help=f"{when} (default: two hours later)")
    parser.add_argument("--venue", required=required, help="the place's name")
    parser.add_argument("--address", help="street address")
    parser.add_argument("--lat", type=float, help="latitude, for the map pin")
    parser.add_argument("--lon", type=float, help="longitude, for the map pin")
    parser.add_argument("--capacity", type=int, help="places; further yeses join a waitlist")
    parser.add_argument("--description", help="a few lines about the event")


def _when(text: str, option: str, settings: Settings, now: datetime) -> datetime:
    """A date as staff write it, read like the chat's /nuevo_evento; one clear line if not."""
    lab = settings.lab
    try:
        return future_when(text, lab.zone, now, need_time=True,
                           day_first=lab.default_language == "es")  # fmt: skip
    except DateProblem as problem:
        if option == "--ends" and problem.key == "past":
            raise UsageError(f"--ends {text!r}: the end must come after the start") from None
        raise UsageError(date_problem_line(option, text, problem, settings, now)) from None


def _changed(
    args: argparse.Namespace, settings: Settings, base: Event | None, now: datetime
) -> EventFields:
    """The event's details with what the arguments change (all of them, for a new event)."""
    values: dict[str, Any] = base.model_dump(include=set(EventFields.model_fields)) if base else {}
    if args.starts is not None:
        start = _when(args.starts, "--starts", settings, now)
        if base is not None and args.ends is None:  # moving keeps the length
            values["ends_at"] = start + (base.ends_at - base.starts_at)
        values["starts_at"] = start
    if args.ends is not None:
        # The end is read from the start: "--ends '6 pm'" is that day's evening.
        values["ends_at"] = _when(args.ends, "--ends", settings, values["starts_at"] - _MINUTE)
    values.setdefault("ends_at", values["starts_at"] + DEFAULT_LENGTH)
    simple = {"title": "title", "venue": "venue", "address": "address", "lat": "latitude",
              "lon": "longitude", "capacity": "capacity", "description": "description"}  # fmt: skip
    for option, field in simple.items():
        if getattr(args, option) is not None:
            values[field] = getattr(args, option)
    return EventFields(**values)


def _document(event: Event, counts: EventCounts, settings: Settings) -> dict[str, Any]:
    zone = settings.lab.zone
    return {
        "id": event.id, "title": event.title, "description": event.description,
        "starts": event.starts_at.astimezone(zone).isoformat(),
        "ends": event.ends_at.astimezone(zone).isoformat(), "venue": event.venue,
        "address": event.address, "lat": event.latitude, "lon": event.longitude,
        "capacity": event.capacity, "status": event.status.value, "going": counts.going,
        "waitlist": counts.waitlist, "declined": counts.declined,
    }  # fmt: skip


def _line(event: Event, counts: EventCounts, settings: Settings) -> str:
    start = event.starts_at.astimezone(settings.lab.zone).strftime("%Y-%m-%d %H:%M")
    places = f"/{event.capacity}" if event.capacity else ""
    waiting = f", {counts.waitlist} waiting" if counts.waitlist else ""
    return (f"{event.id:>4}  {start}  {event.title} @ {event.venue}  [{event.status.value}] "
            f"{counts.going}{places} coming{waiting}")  # fmt: skip


async def _get(repos: Repositories, event_id: int) -> Event:
    event = await repos.events.get(event_id)
    if event is None:
        raise UsageError(f"there is no event {event_id} (see: minga events list)")
    return event


async def run(args: argparse.Namespace, settings: Settings) -> None:
    runtime = await Runtime.open(settings)
    try:
        await _run(args, runtime)
    except EventProblem as problem:
        raise UsageError(problem.text(runtime.catalog.translator("en"))) from None
    finally:
        await runtime.close()


async def _run(args: argparse.Namespace, runtime: Runtime) -> None:
    settings, now = runtime.settings, runtime.clock.now()
    offsets = settings.events.offsets_seconds
    task = args.events_command
    if task == "list":
        repos = runtime.database.reader()
        events = await (repos.events.all() if args.all else repos.events.upcoming(now))
        rows = [(event, await repos.rsvps.counts(event.id)) for event in events]
        lines = [_line(e, c, settings) for e, c in rows] or ["no upcoming events"]
        emit(args, [_document(e, c, settings) for e, c in rows], "\n".join(lines))
        return
    if task == "add":
        async with runtime.database.transaction() as repos:
            event = await create_event(repos, _changed(args, settings, None, now), created_by="cli",
                                       offsets=offsets, now=now)  # fmt: skip
        emit(args, _document(event, EventCounts(), settings),
             f"event {event.id} created\n{_line(event, EventCounts(), settings)}")  # fmt: skip
        return
    if task == "show":
        repos = runtime.database.reader()
        event = await _get(repos, args.id)
        counts = await repos.rsvps.counts(event.id)
        document = _document(event, counts, settings)
        emit(
            args,
            document,
            "\n".join(f"{k}: {v}" for k, v in document.items() if v not in (None, "")),
        )
        return
    if task == "link":
        await _link(args, runtime)
        return
    async with runtime.database.transaction() as repos:
        event = await _get(repos, args.id)
        if task == "edit":
            event, told = await edit_event(repos, event, _changed(args, settings, event, now),
                                           offsets=offsets, now=now)  # fmt: skip
        else:
            event, told = await cancel_event(repos, event, now)
        counts = await repos.rsvps.counts(event.id)
    verb = "cancelled" if task == "cancel" else "changed"
    human = f"event {event.id} {verb}; {counted(told, 'resident', 'residents')} will be told"
    emit(args, {**_document(event, counts, settings), "told": told},
         f"{human}\n{_line(event, counts, settings)}")  # fmt: skip


def write_qr(url: str, path: Path) -> None:
    """A QR code fit for a printed poster: SVG (sharp at any size) or a PNG at least
    PRINT_PIXELS wide, with the quiet zone scanners need and error correction for a poster
    that gets creased or dirty."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise UsageError(f"--qr {path}: give a file name ending in .png or .svg")
    code = segno.make(url, error="q")
    width, _ = code.symbol_size(scale=1, border=QR_BORDER)
    if suffix == ".svg":  # a size in mm, so that it prints at a sensible size as it is
        code.save(str(path), kind="svg", scale=1, border=QR_BORDER, unit="mm")
        return
    code.save(str(path), kind="png", scale=math.ceil(PRINT_PIXELS / width), border=QR_BORDER)


async def _link(args: argparse.Namespace, runtime: Runtime) -> None:
    event = await _get(runtime.database.reader(), args.id)
    username = runtime.settings.telegram.bot_username or await _ask_username(runtime.settings)
    url = LINK.format(bot=username.lstrip("@"), id=event.id)
    if args.qr:
        write_qr(url, Path(args.qr))
    emit(args, {"id": event.id, "url": url, "qr": args.qr},
         url + (f"\nQR code written to {args.qr}" if args.qr else ""))  # fmt: skip


async def _ask_username(settings: Settings) -> str:
    """The bot's username from Telegram (getMe), when telegram.bot_username is not set."""
    # Imported here: python-telegram-bot (~90 ms) would slow every other subcommand.
    from telegram import Bot
    from telegram.error import TelegramError

    if settings.telegram.token is None:
        raise UsageError(
            "set telegram.bot_username (or MINGA_TELEGRAM__TOKEN, to ask Telegram for it)"
        )
    bot = Bot(settings.telegram.token.get_secret_value(), base_url=settings.telegram.base_url)
    try:
        async with bot:
            return bot.username
    except TelegramError as error:
        raise UsageError(f"could not ask Telegram for the bot's username: {error}") from None

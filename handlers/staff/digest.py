"""The daily digest for the staff group: new ideas since the last one (each with a button to
open it), totals by topic, neighbourhood and focus, what is still untriaged, and a chart of
the last 14 days. Queued once per day at `digest_time` (also when the bot comes back later
that day); /resumen shows it on demand without changing what the next one covers. With
`alert_each_idea`, each new idea is also posted as it arrives."""

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from babel.dates import format_date, format_datetime

from handlers.engine.buttons import button_id
from handlers.engine.messages import Choice, Picture, Reply
from handlers.engine.settings import FlowSettings
from handlers.engine.team import staff_group
from handlers.engine.textinput import short
from handlers.events.cards import Voice
from handlers.staff import duplicates
from handlers.staff.chart import ideas_per_day_png
from handlers.staff.ideas_view import STAFF, VIEW
from storage.models import Focus, IdeaFilter, IdeaRecord, IdeaStatus, NewOutbox, OutboxItem
from storage.outbox_kinds import DigestPayload, IdeaAlertPayload, OutboxKind
from storage.repositories import Repositories

LISTED = 15  # new ideas listed in the text; the rest are counted
BUTTONS = 10  # of which this many get an "open" button
CHART_DAYS = 14
TOP = 6  # values per total line
JOINED = 5  # ideas listed among those most residents joined since the last digest


def _category(voice: Voice, category_id: str) -> str:
    category = voice.lab.category(category_id)
    return category.label(voice.language) if category else category_id


def due_at(settings: FlowSettings, day: date) -> datetime:
    hours, minutes = settings.staff.digest_clock
    return datetime.combine(day, time(hours, minutes), tzinfo=settings.lab.zone)


def next_digest_at(
    settings: FlowSettings, now: datetime, last_day: str | None, group: int | None
) -> datetime | None:
    """When the scheduler should next look: today's time if today's digest is not done (none
    while there is no staff `group`)."""
    if group is None:
        return None
    today = now.astimezone(settings.lab.zone).date()
    if last_day != today.isoformat():
        return max(due_at(settings, today), now)
    return due_at(settings, today + timedelta(days=1))


async def group_recipient(repos: Repositories, settings: FlowSettings, now: datetime) -> int | None:
    """The staff group as it stands now, as an outbox recipient (a row of its own, which no
    audience ever selects); None when there is no group."""
    chat_id = await staff_group(repos, settings.staff)
    if chat_id is None:
        return None
    group = await repos.residents.get_or_create("telegram", str(chat_id), now)
    return group.id


async def queue_due_digest(repos: Repositories, settings: FlowSettings, now: datetime) -> bool:
    """Queue today's digest if its time has come and it was not queued (or skipped) yet."""
    if await staff_group(repos, settings.staff) is None:
        return False
    today = now.astimezone(settings.lab.zone).date()
    if now < due_at(settings, today) or await repos.digests.get(today.isoformat()) is not None:
        return False
    since, _ = await window(repos, settings, now)
    count = await repos.idea_search.count(IdeaFilter(since=since, until=now))
    # Residents who joined earlier ideas are news too: a day with only those is not empty.
    joined = await repos.idea_search.joined(since, now)
    send = count > 0 or joined > 0 or settings.staff.digest_when_empty
    outcome = "queued" if send else "empty"
    if not await repos.digests.record(today.isoformat(), since, now, count, outcome, now):
        return False
    if send and (recipient := await group_recipient(repos, settings, now)) is not None:
        await repos.outbox.add(
            [
                NewOutbox(
                    kind=OutboxKind.DIGEST,
                    subject=today.isoformat(),
                    recipient_id=recipient,
                    payload=DigestPayload(since=since, until=now),
                    not_before=now,
                )
            ],
            now,
        )
    return send


async def window(
    repos: Repositories, settings: FlowSettings, now: datetime
) -> tuple[datetime, datetime]:
    """What a digest made now covers: since the last one ended (the first ever: since the
    digest time of the day before), until now. /resumen shows the same, recording nothing."""
    last = await repos.digests.last()
    if last is not None:
        return last.covers_until, now
    today = now.astimezone(settings.lab.zone).date()
    return due_at(settings, today - timedelta(days=1)), now


def _line(voice: Voice, idea: IdeaRecord) -> str:
    line = voice.t("digest.line", reference=idea.reference,
                   category=_category(voice, idea.category), place=idea.location_text or "-",
                   focus=voice.t(f"focus.{idea.focus.value}"),
                   problem=short(idea.problem))  # fmt: skip
    if idea.supporters:
        line += "\n" + voice.t("digest.supporters", count=idea.supporters)
    return line


async def _joined(
    repos: Repositories, voice: Voice, since: datetime, until: datetime
) -> tuple[list[str], list[IdeaRecord]]:
    """How many residents joined ideas in the window, and the ideas most of them joined (the
    problems many people share, new or old): the lines, and those ideas."""
    joined = await repos.idea_search.joined(since, until)
    if not joined:
        return [], []
    most = await repos.idea_search.most_joined(since, until, limit=JOINED)
    lines = ["", voice.t("digest.joined", count=joined)]
    lines += [voice.t("digest.joined_line", reference=idea.reference, count=n,
                      total=idea.supporters, status=voice.t(f"status.{idea.status.value}"),
                      problem=short(idea.problem)) for idea, n in most]  # fmt: skip
    return lines, [idea for idea, _ in most]


def _totals(
    voice: Voice, key: str, rows: list[tuple[object, int]], name: Callable[[object], object]
) -> str:
    parts = [
        voice.t("digest.total_part", name=name(value), count=count) for value, count in rows[:TOP]
    ]
    if len(rows) > TOP:
        parts.append(voice.t("digest.others", count=sum(c for _, c in rows[TOP:])))
    return voice.t(key, values=" · ".join(parts))


async def build(
    repos: Repositories, voice: Voice, since: datetime, until: datetime, now: datetime
) -> list[Reply]:
    """The digest as the group sees it: the text with its buttons, then the chart."""
    window = IdeaFilter(since=since, until=until)
    count = await repos.idea_search.count(window)
    newest = list(reversed(await repos.idea_search.page(window, offset=0, limit=LISTED)))
    zone = voice.zone
    day = format_date(now.astimezone(zone), format="full", locale=voice.language)
    # Day, month in words and year, as on an idea's record: "11/12/26" reads differently in
    # Bogotá and in English.
    from_text = format_datetime(since.astimezone(zone), voice.t("staff_idea.time_format"),
                                locale=voice.language)  # fmt: skip
    lines = [voice.t("digest.title", lab=voice.lab.name, day=day),
             voice.t("digest.new", since=from_text, count=count)]  # fmt: skip
    lines += [_line(voice, idea) for idea in newest]
    if count > len(newest):
        lines.append(voice.t("digest.more", count=count - len(newest)))
    if count:
        lines.append("")
        lines.append(_totals(voice, "digest.by_category", await repos.idea_search.totals(
            "category", window), lambda v: _category(voice, str(v))))  # fmt: skip
        lines.append(_totals(voice, "digest.by_neighbourhood", await repos.idea_search.totals(
            "neighbourhood", window), lambda v: v or voice.t("digest.no_place")))  # fmt: skip
        lines.append(_totals(voice, "digest.by_focus", await repos.idea_search.totals(
            "focus", window), lambda v: voice.t(f"focus.{Focus(str(v)).value}")))  # fmt: skip
    joined_lines, most_joined = await _joined(repos, voice, since, until)
    lines += joined_lines
    untriaged = await repos.idea_search.count(IdeaFilter(status=IdeaStatus.RECEIVED))
    lines.append(voice.t("digest.untriaged", count=untriaged))
    opened = {idea.id: idea for idea in (*newest[:BUTTONS], *most_joined)}
    buttons = tuple(
        Choice(button_id(STAFF, VIEW, idea.id), idea.reference) for idea in opened.values()
    )
    chart = await chart_png(repos, voice, now)
    picture = Picture(f"ideas-{now.astimezone(zone).date().isoformat()}.png", content=chart)
    replies = [Reply("\n".join(lines), buttons),
               Reply(voice.t("digest.chart_caption", days=CHART_DAYS, count=CHART_DAYS),
                     picture=picture)]  # fmt: skip
    # Then the open possible duplicates (staff/duplicates.py): every open pair, not only this
    # window's, so that one left for later is not lost.
    possible = await duplicates.section(repos, voice)
    return replies if possible is None else [*replies, possible]


async def chart_png(repos: Repositories, voice: Voice, now: datetime) -> bytes:
    """Ideas per topic on each of the last 14 days of the lab's calendar."""
    zone = voice.zone
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    start = datetime.combine(days[0], time(0), tzinfo=zone)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * CHART_DAYS)
    for hour, category, n in await repos.idea_search.hourly_by_category(start, now):
        index = (hour.astimezone(zone).date() - days[0]).days
        if 0 <= index < CHART_DAYS:
            counts[category][index] += n
    ordered = sorted(counts.items(), key=lambda item: -sum(item[1]))
    series = {_category(voice, category): values for category, values in ordered}
    labels = [format_date(d, "EEE d", locale=voice.language) for d in days]
    # Drawing takes a moment of CPU: off the event loop, so the bot keeps answering.
    return await asyncio.to_thread(
        ideas_per_day_png, days, series, title=voice.t("digest.chart_title", days=CHART_DAYS,
                                                         count=CHART_DAYS),
        day_labels=labels, empty_label=voice.t("digest.chart_empty"),
    )  # fmt: skip


async def queue_alert(
    repos: Repositories, settings: FlowSettings, idea_id: int, reference: str, now: datetime
) -> None:
    """With alert_each_idea: the new idea goes to the group too (in the intake's transaction)."""
    if not settings.staff.alert_each_idea:
        return
    recipient = await group_recipient(repos, settings, now)
    if recipient is None:
        return
    await repos.outbox.add(
        [NewOutbox(kind=OutboxKind.IDEA_ALERT, subject=reference, recipient_id=recipient,
                   payload=IdeaAlertPayload(idea_id=idea_id), not_before=now)],
        now,
    )  # fmt: skip


async def _compose_digest(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    payload = item.payload_as(DigestPayload)
    return await build(repos, voice, payload.since, payload.until, now)


async def _compose_alert(
    item: OutboxItem, repos: Repositories, voice: Voice, now: datetime
) -> list[Reply] | None:
    idea = await repos.idea_search.get(item.payload_as(IdeaAlertPayload).idea_id)
    if idea is None:
        return None
    text = voice.t("digest.alert", line=_line(voice, idea).partition(" ")[2])  # without "•"
    return [Reply(text, (Choice(button_id(STAFF, VIEW, idea.id), voice.t("digest.open")),))]


COMPOSERS = {OutboxKind.DIGEST: _compose_digest, OutboxKind.IDEA_ALERT: _compose_alert}

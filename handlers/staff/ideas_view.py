"""/ideas (a filtered list, page by page, with buttons) and /idea REF (the full record, its
photos and pin, and the triage buttons). Staff only: the callers check first."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PurePosixPath

from babel.dates import format_date, format_datetime

from handlers.engine.buttons import ListView, button_id, encode_view
from handlers.engine.legacy_buttons import view_pressed
from handlers.engine.messages import Choice, Document, Picture, Reply, Venue
from handlers.engine.settings import LabSettings
from handlers.engine.textinput import fold, short
from handlers.engine.turn import Turn, parse_actor
from handlers.staff.triage import TriageProblem, find
from storage.models import Award, IdeaFilter, IdeaOrder, IdeaRecord, IdeaStatus

STAFF = "st"  # the prefix of every staff button: each is checked against the caller
# The letter after it says what the button does (staff/buttons.py answers each):
LIST = "l"  # a page of the list: "st:l:<view>"
FILTER = "f"  # the values of one filter: "st:f:<kind>:<view>"
VIEW = "v"  # an idea's record: "st:v:<idea>"
STATUS = "s"  # a new status: "st:s:<idea>:<status>"
AWARD = "a"  # a call's award: "st:a:<idea>:<award or none>"
NOTE = "n"  # a note typed next: "st:n:<idea>"
REPLY = "r"  # a reply to the person typed next: "st:r:<idea>"
DUPLICATE = "d"  # the original's reference typed next: "st:d:<idea>"
PAGE_SIZE = 8
STATUSES = tuple(IdeaStatus)
STATUS_NAMES = frozenset(status.value for status in IdeaStatus)
HISTORY_SHOWN = 8
SUPPORTS_SHOWN = 8  # what the newest supporters added, on an idea's record


@dataclass(frozen=True, slots=True)
class View:
    """A page of the list and its filters: a status, a category's id, a neighbourhood's name
    and a call's number; and its order (newest first, or most supporters first)."""

    page: int = 0
    status: IdeaStatus | None = None
    category: str | None = None
    neighbourhood: str | None = None
    call: int | None = None
    order: IdeaOrder = IdeaOrder.NEWEST

    def encode(self) -> str:
        """One part of a button id (see buttons.encode_view)."""
        order = None if self.order is IdeaOrder.NEWEST else self.order.value
        return encode_view(ListView(self.page, self.status, self.category, self.neighbourhood,
                                    self.call, order))  # fmt: skip

    @classmethod
    def decode(cls, args: Sequence[str], lab: LabSettings) -> "View":
        """A view from a button's parts, in its current form or an older version's; a filter
        the settings no longer have is left out."""
        read = view_pressed(args, STATUS_NAMES, [c.id for c in lab.categories],
                            lab.neighbourhoods)  # fmt: skip
        status = None if read.status is None else IdeaStatus(read.status)
        known = {order.value for order in IdeaOrder}
        order = IdeaOrder(read.order) if read.order in known else IdeaOrder.NEWEST
        return cls(read.page, status, read.category, read.neighbourhood, read.call, order)

    @property
    def filtered(self) -> bool:
        return any(f is not None for f in (self.status, self.category, self.neighbourhood,
                                           self.call))  # fmt: skip


def view_filter(view: View) -> IdeaFilter:
    return IdeaFilter(status=view.status, category=view.category,
                      neighbourhood=view.neighbourhood, call_id=view.call)  # fmt: skip


def list_button(view: View) -> str:
    """The button that shows this page of the list with these filters."""
    return button_id(STAFF, LIST, view.encode())


def filter_button(kind: str, view: View) -> str:
    """The button that offers the values of one filter ("s", "c", "n", "k") for this view."""
    return button_id(STAFF, FILTER, kind, view.encode())


def category_label(turn: Turn, category_id: str) -> str:
    category = turn.settings.lab.category(category_id)
    return category.label(turn.language) if category else category_id


def place_of(turn: Turn, idea: IdeaRecord) -> str:
    if idea.location_text:
        return idea.location_text
    if idea.has_pin:
        return turn.t("staff_ideas.pin_only")
    return "-"


def list_line(turn: Turn, idea: IdeaRecord) -> str:
    zone = turn.settings.lab.zone
    date = format_date(idea.created_at.astimezone(zone), format="medium", locale=turn.language)
    line = turn.t("staff_ideas.line", reference=idea.reference,
                  status=turn.t(f"status.{idea.status.value}"), date=date,
                  category=category_label(turn, idea.category), place=place_of(turn, idea),
                  problem=short(idea.problem))  # fmt: skip
    if idea.supporters:
        line += "\n" + turn.t("staff_ideas.supporters", count=idea.supporters)
    return line


def _filter_names(turn: Turn, chosen: IdeaFilter, order: IdeaOrder = IdeaOrder.NEWEST) -> str:
    names = []
    if chosen.status is not None:
        names.append(turn.t(f"status.{chosen.status.value}"))
    if chosen.category is not None:
        names.append(category_label(turn, chosen.category))
    if chosen.neighbourhood is not None:
        names.append(chosen.neighbourhood)
    if chosen.call_id is not None:
        names.append(turn.t("staff_ideas.call_filter", id=chosen.call_id))
    shown = " · ".join(names) if names else turn.t("staff_ideas.no_filter")
    if order is IdeaOrder.SUPPORTERS:
        shown += " · " + turn.t("staff_ideas.by_supporters")
    return shown


async def show_list(turn: Turn, view: View) -> None:
    chosen = view_filter(view)
    total = await turn.repos.idea_search.count(chosen)
    last_page = max(0, (total - 1) // PAGE_SIZE)
    view = replace(view, page=min(view.page, last_page))
    ideas = await turn.repos.idea_search.page(chosen, offset=view.page * PAGE_SIZE,
                                              limit=PAGE_SIZE, order=view.order)  # fmt: skip
    first = view.page * PAGE_SIZE + 1
    names = _filter_names(turn, chosen, view.order)
    head = turn.t("staff_ideas.title", filters=names, first=first,
                  last=first + len(ideas) - 1, total=total)  # fmt: skip
    if not ideas:
        head = turn.t("staff_ideas.none", filters=names)
    lines = [head, *(list_line(turn, idea) for idea in ideas)]
    # Labelled with the reference, the idea's one name: a list position beside it read
    # "1. 1. 000003" where the platform numbers the options itself.
    choices = [Choice(button_id(STAFF, VIEW, idea.id), idea.reference) for idea in ideas]
    if view.page > 0:
        previous = replace(view, page=view.page - 1)
        choices.append(Choice(list_button(previous), turn.t("staff_ideas.previous")))
    if view.page < last_page:
        following = replace(view, page=view.page + 1)
        choices.append(Choice(list_button(following), turn.t("staff_ideas.next")))
    # The other order, from its first page, with the same filters.
    other = IdeaOrder.NEWEST if view.order is IdeaOrder.SUPPORTERS else IdeaOrder.SUPPORTERS
    choices.append(Choice(list_button(replace(view, page=0, order=other)),
                          turn.t(f"staff_ideas.sort_{other.value}")))  # fmt: skip
    for kind in ("s", "c", "n", "k"):
        choices.append(Choice(filter_button(kind, view), turn.t(f"staff_ideas.filter_{kind}")))
    if view.filtered:
        # Filters go; the order chosen stays (it is not a filter).
        choices.append(Choice(list_button(View(order=view.order)), turn.t("staff_ideas.clear")))
    turn.say("\n\n".join(lines), tuple(choices))


def status_named(turn: Turn, text: str) -> IdeaStatus | None:
    """The status a typed filter names ("in_review", "En revisión", "en revision", "Under
    review": its id or its name in any language); else None."""
    wanted = fold(text)
    for status in STATUSES:
        names = {status.value, *(turn.catalog.text(language, f"status.{status.value}")
                                 for language in turn.catalog.languages())}  # fmt: skip
        if wanted in {fold(name) for name in names}:
            return status
    return None


async def list_named(turn: Turn, text: str) -> None:
    """/ideas with a filter typed after it: that status's list, or, for a filter that does
    not exist, the ones that do (as buttons) and no list, which would look filtered."""
    if not text.strip():
        return await show_list(turn, View())
    status = status_named(turn, text)
    if status is not None:
        return await show_list(turn, View(status=status))
    names = ", ".join(turn.t(f"status.{status.value}") for status in STATUSES)
    turn.say(turn.t("staff_ideas.unknown_filter", given=short(text.strip(), 40), names=names))
    await choose_filter(turn, "s", View())


async def choose_filter(turn: Turn, kind: str, view: View) -> None:
    """The values of one filter as buttons; each leads to the first page with it set."""
    lab = turn.settings.lab
    options: list[tuple[str, View]] = []
    if kind == "s":
        options = [(turn.t(f"status.{s.value}"), replace(view, page=0, status=s))
                   for s in STATUSES]  # fmt: skip
        cleared = replace(view, page=0, status=None)
    elif kind == "c":
        options = [(c.label(turn.language), replace(view, page=0, category=c.id))
                   for c in lab.categories]  # fmt: skip
        cleared = replace(view, page=0, category=None)
    elif kind == "n":
        options = [(name, replace(view, page=0, neighbourhood=name))
                   for name in lab.neighbourhoods]  # fmt: skip
        cleared = replace(view, page=0, neighbourhood=None)
    else:
        calls = await turn.repos.calls.all()
        options = [(short(call.title, 40), replace(view, page=0, call=call.id))
                   for call in calls[:20]]  # fmt: skip
        cleared = replace(view, page=0, call=None)
    choices = [Choice(list_button(v), label) for label, v in options]
    choices.append(Choice(list_button(cleared), turn.t("staff_ideas.any")))
    key = "staff_ideas.choose" if options else "staff_ideas.no_calls"
    turn.say(turn.t(key), tuple(choices))


def _when(turn: Turn, idea_time: datetime) -> str:
    zone = turn.settings.lab.zone
    pattern = turn.t("staff_idea.time_format")
    return format_datetime(idea_time.astimezone(zone), pattern, locale=turn.language)


async def card_text(turn: Turn, idea: IdeaRecord) -> str:
    t = turn.t
    status = t(f"status.{idea.status.value}")
    lines = [t("staff_idea.head", reference=idea.reference, status=status)]
    lines.append(t("staff_idea.received", when=_when(turn, idea.created_at),
                   channel=channel_name(turn, idea.channel),
                   role=t(f"role.{idea.role.value}")))  # fmt: skip
    lines.append(t("staff_idea.topic", category=category_label(turn, idea.category),
                   focus=t(f"focus.{idea.focus.value}")))  # fmt: skip
    place = idea.location_text or ""
    if idea.has_pin:
        place = f"{place} ({idea.latitude:.5f}, {idea.longitude:.5f})".strip()
    lines.append(t("staff_idea.place", place=place or "-"))
    lines.append(t("staff_idea.problem", text=idea.problem))
    lines.append(t("staff_idea.idea", text=idea.idea) if idea.idea else t("staff_idea.no_idea"))
    if idea.anonymous:
        lines.append(t("staff_idea.anonymous"))
    else:
        lines.append(t("staff_idea.author", name=idea.contact_name or "-",
                       contact=idea.contact or "-"))  # fmt: skip
    lines.append(t(f"staff_idea.publish_{idea.publish.value}"))
    lines += await support_lines(turn, idea)
    if idea.status_reason:
        lines.append(t("staff_idea.reason", reason=idea.status_reason))
    if idea.duplicate_of is not None:
        original = await turn.repos.idea_search.get(idea.duplicate_of)
        reference = original.reference if original else "?"
        lines.append(t("staff_idea.duplicate_of", reference=reference))
    if idea.call_id is not None:
        call = await turn.repos.calls.get(idea.call_id)
        category = call.category(idea.call_category) if call else None
        award = t(f"staff_idea.award_{idea.award.value}") if idea.award else ""
        lines.append(t("staff_idea.call", title=call.title if call else "?",
                       category=category.label(turn.language) if category else "-",
                       award=award).rstrip(" ·"))  # fmt: skip
    history = await turn.repos.idea_search.history(idea.id)
    lines.append(t("staff_idea.history"))
    for event in history[-HISTORY_SHOWN:]:
        what = t(f"status.{event.status}") if event.kind == "status" and event.status else ""
        if event.kind == "award":
            what = t(f"staff_idea.award_{event.status or 'none'}")
        if event.kind in ("note", "reply"):
            what = t(f"staff_idea.event_{event.kind}", text=short(event.note or "", 200))
        elif event.note:
            what += " — " + short(event.note, 200)
        lines.append(t("staff_idea.event", when=_when(turn, event.at), what=what,
                       actor=actor_label(turn, event.actor)))  # fmt: skip
    return "\n".join(lines)


async def support_lines(turn: Turn, idea: IdeaRecord) -> list[str]:
    """How many joined the idea (and how many photos they sent), and what the newest of them
    added. Never who they are: staff see a name or contact only where a person gave it with
    their own idea, for it (a supporter gave none)."""
    totals = await turn.repos.idea_search.support_totals(idea.id)
    if not totals.supporters:
        return []
    t = turn.t
    head = t("staff_idea.supporters", count=totals.supporters)
    if totals.photos:
        head += " · " + t("staff_idea.support_photos", count=totals.photos)
    lines = [head]
    notes = await turn.repos.idea_search.support_notes(idea.id, limit=SUPPORTS_SHOWN)
    for note in notes:
        parts = []
        if note.detail:
            parts.append(t("staff_idea.support_detail", text=short(note.detail, 200)))
        if note.photo:
            parts.append(t("staff_idea.support_photo"))
        lines.append(t("staff_idea.support", when=_when(turn, note.at), what=" · ".join(parts)))
    if totals.added > len(notes):
        lines.append(t("staff_idea.supports_more", count=totals.added - len(notes)))
    return lines


def channel_name(turn: Turn, channel: str) -> str:
    """ "whatsapp" -> "WhatsApp": the channel as people call it (an unknown one as stored)."""
    try:
        return turn.t(f"channel_name.{channel}")
    except KeyError:
        return channel


def actor_label(turn: Turn, actor: str | None) -> str:
    """Who made a change, in words: the person who sent the idea (no actor: the database
    recorded their own submission), a command on the server, or a team member (stored as
    "channel:user"; a console user's name is their name)."""
    if actor is None:
        return turn.t("staff_idea.by_person")
    if actor == "cli":
        return turn.t("staff_idea.by_server")
    channel, user = parse_actor(actor)
    if channel == "console" and user:
        return user
    if not user:
        return actor
    return turn.t("staff_idea.by_staff", channel=channel_name(turn, channel), user=user)


def card_buttons(turn: Turn, idea: IdeaRecord) -> tuple[Choice, ...]:
    # A status button carries the status's stored name ("st:s:12:in_review").
    choices = [
        Choice(button_id(STAFF, STATUS, idea.id, s), turn.t("staff_idea.set",
                                                         status=turn.t(f"status.{s}")))
        for s in STATUSES
        if s is not idea.status and s is not IdeaStatus.DUPLICATE
    ]  # fmt: skip
    choices.append(
        Choice(button_id(STAFF, DUPLICATE, idea.id), turn.t("staff_idea.mark_duplicate"))
    )
    choices.append(Choice(button_id(STAFF, NOTE, idea.id), turn.t("staff_idea.add_note")))
    choices.append(Choice(button_id(STAFF, REPLY, idea.id), turn.t("staff_idea.reply")))
    if idea.call_id is not None:
        for award in (Award.SHORTLISTED, Award.WINNER):
            if idea.award is not award:
                choices.append(Choice(button_id(STAFF, AWARD, idea.id, award),
                                      turn.t(f"staff_idea.make_{award.value}")))  # fmt: skip
        if idea.award is not None:
            choices.append(Choice(button_id(STAFF, AWARD, idea.id, "none"),
                                  turn.t("staff_idea.make_none")))  # fmt: skip
    return tuple(choices)


async def show_card(turn: Turn, idea: IdeaRecord) -> None:
    """The record, then its photos and its pin, the triage buttons on the record itself."""
    turn.say(await card_text(turn, idea), card_buttons(turn, idea))
    for number, path in enumerate(idea.media, start=1):
        picture = Picture(f"{idea.reference}-{number}.jpg", path=path)
        turn.replies.append(Reply(turn.t("staff_idea.photo", number=number), picture=picture))
    notes = await turn.repos.idea_search.support_notes(idea.id, limit=SUPPORTS_SHOWN)
    shown = [note.photo_path for note in notes if note.photo_path]
    for number, path in enumerate(shown, start=1):
        picture = Picture(f"{idea.reference}-apoyo-{number}.jpg", path=path)
        turn.replies.append(Reply(turn.t("staff_idea.supporter_photo", number=number),
                                  picture=picture))  # fmt: skip
    for number, path in enumerate(idea.voices, start=1):
        recording = Document(f"{idea.reference}-voz-{number}{PurePosixPath(path).suffix}", b"",
                             "audio/ogg", stored=path)  # fmt: skip
        turn.replies.append(Reply(turn.t("staff_idea.voice", number=number), document=recording))
    if idea.has_pin:
        assert idea.latitude is not None and idea.longitude is not None
        pin = Venue(idea.reference, idea.location_text or "", idea.latitude, idea.longitude)
        turn.replies.append(Reply("", venue=pin))


async def open_idea(turn: Turn, name: str | None) -> None:
    """/idea MNG-2026-000123 (or only its number: 123, #123)."""
    if not name:
        turn.say(turn.t("staff_idea.which"))
        return
    try:
        idea = await find(turn.repos, name)
    except TriageProblem as problem:
        turn.say(turn.t(f"triage_error.{problem.key}", **problem.values))
        return
    await show_card(turn, idea)

"""Calls for ideas, the same from chat and from `minga calls`: open one (title, description,
categories, deadline), close it early, and put its results together for a broadcast."""

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from handlers.calls.intake import DEFAULT_CATEGORIES
from handlers.engine.catalog import Translator
from handlers.engine.textinput import short
from handlers.outbound.broadcasts import Audience, queue_broadcast
from storage.models import Broadcast, Call, CallCategory, Focus
from storage.repositories import Repositories

TITLE_LIMITS = (3, 100)
DESCRIPTION_MAX = 1000
MAX_CATEGORIES = 6


class CallProblem(ValueError):
    """A call that cannot be made: a catalog key (under call_error.) and its values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def _slug(label: str) -> str:
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:20] or "category"


def categories_from_names(names: Sequence[str]) -> tuple[CallCategory, ...]:
    """Typed category names ("Movilidad; Ambiente") -> categories (the same label in both
    languages, external focus)."""
    found: list[CallCategory] = []
    for name in (n.strip() for n in names):
        if not name:
            continue
        slug, number = _slug(name), 2
        while any(c.id == slug for c in found):
            slug, number = f"{_slug(name)[:17]}_{number}", number + 1
        found.append(CallCategory(id=slug, es=name[:40], en=name[:40], focus=Focus.EXTERNAL))
    return tuple(found)


def check(title: str, description: str, categories: Sequence[CallCategory],
          deadline: datetime, now: datetime) -> tuple[str, str]:  # fmt: skip
    title, description = title.strip(), description.strip()
    if not TITLE_LIMITS[0] <= len(title) <= TITLE_LIMITS[1]:
        raise CallProblem("title", min=TITLE_LIMITS[0], max=TITLE_LIMITS[1], count=TITLE_LIMITS[1])
    if len(description) > DESCRIPTION_MAX:
        raise CallProblem("description", max=DESCRIPTION_MAX, count=DESCRIPTION_MAX)
    if not 1 <= len(categories) <= MAX_CATEGORIES:
        raise CallProblem("categories", max=MAX_CATEGORIES, count=MAX_CATEGORIES)
    if deadline <= now:
        raise CallProblem("past")
    return title, description


async def open_call(
    repos: Repositories, *, title: str, description: str = "",
    categories: Sequence[CallCategory] = DEFAULT_CATEGORIES, deadline: datetime, actor: str,
    now: datetime,
) -> Call:  # fmt: skip
    title, description = check(title, description, categories, deadline, now)
    return await repos.calls.create(title=title, description=description, categories=categories,
                                    deadline=deadline, created_by=actor, now=now)  # fmt: skip


async def close_call(repos: Repositories, call_id: int, now: datetime) -> Call:
    call = await repos.calls.get(call_id)
    if call is None:
        raise CallProblem("no_call", id=call_id)
    if not call.is_open(now):
        raise CallProblem("closed", id=call_id)
    await repos.calls.close(call_id, now)
    closed = await repos.calls.get(call_id)
    assert closed is not None
    return closed


async def results_text(repos: Repositories, call: Call, t: Translator, language: str) -> str:
    """The winners per category, with the first words of each idea (never a name)."""
    awarded = await repos.calls.awarded(call.id)
    lines = [t("call_results.title", title=call.title)]
    for category in call.categories:
        winners = [i for i in awarded if i.call_category == category.id and i.award == "winner"]
        lines.append("")
        lines.append(t("call_results.category", category=category.label(language)))
        for idea in winners:
            lines.append(t("call_results.winner", reference=idea.reference,
                           text=short(idea.idea or idea.problem, 120)))  # fmt: skip
        if not winners:
            lines.append(t("call_results.none"))
    lines.append("")
    lines.append(t("call_results.thanks"))
    return "\n".join(lines)


async def announce(
    repos: Repositories, call: Call, t: Translator, language: str, *, actor: str,
    reporter_id: int | None, now: datetime,
) -> Broadcast:  # fmt: skip
    """The results as a broadcast to everyone subscribed to announcements."""
    awarded = await repos.calls.awarded(call.id)
    if not any(idea.award == "winner" for idea in awarded):
        raise CallProblem("no_winners", id=call.id)
    text = await results_text(repos, call, t, language)
    broadcast = await queue_broadcast(
        repos, text=text, event_id=None, audience=Audience("all"), created_by=actor,
        reporter_id=reporter_id, now=now,
    )  # fmt: skip
    await repos.calls.mark_results(call.id, now)
    return broadcast

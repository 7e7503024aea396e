"""`minga publish OUT_DIR`: a static HTML catalogue of every idea its author allowed to
publish, grouped by call and category, filterable in the page, opening from disk with no
server. No personal data: no name or contact, no coordinates (the neighbourhood at most, and
only one of the lab's own list), no photo unless allowed; e-mails and phone numbers typed
into the texts are masked."""

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, PackageLoader

from handlers.engine.catalog import Catalog
from handlers.engine.settings import LabSettings
from storage.models import Award, IdeaFilter, IdeaRecord, IdeaStatus, Publish
from storage.repositories import Repositories

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")  # seven or more digits, as people write them
PHOTOS_DIR = "photos"


@dataclass(frozen=True, slots=True)
class PublishedIdea:
    reference: str
    date: str
    category: str
    status: str
    status_label: str
    neighbourhood: str | None
    problem: str
    idea: str | None
    photos: tuple[str, ...]
    winner: bool
    supporters: int  # residents who joined it as the same problem (a count: never who)


def mask(text: str, hidden: str, names: tuple[str, ...] = ()) -> str:
    """E-mails, phone numbers and the author's own name, if typed into the text, hidden."""
    text = EMAIL.sub(hidden, text)
    text = PHONE.sub(lambda m: hidden if sum(c.isdigit() for c in m.group()) >= 7 else m.group(),
                     text)  # fmt: skip
    for name in names:
        if len(name) >= 3:
            text = re.sub(re.escape(name), hidden, text, flags=re.IGNORECASE)
    return text


class Catalogue:
    """Writes index.html and the allowed photos into a folder."""

    def __init__(self, repos: Repositories, lab: LabSettings, catalog: Catalog,
                 media_dir: Path, out_dir: Path, now: datetime) -> None:  # fmt: skip
        self.repos, self.lab, self.media_dir, self.out_dir = repos, lab, media_dir, out_dir
        self.language = lab.default_language
        self.t = catalog.translator(self.language)
        self.now = now
        self.count = 0
        self.photos_missing = 0
        self._neighbourhoods = {n.casefold(): n for n in lab.neighbourhoods}

    def _photos(self, idea: IdeaRecord) -> tuple[str, ...]:
        if idea.publish is not Publish.PHOTOS:
            return ()
        copied = []
        for number, path in enumerate(idea.media, start=1):
            source = self.media_dir / path
            target = Path(PHOTOS_DIR) / f"{idea.reference}-{number}{source.suffix or '.jpg'}"
            try:
                shutil.copyfile(source, self.out_dir / target)
            except OSError:
                self.photos_missing += 1
                continue
            copied.append(target.as_posix())
        return tuple(copied)

    def _card(self, idea: IdeaRecord) -> PublishedIdea:
        hidden = self.t("catalogue.hidden")
        names = tuple(n for n in (idea.contact_name,) if n)
        place = self._neighbourhoods.get((idea.location_text or "").casefold())
        self.count += 1
        return PublishedIdea(
            reference=idea.reference,
            date=format_date(idea.created_at.astimezone(self.lab.zone), format="long",
                             locale=self.language),
            category=idea.category,
            status=idea.status.value,
            status_label=self.t(f"status.{idea.status.value}"),
            neighbourhood=place,
            problem=mask(idea.problem, hidden, names),
            idea=mask(idea.idea, hidden, names) if idea.idea else None,
            photos=self._photos(idea),
            winner=idea.award is Award.WINNER,
            supporters=idea.supporters,
        )  # fmt: skip

    async def _ideas(self, chosen: IdeaFilter) -> AsyncIterator[PublishedIdea]:
        async for idea in self.repos.idea_search.stream(chosen):
            yield self._card(idea)

    async def _groups(self, call_id: int | None, categories: list[tuple[str, str]]
                      ) -> list[dict[str, Any]]:  # fmt: skip
        """A call's ideas by the call's own categories; general ideas by the lab's topics."""
        groups = []
        for category_id, label in categories:
            if call_id is None:
                chosen = IdeaFilter(category=category_id, general=True, published=True)
            else:
                chosen = IdeaFilter(call_id=call_id, call_category=category_id, published=True)
            ideas = [card async for card in self._ideas(chosen)]
            if ideas:
                groups.append({"label": label, "ideas": ideas})
        return groups

    async def sections(self) -> list[dict[str, Any]]:
        """Each call (newest first) with its ideas by its categories, then the general
        ideas. The cards are held in memory: a catalogue is a page people read (thousands of
        ideas), unlike the exports, which stream."""
        categories = [(c.id, c.label(self.language)) for c in self.lab.categories]
        sections = []
        for call in await self.repos.calls.all():
            own = [(c.id, c.label(self.language)) for c in call.categories]
            groups = await self._groups(call.id, own)
            if groups:
                sections.append({"call_id": str(call.id), "title": call.title,
                                 "description": call.description, "groups": groups})  # fmt: skip
        groups = await self._groups(None, categories)
        if groups:
            sections.append({"call_id": "none", "title": self.t("catalogue.general"),
                             "description": "", "groups": groups})  # fmt: skip
        return sections

    async def write(self) -> int:
        (self.out_dir / PHOTOS_DIR).mkdir(parents=True, exist_ok=True)
        environment = Environment(loader=PackageLoader("handlers", "templates"),
                                  autoescape=True)  # fmt: skip
        template = environment.get_template("catalogue.html.j2")
        calls = await self.repos.calls.all()
        statuses = [{"id": s.value, "label": self.t(f"status.{s.value}")}
                    for s in IdeaStatus if s is not IdeaStatus.DUPLICATE]  # fmt: skip
        page = template.render(
            sections=await self.sections(), total=self.count,
            t=self.t, lab=self.lab, language=self.language,
            categories=[{"id": c.id, "label": c.label(self.language)} for c in self.lab.categories],
            calls=calls, statuses=statuses,
            generated=format_date(self.now.astimezone(self.lab.zone), format="long",
                                  locale=self.language),
        )  # fmt: skip
        (self.out_dir / "index.html").write_text(page, "utf-8")
        return self.count

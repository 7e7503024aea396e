"""`minga export ideas` and /exportar: one entry point for every format."""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from handlers.engine.settings import LabSettings
from handlers.exports.geo import write_geojson, write_open311
from handlers.exports.tables import write_csv, write_xlsx
from storage.models import IdeaFilter, IdeaRecord
from storage.repositories import Repositories

FORMATS = ("csv", "xlsx", "geojson", "open311")
SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "geojson": ".geojson", "open311": ".json"}
MIME_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "open311": "application/json",
}


async def _counted(
    ideas: AsyncIterator[IdeaRecord], progress: Callable[[int], None] | None
) -> AsyncIterator[IdeaRecord]:
    done = 0
    async for idea in ideas:
        yield idea
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(done)


async def export_ideas(
    repos: Repositories, lab: LabSettings, *, format: str, path: Path,
    since: datetime | None = None, with_contact: bool = False, media_url: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:  # fmt: skip
    """Write every idea (created since `since`) to `path`; returns how many."""
    ideas = _counted(repos.idea_search.stream(IdeaFilter(since=since)), progress)
    if format == "csv":
        return await write_csv(ideas, path, lab, with_contact=with_contact)
    if format == "xlsx":
        return await write_xlsx(ideas, path, lab, with_contact=with_contact)
    if format == "geojson":
        return await write_geojson(ideas, path, lab, with_contact=with_contact)
    if format == "open311":
        return await write_open311(ideas, path, lab, with_contact=with_contact,
                                   media_url=media_url)  # fmt: skip
    raise ValueError(f"unknown export format {format!r}; use one of {', '.join(FORMATS)}")

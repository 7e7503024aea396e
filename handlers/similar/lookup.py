"""One similar-ideas lookup: the store narrows, the model encodes, `rank` decides.

The intake (before the idea is asked), `minga ideas similar` and the benchmark all look up
through here, so they offer the same ideas for the same text."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.engine.settings import SimilarSettings
from handlers.similar.match import Encoder, EncoderBusy, Match, best, rank
from storage.repositories import Repositories
from storage.similar import Place

log = logging.getLogger(__name__)

# Candidates read at once when no place narrows them (about 400 bytes of vector each).
PAGE = 2000


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a lookup found, and the text's vector (None: nothing near to compare it with, so
    the text was not encoded)."""

    matches: list[Match]
    vector: Sequence[float] | None


async def look_up(
    repos: Repositories,
    encoder: Encoder,
    settings: SimilarSettings,
    text: str,
    *,
    category: str | None = None,
    place: Place | None = None,
    exclude_resident: int | None = None,
) -> Lookup:
    """Earlier ideas of the category (None: any) near the place (None: anywhere) that
    probably tell the same problem; the text is encoded only when there is something to
    compare it with. Without a place the whole store is read a page at a time, so that
    `minga ideas similar` on a large store keeps its memory bounded."""
    model, radius = encoder.model, settings.radius_meters
    page_size = None if place is not None else PAGE
    vector: Sequence[float] | None = None
    matches: list[Match] = []
    before: int | None = None
    while True:
        candidates = await repos.similar.candidates(
            model, category, place, radius, exclude_resident=exclude_resident,
            before_id=before, limit=page_size,
        )  # fmt: skip
        if not candidates:
            break
        if vector is None:
            try:
                (vector,) = await encoder.encode([text])
            except EncoderBusy:  # a crowd: this resident goes on without an offer, at once
                log.info("similar ideas: encoder busy, lookup skipped")
                return Lookup([], None)
        found = rank(vector, candidates, category=category, place=place, settings=settings)
        matches = best([*matches, *found], settings.limit)
        if page_size is None or len(candidates) < page_size:
            break
        before = candidates[-1].idea_id
    return Lookup(matches, vector)

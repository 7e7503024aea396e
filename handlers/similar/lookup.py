"""One similar-ideas lookup: the store narrows, the model encodes, `rank` decides.

The intake (before the idea is asked), `minga ideas similar` and the benchmark all look up
through here, so they offer the same ideas for the same text."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.engine.settings import SimilarSettings
from handlers.similar.match import Encoder, EncoderBusy, Match, rank
from storage.repositories import Repositories
from storage.similar import Place

log = logging.getLogger(__name__)


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
    category: str,
    place: Place,
    exclude_resident: int | None = None,
) -> Lookup:
    """Earlier ideas of the category near the place that probably tell the same problem; the
    text is encoded only when there is something near to compare it with."""
    candidates = await repos.similar.candidates(
        encoder.model, category, place, settings.radius_meters, exclude_resident=exclude_resident
    )
    if not candidates:
        return Lookup([], None)
    try:
        (vector,) = await encoder.encode([text])
    except EncoderBusy:  # a crowd: this resident goes on without an offer, at once
        log.info("similar ideas: encoder busy, lookup skipped")
        return Lookup([], None)
    matches = rank(vector, candidates, category=category, place=place, settings=settings)
    return Lookup(matches, vector)

"""Earlier ideas that are probably the same problem (issue 21): the pure logic, channel-agnostic.

The contract, for the intake step, `minga ideas similar` and the digest's possible duplicates:

1. Encode the new problem's text with an `Encoder` (bot/similar.py gives the real one; it runs
   the model off the event loop) -> a vector (unit length, float32).
2. Ask the store for the ideas that may be shown near it
   (`SimilarRepository.candidates(model, category, near)`, storage/similar.py): same category,
   a box around the point or the same neighbourhood, never a hidden idea.
3. `rank(vector, candidates, place, settings)` keeps those truly near (`radius_meters` when both
   have a point; the same neighbourhood otherwise), scores them by meaning (cosine) and returns
   at most `limit` `Match`es at or above `min_score`, best first.

Vectors are stored with `pack` (int8, 516 bytes for 512 dimensions; the cosine moves by less
than 0.003) and read back with `unpack`.
"""

from handlers.similar.match import (
    Candidate,
    Encoder,
    Match,
    Place,
    SimilarSettings,
    distance_meters,
    near,
    rank,
)
from handlers.similar.vectors import cosine, pack, unpack

__all__ = [
    "Candidate",
    "Encoder",
    "Match",
    "Place",
    "SimilarSettings",
    "cosine",
    "distance_meters",
    "near",
    "pack",
    "rank",
    "unpack",
]

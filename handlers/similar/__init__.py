"""Earlier ideas that are probably the same problem (issue 21): the pure logic, channel-agnostic.

The contract, for the intake step, `minga ideas similar` and the digest's possible duplicates:

1. Encode the new problem's text with an `Encoder` (match.py; bot/similar.py has the real one,
   which runs the model off the event loop) -> a unit-length vector.
2. Ask the store for the ideas that may be shown near it: `repos.similar.candidates(model,
   category, place, radius_meters)` (storage/similar.py): the same category, a box around the
   point or the same neighbourhood, never a hidden idea (not viable, a duplicate, an erased
   author's; withdrawn ideas are deleted). `minga ideas similar` may leave out the category
   (any) or the place (anywhere: then lookup.py reads the store a page at a time).
3. `match.rank(vector, candidates, category=, place=, settings=)` keeps those truly near
   (within `radius_meters` when both have a point; the same neighbourhood otherwise), scores
   them by meaning (cosine) and returns at most `limit` `Match`es scoring at least
   `min_score`, best first, each with its distance (None: matched by neighbourhood).

Vectors are stored with `vectors.pack` (int8 and one float32 scale: 388 bytes for the model's
384 dimensions) and read back with `vectors.unpack`. `Place` and `Candidate` live in
storage/similar.py (the store returns them); `SimilarSettings` ([similar]) in
handlers/engine/settings.py.
"""

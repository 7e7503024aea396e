"""Earlier ideas that are probably the same problem, looked up once the problem, the place and
the category are known (issue 21): what the intake's "similar" question offers.

The lookup is async and questions are not, so it runs in the answers to those three questions
(and again whenever one of them changes: "back", or a change from the summary); the question
shows what it kept in the draft."""

import base64
import logging

from handlers.engine.state import Draft, SimilarOffer
from handlers.engine.turn import Turn
from handlers.similar.lookup import look_up
from handlers.similar.match import Match
from handlers.similar.vectors import pack
from storage.models import Publish
from storage.similar import Place

log = logging.getLogger(__name__)

FIRST_WORDS = 14  # how much of an earlier idea's problem the offer shows


def first_words(text: str, count: int = FIRST_WORDS) -> str:
    """The first `count` words, with "…" when there were more."""
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def _offer(match: Match, supporters: dict[int, int]) -> SimilarOffer:
    candidate = match.candidate
    shown = candidate.publish != Publish.NO.value  # else: category, place and status only
    return SimilarOffer(
        idea_id=candidate.idea_id,
        reference=candidate.reference,
        words=first_words(candidate.problem) if shown else None,
        place=candidate.place.neighbourhood,
        meters=None if match.distance_meters is None else round(match.distance_meters),
        status=candidate.status.value,
        supporters=supporters.get(candidate.idea_id, 0),
        score=match.score,
    )


def forget_vector(draft: Draft) -> None:
    """The problem changed: the vector kept for it no longer says what it says."""
    draft.similar_vector, draft.similar_model = None, None


def _place(draft: Draft) -> Place | None:
    if draft.location_text is None and draft.latitude is None:
        return None
    return Place(draft.latitude, draft.longitude, draft.location_text)


async def look_again(turn: Turn) -> None:
    """After the problem, the place or the category: the earlier ideas to offer, asked afresh
    (none until all three are known; none for a problem told in a voice note)."""
    draft = turn.state.draft
    draft.similar_offers, draft.similar_done = [], False
    place = _place(draft)
    if turn.encoder is None or draft.problem_voice is not None or place is None:
        return
    category = turn.settings.lab.category(draft.category)
    if draft.problem is None or category is None:
        return
    try:
        found = await look_up(
            turn.repos, turn.encoder, turn.settings.similar, draft.problem,
            category=category.id, place=place, exclude_resident=turn.resident.id,
        )  # fmt: skip
    except Exception:  # the model failed: the intake goes on as before, without an offer
        log.exception("similar ideas lookup failed; the intake goes on without it")
        return
    if found.vector is not None:
        draft.similar_vector = base64.b64encode(pack(found.vector)).decode("ascii")
        draft.similar_model = turn.encoder.model
    if found.matches:
        ids = [match.candidate.idea_id for match in found.matches]
        supporters = await turn.repos.supports.counts(ids)
        draft.similar_offers = [_offer(match, supporters) for match in found.matches]


def kept_vector(draft: Draft) -> tuple[str, bytes] | None:
    """(model, packed vector) the lookup computed for the problem as it stands, if any."""
    if draft.similar_vector is None or draft.similar_model is None:
        return None
    return draft.similar_model, base64.b64decode(draft.similar_vector)

"""The intake's offer of earlier ideas that are probably the same problem (issue 21): join one
(with an extra detail or a photo, optional) or say "mine is different" and go on.

Each offer is a message of its own with its own "join" button, whose id carries the idea's id
(a stable value): on Telegram a button under each, on WhatsApp a one-row list under each (the
label is longer than a reply button's 20 characters), in the console numbered on."""

from handlers.account import subscriptions
from handlers.engine.buttons import args_of, button_id
from handlers.engine.messages import Choice
from handlers.engine.replies import expected_choice, reject
from handlers.engine.state import Draft, SimilarOffer, Step
from handlers.engine.turn import Turn, go_to
from handlers.intake.answers import PHOTO_REFUSALS, go_on, take_text
from handlers.intake.lookup import kept_vector
from handlers.intake.navigation import with_back
from handlers.privacy.consent import Purpose, undecided
from storage.similar import HIDDEN_STATUSES
from storage.supports import NewSupport

JOIN = "join"
DETAIL_LIMITS = (2, 1000)
SAME_SPOT_METERS = 20  # closer than this, shared locations are the same spot (GPS wanders)


def _place(turn: Turn, offer: SimilarOffer) -> str:
    if offer.place:
        return offer.place
    if offer.meters is not None and offer.meters < SAME_SPOT_METERS:
        return turn.t("similar.same_spot")  # not "about 0 m away"
    if offer.meters is not None:
        return turn.t("similar.meters", meters=offer.meters)
    return turn.t("similar.near")


def _supporters(turn: Turn, offer: SimilarOffer) -> str:
    if offer.supporters == 0:
        return turn.t("similar.no_supporters")
    return turn.t("similar.supporters", count=offer.supporters)


def offer_text(turn: Turn, offer: SimilarOffer) -> str:
    """An earlier idea as the resident sees it: never its author; its words only if it may
    be published (else its category, place and status say what it is)."""
    category = turn.settings.lab.category(turn.state.draft.category)
    topic = category.label(turn.language) if category is not None else ""
    about = (
        turn.t("similar.words", words=offer.words)
        if offer.words
        else turn.t("similar.unpublished", category=topic)
    )
    return turn.t(
        "similar.offer",
        reference=offer.reference,
        about=about,
        place=_place(turn, offer),
        status=turn.t(f"status.{offer.status}"),
        supporters=_supporters(turn, offer),
    )


def ask_similar(turn: Turn) -> None:
    step, offers = Step.SIMILAR, turn.state.draft.similar_offers
    turn.say(turn.t("similar.intro", count=len(offers)))
    for offer in offers:
        join = Choice(
            id=button_id(step, JOIN, offer.idea_id),
            label=turn.t("similar.join"),
            detail=offer.reference,  # which one, on the button too
        )
        turn.say(offer_text(turn, offer), (join,))
    different = turn.option(step, "different", "similar.different")
    turn.say(turn.t("similar.ask"), with_back(turn, step, (different,)))


def _typed_idea(draft: Draft) -> str | None:
    """The idea they had already typed (joining after a change from the summary)."""
    return draft.idea if draft.idea and draft.idea_voice is None and not draft.no_idea else None


def ask_similar_detail(turn: Turn) -> None:
    step, draft = Step.SIMILAR_DETAIL, turn.state.draft
    reference = draft.joined_reference or ""
    nothing = turn.option(step, "none", "similar.nothing_to_add")
    choices: tuple[Choice, ...] = (nothing, *_back(turn, step))
    text = turn.t("similar.detail_ask", reference=reference)
    idea = _typed_idea(draft)
    if idea is not None:  # not lost: offered as what they add
        text += "\n\n" + turn.t("similar.your_idea", idea=idea)
        choices = (turn.option(step, "idea", "similar.add_idea"), *choices)
    turn.say(text, choices)


def _back(turn: Turn, step: Step) -> tuple[Choice, ...]:
    return (turn.option(step, "back", "nav.back"),)


def _offered(draft: Draft, value: str | None) -> SimilarOffer | None:
    """The offer a "join" button names (by the idea's id), if it is still offered."""
    args = args_of(value)
    if len(args) != 2 or args[0] != JOIN or not args[1].isdigit():
        return None
    return next((o for o in draft.similar_offers if o.idea_id == int(args[1])), None)


async def on_similar(turn: Turn, value: str | None) -> None:
    draft = turn.state.draft
    if value == "different":
        draft.similar_done = True
        return go_on(turn)
    if args_of(value)[:1] != (JOIN,):
        return expected_choice(turn)
    offer = _offered(draft, value)
    if offer is None:  # a button from offers shown before the place or topic changed
        return reject(turn, "input.stale_button")
    idea = await turn.repos.idea_search.get(offer.idea_id)
    if idea is None or idea.status in HIDDEN_STATUSES:  # withdrawn or closed meanwhile
        draft.similar_offers = [o for o in draft.similar_offers if o.idea_id != offer.idea_id]
        turn.say(turn.t("similar.gone", reference=offer.reference))
        return go_on(turn)
    if await turn.repos.supports.supports(offer.idea_id, turn.resident.id):
        return _joined(turn, offer.reference, already=True)
    draft.joined_id, draft.joined_reference = offer.idea_id, offer.reference
    go_to(turn, Step.SIMILAR_DETAIL)


async def on_similar_detail(turn: Turn, value: str | None) -> None:
    media = turn.inbound.media
    if value == "none":
        return await _support(turn)
    if value == "idea" and (idea := _typed_idea(turn.state.draft)) is not None:
        return await _support(turn, detail=idea)
    refusal = PHOTO_REFUSALS.get(turn.inbound.unsupported or "")
    if refusal is not None:
        return reject(turn, refusal)
    if media is not None and media.kind == "photo":
        return await _support(turn, photo_path=media.path, photo_ref=media.platform_ref)
    if turn.inbound.text is None:  # a voice note, a sticker...: a text, a photo or the button
        return expected_choice(turn)
    text = take_text(turn, *DETAIL_LIMITS)
    if text is not None:
        await _support(turn, detail=text)


async def _support(
    turn: Turn,
    *,
    detail: str | None = None,
    photo_path: str | None = None,
    photo_ref: str | None = None,
) -> None:
    """Record the support (once per person) with what came with it, and end."""
    draft = turn.state.draft
    if draft.joined_id is None:  # not expected: the draft lost its choice; offer again
        return go_to(turn, Step.SIMILAR if draft.similar_offers else Step.IDEA)
    support = NewSupport(
        idea_id=draft.joined_id,
        resident_id=turn.resident.id,
        detail=detail,
        photo_path=photo_path,
        photo_ref=photo_ref,
    )
    added = await turn.repos.supports.add(support, turn.now)
    _joined(turn, draft.joined_reference or "", already=not added)


def _joined(turn: Turn, reference: str, *, already: bool) -> None:
    """The receipt naming the idea joined, the draft cleared, then (like after filing) the
    updates consent if undecided, else the menu."""
    role = turn.state.draft.role
    if role is not None:
        turn.update_resident(role=role)
    turn.state.step, turn.state.draft = Step.IDLE, Draft()
    key = "similar.already" if already else "similar.joined"
    turn.say(turn.t(key, reference=reference))
    version = turn.settings.lab.privacy_policy_version
    asking = undecided(turn.resident, Purpose.UPDATES, version)
    turn.say(turn.t("similar.next"), () if asking else turn.menu())
    if asking:
        subscriptions.ask_next(turn, announcements=False, joined=True)


async def on_filed(turn: Turn, draft: Draft, idea_id: int) -> None:
    """At filing: the offers declined as "different" are kept as possible duplicates, and the
    problem's vector the lookup computed is stored (else it is computed after the turn)."""
    declined = [(offer.idea_id, offer.score) for offer in draft.similar_offers]
    await turn.repos.similar.note_possible_duplicates(idea_id, declined, turn.now)
    kept = kept_vector(draft)
    model = turn.encoder.model if turn.encoder is not None else None
    if kept is None or kept[0] != model:  # none, or an older model's (a draft from before)
        turn.filed_ideas.append((idea_id, draft.problem or ""))
        return
    await turn.repos.similar.save_vector(idea_id, *kept)

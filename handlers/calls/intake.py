"""Calls for ideas (convocatorias) as residents meet them: while a call is open, the intake
asks whether the idea is for it (and in which of its categories). A call that closes before
the answer, or before the idea is sent, gets a kind word and the idea goes in as a general one.
Staff open, close and award calls: handlers/calls/staff_form.py and `minga calls`."""

from handlers.engine.dates import short_when
from handlers.engine.replies import expected_choice
from handlers.engine.state import CallOffer, Step
from handlers.engine.textinput import short
from handlers.engine.turn import Turn, go_to
from handlers.intake.navigation import next_step, with_back
from storage.models import Call, CallCategory, Focus

DEFAULT_CATEGORIES = (
    CallCategory(id="service", es="Servicio a la ciudadanía", en="Service to residents",
                 focus=Focus.EXTERNAL),
    CallCategory(id="efficiency", es="Productividad y eficiencia interna",
                 en="Productivity and efficiency inside the administration",
                 focus=Focus.INTERNAL),
)  # fmt: skip


async def load_offers(turn: Turn) -> None:
    """Read the open calls into the draft, for the question that follows the idea."""
    calls = await turn.repos.calls.open_at(turn.now)
    turn.state.draft.call_offers = [
        CallOffer(id=call.id, title=call.title,
                  categories=[(c.id, c.es, c.en) for c in call.categories])
        for call in calls  # every open call: one that cannot be chosen here cannot be joined
    ]  # fmt: skip


def ask_call(turn: Turn) -> None:
    step, draft = Step.CALL, turn.state.draft
    choices = []
    for offer in draft.call_offers:
        for category_id, es, en in offer.categories:
            label = turn.t("call.option", title=short(offer.title, 30),
                           category=es if turn.language == "es" else en)  # fmt: skip
            choices.append(turn.labelled(step, f"{offer.id}.{category_id}", label))
    choices.append(turn.option(step, "none", "call.none"))
    titles = ", ".join(f"«{offer.title}»" for offer in draft.call_offers)
    turn.say(turn.t("call.ask", titles=titles), with_back(turn, step, tuple(choices)))


def _closed_word(turn: Turn, call: Call | None, title: str) -> None:
    when = "-"
    if call is not None:
        moment = call.closed_at or call.deadline
        when = short_when(moment, turn.settings.lab.zone, turn.language)
    turn.say(turn.t("call.closed_late", title=title, when=when))


async def on_call(turn: Turn, value: str | None) -> None:
    draft = turn.state.draft
    if value == "none":
        draft.call_id, draft.call_category, draft.call_done = None, None, True
        _forget_focus(turn)
        return _go_on(turn)
    call_id, _, category = (value or "").partition(".")
    offer = next((o for o in draft.call_offers if str(o.id) == call_id), None)
    if offer is None or category not in {c[0] for c in offer.categories}:
        return expected_choice(turn)
    call = await turn.repos.calls.get(offer.id)
    if call is None or not call.is_open(turn.now):
        _closed_word(turn, call, offer.title)
        draft.call_id, draft.call_category, draft.call_done = None, None, True
        _forget_focus(turn)
        return _go_on(turn)
    draft.call_id, draft.call_category, draft.call_done = offer.id, category, True
    chosen = next((c for c in call.categories if c.id == category), None)
    if chosen is not None:  # "service to residents" is the external focus: not asked again
        draft.focus, draft.focus_from_call = chosen.focus, True
    _go_on(turn)


def _forget_focus(turn: Turn) -> None:
    """Not for a call after all: a focus the call gave is asked again (where it applies)."""
    draft = turn.state.draft
    if draft.focus_from_call:
        draft.focus, draft.focus_from_call = None, False


def _go_on(turn: Turn) -> None:
    step = next_step(turn)
    if step is Step.SUMMARY:
        turn.state.draft.editing = False
    go_to(turn, step)


async def still_open(turn: Turn) -> bool:
    """At sending: the chosen call may have closed since; then the idea goes in as general."""
    draft = turn.state.draft
    if draft.call_id is None:
        return True
    call = await turn.repos.calls.get(draft.call_id)
    if call is not None and call.is_open(turn.now):
        return True
    title = next((o.title for o in draft.call_offers if o.id == draft.call_id), "")
    _closed_word(turn, call, title or (call.title if call else ""))
    draft.call_id, draft.call_category = None, None
    return False


def call_label(turn: Turn) -> str | None:
    """For the summary: «Title» · category, or None when not for a call."""
    draft = turn.state.draft
    offer = next((o for o in draft.call_offers if o.id == draft.call_id), None)
    if offer is None:
        return None
    labels = {c[0]: (c[1] if turn.language == "es" else c[2]) for c in offer.categories}
    return f"«{offer.title}» · {labels.get(draft.call_category or '', '')}"

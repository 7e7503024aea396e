"""The question each step asks, with its buttons. Pure: it only adds replies to the turn."""

from collections.abc import Mapping

from handlers.calls.intake import call_label
from handlers.engine.buttons import neighbourhood_args
from handlers.engine.state import INTAKE_ORDER, Draft, Step
from handlers.engine.turn import Question, Turn
from handlers.intake.navigation import with_back
from storage.models import Focus, Role


def _choose(
    turn: Turn, step: Step, text: str, options: dict[str, str], *, back: bool = True
) -> None:
    """Ask with one button per option (value -> catalog key of its label)."""
    choices = tuple(turn.option(step, value, key) for value, key in options.items())
    turn.say(text, with_back(turn, step, choices) if back else choices)


def ask_role(turn: Turn) -> None:
    options = {role.value: f"role.{role.value}" for role in Role}
    _choose(turn, Step.ROLE, turn.t("role.ask"), options)


def ask_consent(turn: Turn) -> None:
    text = turn.t("consent.ask", policy_url=turn.settings.lab.privacy_policy_url)
    _choose(turn, Step.CONSENT, text, {"yes": "consent.accept", "no": "consent.decline"})


def ask_problem(turn: Turn) -> None:
    turn.say(turn.t("problem.ask"), with_back(turn, Step.PROBLEM, ()))


def ask_location(turn: Turn) -> None:
    step = Step.LOCATION
    suggestions = tuple(
        turn.labelled(step, neighbourhood_args(name), name)
        for name in turn.settings.lab.neighbourhoods
    )
    turn.say(
        turn.t("location.ask"),
        with_back(turn, step, suggestions),
        location_button=turn.t("location.share"),
        choices_text=turn.t("location.or_choose"),
    )


def ask_category(turn: Turn) -> None:
    step = Step.CATEGORY
    options = tuple(
        turn.labelled(step, c.id, c.label(turn.language)) for c in turn.settings.lab.categories
    )
    turn.say(turn.t("category.ask"), with_back(turn, step, options))


def ask_idea(turn: Turn) -> None:
    step = Step.IDEA
    turn.say(turn.t("idea.ask"), with_back(turn, step, (turn.option(step, "none", "idea.none"),)))


def ask_photos(turn: Turn) -> None:
    step = Step.PHOTOS
    count, most = len(turn.state.draft.photos), turn.settings.intake.max_photos
    if count:
        text = turn.t("photos.ask_more", count=count, max=most)
        done = turn.option(step, "done", "photos.continue")
    else:
        text = turn.t("photos.ask", max=most)
        done = turn.option(step, "done", "photos.skip")
    turn.say(text, with_back(turn, step, (done,)))


def ask_focus(turn: Turn) -> None:
    options = {focus.value: f"focus.{focus.value}" for focus in Focus}
    _choose(turn, Step.FOCUS, turn.t("focus.ask"), options)


def ask_identity(turn: Turn) -> None:
    options = {"anonymous": "identity.anonymous", "named": "identity.named"}
    _choose(turn, Step.IDENTITY, turn.t("identity.ask"), options)


def ask_name(turn: Turn) -> None:
    turn.say(turn.t("name.ask"), with_back(turn, Step.NAME, ()))


def ask_contact(turn: Turn) -> None:
    step = Step.CONTACT
    turn.say(
        turn.t("contact.ask"), with_back(turn, step, (turn.option(step, "skip", "contact.skip"),))
    )


def ask_publish(turn: Turn) -> None:
    step = Step.PUBLISH
    options = {"text": "publish.text", "no": "publish.no"}
    if turn.state.draft.photos:
        options = {"photos": "publish.photos", **options}
    choices = tuple(turn.option(step, value, key) for value, key in options.items())
    turn.say(turn.t("publish.ask", lab=turn.settings.lab.name), with_back(turn, step, choices))


def asks_focus(draft: Draft) -> bool:
    """Officials and contractors say the focus, unless the call they chose implies it."""
    return draft.role in (Role.OFFICIAL, Role.CONTRACTOR) and not draft.focus_from_call


def location_label(turn: Turn) -> str:
    draft = turn.state.draft
    if draft.location_text:
        return draft.location_text
    return turn.t(
        "location.shared", latitude=f"{draft.latitude:.5f}", longitude=f"{draft.longitude:.5f}"
    )


def summary_text(turn: Turn) -> str:
    draft, t = turn.state.draft, turn.t
    category = turn.settings.lab.category(draft.category)
    lines = [t("summary.intro"), ""]
    if draft.role is not None:
        lines.append(t("summary.role", value=t(f"role.{draft.role.value}")))
    lines.append(t("summary.problem", value=draft.problem))
    lines.append(t("summary.location", value=location_label(turn)))
    if category is not None:
        lines.append(t("summary.category", value=category.label(turn.language)))
    lines.append(t("summary.idea", value=draft.idea) if draft.idea else t("summary.no_idea"))
    if turn.settings.intake.max_photos:
        lines.append(t("summary.photos", count=len(draft.photos)))
    if asks_focus(draft) and draft.focus is not None:  # else the call's category says it
        lines.append(t("summary.focus", value=t(f"focus.{draft.focus.value}")))
    if draft.anonymous:
        lines.append(t("summary.anonymous"))
    else:
        lines.append(t("summary.named", name=draft.name))
        if draft.contact:
            lines.append(t("summary.contact", value=draft.contact))
    if draft.call_offers:
        label = call_label(turn)
        lines.append(t("summary.call", value=label) if label else t("summary.no_call"))
    if draft.publish is not None:
        lines.append(t(f"summary.publish_{draft.publish.value}"))
    return "\n".join(lines)


def ask_summary(turn: Turn) -> None:
    step = Step.SUMMARY
    turn.say(
        summary_text(turn),
        (
            turn.option(step, "send", "summary.send"),
            turn.option(step, "change", "summary.change"),
            turn.option(step, "discard", "summary.cancel"),
        ),
    )


# What the summary's "change" offers: every question but consent and the follow-ups to
# "with my name" (changing the identity asks them again).
# The offer of similar ideas is not a change of its own: it comes again when the problem,
# place or topic changes.
EDITABLE: tuple[Step, ...] = tuple(
    step
    for step in INTAKE_ORDER
    if step not in (Step.CONSENT, Step.SIMILAR, Step.NAME, Step.CONTACT)
)


def editable_steps(turn: Turn) -> tuple[Step, ...]:
    draft = turn.state.draft
    shown = []
    for step in EDITABLE:
        if step is Step.FOCUS and not asks_focus(draft):
            continue
        if step is Step.PHOTOS and not turn.settings.intake.max_photos:
            continue
        if step is Step.CALL and not draft.call_offers:
            continue
        shown.append(step)
    return tuple(shown)


def ask_edit(turn: Turn) -> None:
    step = Step.EDIT
    options = tuple(turn.option(step, s.value, f"edit.{s.value}") for s in editable_steps(turn))
    turn.say(turn.t("edit.ask"), (*options, turn.option(step, "done", "edit.done")))


# The intake's questions; the question whether the idea is for an open call is the calls'.
QUESTIONS: Mapping[Step, Question] = {
    Step.ROLE: ask_role,
    Step.CONSENT: ask_consent,
    Step.PROBLEM: ask_problem,
    Step.LOCATION: ask_location,
    Step.CATEGORY: ask_category,
    Step.IDEA: ask_idea,
    Step.PHOTOS: ask_photos,
    Step.FOCUS: ask_focus,
    Step.IDENTITY: ask_identity,
    Step.NAME: ask_name,
    Step.CONTACT: ask_contact,
    Step.PUBLISH: ask_publish,
    Step.SUMMARY: ask_summary,
    Step.EDIT: ask_edit,
}

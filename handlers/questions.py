"""The question each step asks, with its buttons. Pure: it only adds replies to the turn."""

from collections.abc import Callable

from handlers.navigation import previous_step
from handlers.state import Step
from handlers.turn import Turn
from storage.models import Focus, Role


def _with_back(turn: Turn, step: Step, choices: tuple) -> tuple:
    """Every question but the first offers a way back (to the summary, when changing)."""
    if turn.state.draft.editing or previous_step(turn, step) is not None:
        return (*choices, turn.option(step, "back", "nav.back"))
    return choices


def ask_language(turn: Turn) -> None:
    step = Step.LANGUAGE
    turn.say(
        turn.t("language.ask"),
        (turn.option(step, "es", "language.es"), turn.option(step, "en", "language.en")),
    )


def ask_role(turn: Turn) -> None:
    step = Step.ROLE
    options = tuple(turn.option(step, role.value, f"role.{role.value}") for role in Role)
    turn.say(turn.t("role.ask"), _with_back(turn, step, options))


def ask_consent(turn: Turn) -> None:
    step = Step.CONSENT
    options = (
        turn.option(step, "yes", "consent.accept"),
        turn.option(step, "no", "consent.decline"),
    )
    text = turn.t("consent.ask", policy_url=turn.settings.lab.privacy_policy_url)
    turn.say(text, _with_back(turn, step, options))


def ask_problem(turn: Turn) -> None:
    turn.say(turn.t("problem.ask"), _with_back(turn, Step.PROBLEM, ()))


def ask_location(turn: Turn) -> None:
    step = Step.LOCATION
    suggestions = tuple(
        turn.labelled(step, f"n{index}", name)
        for index, name in enumerate(turn.settings.lab.neighbourhoods)
    )
    turn.say(
        turn.t("location.ask"),
        _with_back(turn, step, suggestions),
        location_button=turn.t("location.share"),
    )


def ask_category(turn: Turn) -> None:
    step = Step.CATEGORY
    options = tuple(
        turn.labelled(step, c.id, c.label(turn.language)) for c in turn.settings.lab.categories
    )
    turn.say(turn.t("category.ask"), _with_back(turn, step, options))


def ask_idea(turn: Turn) -> None:
    step = Step.IDEA
    turn.say(turn.t("idea.ask"), _with_back(turn, step, (turn.option(step, "none", "idea.none"),)))


def ask_photos(turn: Turn) -> None:
    step = Step.PHOTOS
    count, most = len(turn.state.draft.photos), turn.settings.intake.max_photos
    if count:
        text = turn.t("photos.ask_more", count=count, max=most)
        done = turn.option(step, "done", "photos.continue")
    else:
        text = turn.t("photos.ask", max=most)
        done = turn.option(step, "done", "photos.skip")
    turn.say(text, _with_back(turn, step, (done,)))


def ask_focus(turn: Turn) -> None:
    step = Step.FOCUS
    options = tuple(turn.option(step, f.value, f"focus.{f.value}") for f in Focus)
    turn.say(turn.t("focus.ask"), _with_back(turn, step, options))


def ask_identity(turn: Turn) -> None:
    step = Step.IDENTITY
    options = (
        turn.option(step, "anonymous", "identity.anonymous"),
        turn.option(step, "named", "identity.named"),
    )
    turn.say(turn.t("identity.ask"), _with_back(turn, step, options))


def ask_name(turn: Turn) -> None:
    turn.say(turn.t("name.ask"), _with_back(turn, Step.NAME, ()))


def ask_contact(turn: Turn) -> None:
    step = Step.CONTACT
    turn.say(
        turn.t("contact.ask"), _with_back(turn, step, (turn.option(step, "skip", "contact.skip"),))
    )


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
    if draft.role in (Role.OFFICIAL, Role.CONTRACTOR) and draft.focus is not None:
        lines.append(t("summary.focus", value=t(f"focus.{draft.focus.value}")))
    if draft.anonymous:
        lines.append(t("summary.anonymous"))
    else:
        lines.append(t("summary.named", name=draft.name))
        if draft.contact:
            lines.append(t("summary.contact", value=draft.contact))
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


EDITABLE: tuple[Step, ...] = (
    Step.ROLE,
    Step.PROBLEM,
    Step.LOCATION,
    Step.CATEGORY,
    Step.IDEA,
    Step.PHOTOS,
    Step.FOCUS,
    Step.IDENTITY,
)


def editable_steps(turn: Turn) -> tuple[Step, ...]:
    draft = turn.state.draft
    shown = []
    for step in EDITABLE:
        if step is Step.FOCUS and draft.role not in (Role.OFFICIAL, Role.CONTRACTOR):
            continue
        if step is Step.PHOTOS and not turn.settings.intake.max_photos:
            continue
        shown.append(step)
    return tuple(shown)


def ask_edit(turn: Turn) -> None:
    step = Step.EDIT
    options = tuple(turn.option(step, s.value, f"edit.{s.value}") for s in editable_steps(turn))
    turn.say(turn.t("edit.ask"), (*options, turn.option(step, "done", "edit.done")))


def ask_confirm_cancel(turn: Turn) -> None:
    step = Step.CONFIRM_CANCEL
    turn.say(
        turn.t("cancel.ask"),
        (turn.option(step, "yes", "cancel.yes"), turn.option(step, "no", "cancel.no")),
    )


def ask_confirm_restart(turn: Turn) -> None:
    step = Step.CONFIRM_RESTART
    turn.say(
        turn.t("restart.ask"),
        (turn.option(step, "yes", "restart.yes"), turn.option(step, "no", "restart.no")),
    )


def ask_resume(turn: Turn) -> None:
    step = Step.RESUME
    turn.say(
        turn.t("resume.ask"),
        (
            turn.option(step, "continue", "resume.continue"),
            turn.option(step, "restart", "resume.restart"),
        ),
    )


def ask_idle(turn: Turn) -> None:
    turn.say(turn.t("greeting.menu"), turn.menu())


QUESTIONS: dict[Step, Callable[[Turn], None]] = {
    Step.IDLE: ask_idle,
    Step.LANGUAGE: ask_language,
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
    Step.SUMMARY: ask_summary,
    Step.EDIT: ask_edit,
    Step.CONFIRM_CANCEL: ask_confirm_cancel,
    Step.CONFIRM_RESTART: ask_confirm_restart,
    Step.RESUME: ask_resume,
}


def ask(turn: Turn) -> None:
    """Ask the question of the step the conversation is at."""
    QUESTIONS[turn.state.step](turn)


def go_to(turn: Turn, step: Step) -> None:
    turn.state.step = step
    ask(turn)

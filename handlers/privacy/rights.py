"""Residents' rights in the chat: /mis_datos (know), /corregir (correct), /borrar (erase) and
/privacidad (their consents, each withdrawable alone). Each takes under a minute."""

from handlers.account.subscriptions import SUBSCRIBE, UPDATES
from handlers.engine.messages import Choice, Document, Reply
from handlers.engine.replies import expected_choice, reject
from handlers.engine.sidetrip import come_back, detour
from handlers.engine.state import DRAFT_STEPS, Draft, Step
from handlers.engine.textinput import looks_like_contact
from handlers.engine.turn import Answer, Question, Turn, ask, go_to
from handlers.events.rsvp import carry_on
from handlers.intake.answers import CONTACT_MAX, NAME_LIMITS, take_text
from handlers.privacy import my_data
from handlers.privacy.consent import Purpose, granted
from handlers.privacy.erase import erase

STEPS = (Step.FIX_WHICH, Step.FIX_NAME, Step.FIX_CONTACT, Step.ERASE_CONFIRM)
# Where a typed answer is words, not the number of a button.
TYPED = (Step.FIX_NAME, Step.FIX_CONTACT)


def _leave(turn: Turn) -> None:
    """Back where they were before the command (their idea in progress), or the menu."""
    turn.state.draft.fix_values = None
    if come_back(turn) in DRAFT_STEPS:
        return ask(turn)
    turn.state.step = Step.IDLE
    turn.say(turn.t("greeting.menu"), turn.menu())


def _enter(turn: Turn, step: Step) -> None:
    """From one of these steps to another (/borrar while correcting): back to the first place."""
    detour(turn, step, within=STEPS)


async def show_my_data(turn: Turn) -> None:
    """/mis_datos: the message, then the whole as a JSON file."""
    data = await my_data.held(turn.repos, turn.resident)
    text = my_data.readable(data, turn.resident, turn.settings, turn.catalog, turn.language)
    turn.replies.append(Reply(text))
    document = Document(turn.t("my_data.filename"), my_data.as_file(data), "application/json")
    turn.replies.append(Reply(turn.t("my_data.file_caption"), document=document))
    carry_on(turn)


# -- /corregir ----------------------------------------------------------------------------------


async def correct(turn: Turn) -> None:
    named = await turn.repos.privacy.named_contacts(turn.resident.id)
    if not named:
        turn.say(turn.t("fix.none"))
        return carry_on(turn)
    turn.state.draft.fix_values = my_data.names_then_contacts(turn.t, named) or "—"
    _enter(turn, Step.FIX_WHICH)


def ask_which(turn: Turn) -> None:
    turn.say(
        turn.t("fix.which", values=turn.state.draft.fix_values or "—"),
        (turn.option(Step.FIX_WHICH, "name", "fix.name"),
         turn.option(Step.FIX_WHICH, "contact", "fix.contact"),
         turn.option(Step.FIX_WHICH, "cancel", "fix.cancel")),
    )  # fmt: skip


async def on_which(turn: Turn, value: str | None) -> None:
    if value == "name":
        return go_to(turn, Step.FIX_NAME)
    if value == "contact":
        return go_to(turn, Step.FIX_CONTACT)
    if value == "cancel":
        turn.say(turn.t("fix.cancelled"))
        return _leave(turn)
    expected_choice(turn)


async def on_name(turn: Turn, value: str | None) -> None:
    text = take_text(turn, *NAME_LIMITS)  # says why and asks again when it will not do
    if text is None:
        return
    changed = await turn.repos.privacy.update_contact(turn.resident.id, name=text, contact=None)
    turn.say(turn.t("fix.done", count=changed))
    _leave(turn)


async def on_contact(turn: Turn, value: str | None) -> None:
    text = take_text(turn, 5, CONTACT_MAX)
    if text is None:
        return
    if not looks_like_contact(text):
        return reject(turn, "contact.invalid")
    changed = await turn.repos.privacy.update_contact(turn.resident.id, name=None, contact=text)
    turn.say(turn.t("fix.done", count=changed))
    _leave(turn)


# -- /borrar ------------------------------------------------------------------------------------


async def confirm_erase(turn: Turn) -> None:
    turn.state.draft.fix_values = str(len(await turn.repos.privacy.ideas_of(turn.resident.id)))
    _enter(turn, Step.ERASE_CONFIRM)


def ask_erase(turn: Turn) -> None:
    ideas = int(turn.state.draft.fix_values or 0)
    choices: tuple[Choice, ...]
    if ideas:
        choices = (turn.option(Step.ERASE_CONFIRM, "keep", "erase.keep_ideas"),
                   turn.option(Step.ERASE_CONFIRM, "all", "erase.with_ideas"),
                   turn.option(Step.ERASE_CONFIRM, "no", "erase.cancel"))  # fmt: skip
        turn.say(turn.t("erase.ask_ideas", count=ideas), choices)
    else:
        choices = (turn.option(Step.ERASE_CONFIRM, "keep", "erase.yes"),
                   turn.option(Step.ERASE_CONFIRM, "no", "erase.cancel"))  # fmt: skip
        turn.say(turn.t("erase.ask"), choices)


async def on_erase(turn: Turn, value: str | None) -> None:
    if value == "no":
        turn.say(turn.t("erase.cancelled"))
        return _leave(turn)
    if value not in ("keep", "all"):
        return expected_choice(turn)
    language = turn.language  # said after the erasure, in the language they spoke
    erased = await erase(turn.repos, turn.settings, turn.resident.id,
                         withdraw_ideas=value == "all", now=turn.now)  # fmt: skip
    fresh = await turn.repos.residents.get(turn.resident.id)
    assert fresh is not None
    turn.resident = fresh  # the turn's last write saves the erased row as it now is
    turn.state.step, turn.state.draft = Step.IDLE, Draft()
    turn.released_media.extend(erased.files)
    key = ("erase.done_withdrawn" if erased.ideas_withdrawn
           else "erase.done" if erased.ideas_kept else "erase.done_plain")  # fmt: skip
    turn.say(turn.catalog.text(language, key))


# -- /privacidad --------------------------------------------------------------------------------


async def show_consents(turn: Turn) -> None:
    """Each purpose, whether it is on, and a button to change it (handling: see /borrar)."""
    version = turn.settings.lab.privacy_policy_version
    resident = turn.resident
    lines = [turn.t("consents.title", lab=turn.settings.lab.name,
                    policy_url=turn.settings.lab.privacy_policy_url)]  # fmt: skip
    for purpose in Purpose:
        state = (
            "my_data.consent_on" if granted(resident, purpose, version) else "my_data.consent_no"
        )
        lines.append(turn.t("my_data.consent_line", purpose=turn.t(f"my_data.purpose_{purpose}"),
                            state=turn.t(state)))  # fmt: skip
    lines.append(turn.t("consents.handling_note"))
    updates_on = granted(resident, Purpose.UPDATES, version)
    news_on = granted(resident, Purpose.ANNOUNCEMENTS, version)
    choices = (
        turn.option(UPDATES, "off" if updates_on else "on",
                    "consents.updates_off" if updates_on else "consents.updates_on"),
        turn.option(SUBSCRIBE, "off" if news_on else "yes",
                    "consents.announcements_off" if news_on else "consents.announcements_on"),
    )  # fmt: skip
    turn.say("\n".join(lines), choices)


def ask_name(turn: Turn) -> None:
    turn.say(turn.t("fix.ask_name"))


def ask_contact(turn: Turn) -> None:
    turn.say(turn.t("fix.ask_contact"))


QUESTIONS: dict[Step, Question] = {
    Step.FIX_WHICH: ask_which,
    Step.FIX_NAME: ask_name,
    Step.FIX_CONTACT: ask_contact,
    Step.ERASE_CONFIRM: ask_erase,
}

ANSWERS: dict[Step, Answer] = {
    Step.FIX_WHICH: on_which,
    Step.FIX_NAME: on_name,
    Step.FIX_CONTACT: on_contact,
    Step.ERASE_CONFIRM: on_erase,
}

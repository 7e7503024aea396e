"""Typing instead of tapping: "sí", "yes", "movilidad" or a button's number answer a question
with buttons, in either language whatever the person chose, without case, accents or emoji;
at the free-text questions, what is typed is the answer itself."""

import pytest

from storage.database import Database
from storage.models import RsvpStatus
from tests.fakes.chat import Chat
from tests.handlers.events.helpers import add_event
from tests.handlers.walk import IDEA, PROBLEM, to_identity, to_photos, to_problem, to_summary

YES = ("sí", "Si", "SI!", "yes", "Yes 👍", "y", "ok", "claro", "dale", "de acuerdo")
NO = ("no", "No.", "NO 🙅", "nope", "no gracias")


async def _to_consent(chat: Chat) -> None:
    await chat.command("start")
    await chat.press("role.resident")
    assert chat.asked("consent.ask", policy_url=_policy())


def _policy() -> str:
    return "https://www.gobiernobogota.gov.co/politica-de-privacidad"


@pytest.mark.parametrize("typed", YES)
async def test_a_typed_yes_accepts_the_consent(chat: Chat, typed: str) -> None:
    await _to_consent(chat)
    await chat.say(typed)
    assert chat.asked("problem.ask")


@pytest.mark.parametrize("typed", NO)
async def test_a_typed_no_declines_the_consent(chat: Chat, typed: str) -> None:
    await _to_consent(chat)
    await chat.say(typed)
    assert chat.t("consent.declined") in chat.text


@pytest.mark.parametrize("typed", ("funcionario", "Funcionario Público", "OFFICIAL", "2"))
async def test_a_role_by_a_word_of_its_label_in_either_language(chat: Chat, typed: str) -> None:
    await chat.command("start")
    await chat.say(typed)
    assert chat.asked("consent.ask", policy_url=_policy())
    await chat.say("sí")
    await chat.say(PROBLEM)
    await chat.say("La Flora")
    await chat.say("movilidad")
    await chat.say(IDEA)
    await chat.say("sin fotos")
    assert chat.asked("focus.ask")  # an official is asked the focus: the role was taken


@pytest.mark.parametrize(
    ("typed", "category"),
    [("movilidad", "mobility"), ("TRANSPORT", "mobility"), ("salud", "health"),
     ("parques", "public_space"), ("espacio publico", "public_space"), ("mobility", "mobility"),
     ("educacion", "education"), ("Otro", "other")],
)  # fmt: skip
async def test_a_category_by_a_word_of_its_label_or_its_id(
    chat: Chat, typed: str, category: str
) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.say("La Flora")
    await chat.say(typed)
    assert chat.asked("idea.ask")
    await chat.press("idea.none")
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    label = {"mobility": "Movilidad y vías", "health": "Salud y bienestar",
             "public_space": "Espacio público y parques", "education": "Educación y cultura",
             "other": "Otro tema"}[category]  # fmt: skip
    english = {"mobility": "Transport and roads", "health": "Health and well-being",
               "public_space": "Public space and parks", "education": "Education and culture",
               "other": "Something else"}[category]  # fmt: skip
    assert (label if chat.language == "es" else english) in chat.text


@pytest.mark.parametrize("typed", ("y", "de", "and", "servicios y", "movilidad salud", "xyz"))
async def test_words_that_name_no_single_category_are_asked_again(chat: Chat, typed: str) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.say("La Flora")
    await chat.say(typed)
    assert chat.t("input.choose") in chat.text
    assert chat.asked("category.ask")


async def test_focus_identity_publish_and_summary_typed(chat: Chat, database: Database) -> None:
    await to_photos(chat, "role.official")
    await chat.say("sin fotos")
    assert chat.asked("focus.ask")
    await chat.say("internal")
    assert chat.asked("identity.ask")
    await chat.say("anonima")
    assert chat.asked("publish.ask", lab="Usme Innova")
    await chat.say("sí")  # without photos, one button says yes: "yes, without photos"
    assert chat.replies[-1].choices[0].id == "summary:send"
    await chat.say("ENVIAR" if chat.language == "es" else "send")
    assert chat.t("consent.updates_ask") in chat.text
    idea = await database.reader().idea_search.by_reference("MNG-2026-000001")
    assert idea is not None and (idea.focus, idea.anonymous, idea.publish) == (
        "internal",
        True,
        "text",
    )


@pytest.mark.parametrize("typed", ("anónimo", "Anónima", "anonimos", "anonymously"))
async def test_a_word_in_another_gender_or_number_names_its_button(chat: Chat, typed: str) -> None:
    """People write "anónimo" for the "Anónima" button, "funcionaria" for "Funcionario"."""
    await chat.command("start")
    await chat.say("funcionaria")
    assert chat.asked("consent.ask", policy_url=_policy())
    await chat.say("sí")
    await chat.say(PROBLEM)
    await chat.say("La Flora")
    await chat.say("movilidad")
    await chat.say(IDEA)
    await chat.say("sin foto")
    assert chat.asked("focus.ask")  # the official's question: the role was taken
    await chat.press("focus.external")
    await chat.say(typed)
    assert chat.asked("publish.ask", lab="Usme Innova")


async def test_the_news_and_announcements_questions_take_a_typed_yes_or_no(
    chat: Chat, database: Database, clock
) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    await chat.say("sí")
    assert chat.t("subscribe.offer", lab="Usme Innova") in chat.text
    await chat.say("no")
    assert chat.asked("greeting.menu")
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("test", "resident-1", clock.now())
    assert resident.updates_at is not None and resident.announcements_at is None


async def test_a_typed_yes_to_an_event_card_and_its_consent(chat: Chat, database, clock) -> None:
    event = await add_event(database, clock.now())
    await chat.command("eventos" if chat.language == "es" else "events")
    assert [c.id for c in chat.choices] == [f"ev:{event.id}:show"]
    await chat.say("1")  # the list's only event, by its number: its card
    assert any(c.id == f"ev:{event.id}:yes" for c in chat.choices)
    await chat.say("yes")  # the RSVP needs consent first
    assert chat.asked("events.consent_ask", policy_url=_policy())
    await chat.say("claro")
    async with database.transaction() as repos:
        rsvps = await repos.privacy.rsvps_of(1)
    assert [r["status"] for r in rsvps] == [RsvpStatus.GOING]


async def test_confirmations_take_a_typed_yes_or_no(chat: Chat) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.command("cancel")
    await chat.say("no")
    assert chat.asked("location.ask")
    await chat.command("cancel")
    await chat.say("sí")
    assert chat.t("cancel.done") in chat.text


@pytest.mark.parametrize(
    "typed", ("no", "No sé", "ninguna", "no idea", "Not yet", "I don't have one", "nada")
)
async def test_at_the_idea_question_a_typed_no_is_the_none_button(chat: Chat, typed: str) -> None:
    """ "¿Qué idea tiene?" "No": they have none yet (the button), not a too-short idea."""
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.say("La Flora")
    await chat.say("movilidad")
    await chat.say(typed)
    assert chat.asked("photos.ask", max=3)
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    assert chat.t("summary.no_idea") in chat.text


@pytest.mark.parametrize("typed", ("si", "no tengo agua en la casa"))
async def test_at_the_idea_question_other_words_are_the_idea_text(chat: Chat, typed: str) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.say("La Flora")
    await chat.say("movilidad")
    await chat.say(typed)
    if len(typed) < 10:  # too short to be an idea: asked again, never a button
        assert chat.t("input.too_short", count=len(typed), min=10) in chat.text
        assert chat.t("idea.ask") in chat.text
    else:
        assert chat.asked("photos.ask", max=3)
        await chat.press("photos.skip")
        await chat.press("identity.anonymous")
        await chat.press("publish.no")
        assert typed in chat.text


async def test_the_whole_label_of_the_none_button_is_still_the_button(chat: Chat) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.say("La Flora")
    await chat.say("movilidad")
    await chat.say(chat.t("idea.none").upper())
    assert chat.asked("photos.ask", max=3)


async def test_a_typed_no_is_a_name_and_skips_the_contact(chat: Chat) -> None:
    await to_identity(chat)
    await chat.say("con mi nombre" if chat.language == "es" else "with my name")
    assert chat.asked("name.ask")
    await chat.say("1")  # a name is never a button's number: too short, asked again
    assert chat.t("name.ask") in chat.text
    await chat.say("No")  # the name typed is the answer itself
    assert chat.asked("contact.ask")
    await chat.say("no")  # "¿Nos deja un contacto?" "No": the "skip" button
    assert chat.asked("publish.ask", lab="Usme Innova")
    await chat.press("nav.back")
    await chat.say(chat.t("contact.skip").lower())  # its whole label, too
    assert chat.asked("publish.ask", lab="Usme Innova")

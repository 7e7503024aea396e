"""Side trips across flows (a confirmation, the language, the staff's forms): each pauses
what the person was doing, and one inside another comes back to the first place kept."""

from tests.fakes.chat import Chat
from tests.handlers.walk import to_problem, to_summary


async def test_the_language_asked_inside_a_confirmation_comes_back_to_the_question(
    chat: Chat,
) -> None:
    await to_problem(chat)
    await chat.command("cancelar")
    assert chat.asked("cancel.ask")
    await chat.command("idioma")
    other = "en" if chat.language == "es" else "es"
    await chat.send(choice=f"language:{other}")
    chat.language = other
    assert chat.asked("problem.ask")  # the idea's question, not the confirmation


async def test_no_to_discarding_from_the_summary_shows_the_summary_again(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.cancel")
    assert chat.asked("cancel.ask")
    await chat.press("cancel.no")
    assert chat.t("summary.intro") in chat.text


async def test_a_staff_form_started_from_another_returns_to_the_idea_in_progress(
    staff: Chat,
) -> None:
    await to_problem(staff)
    await staff.command("nuevo_evento")
    assert staff.asked("staff.event_title")
    await staff.command("difundir")
    await staff.send(choice="bc_text:quit")
    assert staff.t("staff.cancelled") in staff.text
    assert staff.asked("problem.ask")  # not the event's form, which was left for the broadcast

"""The intake conversation, step by step and branch by branch, in Spanish and English."""

from handlers.engine.settings import FlowSettings
from handlers.engine.state import Step
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.chat import Chat
from tests.handlers.walk import (
    IDEA,
    MOBILITY,
    PROBLEM,
    answer_receipt,
    to_identity,
    to_photos,
    to_problem,
    to_summary,
)


async def _conversation_step(database: Database, user: str = "resident-1") -> str:
    _, _, record = await database.reader().conversations.load_turn("test", user, "-")
    assert record is not None
    return record.step


async def _ideas(database: Database) -> list[dict]:
    async with database.transaction() as repos:
        cursor = await repos.ideas._db.execute("SELECT * FROM ideas ORDER BY id")
        return [dict(row) for row in await cursor.fetchall()]


async def test_first_message_greets_with_the_lab_name_and_asks_who_they_are(chat: Chat) -> None:
    await chat.say("hola")
    assert chat.t("greeting.hello", lab="Usme Innova") in chat.text
    assert chat.t("greeting.about") in chat.text
    assert chat.asked("role.ask")
    assert [c.id for c in chat.choices] == ["role:resident", "role:official", "role:contractor"]


async def test_a_platform_language_we_do_not_speak_is_asked_for(make_chat) -> None:
    chat = make_chat(language="pt")
    await chat.say("olá")
    assert chat.replies[-1].text == chat.catalog.text("es", "language.ask")
    chat.language = "en"
    await chat.press("language.en")
    assert chat.t("language.set") in chat.text
    assert chat.t("greeting.hello", lab="Usme Innova") in chat.text
    assert chat.asked("role.ask")


async def test_consent_shows_the_policy_link_and_records_version_and_time(
    chat: Chat, database: Database, clock
) -> None:
    await chat.command("start")
    await chat.press("role.official")
    assert "https://www.gobiernobogota.gov.co/politica-de-privacidad" in chat.text
    await chat.press("consent.accept")
    assert chat.asked("problem.ask")
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("test", "resident-1", clock.now())
    assert resident.consent_version == "2026-08"
    assert resident.consent_at == clock.now()
    assert resident.role is None  # kept only once an idea is sent


async def test_declining_consent_keeps_nothing_but_the_refusal(
    chat: Chat, database: Database, clock
) -> None:
    await chat.command("start")
    await chat.press("role.contractor")
    await chat.press("consent.decline")
    assert chat.text == chat.t("consent.declined")
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("test", "resident-1", clock.now())
        record = await repos.conversations.get(resident.id)
    assert resident.consent_refused_at == clock.now()
    assert (resident.role, resident.consent_version, resident.consent_at) == (None, None, None)
    assert record is not None and record.step == "idle" and record.draft == "{}"
    assert await _ideas(database) == []


async def test_a_typed_location_a_shared_one_and_a_suggestion_are_all_taken(chat: Chat) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    assert chat.asked("location.ask")
    assert chat.replies[-1].location_button == chat.t("location.share")
    await chat.location(4.5012, -74.112)
    assert chat.asked("category.ask")
    await chat.press("nav.back")
    await chat.say("Barrio Santa Librada, frente al colegio")
    assert chat.asked("category.ask")
    await chat.press("nav.back")
    await chat.press_label("Danubio")
    assert chat.asked("category.ask")


async def test_category_by_button_by_typed_name_and_by_number(chat: Chat) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.press_label("Comuneros")
    await chat.say(MOBILITY[chat.language].upper())
    assert chat.asked("idea.ask")
    await chat.press("nav.back")
    await chat.say("2")
    assert chat.asked("idea.ask")


async def test_no_idea_yet_is_a_valid_answer(chat: Chat, database: Database) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.press_label("Comuneros")
    await chat.press_label(MOBILITY[chat.language])
    await chat.press("idea.none")
    assert chat.asked("photos.ask", max=3)
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    assert chat.t("summary.no_idea") in chat.text
    await chat.press("summary.send")
    [idea] = await _ideas(database)
    assert idea["idea"] is None


async def test_up_to_three_photos_then_the_next_question(chat: Chat, database: Database) -> None:
    await to_photos(chat)
    await chat.photo("a.jpg")
    assert chat.text == chat.t("photos.received", count=1, max=3)
    await chat.photo("b.jpg")
    await chat.photo("c.jpg")
    assert chat.t("photos.full", max=3, count=3) in chat.text
    assert chat.asked("identity.ask")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    assert chat.t("summary.photos", count=3) in chat.text
    await chat.press("summary.send")
    [idea] = await _ideas(database)
    async with database.transaction() as repos:
        assert await repos.ideas.media_paths(idea["id"]) == [
            "test/a.jpg",
            "test/b.jpg",
            "test/c.jpg",
        ]


async def test_one_photo_then_continue(chat: Chat) -> None:
    await to_photos(chat)
    await chat.photo()
    await chat.press("photos.continue")
    assert chat.asked("identity.ask")


async def test_focus_is_asked_of_officials_and_contractors_only(
    make_chat, database: Database
) -> None:
    official = make_chat(user="official")
    await to_photos(official, role="role.official")
    await official.press("photos.skip")
    assert official.asked("focus.ask")
    await official.press("focus.internal")
    await official.press("identity.anonymous")
    await official.press("publish.no")
    await official.press("summary.send")

    resident = make_chat(user="resident")
    await to_photos(resident)
    await resident.press("photos.skip")
    assert resident.asked("identity.ask")
    await resident.press("identity.anonymous")
    await resident.press("publish.no")
    await resident.press("summary.send")
    ideas = await _ideas(database)
    assert [(i["role"], i["focus"]) for i in ideas] == [
        ("official", "internal"),
        ("resident", "external"),
    ]


async def test_a_name_and_a_contact_for_follow_up(chat: Chat, database: Database) -> None:
    await to_identity(chat)
    await chat.press("identity.named")
    assert chat.asked("name.ask")
    await chat.say("María Pérez")
    assert chat.asked("contact.ask")
    await chat.say("en la tienda")  # ("no tengo" skips: a word for the button)
    assert chat.t("contact.invalid") in chat.text
    await chat.say("+57 300 123 4567")
    assert chat.asked("publish.ask", lab="Usme Innova")
    await chat.press("publish.text")
    assert chat.t("summary.publish_text") in chat.text
    assert chat.t("summary.named", name="María Pérez") in chat.text
    assert chat.t("summary.contact", value="+57 300 123 4567") in chat.text
    await chat.press("summary.send")
    [idea] = await _ideas(database)
    assert (idea["anonymous"], idea["contact_name"], idea["contact"]) == (
        0,
        "María Pérez",
        "+57 300 123 4567",
    )


async def test_contact_can_be_skipped(chat: Chat) -> None:
    await to_identity(chat)
    await chat.press("identity.named")
    await chat.say("Ana")
    await chat.press("contact.skip")
    await chat.press("publish.no")
    assert chat.t("summary.named", name="Ana") in chat.text
    assert chat.t("summary.contact", value="") not in chat.text


async def test_summary_shows_every_answer_and_send_gives_a_reference(
    chat: Chat, database: Database
) -> None:
    await to_summary(chat)
    summary = chat.text
    for expected in (
        PROBLEM,
        "La Flora",
        MOBILITY[chat.language],
        IDEA,
        chat.t("summary.anonymous"),
    ):
        assert expected in summary
    await chat.press("summary.send")
    assert chat.t("receipt.thanks", reference="MNG-2026-000001") in chat.text
    assert chat.t("receipt.next", lab="Usme Innova") in chat.text
    [idea] = await _ideas(database)
    assert idea["reference"] == "MNG-2026-000001"
    assert (idea["problem"], idea["idea"], idea["location_text"]) == (PROBLEM, IDEA, "La Flora")
    assert (idea["category"], idea["status"], idea["language"]) == (
        "mobility",
        "received",
        chat.language,
    )
    assert await _conversation_step(database) == Step.IDLE


async def test_references_count_up_within_a_year_and_restart_each_year(make_chat, clock) -> None:
    references = []
    for number, user in enumerate(("a", "b", "c")):
        if number == 2:
            clock.advance(days=365)
        chat = make_chat(user=user)
        await to_summary(chat)
        await chat.press("summary.send")
        references.append(
            next(r.text for r in chat.replies if "MNG-" in r.text).split("MNG-")[1][:11]
        )
    assert references == ["2026-000001", "2026-000002", "2027-000001"]


async def test_change_an_answer_from_the_summary_and_come_back_to_it(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.change")
    assert chat.asked("edit.ask")
    await chat.press("edit.problem")
    assert chat.asked("problem.ask")
    await chat.say("Las basuras se acumulan en la esquina del parque")
    assert "Las basuras se acumulan en la esquina del parque" in chat.text
    assert chat.replies[-1].choices[0].id == "summary:send"


async def test_changing_identity_asks_for_the_name(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.change")
    await chat.press("edit.identity")
    await chat.press("identity.named")
    assert chat.asked("name.ask")
    await chat.say("Jorge")
    await chat.press("contact.skip")
    assert chat.t("summary.named", name="Jorge") in chat.text


async def test_becoming_an_official_from_the_summary_asks_the_focus(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.change")
    await chat.press("edit.role")
    await chat.press("role.official")
    assert chat.asked("focus.ask")
    await chat.press("focus.internal")
    assert chat.t("summary.focus", value=chat.t("focus.internal")) in chat.text


async def test_back_while_changing_returns_to_the_summary_unchanged(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.change")
    await chat.press("edit.photos")
    await chat.press("nav.back")
    assert chat.replies[-1].choices[0].id == "summary:send"
    await chat.press("summary.change")
    await chat.press("edit.done")
    assert chat.replies[-1].choices[0].id == "summary:send"


async def test_back_goes_one_question_back_and_keeps_the_answers(chat: Chat) -> None:
    await to_problem(chat)
    await chat.press("nav.back")
    assert chat.asked(
        "consent.ask", policy_url="https://www.gobiernobogota.gov.co/politica-de-privacidad"
    )
    await chat.press("nav.back")
    assert chat.asked("role.ask")
    assert "role:back" not in [c.id for c in chat.choices]  # the first question has no back
    await chat.press("role.resident")
    assert chat.asked("problem.ask")  # consent was given already: not asked twice
    await chat.say(PROBLEM)
    await chat.press("nav.back")
    assert chat.asked("problem.ask")
    await chat.say(PROBLEM + " y de noche no hay luz")
    assert chat.asked("location.ask")


async def test_a_returning_resident_starts_at_the_problem(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    await answer_receipt(chat)
    await chat.press("menu.new")
    assert chat.asked("problem.ask")
    assert not chat.choices  # no way back before the first question


def _after_policy_change(chat: Chat, database: Database, catalog, clock, flow_settings) -> Chat:
    """The same resident, talking to a Minga whose privacy policy has a new version."""
    lab = flow_settings.lab.model_copy(update={"privacy_policy_version": "2027-01"})
    newer = Dispatcher(database, FlowSettings(lab=lab), catalog, clock)
    return Chat(newer, catalog, clock, language=chat.language)


async def test_a_new_policy_version_asks_for_consent_again(
    chat: Chat, database: Database, catalog, clock, flow_settings
) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    again = _after_policy_change(chat, database, catalog, clock, flow_settings)
    await again.send(choice="menu:new")
    assert again.asked("consent.ask", policy_url=flow_settings.lab.privacy_policy_url)
    await again.press("consent.accept")
    assert again.asked("problem.ask")


async def test_a_policy_change_while_writing_asks_for_consent_before_sending(
    chat: Chat, database: Database, catalog, clock, flow_settings
) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    await chat.send(choice="menu:new")
    await chat.say(PROBLEM)  # a returning resident, writing a second idea
    again = _after_policy_change(chat, database, catalog, clock, flow_settings)
    await again.send(choice="location:n0")
    assert again.asked("consent.ask", policy_url=flow_settings.lab.privacy_policy_url)
    await again.press("consent.accept")
    assert again.asked("category.ask")

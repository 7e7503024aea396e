"""A resident's rights in the chat: know (/mis_datos), correct (/corregir), erase (/borrar),
and each consent withdrawn alone (/privacidad); a new policy version asks again."""

import json
from collections.abc import Callable

import pytest

from handlers.engine.settings import FlowSettings, LabSettings
from handlers.flows import Dispatcher
from handlers.staff.triage import change_status
from storage.database import Database
from storage.models import IdeaStatus
from tests.fakes.chat import Chat
from tests.handlers.events.helpers import add_event, outbox_rows
from tests.handlers.staff.helpers import idea
from tests.handlers.walk import answer_receipt

EMAIL = "rosa.perez@example.org"


async def _named_idea_with_photo(chat: Chat) -> str:
    """Rosa's idea: a pin, a photo, her name and e-mail (also typed into the idea's text)."""
    await chat.command("start")
    await chat.press("role.resident")
    await chat.press("consent.accept")
    await chat.say(f"La calle 80 tiene huecos. Escríbanme a {EMAIL} o al 300 123 4567")
    await chat.location(4.49, -74.11)
    await chat.send(choice="category:mobility")
    await chat.say("Tapar los huecos con la comunidad")
    await to_photos_done(chat)
    await chat.press("identity.named")
    await chat.say("Rosa Pérez")
    await chat.say(EMAIL)
    await chat.press("publish.photos")
    await chat.press("summary.send")
    text = chat.text
    reference = text[text.index("MNG-") : text.index("MNG-") + 15]
    await answer_receipt(chat, updates=True, announcements=True)
    return reference


async def to_photos_done(chat: Chat) -> None:
    assert chat.asked("photos.ask", max=3)
    await chat.photo("calle.jpg")
    await chat.press("photos.continue")


async def test_my_data_is_a_readable_message_and_a_json_file(
    chat: Chat, database: Database, clock
) -> None:
    reference = await _named_idea_with_photo(chat)
    event = await add_event(database, clock.now())
    await chat.send(choice=f"ev:{event.id}:yes")
    await chat.command("mis_datos" if chat.language == "es" else "my_data")
    message, attached = chat.replies[0].text, chat.replies[1]
    assert reference in message and "Rosa Pérez" in message and EMAIL in message
    assert chat.t("my_data.events", count=1) in message
    assert chat.t("my_data.places_files", points=1, files=1) in message
    assert attached.document is not None and attached.document.filename.endswith(".json")
    data = json.loads(attached.document.content)
    assert data["ideas"][0]["reference"] == reference and data["ideas"][0]["contact"] == EMAIL
    assert data["events"][0]["status"] == "going"
    purposes = [(c["purpose"], c["granted"], c["policy_version"]) for c in data["consents"]]
    assert purposes == [("handling", True, "2026-08"), ("updates", True, "2026-08"),
                        ("announcements", True, "2026-08")]  # fmt: skip


async def test_correct_the_contact_on_their_ideas(chat: Chat, database: Database) -> None:
    reference = await _named_idea_with_photo(chat)
    await chat.command("corregir" if chat.language == "es" else "correct")
    assert EMAIL in chat.text
    await chat.press("fix.contact")
    await chat.say("no es un contacto")
    assert chat.t("contact.invalid") in chat.text
    await chat.say("+57 300 765 4321")
    assert chat.t("fix.done", count=1) in chat.text
    assert (await idea(database, reference)).contact == "+57 300 765 4321"
    await chat.command("correct")
    await chat.press("fix.name")
    await chat.say("Rosa M. Pérez")
    assert (await idea(database, reference)).contact_name == "Rosa M. Pérez"


async def test_nothing_to_correct_on_anonymous_ideas(chat: Chat) -> None:
    await chat.command("start")
    await chat.command("correct")
    assert chat.t("fix.none") in chat.text
    assert chat.asked("role.ask")  # their place in the intake is kept


@pytest.fixture
def released() -> list[str]:
    """The media files the dispatcher let go of, in order."""
    return []


@pytest.fixture
def release_media(released: list[str]) -> Callable[[list[str]], None]:
    return released.extend


async def test_erase_keeps_the_ideas_anonymised_and_forgets_the_person(
    chat: Chat, database: Database, clock, released: list[str]
) -> None:
    chat.username = "rosa_p"  # kept from her messages (so that staff can be added by it)
    reference = await _named_idea_with_photo(chat)
    event = await add_event(database, clock.now())
    await chat.send(choice=f"ev:{event.id}:yes")
    async with database.transaction() as repos:  # a status notice waiting to go
        await change_status(repos, await idea(database, reference), IdeaStatus.IN_REVIEW,
                            actor="test", now=clock.now())  # fmt: skip
    before = await database.reader().residents.find("test", chat.user)

    await chat.command("borrar" if chat.language == "es" else "delete_me")
    assert chat.asked("erase.ask_ideas", count=1)
    await chat.press("erase.keep_ideas")
    assert chat.t("erase.done") in chat.text

    kept = await idea(database, reference)
    assert (kept.contact_name, kept.contact, kept.anonymous) == (None, None, True)
    assert (kept.latitude, kept.longitude, kept.media) == (None, None, ())
    assert EMAIL not in kept.problem and "300 123 4567" not in kept.problem
    assert "huecos" in kept.problem
    assert released == ["test/calle.jpg"]
    erased = await database.reader().residents.get(before.id)
    assert erased.user_key == f"erased:{before.id}" and erased.erased_at is not None
    assert erased.language is None and erased.updates_at is None and erased.username is None
    assert await database.reader().residents.find("test", chat.user) is None
    rows = await outbox_rows(database)
    assert all(r["status"] != "pending" and r["payload"] == "{}"
               for r in rows if r["recipient_id"] == before.id)  # fmt: skip
    assert (await database.reader().rsvps.status(event.id, before.id)) is None
    log = await database.reader().residents.consent_log(before.id)
    assert {(e.purpose, e.granted) for e in log[-3:]} == {
        ("handling", False), ("updates", False), ("announcements", False)}  # fmt: skip

    await chat.say("hola")  # the same person writing again is someone new
    assert chat.asked("role.ask") or chat.asked("language.ask")


async def test_erase_can_withdraw_the_ideas_too(chat: Chat, database: Database) -> None:
    reference = await _named_idea_with_photo(chat)
    await chat.command("delete_me")
    await chat.press("erase.with_ideas")
    assert chat.t("erase.done_withdrawn") in chat.text
    assert await database.reader().idea_search.by_reference(reference) is None


async def test_erase_can_be_cancelled(chat: Chat, database: Database) -> None:
    reference = await _named_idea_with_photo(chat)
    await chat.command("delete_me")
    await chat.press("erase.cancel")
    assert chat.t("erase.cancelled") in chat.text
    assert (await idea(database, reference)).contact == EMAIL


async def test_each_consent_is_withdrawn_alone(chat: Chat, database: Database) -> None:
    await _named_idea_with_photo(chat)
    await chat.command("privacidad" if chat.language == "es" else "privacy")
    assert chat.t("consents.handling_note") in chat.text
    await chat.press("consents.updates_off")
    resident = await database.reader().residents.find("test", chat.user)
    assert resident.updates_at is None and resident.announcements_at is not None
    assert resident.consent_at is not None


async def test_a_new_policy_version_asks_again_before_the_next_use(
    make_chat, database: Database, catalog, clock
) -> None:
    chat = make_chat(language="es", user="rosa")
    reference = await _named_idea_with_photo(chat)
    record = await idea(database, reference)
    assert [author for _, author in await database.reader().ideas.audience(record.id)] == [True]

    settings = FlowSettings(lab=LabSettings(privacy_policy_version="2027-01"))
    async with database.transaction() as repos:  # as `minga run` does at start-up
        await repos.residents.set_policy_version("2027-01")
    assert await database.reader().ideas.audience(record.id) == []  # no news meanwhile
    again = Chat(Dispatcher(database, settings, catalog, clock), catalog, clock, user="rosa")
    await again.say("hola")
    assert again.replies[-1].text.startswith("Actualizamos nuestra política de datos")
    await again.press("consent.updates_yes")
    await again.press("subscribe.yes")
    assert again.asked("greeting.menu")
    assert len(await database.reader().ideas.audience(record.id)) == 1
    log = await database.reader().residents.consent_log(record.resident_id)
    assert ("updates", True, "2027-01") in [(e.purpose, e.granted, e.policy_version) for e in log]


async def test_the_name_comes_before_the_contact_everywhere(chat: Chat) -> None:
    """The intake asks the name first; /corregir and /mis_datos show it first, labelled (a
    phone number used to sort before the name)."""
    phone, name = "3001234567", "Rosa Pérez"
    await chat.command("start")
    await chat.press("role.resident")
    await chat.press("consent.accept")
    await chat.say("La calle 80 tiene huecos muy grandes")
    await chat.say("La Flora")
    await chat.send(choice="category:mobility")
    await chat.say("Tapar los huecos con la comunidad")
    await chat.press("photos.skip")
    await chat.press("identity.named")
    assert chat.asked("name.ask")
    await chat.say(name)
    assert chat.asked("contact.ask")
    await chat.say(phone)
    await chat.press("publish.text")
    summary = chat.text
    assert summary.index(name) < summary.index(phone)
    await chat.press("summary.send")
    await answer_receipt(chat, updates=True, announcements=True)
    names = chat.t("my_data.name_values", values=name, count=1)
    contacts = chat.t("my_data.contact_values", values=phone, count=1)
    await chat.command("corregir" if chat.language == "es" else "correct")
    assert chat.text.index(names) < chat.text.index(contacts)
    [name_button, contact_button, _] = [c.label for c in chat.replies[-1].choices]
    assert (name_button, contact_button) == (chat.t("fix.name"), chat.t("fix.contact"))
    await chat.press("fix.cancel")
    await chat.command("mis_datos" if chat.language == "es" else "my_data")
    message = chat.replies[0].text
    assert message.index(names) < message.index(contacts)


async def test_news_say_again_only_to_who_had_them(chat: Chat) -> None:
    """A first yes to news (after a no at the receipt) is not told "again"; a yes after
    stopping them is."""
    await chat.command("start")
    await chat.press("role.resident")
    await chat.press("consent.accept")
    await chat.say("La calle 80 tiene huecos muy grandes")
    await chat.say("La Flora")
    await chat.send(choice="category:mobility")
    await chat.say("Tapar los huecos con la comunidad")
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.text")
    await chat.press("summary.send")
    await answer_receipt(chat, updates=False)
    privacy = "privacidad" if chat.language == "es" else "privacy"
    await chat.command(privacy)
    await chat.press("consents.updates_on")
    assert chat.t("notice.updates_first") in chat.text
    assert chat.t("notice.updates_on") not in chat.text
    await chat.command(privacy)
    await chat.press("consents.updates_off")
    await chat.command(privacy)
    await chat.press("consents.updates_on")
    assert chat.t("notice.updates_on") in chat.text


def _body(value: object) -> str:
    return json.dumps(value)


async def test_erase_forgets_their_bodies_and_replies_kept_for_a_crash(
    make_chat, database: Database, clock
) -> None:
    """Webhook bodies not handled yet and replies not sent yet (kept so that a crash loses
    nothing) hold texts and phone numbers: /borrar deletes those that name the person."""
    chat, other = make_chat(user="4242"), make_chat(user="777")
    await chat.say("hola")
    await other.say("hola")
    # A WhatsApp body batching their message with another person's: it names them.
    batched = {"contacts": [{"wa_id": "4242"}, {"wa_id": "777"}],
               "messages": [{"from": "4242", "text": {"body": "Vivo en la calle 80"}},
                            {"from": "777", "text": {"body": "hola"}}]}  # fmt: skip
    update = {"update_id": 9, "message": {"from": {"id": 4242}, "chat": {"id": 4242}}}
    others = {"update_id": 4242000, "message": {"from": {"id": 777}, "text": "4242 1"}}
    now = clock.now()
    async with database.transaction() as repos:
        await repos.inbound_queue.put(
            "test", "batched", _body({"entry": [{"changes": [{"value": batched}]}]}), now
        )
        # A Telegram update: their id is a number there.
        await repos.inbound_queue.put("test", "update", _body(update), now)
        await repos.inbound_queue.put("test", "others", _body(others), now)
        await repos.inbound_queue.put("test", "broken", "{not json 4242", now)
        await repos.inbound_queue.put("elsewhere", "same-id", _body({"from": "4242"}), now)
        await repos.pending_replies.add("test", "4242", "4242", "[]", now)
        await repos.pending_replies.add("test", "777", "777", "[]", now)

    await chat.command("borrar")
    await chat.press("erase.yes")
    assert chat.t("erase.done_plain") in chat.text

    reader = database.reader()
    assert {body.key for body in await reader.inbound_queue.waiting("test")} == {
        "others", "broken"}  # fmt: skip
    assert [body.key for body in await reader.inbound_queue.waiting("elsewhere")] == ["same-id"]
    assert [row.user_key for row in await reader.pending_replies.unsent()] == ["777"]

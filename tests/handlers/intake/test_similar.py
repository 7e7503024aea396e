"""The intake's offer of earlier ideas that are probably the same problem (issue 21): shown
after the problem, place and topic, before the idea; join one (once, with a detail or a photo)
or go on with "mine is different"."""

import json
from collections.abc import Callable

import pytest

from handlers.engine.buttons import ButtonId
from handlers.engine.catalog import Catalog
from handlers.engine.messages import Media
from handlers.engine.settings import FlowSettings
from handlers.engine.state import Step
from handlers.flows import Dispatcher
from handlers.similar.vectors import unpack
from storage.database import Database
from storage.models import IdeaStatus, Publish
from storage.similar import Place
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.fakes.similar import KeywordEncoder, file_earlier
from tests.handlers.walk import IDEA, MOBILITY, PROBLEM, answer_receipt, to_problem, to_summary

EARLIER = "Hay un bache enorme frente al colegio de la calle 80, ya van tres caídas de motos"
OTHER_TOPIC = "Se acumula la basura en la esquina del parque"


@pytest.fixture
def encoder() -> KeywordEncoder:
    return KeywordEncoder()


@pytest.fixture
def filed() -> list[tuple[int, str]]:
    return []


@pytest.fixture
def released() -> list[str]:
    return []


@pytest.fixture
def dispatcher(
    database: Database, flow_settings: FlowSettings, catalog: Catalog, clock: FakeClock,
    encoder: KeywordEncoder, filed: list[tuple[int, str]], released: list[str],
) -> Dispatcher:  # fmt: skip
    return Dispatcher(
        database, flow_settings, catalog, clock, encoder=encoder, on_ideas_filed=filed.extend,
        release_media=released.extend,
    )  # fmt: skip


async def _to_offer(chat: Chat, problem: str = PROBLEM) -> None:
    """A new resident's problem, place and topic (the earlier idea's)."""
    await to_problem(chat)
    await chat.say(problem)
    await chat.press_label("La Flora")
    await chat.press_label(MOBILITY[chat.language])


def _join_buttons(chat: Chat) -> list[ButtonId]:
    label = chat.t("similar.join")
    return [
        ButtonId.parse(c.id) for reply in chat.replies for c in reply.choices if c.label == label
    ]


def _offered(chat: Chat) -> list[int]:
    """The ideas the last answer offers to join, by the id their buttons carry."""
    return [int(button.arg(1)) for button in _join_buttons(chat)]


async def _join(chat: Chat, idea_id: int) -> None:
    [button] = [b for b in _join_buttons(chat) if b.arg(1) == str(idea_id)]
    await chat.send(choice=str(button))


async def _step(database: Database, user: str = "resident-1") -> str:
    _, _, record = await database.reader().conversations.load_turn("test", user, "-")
    assert record is not None
    return record.step


async def _supports(database: Database) -> list[dict]:
    async with database.transaction() as repos:
        cursor = await repos.supports._db.execute(
            "SELECT idea_id, resident_id, detail, photo_path, photo_ref FROM idea_supports"
        )
        return [dict(row) for row in await cursor.fetchall()]


async def test_an_earlier_idea_like_it_is_offered_before_the_idea(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    idea_id, reference = await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    assert _offered(chat) == [idea_id]
    assert chat.said("similar.offer") and reference in chat.text
    assert "Hay un bache enorme frente al colegio" in chat.text  # its first words
    assert chat.t("status.received") in chat.text
    assert chat.t("similar.no_supporters") in chat.text
    assert "Rosa" not in chat.text and "rosa@example.org" not in chat.text  # never its author
    assert chat.asked("similar.ask")
    assert {c.id for c in chat.choices} == {"similar:different", "similar:back"}
    assert await _step(database) == Step.SIMILAR


async def test_an_idea_at_the_same_spot_says_so_not_about_0_m(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER, place=None, point=(4.5, -74.1))
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.location(4.50003, -74.10003)  # about 5 m: GPS wanders
    await chat.press_label(MOBILITY[chat.language])
    assert _offered(chat) == [idea_id]
    assert chat.said("similar.same_spot") and not chat.said("similar.meters")


async def test_how_many_support_it_is_shown(
    make_chat: Callable[..., Chat], database: Database, encoder: KeywordEncoder
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER)
    first = make_chat(language="es", user="first")
    await _to_offer(first)
    await _join(first, idea_id)
    await first.press("similar.nothing_to_add")
    second = make_chat(language="en", user="second")
    await _to_offer(second)
    assert second.t("similar.supporters", count=1) in second.text


async def test_mine_is_different_goes_on_and_is_noted_with_its_vector(
    chat: Chat, database: Database, encoder: KeywordEncoder, filed: list[tuple[int, str]]
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    await chat.press("similar.different")
    assert chat.asked("idea.ask")
    await chat.press("idea.none")
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    await chat.press("summary.send")
    assert chat.said("receipt.thanks")
    reader = database.reader()
    async with database.transaction() as repos:
        cursor = await repos.similar._db.execute(
            "SELECT idea_id, other_id, score FROM possible_duplicates"
        )
        [row] = [tuple(r) for r in await cursor.fetchall()]
    new_id = row[0]
    assert (row[1], round(row[2], 3)) == (idea_id, 1.0)
    # The lookup's vector is stored with the idea at once: nothing left to compute.
    assert filed == []
    assert await reader.similar.count_vectors("keywords") == 2
    near = await reader.similar.candidates(
        "keywords", "mobility", Place(None, None, "La Flora"), 400
    )
    [mine] = [c for c in near if c.idea_id == new_id]
    assert unpack(mine.vector) == pytest.approx(encoder.vector(PROBLEM), abs=0.01)


async def test_joining_records_the_support_once_and_names_the_idea(
    chat: Chat, database: Database, encoder: KeywordEncoder, filed: list[tuple[int, str]]
) -> None:
    idea_id, reference = await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    await _join(chat, idea_id)
    assert chat.asked("similar.detail_ask", reference=reference)
    await chat.press("similar.nothing_to_add")
    assert chat.said("similar.joined")
    assert reference in chat.text
    assert chat.t("consent.updates_yes") in [c.label for c in chat.choices]  # as after filing
    assert chat.said("consent.updates_ask_joined")  # news of the idea joined, not "your idea"
    assert await _step(database) == Step.IDLE
    assert await _supports(database) == [
        {"idea_id": idea_id, "resident_id": 2, "detail": None, "photo_path": None,
         "photo_ref": None}
    ]  # fmt: skip
    assert filed == []  # no idea of their own
    await answer_receipt(chat)  # news of it, then announcements: the menu follows
    # Later, the same problem again: they are told kindly, and counted once.
    await chat.press("menu.new")
    await chat.say(PROBLEM)
    await chat.press_label("La Flora")
    await chat.press_label(MOBILITY[chat.language])
    await _join(chat, idea_id)
    assert chat.said("similar.already") and reference in chat.text
    assert chat.t("menu.new") in [c.label for c in chat.choices]
    assert len(await _supports(database)) == 1


async def test_a_detail_is_kept_with_the_support(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    await _join(chat, idea_id)
    await chat.say("Ayer se cayó otra moto, en la noche")
    assert chat.said("similar.joined")
    [support] = await _supports(database)
    assert support["detail"] == "Ayer se cayó otra moto, en la noche"


async def test_a_photo_is_kept_with_the_support(
    chat: Chat, database: Database, encoder: KeywordEncoder, released: list[str]
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    await _join(chat, idea_id)
    await chat.send(media=Media("photo", "test/bache.jpg", "ref-1"))
    assert chat.said("similar.joined")
    [support] = await _supports(database)
    assert (support["photo_path"], support["photo_ref"]) == ("test/bache.jpg", "ref-1")
    assert "test/bache.jpg" not in released  # kept: the support refers to it


async def test_back_goes_to_the_topic_and_from_the_detail_to_the_offer(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    await _join(chat, idea_id)
    await chat.press("nav.back")
    assert _offered(chat) == [idea_id] and chat.asked("similar.ask")
    await chat.press("nav.back")
    assert chat.asked("category.ask")
    assert await _supports(database) == []


async def test_a_change_of_topic_looks_again(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER)
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.press_label("La Flora")
    await chat.send(choice="category:safety")  # another topic: nothing like it there
    assert chat.asked("idea.ask") and _offered(chat) == []
    await chat.press("idea.none")
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    await chat.press("summary.change")
    await chat.press("edit.category")
    await chat.press_label(MOBILITY[chat.language])
    assert _offered(chat) == [idea_id]  # the offer comes before the summary again
    await chat.press("similar.different")
    assert chat.replies[-1].choices[0].id == "summary:send"
    # Back to the first topic: no offer, and no "different" noted at filing.
    await chat.press("summary.change")
    await chat.press("edit.category")
    await chat.send(choice="category:safety")
    assert chat.replies[-1].choices[0].id == "summary:send"
    await chat.press("summary.send")
    async with database.transaction() as repos:
        cursor = await repos.similar._db.execute("SELECT count(*) FROM possible_duplicates")
        assert (await cursor.fetchone())[0] == 0


async def test_a_problem_told_in_a_voice_note_is_not_looked_up(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    await file_earlier(database, encoder, EARLIER)
    before = list(encoder.seen)
    await to_problem(chat)
    await chat.send(media=Media("voice", "test/problema.ogg"))
    await chat.press_label("La Flora")
    await chat.press_label(MOBILITY[chat.language])
    assert chat.asked("idea.ask") and _offered(chat) == []
    assert encoder.seen == before


async def test_an_unpublished_idea_is_described_without_its_words(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    idea_id, reference = await file_earlier(database, encoder, EARLIER, publish=Publish.NO)
    await _to_offer(chat)
    assert _offered(chat) == [idea_id]
    assert reference in chat.text and "La Flora" in chat.text
    assert chat.t("similar.unpublished", category=MOBILITY[chat.language]) in chat.text
    assert "bache" not in chat.text and "colegio" not in chat.text


async def test_their_own_ideas_are_not_offered(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    await file_earlier(database, encoder, EARLIER, user=chat.user)
    await _to_offer(chat)
    assert chat.asked("idea.ask") and _offered(chat) == []


@pytest.mark.parametrize("status", [IdeaStatus.NOT_SELECTED, IdeaStatus.DUPLICATE])
async def test_hidden_ideas_are_not_offered(
    make_chat: Callable[..., Chat], database: Database, encoder: KeywordEncoder,
    status: IdeaStatus,
) -> None:  # fmt: skip
    await file_earlier(database, encoder, EARLIER, status=status)
    chat = make_chat(language="es")
    await _to_offer(chat)
    assert chat.asked("idea.ask") and _offered(chat) == []


async def test_other_problems_nearby_are_not_offered(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    await file_earlier(database, encoder, OTHER_TOPIC)
    await file_earlier(database, encoder, EARLIER, place="Danubio")  # same words, elsewhere
    await _to_offer(chat)
    assert chat.asked("idea.ask") and _offered(chat) == []


async def test_an_idea_closed_meanwhile_is_not_joined(
    chat: Chat, database: Database, encoder: KeywordEncoder, clock: FakeClock
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    async with database.transaction() as repos:
        await repos.ideas.set_status(
            idea_id, IdeaStatus.NOT_SELECTED, actor="cli", reason=None, now=clock.now()
        )
    await _join(chat, idea_id)
    assert chat.said("similar.gone") and chat.asked("idea.ask")
    assert await _supports(database) == []


async def test_a_vector_kept_under_an_older_model_is_computed_again_at_filing(
    chat: Chat, database: Database, encoder: KeywordEncoder, filed: list[tuple[int, str]]
) -> None:
    """A draft from before an upgrade that renamed the model: its kept vector is not stored
    under the old name (never read again); the idea is queued for the current model."""
    await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    await chat.press("similar.different")
    encoder.model = "keywords-v2"  # the upgrade, while the resident was answering
    await chat.press("idea.none")
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    await chat.press("summary.send")
    assert chat.said("receipt.thanks")
    assert [problem for _, problem in filed] == [PROBLEM]
    assert await database.reader().similar.count_vectors("keywords") == 1  # the earlier only


async def test_a_changed_problem_drops_the_kept_vector(
    chat: Chat, database: Database, encoder: KeywordEncoder, filed: list[tuple[int, str]]
) -> None:
    await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    await chat.press("similar.different")
    await chat.press("idea.none")
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    await chat.press("summary.change")
    await chat.press("edit.problem")
    await chat.send(media=Media("voice", "test/otra.ogg"))  # told aloud now: no lookup
    assert chat.replies[-1].choices[0].id == "summary:send"
    await chat.press("summary.send")
    assert [problem for _, problem in filed] == [chat.t("summary.voice_note")]
    assert await database.reader().similar.count_vectors("keywords") == 1  # the earlier's


async def test_a_draft_stored_before_the_offer_existed_goes_on_without_it(
    make_chat: Callable[..., Chat], database: Database, encoder: KeywordEncoder,
    filed: list[tuple[int, str]], clock: FakeClock,
) -> None:  # fmt: skip
    """A conversation at the idea question when Minga was upgraded: its draft has none of the
    new fields; it is not asked the new question and files as before."""
    await file_earlier(database, encoder, EARLIER)
    chat = make_chat(language="es")
    await to_problem(chat)  # the resident exists, consented; now their draft as stored then
    old = {
        "first_step": "problem", "role": "resident", "problem": PROBLEM,
        "location_text": "La Flora", "category": "mobility",
    }  # fmt: skip
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("test", chat.user, clock.now())
        await repos.conversations.save(resident.id, "idea", json.dumps(old), clock.now())
    await chat.say("Tapar los huecos con la comunidad")
    assert chat.asked("photos.ask", max=3)
    await chat.press("photos.skip")
    await chat.press("identity.anonymous")
    await chat.press("publish.no")
    await chat.press("summary.send")
    assert chat.said("receipt.thanks")
    assert [problem for _, problem in filed] == [PROBLEM]  # its vector computed as before


async def test_without_an_encoder_nothing_is_looked_up(
    make_chat: Callable[..., Chat], database: Database, flow_settings: FlowSettings,
    catalog: Catalog, clock: FakeClock, encoder: KeywordEncoder,
) -> None:  # fmt: skip
    await file_earlier(database, encoder, EARLIER)
    chat = Chat(Dispatcher(database, flow_settings, catalog, clock), catalog, clock)
    await _to_offer(chat)
    assert chat.asked("idea.ask") and _offered(chat) == []


async def test_typed_answers_to_the_offer(
    make_chat: Callable[..., Chat], database: Database, encoder: KeywordEncoder
) -> None:
    """A typed number counts every message's buttons in order (as the console numbers them);
    words name a button only when they name one."""
    first, _ = await file_earlier(database, encoder, EARLIER)
    second, _ = await file_earlier(database, encoder, "Un pozo en la vía", user="other")
    chat = make_chat(language="es")
    await _to_offer(chat)
    assert _offered(chat) == [second, first]  # equal scores: the newer first
    await chat.say("es el mismo")  # which one? asked again
    assert _offered(chat) == [second, first] and chat.asked("similar.ask")
    await chat.say("2")
    assert chat.asked("similar.detail_ask", reference="MNG-2026-000001")
    await chat.press("nav.back")
    await chat.say("el mío es distinto")
    assert chat.asked("idea.ask")


async def test_a_pause_at_the_detail_continues_there(
    chat: Chat, database: Database, encoder: KeywordEncoder, clock: FakeClock
) -> None:
    idea_id, reference = await file_earlier(database, encoder, EARLIER)
    await _to_offer(chat)
    await _join(chat, idea_id)
    clock.advance(hours=13)
    await chat.say("hola")
    await chat.press("resume.continue")
    assert chat.asked("similar.detail_ask", reference=reference)
    await chat.say("no")  # nothing to add
    assert chat.said("similar.joined")
    assert len(await _supports(database)) == 1


@pytest.mark.parametrize(
    "forged",
    ["similar:join:999", "similar:join:", "similar:join:x", "similar:join:1:2", "similar:x",
     "similar_detail:none", "similar:"],
)  # fmt: skip
async def test_a_forged_or_stale_button_at_the_offer_joins_nothing(
    make_chat: Callable[..., Chat], database: Database, encoder: KeywordEncoder, forged: str
) -> None:
    idea_id, _ = await file_earlier(database, encoder, EARLIER)
    chat = make_chat(language="es")
    await _to_offer(chat)
    await chat.send(choice=forged)
    assert _offered(chat) == [idea_id] and chat.asked("similar.ask")
    assert await _supports(database) == []
    assert await _step(database) == Step.SIMILAR


@pytest.mark.parametrize("typed", ["barrio La Flora", "en la flora", "LA FLORA", "Barrio la Flóra"])
async def test_a_neighbourhood_typed_with_its_name_is_the_lists_and_is_matched(
    chat: Chat, database: Database, encoder: KeywordEncoder, typed: str
) -> None:
    """On a cheap phone many type the place: "barrio la flora" is the list's La Flora, so it
    meets the ideas of those who tapped its button (and counts with them for the team)."""
    idea_id, _ = await file_earlier(database, encoder, EARLIER)  # picked: "La Flora"
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.say(typed)
    await chat.press_label(MOBILITY[chat.language])
    assert _offered(chat) == [idea_id]
    _, _, record = await database.reader().conversations.load_turn("test", "resident-1", "-")
    assert record is not None and json.loads(record.draft)["location_text"] == "La Flora"


async def test_a_place_typed_with_more_than_a_neighbourhood_is_kept_as_typed(
    chat: Chat, database: Database
) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.say("La Flora, frente a la iglesia")
    _, _, record = await database.reader().conversations.load_turn("test", "resident-1", "-")
    assert record is not None
    assert json.loads(record.draft)["location_text"] == "La Flora, frente a la iglesia"


async def test_joining_after_a_change_keeps_the_idea_already_typed_if_they_wish(
    chat: Chat, database: Database, encoder: KeywordEncoder
) -> None:
    """The offer can come late, from the summary (another place): the idea they had typed is
    offered as what they add, not lost."""
    idea_id, reference = await file_earlier(database, encoder, EARLIER, place="Danubio")
    await to_summary(chat)  # at La Flora: nothing offered
    assert not chat.said("similar.offer")
    await chat.press("summary.change")
    await chat.press("edit.location")
    await chat.press_label("Danubio")
    await _join(chat, idea_id)
    assert chat.said("similar.your_idea") and IDEA in chat.text
    await chat.press("similar.add_idea")
    assert chat.said("similar.joined") and reference in chat.text
    [support] = await _supports(database)
    assert support["detail"] == IDEA

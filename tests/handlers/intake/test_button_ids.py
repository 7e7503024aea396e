"""The location question's neighbourhood buttons name a neighbourhood by its key, so a button
in a resident's chat keeps its meaning when the config's list is reordered; the buttons sent
before keys (a position in the list) still work."""

from collections.abc import Callable

from handlers.engine.catalog import Catalog
from handlers.engine.settings import DEFAULT_NEIGHBOURHOODS, FlowSettings, LabSettings
from handlers.flows import Dispatcher
from storage.database import Database
from tests.fakes.chat import Chat
from tests.fakes.clock import FakeClock
from tests.handlers.walk import PROBLEM, category_to_summary, to_problem

# As main made them before keys (6d61e9e): "location:n<position in the configured list>".
OLD_LA_FLORA = "location:n4"  # La Flora, fifth of the default list
OLD_PAST_THE_END = "location:n9"

REVERSED = tuple(reversed(DEFAULT_NEIGHBOURHOODS))


def chat_with(
    lab: LabSettings, database: Database, catalog: Catalog, clock: FakeClock, language: str
) -> Chat:
    """The same resident, talking to a bot restarted with another config."""
    dispatcher = Dispatcher(database, FlowSettings(lab=lab), catalog, clock)
    return Chat(dispatcher, catalog, clock, language=language, user="ana")


async def at_location(chat: Chat) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    assert chat.asked("location.ask")


async def place_in_summary(chat: Chat) -> str:
    """Goes on to the summary and returns the place it shows."""
    assert chat.asked("category.ask")
    await category_to_summary(chat)
    for line in chat.text.splitlines():
        for name in DEFAULT_NEIGHBOURHOODS:
            if line == chat.t("summary.location", value=name):
                return name
    raise AssertionError(f"no neighbourhood in the summary: {chat.text}")


async def test_an_old_neighbourhood_button_still_names_its_place(
    make_chat: Callable[..., Chat], language: str
) -> None:
    chat = make_chat(language=language, user="ana")
    await at_location(chat)
    await chat.send(choice=OLD_LA_FLORA)
    assert await place_in_summary(chat) == "La Flora"


async def test_an_old_neighbourhood_button_means_what_sits_at_its_place_in_the_list_now(
    database: Database, catalog: Catalog, clock: FakeClock, language: str
) -> None:
    """An old button holds only a position: the list as configured now is the best we know."""
    chat = chat_with(LabSettings(neighbourhoods=REVERSED), database, catalog, clock, language)
    await at_location(chat)
    await chat.send(choice=OLD_LA_FLORA)
    assert await place_in_summary(chat) == REVERSED[4]


async def test_an_old_neighbourhood_button_past_the_list_is_a_stale_button(
    make_chat: Callable[..., Chat], language: str
) -> None:
    chat = make_chat(language=language, user="ana")
    await at_location(chat)
    await chat.send(choice=OLD_PAST_THE_END)
    assert chat.said("input.stale_button") and chat.asked("location.ask")


async def test_a_neighbourhood_button_keeps_its_place_when_the_list_is_reordered(
    make_chat: Callable[..., Chat], database: Database, catalog: Catalog, clock: FakeClock,
    language: str,
) -> None:  # fmt: skip
    before = make_chat(language=language, user="ana")
    await at_location(before)
    la_flora = next(choice.id for choice in before.choices if choice.label == "La Flora")
    # The lab reorders its list and restarts; the button is still in her chat.
    after = chat_with(LabSettings(neighbourhoods=REVERSED), database, catalog, clock, language)
    await after.send(choice=la_flora)
    assert await place_in_summary(after) == "La Flora"


async def test_a_neighbourhood_gone_from_the_config_is_a_stale_button(
    make_chat: Callable[..., Chat], database: Database, catalog: Catalog, clock: FakeClock,
    language: str,
) -> None:  # fmt: skip
    before = make_chat(language=language, user="ana")
    await at_location(before)
    la_flora = next(choice.id for choice in before.choices if choice.label == "La Flora")
    others = tuple(name for name in DEFAULT_NEIGHBOURHOODS if name != "La Flora")
    after = chat_with(LabSettings(neighbourhoods=others), database, catalog, clock, language)
    await after.send(choice=la_flora)
    assert after.said("input.stale_button") and after.asked("location.ask")
    assert "La Flora" not in [choice.label for choice in after.choices]

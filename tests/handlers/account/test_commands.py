"""Commands and buttons that work from any step: /start, /cancel, /help, /mis_ideas, /idioma."""

from tests.fakes.chat import Chat
from tests.handlers.walk import (
    PROBLEM,
    answer_receipt,
    category_to_summary,
    to_problem,
    to_summary,
)


async def test_cancel_asks_before_discarding_and_no_keeps_the_draft(chat: Chat) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.command("cancelar" if chat.language == "es" else "cancel")
    assert chat.asked("cancel.ask")
    await chat.press("cancel.no")
    assert chat.asked("location.ask")
    await chat.command("cancel")
    await chat.press("cancel.yes")
    assert chat.text == chat.t("cancel.done")
    assert [c.id for c in chat.choices] == ["menu:new", "menu:mine", "menu:events", "menu:help"]


async def test_cancel_with_nothing_in_progress_says_so(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    await chat.command("cancel")
    assert chat.t("cancel.nothing") in chat.text
    assert chat.asked("greeting.menu")


async def test_start_during_a_draft_asks_before_dropping_it(chat: Chat) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    await chat.command("start")
    assert chat.asked("restart.ask")
    await chat.press("restart.no")
    assert chat.asked("location.ask")
    await chat.command("start")
    await chat.press("restart.yes")
    assert chat.asked("role.ask")  # their role is kept only once an idea is sent


async def test_help_explains_and_repeats_the_current_question(chat: Chat) -> None:
    await to_problem(chat)
    await chat.command("ayuda" if chat.language == "es" else "help")
    assert chat.replies[0].text.startswith(chat.t("help.intro"))
    assert chat.asked("problem.ask")


async def test_my_ideas_lists_reference_date_and_status_in_the_lab_time_zone(
    chat: Chat, clock
) -> None:
    await chat.command("mis_ideas")
    assert chat.t("mine.empty") in chat.text
    clock.advance(hours=9)  # 2026-08-17 04:00 UTC is still 16 August (23:00) in Bogotá
    await to_summary(chat)
    await chat.press("summary.send")
    await chat.command("my_ideas")
    date = "16 ago 2026" if chat.language == "es" else "Aug 16, 2026"
    status = chat.t("status.received")
    assert chat.t("mine.item", reference="MNG-2026-000001", date=date, status=status) in chat.text
    assert chat.asked("greeting.menu")


async def test_my_ideas_says_which_idea_each_number_is(chat: Chat) -> None:
    """Two ideas, two numbers: each shows the first words of its problem, in its place."""
    problems = ("Se inunda la calle 5 cada vez que llueve fuerte", "No hay luz en el parque " * 5)
    await to_problem(chat)
    for problem in problems:
        if problem != problems[0]:
            await chat.send(choice="menu:new")  # role and consent are known by now
        await chat.say(problem)
        await chat.press_label("La Flora")
        await category_to_summary(chat)
        await chat.press("summary.send")
    await chat.command("mis_ideas")
    lines = chat.replies[0].text.splitlines()
    first = lines.index(next(line for line in lines if "MNG-2026-000001" in line))
    second = lines.index(next(line for line in lines if "MNG-2026-000002" in line))
    assert chat.t("mine.about", problem=problems[0]) == lines[first + 1]
    about = lines[second + 1]  # a long problem: its first words only
    assert about.startswith(chat.t("mine.about", problem="No hay luz en el parque"))
    assert len(about) < len(problems[1]) and about.endswith("…")


async def test_my_ideas_shows_the_newest_ten_and_counts_the_rest(chat: Chat, clock) -> None:
    for number in range(11):
        await to_summary(chat) if not chat.history else await _another(chat)
        await chat.press("summary.send")
        if number == 0:
            await answer_receipt(chat)  # asked after the first receipt only
        clock.advance(minutes=1)
    await chat.press("menu.mine")
    assert "MNG-2026-000011" in chat.text and "MNG-2026-000001" not in chat.text
    assert chat.t("mine.older", count=1) in chat.text


async def _another(chat: Chat) -> None:
    await chat.send(choice="menu:new")
    await chat.say(PROBLEM)
    await chat.press_label("La Flora")
    await category_to_summary(chat)


async def test_language_can_change_mid_flow_and_the_question_comes_back(chat: Chat) -> None:
    await to_problem(chat)
    await chat.command("idioma")
    assert chat.asked("language.ask")
    other = "en" if chat.language == "es" else "es"
    await chat.send(choice=f"language:{other}")
    chat.language = other
    assert chat.t("language.set") in chat.text
    assert chat.asked("problem.ask")


async def test_an_unknown_command_is_named_and_the_question_repeated(chat: Chat) -> None:
    await to_problem(chat)
    await chat.command("borrar_todo")
    assert chat.t("input.unknown_command", command="/borrar_todo") in chat.text
    assert chat.asked("problem.ask")


async def test_after_a_long_pause_they_choose_to_continue_or_start_again(chat: Chat, clock) -> None:
    await to_problem(chat)
    await chat.say(PROBLEM)
    clock.advance(hours=13)
    await chat.say("hola, sigo")
    assert chat.asked("resume.ask_about", problem=PROBLEM)  # which idea it was
    await chat.press("resume.continue")
    assert chat.asked("location.ask")
    clock.advance(days=3)
    await chat.say("hola")
    await chat.press("resume.restart")
    assert chat.asked("role.ask")


async def test_coming_back_before_the_problem_was_told_asks_plainly(chat: Chat, clock) -> None:
    await to_problem(chat)
    clock.advance(days=2)
    await chat.say("hola")
    assert chat.asked("resume.ask")


async def test_a_short_pause_just_continues(chat: Chat, clock) -> None:
    await to_problem(chat)
    clock.advance(hours=2)
    await chat.say(PROBLEM)
    assert chat.asked("location.ask")


async def test_menu_buttons_work_from_the_idle_state(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    await answer_receipt(chat)  # the first idea's receipt asks these; the menu follows
    await chat.press("menu.help")
    assert chat.replies[0].text.startswith(chat.t("help.intro"))
    await chat.press("menu.new")
    assert chat.asked("problem.ask")


async def test_a_menu_option_can_be_typed_or_given_by_number(chat: Chat) -> None:
    await to_summary(chat)
    await chat.press("summary.send")
    await answer_receipt(chat)  # numbers count the buttons last shown: now the menu's
    await chat.say("2")
    assert chat.t("mine.title") in chat.text
    await chat.say(chat.t("menu.new").split(" ", 1)[1])  # the label without its emoji
    assert chat.asked("problem.ask")

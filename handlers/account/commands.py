"""What works from any step: commands, the menu, confirmations and coming back. Each
command's action is found in the routing tables: the flows bring their own (handlers/flows.py)."""

from collections.abc import Mapping

from babel.dates import format_date

from handlers.account import subscriptions
from handlers.engine.group import LINK_COMMANDS
from handlers.engine.matching import words
from handlers.engine.replies import expected_choice
from handlers.engine.sidetrip import come_back, detour, paused_at
from handlers.engine.state import DRAFT_STEPS, Draft, Step
from handlers.engine.textinput import check_text, clean, short
from handlers.engine.turn import Command, Turn, ask, go_to
from handlers.engine.wordlists import greeting_words
from handlers.events import rsvp
from handlers.intake.navigation import fresh_draft, next_step
from handlers.staff.common import is_staff, leave
from handlers.staff.group import GROUP_ACTIONS

# Every name a command answers to, in either language, and the action it stands for.
COMMAND_ALIASES: dict[str, str] = {
    "start": "start",
    "help": "help",
    "ayuda": "help",
    "cancel": "cancel",
    "cancelar": "cancel",
    "my_ideas": "my_ideas",
    "mis_ideas": "my_ideas",
    "language": "language",
    "idioma": "language",
    "events": "events",
    "eventos": "events",
    "subscribe": "subscribe",
    "suscribirme": "subscribe",
    "unsubscribe": "unsubscribe",
    "baja": "unsubscribe",
    "mis_datos": "my_data",
    "my_data": "my_data",
    "corregir": "correct",
    "correct": "correct",
    "borrar": "delete_me",
    "delete_me": "delete_me",
    "privacidad": "privacy",
    "privacy": "privacy",
    # Staff only (each checks the caller).
    "new_event": "new_event",
    "nuevo_evento": "new_event",
    "broadcast": "broadcast",
    "difundir": "broadcast",
    "ideas": "ideas",
    "idea": "idea",
    "convocatoria": "call",
    "convocatorias": "call",
    "call": "call",
    "calls": "call",
    "exportar": "export",
    "export": "export",
    "resumen": "digest",
    "digest": "digest",
    "estadisticas": "stats",
    "stats": "stats",
    "equipo": "team",
    "staff": "team",
    "equipo_agregar": "team_add",
    "staff_add": "team_add",
    "equipo_quitar": "team_remove",
    "staff_remove": "team_remove",
    # Anyone with a code from `minga staff link-group`, in a group (handlers/engine/group.py).
    **{name: "link_group" for name in LINK_COMMANDS},
}

# The names shown in each language's command menu, in the order shown.
COMMAND_MENU: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (
        ("start", "start"),
        ("mis_ideas", "my_ideas"),
        ("eventos", "events"),
        ("suscribirme", "subscribe"),
        ("baja", "unsubscribe"),
        ("mis_datos", "my_data"),
        ("corregir", "correct"),
        ("privacidad", "privacy"),
        ("borrar", "delete_me"),
        ("idioma", "language"),
        ("cancelar", "cancel"),
        ("ayuda", "help"),
    ),
    "en": (
        ("start", "start"),
        ("my_ideas", "my_ideas"),
        ("events", "events"),
        ("subscribe", "subscribe"),
        ("unsubscribe", "unsubscribe"),
        ("my_data", "my_data"),
        ("correct", "correct"),
        ("privacy", "privacy"),
        ("delete_me", "delete_me"),
        ("language", "language"),
        ("cancel", "cancel"),
        ("help", "help"),
    ),
}

# Added to the menu of the lab's team (in their private chats with the bot).
STAFF_MENU: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (("ideas", "ideas"), ("idea", "idea"), ("resumen", "digest"), ("exportar", "export"),
           ("estadisticas", "stats"), ("convocatoria", "call"),
           ("nuevo_evento", "new_event"), ("difundir", "broadcast"), ("equipo", "team"),
           ("equipo_agregar", "team_add"), ("equipo_quitar", "team_remove"),
           ("vincular", "link_group")),
    "en": (("ideas", "ideas"), ("idea", "idea"), ("digest", "digest"), ("export", "export"),
           ("stats", "stats"), ("call", "call"),
           ("new_event", "new_event"), ("broadcast", "broadcast"), ("staff", "team"),
           ("staff_add", "team_add"), ("staff_remove", "team_remove"), ("link", "link_group")),
}  # fmt: skip

MY_IDEAS_SHOWN = 10
# A first message with this many words (not greetings) tells a problem: "hola, buenas
# tardes" does not, "la basura se acumula en la esquina" does.
PROBLEM_MIN_WORDS = 4
KEPT_WORDS = 200  # characters of a problem told at once, repeated when it is kept
MINE_WORDS = 60  # characters of each idea's problem shown in /mis_ideas
RESUME_WORDS = 60  # characters of the unfinished idea's problem shown on coming back


def has_draft(turn: Turn) -> bool:
    """True while an idea is being written, also from a confirmation asked on the way."""
    return turn.state.step in DRAFT_STEPS or paused_at(turn) in DRAFT_STEPS


def say_hello(turn: Turn) -> None:
    lab = turn.settings.lab.name
    turn.say(f"{turn.t('greeting.hello', lab=lab)}\n{turn.t('greeting.about')}")


def told_problem(turn: Turn) -> str | None:
    """The message that starts an idea, when it already tells the problem (enough words
    besides greetings, within the problem's limits): kept, so that it is not asked again."""
    if turn.inbound.text is None:
        return None
    text, limits = clean(turn.inbound.text), turn.settings.intake
    if check_text(text, min_chars=limits.text_min_chars, max_chars=limits.text_max_chars):
        return None
    skipped = greeting_words(turn.catalog)
    told = [word for word in words(text) if word not in skipped]
    return text if len(told) >= PROBLEM_MIN_WORDS else None


def begin(turn: Turn, *, greet: bool) -> None:
    """A new intake: a fresh draft and its first question (not the problem's, when the
    message that started it told the problem already)."""
    if greet:
        say_hello(turn)
    problem = told_problem(turn)
    turn.state.draft = fresh_draft(turn)
    if problem is not None:
        turn.state.draft.problem = problem
        turn.say(turn.t("problem.kept", problem=short(problem, KEPT_WORDS)))
    go_to(turn, next_step(turn))


def back_where_they_were(turn: Turn) -> None:
    """After a confirmation or the language: the step it paused, asked again (the menu when
    there was none)."""
    go_to(turn, come_back(turn))


def _discard(turn: Turn) -> None:
    turn.state.step, turn.state.draft = Step.IDLE, Draft()


def deep_link_event(argument: str | None) -> int | None:
    """ "/start ev12" (from t.me/<bot>?start=ev12) -> 12."""
    if argument and argument.startswith("ev") and argument[2:].isdigit():
        return int(argument[2:])
    return None


async def start(turn: Turn) -> None:
    event_id = deep_link_event(turn.inbound.argument)
    if event_id is not None:
        await rsvp.open_from_link(turn, event_id)
        return rsvp.carry_on(turn)
    if has_draft(turn):
        return detour(turn, Step.CONFIRM_RESTART)
    # /start greets; the menu's "tell an idea" sits under the greeting already.
    begin(turn, greet=turn.inbound.command is not None)


Menu = tuple[tuple[str, str], ...]


def _menu(menus: dict[str, Menu], turn: Turn) -> Menu:
    """A menu in the person's language (a lab's own extra language: the default's)."""
    return menus.get(turn.language) or menus.get(turn.settings.lab.default_language) or menus["es"]


def _lines(turn: Turn, menu: Menu) -> list[str]:
    return [turn.t("help.line", command=name, description=turn.t(f"commands.{action}"))
            for name, action in menu]  # fmt: skip


def help_text(turn: Turn) -> str:
    """/ayuda, made from the command menus (the same the platforms show), so it lists every
    command there is: a resident's, and a staff member's own in their private chat; in the
    staff group, the commands that work there."""
    residents, staff = _menu(COMMAND_MENU, turn), _menu(STAFF_MENU, turn)
    if turn.inbound.group is not None:
        in_group = [(n, a) for n, a in (*staff, *residents) if a in GROUP_ACTIONS]
        return "\n".join([turn.t("help.group_commands"), *_lines(turn, tuple(in_group))])
    parts = [turn.t("help.intro"), "", turn.t("help.commands"), *_lines(turn, residents)]
    if is_staff(turn):
        parts += ["", turn.t("help.staff_commands"), *_lines(turn, staff)]
    return "\n".join(parts)


async def show_help(turn: Turn) -> None:
    turn.say(help_text(turn))
    if turn.inbound.group is None:  # a resident's question is for their private chat
        ask(turn)


async def cancel(turn: Turn) -> None:
    if turn.inbound.group is not None:
        if turn.state.step in turn.routes.staff_steps:
            turn.say(turn.t("staff.cancelled"))
            return leave(turn)
        turn.say(turn.t("cancel.nothing_group"))
        return None
    if has_draft(turn):
        return detour(turn, Step.CONFIRM_CANCEL)
    turn.say(turn.t("cancel.nothing"))
    ask(turn)


async def my_ideas(turn: Turn) -> None:
    ideas = await turn.repos.ideas.for_resident(turn.resident.id, limit=MY_IDEAS_SHOWN)
    if not ideas:
        turn.say(turn.t("mine.empty"))
    else:
        zone = turn.settings.lab.zone
        lines = [turn.t("mine.title")]
        for idea in ideas:
            date = format_date(
                idea.created_at.astimezone(zone), format="medium", locale=turn.language
            )
            status = turn.t(f"status.{idea.status.value}")
            lines.append(turn.t("mine.item", reference=idea.reference, date=date, status=status))
            if idea.problem:  # a number alone does not say which idea it is
                lines.append(turn.t("mine.about", problem=short(idea.problem, MINE_WORDS)))
        if len(ideas) == MY_IDEAS_SHOWN:
            total = await turn.repos.ideas.count_for_resident(turn.resident.id)
            if total > MY_IDEAS_SHOWN:
                lines.append(turn.t("mine.older", count=total - MY_IDEAS_SHOWN))
        turn.say("\n".join(lines))
    ask(turn)


async def choose_language(turn: Turn) -> None:
    detour(turn, Step.LANGUAGE)


async def show_events(turn: Turn) -> None:
    if not await rsvp.list_events(turn):
        subscriptions.no_events(turn)
        rsvp.carry_on(turn)


async def subscribe(turn: Turn) -> None:
    if not subscriptions.on_command(turn):  # a question asked: its buttons are the last shown
        rsvp.carry_on(turn)


async def unsubscribe(turn: Turn) -> None:
    await subscriptions.unsubscribe(turn)
    rsvp.carry_on(turn)


# The account's own commands; the other flows bring theirs (events, privacy, staff, calls).
ACTIONS: Mapping[str, Command] = {
    "start": start,
    "help": show_help,
    "cancel": cancel,
    "my_ideas": my_ideas,
    "language": choose_language,
    "events": show_events,
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
}

MENU_ACTIONS = {"new": "start", "mine": "my_ideas", "events": "events", "help": "help"}


async def run_command(turn: Turn, name: str) -> None:
    action = COMMAND_ALIASES.get(name)
    if action is None:
        turn.say(turn.t("input.unknown_command", command=f"/{name}"))
        return ask(turn)
    await turn.routes.commands[action](turn)


async def run_menu(turn: Turn, value: str) -> None:
    action = MENU_ACTIONS.get(value)
    if action is None:
        turn.say(turn.t("input.stale_button"))
        return ask(turn)
    await turn.routes.commands[action](turn)


async def on_confirm_cancel(turn: Turn, value: str | None) -> None:
    if value == "yes":
        _discard(turn)
        turn.say(turn.t("cancel.done"), turn.menu())
    elif value == "no":
        back_where_they_were(turn)
    else:
        expected_choice(turn)


async def on_confirm_restart(turn: Turn, value: str | None) -> None:
    if value == "yes":
        _discard(turn)
        begin(turn, greet=False)
    elif value == "no":
        back_where_they_were(turn)
    else:
        expected_choice(turn)


async def on_resume(turn: Turn, value: str | None) -> None:
    if value == "continue":
        back_where_they_were(turn)
    elif value == "restart":
        _discard(turn)
        begin(turn, greet=False)
    else:
        expected_choice(turn)


async def on_idle(turn: Turn, value: str | None) -> None:
    if value in MENU_ACTIONS:  # a menu option typed, or its number
        return await run_menu(turn, value)
    if value is None and told_problem(turn) is not None:  # a problem told straight away
        return begin(turn, greet=False)
    ask(turn)


def pause_for_resume(turn: Turn) -> None:
    """After a long pause, ask before taking the message as an answer to an old question."""
    detour(turn, Step.RESUME)


def ask_idle(turn: Turn) -> None:
    turn.say(turn.t("greeting.menu"), turn.menu())


def ask_confirm_cancel(turn: Turn) -> None:
    options = turn.options(Step.CONFIRM_CANCEL, {"yes": "cancel.yes", "no": "cancel.no"})
    turn.say(turn.t("cancel.ask"), options)


def ask_confirm_restart(turn: Turn) -> None:
    options = turn.options(Step.CONFIRM_RESTART, {"yes": "restart.yes", "no": "restart.no"})
    turn.say(turn.t("restart.ask"), options)


def ask_resume(turn: Turn) -> None:
    """After days away, which idea was it: the first words of its problem, when written."""
    options = {"continue": "resume.continue", "restart": "resume.restart"}
    problem = turn.state.draft.problem
    text = (
        turn.t("resume.ask_about", problem=short(problem, RESUME_WORDS))
        if problem
        else turn.t("resume.ask")
    )
    turn.say(text, turn.options(Step.RESUME, options))

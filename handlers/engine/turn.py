"""One turn of a conversation: what came in, who sent it, where they are, and what we say."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from handlers.engine.buttons import Arg, button_id
from handlers.engine.catalog import Catalog
from handlers.engine.encoder import Encoder
from handlers.engine.messages import Choice, Inbound, Reply
from handlers.engine.settings import FlowSettings
from handlers.engine.state import ConversationState, Step
from handlers.engine.team import Team
from storage.models import Resident
from storage.repositories import Repositories

MENU = "menu"  # the prefix of buttons that work from any step

# What a flow gives the engine: a step's question, its answer, a button that works from
# anywhere (given the rest of its id), a command, and the first look at every message.
Question = Callable[["Turn"], None]
Answer = Callable[["Turn", str | None], Awaitable[None]]
ButtonHandler = Callable[["Turn", str], Awaitable[None]]
Command = Callable[["Turn"], Awaitable[None]]
Entry = Callable[["Turn", timedelta | None], Awaitable[None]]
Back = Callable[["Turn"], None]


@dataclass(frozen=True, slots=True)
class Routes:
    """Every flow's steps, buttons and commands in one set of tables, built once from the list
    of flows (handlers.engine.flow.build_routes) and handed to the dispatcher."""

    questions: Mapping[Step, Question]
    answers: Mapping[Step, Answer]
    typed: frozenset[Step]  # a typed number is a free answer here, not a button's ("Calle 80")
    group_typed: frozenset[Step]  # in the staff group, text and places answer only these
    staff_steps: frozenset[Step]  # the steps of the staff's own flows
    buttons: Mapping[str, ButtonHandler]  # by the prefix of their id, from any step
    commands: Mapping[str, Command]  # by action ("help"), whatever name it was typed as
    entry: Entry  # what a message means before it is an answer (commands, a first contact...)
    back: Back  # a "back" button: the question before


# A staff member who changed something is stored as "channel:user_key" (an idea's history,
# a call's or a broadcast's or an event's author): written and read only here.
ACTOR_SEPARATOR = ":"


def actor_of(channel: str, user_key: str) -> str:
    """ "telegram:12345": who did it, as stored."""
    return f"{channel}{ACTOR_SEPARATOR}{user_key}"


def parse_actor(actor: str) -> tuple[str, str]:
    """ "telegram:12345" -> ("telegram", "12345"); a stored actor without a channel (the
    server's "cli") -> ("cli", "")."""
    channel, _, user = actor.partition(ACTOR_SEPARATOR)
    return channel, user


@dataclass(slots=True)
class Turn:
    inbound: Inbound
    resident: Resident
    state: ConversationState
    repos: Repositories
    settings: FlowSettings
    catalog: Catalog
    now: datetime
    routes: Routes
    first_contact: bool = False
    replies: list[Reply] = field(default_factory=list)
    # The lab's team as it stands (handlers/engine/team.py); a turn that changes it says so,
    # and the dispatcher reads it again once the turn has committed.
    team: Team = field(default_factory=Team)
    team_changed: bool = False
    # Media files (paths under the media folder) to delete once the turn has committed.
    released_media: list[str] = field(default_factory=list)
    # Ideas filed in this turn, (id, problem): their vectors are computed once it has committed
    # (handlers/similar; the turn does not wait for the model).
    filed_ideas: list[tuple[int, str]] = field(default_factory=list)
    # What encodes a text for a similar-ideas lookup (handlers/similar; None: no lookups).
    encoder: Encoder | None = None

    @property
    def language(self) -> str:
        return self.resident.language or self.settings.lab.default_language

    @property
    def step(self) -> Step:
        return self.state.step

    @property
    def actor(self) -> str:
        """Who is acting, as stored in what they change (see actor_of)."""
        return actor_of(self.inbound.channel, self.inbound.user_key)

    def t(self, key: str, **values: object) -> str:
        return self.catalog.text(self.language, key, **values)

    def say(
        self,
        text: str,
        choices: tuple[Choice, ...] = (),
        *,
        location_button: str | None = None,
        choices_text: str | None = None,
    ) -> None:
        self.replies.append(Reply(text, choices, location_button, choices_text=choices_text))

    def option(self, step: Step | str, value: str, label_key: str | None = None) -> Choice:
        """A button for `value` at `step`; its id names the step so that old buttons are known."""
        label = self.t(label_key) if label_key else value
        return Choice(id=button_id(str(step), value), label=label)

    def options(self, step: Step | str, labels: Mapping[str, str]) -> tuple[Choice, ...]:
        """One button per value, each labelled by its catalog key ({"yes": "cancel.yes"})."""
        return tuple(self.option(step, value, key) for value, key in labels.items())

    def labelled(self, step: Step | str, value: Arg | tuple[Arg, ...], label: str) -> Choice:
        """A button with its own label; `value` may have parts ("nb", "la-flora")."""
        parts = value if isinstance(value, tuple) else (value,)
        return Choice(id=button_id(str(step), *parts), label=label)

    def menu(self) -> tuple[Choice, ...]:
        return (
            self.option(MENU, "new", "menu.new"),
            self.option(MENU, "mine", "menu.mine"),
            self.option(MENU, "events", "menu.events"),
            self.option(MENU, "help", "menu.help"),
        )

    def update_resident(self, **changes: object) -> None:
        """Change the resident's own fields; they are saved with the turn, in one write."""
        self.resident = self.resident.model_copy(update=changes)


def ask(turn: Turn) -> None:
    """Ask the question of the step the conversation is at."""
    turn.routes.questions[turn.state.step](turn)


def go_to(turn: Turn, step: Step) -> None:
    turn.state.step = step
    ask(turn)

"""One turn of a conversation: what came in, who sent it, where they are, and what we say."""

from dataclasses import dataclass, field
from datetime import datetime

from handlers.engine.buttons import Arg, button_id
from handlers.engine.catalog import Catalog
from handlers.engine.messages import Choice, Inbound, Reply
from handlers.engine.settings import FlowSettings
from handlers.engine.state import ConversationState, Step
from storage.models import Resident
from storage.repositories import Repositories

MENU = "menu"  # the prefix of buttons that work from any step


@dataclass(slots=True)
class Turn:
    inbound: Inbound
    resident: Resident
    state: ConversationState
    repos: Repositories
    settings: FlowSettings
    catalog: Catalog
    now: datetime
    first_contact: bool = False
    replies: list[Reply] = field(default_factory=list)
    # Media files (paths under the media folder) to delete once the turn has committed.
    released_media: list[str] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.resident.language or self.settings.lab.default_language

    @property
    def step(self) -> Step:
        return self.state.step

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

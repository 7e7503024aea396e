"""The staff's group chat, as the engine sees it: only the team is answered there. Everyone
else gets a polite refusal for a command or a button (and nothing is stored about them);
other talk in the group is not the bot's business."""

from handlers.engine.catalog import Catalog
from handlers.engine.messages import Inbound, Reply
from handlers.engine.settings import FlowSettings
from handlers.engine.team import Team
from handlers.engine.turn import Turn

# /vincular CODE makes a group the staff's: whoever holds a code printed by `minga staff
# link-group` may send it (the installer need not be staff), in a group not linked yet.
LINK_COMMANDS = frozenset(("vincular", "link"))


def in_group(turn: Turn) -> bool:
    return turn.inbound.group is not None


def outsider_answer(inbound: Inbound, settings: FlowSettings, catalog: Catalog) -> list[Reply]:
    """For someone who is not staff, in a group: a refusal to a command or button, else
    silence. Said in their platform's language when we speak it."""
    if inbound.command is None and inbound.choice is None:
        return []
    hint = (inbound.language_hint or "")[:2].lower()
    language = hint if hint in catalog.languages() else settings.lab.default_language
    return [Reply(catalog.text(language, "staff.only"))]


def is_outsider(inbound: Inbound, team: Team) -> bool:
    """Not staff, in a group (a group's link code aside: the code is the permission)."""
    if inbound.group is None or inbound.command in LINK_COMMANDS:
        return False
    return not team.includes(inbound.channel, inbound.user_key)

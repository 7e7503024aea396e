"""Who acts in a turn: a staff member is stored as "channel:user_key" in what they change
(an idea's history, a call, a broadcast, an event), written and read in one place."""

import re
from pathlib import Path

from handlers.engine.turn import actor_of, parse_actor

HANDLERS = Path(__file__).parents[3] / "handlers"


def test_an_actor_is_stored_as_it_always_was_and_reads_back() -> None:
    assert actor_of("telegram", "12345") == "telegram:12345"  # as rows already hold it
    assert parse_actor("telegram:12345") == ("telegram", "12345")
    assert parse_actor(actor_of("whatsapp", "573001112233")) == ("whatsapp", "573001112233")
    assert parse_actor("cli") == ("cli", "")  # the server's commands: no channel


def test_no_flow_builds_an_actor_by_hand() -> None:
    by_hand = re.compile(r"channel\}:\{[\w.]*user_key\}")
    found = [
        path.relative_to(HANDLERS).as_posix()
        for path in sorted(HANDLERS.rglob("*.py"))
        if by_hand.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, "use Turn.actor (handlers.engine.turn.actor_of):\n" + "\n".join(found)

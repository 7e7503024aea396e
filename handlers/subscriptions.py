"""Opting in to the lab's announcements and invitations, and out again, from any step."""

from handlers.events.rsvp import carry_on
from handlers.textinput import fold
from handlers.turn import Turn

UPDATES = "upd"  # the prefix of the "no more updates about my ideas" buttons
SUBSCRIBE = "sub"  # the prefix of the opt-in buttons: "sub:yes", "sub:no"
# A message that is only one of these words opts out, at any step (folded: any case).
OPT_OUT_WORDS = frozenset(("baja", "stop", "parar", "unsubscribe"))
# Broadcasts queued before an opt-out are dropped; notices about their own RSVPs are not.
ANNOUNCEMENT_KINDS = ("broadcast",)


def is_opt_out(text: str | None) -> bool:
    return text is not None and fold(text) in OPT_OUT_WORDS


def offer(turn: Turn) -> None:
    """Ask whether they want announcements (after their first idea's receipt)."""
    turn.say(
        turn.t("subscribe.offer", lab=turn.settings.lab.name),
        (
            turn.option(SUBSCRIBE, "yes", "subscribe.yes"),
            turn.option(SUBSCRIBE, "no", "subscribe.no"),
        ),
    )


def subscribe(turn: Turn) -> None:
    if turn.resident.announcements_at is not None:
        turn.say(turn.t("subscribe.already"))
        return
    turn.update_resident(announcements_at=turn.now)
    turn.say(turn.t("subscribe.done"))


async def unsubscribe(turn: Turn) -> None:
    if turn.resident.announcements_at is None:
        turn.say(turn.t("subscribe.not_subscribed"))
        return
    turn.update_resident(announcements_at=None)
    await turn.repos.outbox.skip_pending(
        turn.now, "opted out", recipient_id=turn.resident.id, kinds=ANNOUNCEMENT_KINDS
    )
    turn.say(turn.t("subscribe.stopped"))


async def on_button(turn: Turn, value: str) -> None:
    """The answer to the offer after a receipt, which carried no menu: the menu follows."""
    if value == "yes":
        subscribe(turn)
    elif value == "no":
        turn.say(turn.t("subscribe.declined"))
    else:
        turn.say(turn.t("input.stale_button"))
    turn.say(turn.t("greeting.menu"), turn.menu())


async def on_updates_button(turn: Turn, value: str) -> None:
    """ "No more news about my ideas" (on every status notice), and back on again."""
    if value == "off":
        await turn.repos.residents.set_updates(turn.resident.id, turn.now)
        turn.say(
            turn.t("notice.updates_off"), (turn.option(UPDATES, "on", "notice.resume_updates"),)
        )
    elif value == "on":
        await turn.repos.residents.set_updates(turn.resident.id, None)
        turn.say(turn.t("notice.updates_on"))
    else:
        turn.say(turn.t("input.stale_button"))
    carry_on(turn)

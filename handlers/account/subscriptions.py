"""Consent to news about one's ideas (updates) and to the lab's announcements and invitations:
asked after an idea's receipt, asked again after a new privacy policy, changed from any step
(/suscribirme, BAJA, the button on every notice, /privacidad)."""

from handlers.engine.state import Step
from handlers.engine.textinput import fold
from handlers.engine.turn import Turn
from handlers.events.rsvp import carry_on
from handlers.privacy.consent import Purpose, changes, granted, stale, undecided
from storage.outbox_kinds import OutboxKind

UPDATES = "upd"  # the prefix of the buttons about news of one's ideas: "upd:on", "upd:off"
SUBSCRIBE = "sub"  # the prefix of the announcements buttons: "sub:yes", "sub:no"
# A message that is only one of these words opts out, at any step (folded: any case).
OPT_OUT_WORDS = frozenset(("baja", "stop", "parar", "unsubscribe"))
# Broadcasts queued before an opt-out are dropped; notices about their own RSVPs are not.
ANNOUNCEMENT_KINDS = (OutboxKind.BROADCAST,)
# Idea notices queued before "no more news" are dropped.
UPDATE_KINDS = (OutboxKind.IDEA_STATUS, OutboxKind.IDEA_REPLY, OutboxKind.IDEA_AWARD)


def is_opt_out(text: str | None) -> bool:
    return text is not None and fold(text) in OPT_OUT_WORDS


def _version(turn: Turn) -> str:
    return turn.settings.lab.privacy_policy_version


def record(turn: Turn, purpose: Purpose, agree: bool) -> None:
    """Save a yes or a no (the database logs it with the policy version and the time)."""
    turn.update_resident(**changes(purpose, agree, _version(turn), turn.now))


def ask_updates(turn: Turn, *, joined: bool = False) -> None:
    """Ask for news of their ideas (`joined`: of the idea they just joined, not filed)."""
    key = (
        "consent.updates_again"
        if stale(turn.resident, Purpose.UPDATES, _version(turn))
        else "consent.updates_ask_joined"
        if joined
        else "consent.updates_ask"
    )
    turn.say(
        turn.t(key, policy_url=turn.settings.lab.privacy_policy_url),
        (turn.option(UPDATES, "on", "consent.updates_yes"),
         turn.option(UPDATES, "no", "consent.updates_no")),
    )  # fmt: skip


def offer(turn: Turn, *, show_policy: bool = False) -> None:
    """Ask whether they want announcements and invitations (with the privacy policy, for
    someone who has not agreed to it yet)."""
    again = stale(turn.resident, Purpose.ANNOUNCEMENTS, _version(turn))
    key = (
        "consent.announcements_again"
        if again
        else "subscribe.ask"
        if show_policy
        else "subscribe.offer"
    )
    turn.say(
        turn.t(key, lab=turn.settings.lab.name, policy_url=turn.settings.lab.privacy_policy_url),
        (
            turn.option(SUBSCRIBE, "yes", "subscribe.yes"),
            turn.option(SUBSCRIBE, "no", "subscribe.no"),
        ),
    )


def ask_next(turn: Turn, *, announcements: bool = True, joined: bool = False) -> bool:
    """Ask the first consent still open (updates, then announcements if offered); False
    when there is none left to ask."""
    version = _version(turn)
    if undecided(turn.resident, Purpose.UPDATES, version):
        ask_updates(turn, joined=joined)
        return True
    if announcements and undecided(turn.resident, Purpose.ANNOUNCEMENTS, version):
        offer(turn)
        return True
    return False


def needs_asking_again(turn: Turn) -> bool:
    """A yes given under an older privacy policy: asked again before it is used."""
    version = _version(turn)
    return any(stale(turn.resident, purpose, version)
               for purpose in (Purpose.UPDATES, Purpose.ANNOUNCEMENTS))  # fmt: skip


def _then_menu(turn: Turn) -> None:
    """After one answer: the next open question, or the menu."""
    if turn.state.step is Step.IDLE and not ask_next(turn):
        turn.say(turn.t("greeting.menu"), turn.menu())
    else:
        carry_on(turn)


def knows_policy(turn: Turn) -> bool:
    """They agreed to something under the privacy policy in force, so they have seen it."""
    return any(granted(turn.resident, purpose, _version(turn)) for purpose in Purpose)


def on_command(turn: Turn) -> bool:
    """/suscribirme: someone who has not seen the privacy policy is asked, with it, for this
    consent alone (not for keeping an idea they never sent); anyone else is subscribed.
    True when a question was asked (its answer carries on with what was pending)."""
    already = granted(turn.resident, Purpose.ANNOUNCEMENTS, _version(turn))
    if not already and not knows_policy(turn):
        offer(turn, show_policy=True)
        return True
    subscribe(turn)
    return False


def no_events(turn: Turn) -> None:
    """No upcoming events: "we'll tell you" only to whom we will (they get announcements);
    the others are asked whether they want to be told (at rest) or told how (mid-idea)."""
    none, version = turn.t("events.none"), _version(turn)
    if granted(turn.resident, Purpose.ANNOUNCEMENTS, version):
        turn.say(f"{none}\n{turn.t('events.none_subscribed')}")
    elif turn.state.step is Step.IDLE and undecided(turn.resident, Purpose.ANNOUNCEMENTS, version):
        turn.say(none)
        offer(turn, show_policy=not knows_policy(turn))
    else:
        turn.say(f"{none}\n{turn.t('events.none_how')}")


def subscribe(turn: Turn) -> None:
    if granted(turn.resident, Purpose.ANNOUNCEMENTS, _version(turn)):
        turn.say(turn.t("subscribe.already"))
        return
    record(turn, Purpose.ANNOUNCEMENTS, True)
    turn.say(turn.t("subscribe.done"))


async def unsubscribe(turn: Turn) -> None:
    if turn.resident.announcements_at is None:
        turn.say(turn.t("subscribe.not_subscribed"))
        return
    record(turn, Purpose.ANNOUNCEMENTS, False)
    await turn.repos.outbox.skip_pending(
        turn.now, "opted out", recipient_id=turn.resident.id, kinds=ANNOUNCEMENT_KINDS
    )
    turn.say(turn.t("subscribe.stopped"))


async def on_button(turn: Turn, value: str) -> None:
    """The answer to the announcements question."""
    if value == "yes":
        subscribe(turn)
    elif value == "off":  # from /privacidad
        await unsubscribe(turn)
        return carry_on(turn)
    elif value == "no":
        record(turn, Purpose.ANNOUNCEMENTS, False)
        turn.say(turn.t("subscribe.declined"))
    else:
        turn.say(turn.t("input.stale_button"))
    if turn.state.step is Step.IDLE:
        turn.say(turn.t("greeting.menu"), turn.menu())
    else:
        carry_on(turn)


async def stop_updates(turn: Turn) -> None:
    record(turn, Purpose.UPDATES, False)
    await turn.repos.outbox.skip_pending(
        turn.now, "no more news", recipient_id=turn.resident.id, kinds=UPDATE_KINDS
    )


async def had_updates(turn: Turn) -> bool:
    """Whether they ever agreed to news about their ideas (then a yes is "again")."""
    log = await turn.repos.residents.consent_log(turn.resident.id)
    return any(entry.granted and entry.purpose == Purpose.UPDATES for entry in log)


async def on_updates_button(turn: Turn, value: str) -> None:
    """Yes or no to news about their ideas: asked after a receipt, "no more news" on every
    notice, and back on again."""
    if value == "on":
        again = await had_updates(turn)
        record(turn, Purpose.UPDATES, True)
        turn.say(turn.t("notice.updates_on" if again else "notice.updates_first"))
    elif value == "off":
        await stop_updates(turn)
        turn.say(
            turn.t("notice.updates_off"), (turn.option(UPDATES, "on", "notice.resume_updates"),)
        )
        return carry_on(turn)
    elif value == "no":
        await stop_updates(turn)
        turn.say(turn.t("consent.updates_declined"))
    else:
        turn.say(turn.t("input.stale_button"))
    _then_menu(turn)

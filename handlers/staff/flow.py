"""The lab's team as one flow: the ideas (/ideas, /idea and the triage buttons and typed
answers), /resumen and /estadisticas, the team itself (/equipo, /vincular). Every entry checks
the caller. /difundir is the
outbound flow's, /exportar the exports flow's."""

from handlers.engine.flow import Flow
from handlers.engine.turn import Turn
from handlers.events.rsvp import voice
from handlers.staff import buttons, digest, ideas_view, stats, team, triage_flow
from handlers.staff.common import staff_only
from handlers.staff.ideas_view import STAFF


async def list_ideas(turn: Turn) -> None:
    """/ideas, or /ideas in_review for one status."""
    await ideas_view.list_named(turn, turn.inbound.argument or "")


async def open_idea(turn: Turn) -> None:
    await ideas_view.open_idea(turn, turn.inbound.argument)


async def show_digest(turn: Turn) -> None:
    """/resumen: the digest so far, without changing what the next scheduled one covers."""
    since, until = await digest.window(turn.repos, turn.settings, turn.now)
    turn.replies.extend(await digest.build(turn.repos, voice(turn), since, until, turn.now))


FLOW = Flow(
    name="staff",
    questions=triage_flow.QUESTIONS,
    answers=triage_flow.ANSWERS,
    typed=triage_flow.TYPED,
    group_typed=triage_flow.TYPED,
    staff_steps=triage_flow.STEPS,
    buttons={STAFF: buttons.on_button},
    commands={
        "ideas": staff_only(list_ideas, takes_argument=True),
        "idea": staff_only(open_idea, takes_argument=True),
        "stats": staff_only(stats.show),
        "digest": staff_only(show_digest),
        # The team itself: each checks the caller (admins manage; /vincular needs a code).
        "team": staff_only(team.show_team),
        "team_add": team.add_member,
        "team_remove": team.remove_member,
        "link_group": team.link_group,
    },
)

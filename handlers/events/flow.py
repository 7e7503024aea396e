"""Events as one flow: residents' RSVPs from any step (and the consent they need), and the
staff's guided new event (/nuevo_evento)."""

from handlers.engine.flow import Flow
from handlers.engine.state import Step
from handlers.events import new_event, rsvp
from handlers.events.cards import EVENT
from handlers.staff.common import staff_only

FLOW = Flow(
    name="events",
    questions={Step.EVENT_CONSENT: rsvp.ask_event_consent, **new_event.QUESTIONS},
    answers={Step.EVENT_CONSENT: rsvp.on_event_consent, **new_event.ANSWERS},
    typed=new_event.TYPED,
    # A pin is a place sent in the group, not words: it answers there too.
    group_typed=new_event.TYPED | {Step.NEW_EVENT_PIN},
    staff_steps=new_event.STEPS,
    buttons={EVENT: rsvp.on_event_button},
    commands={"new_event": staff_only(new_event.start)},
)

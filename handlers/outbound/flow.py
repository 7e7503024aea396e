"""Broadcasts as one flow: /difundir (/broadcast), the staff's guided form (its steps,
questions and answers). Only staff may start it; the command checks the caller."""

from handlers.engine.flow import Flow
from handlers.outbound import broadcast_form
from handlers.staff.common import staff_only

FLOW = Flow(
    name="outbound",
    questions=broadcast_form.QUESTIONS,
    answers=broadcast_form.ANSWERS,
    typed=broadcast_form.TYPED,
    group_typed=broadcast_form.TYPED,
    staff_steps=broadcast_form.STEPS,
    commands={"broadcast": staff_only(broadcast_form.start)},
)

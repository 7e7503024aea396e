"""Calls for ideas as one flow: the intake's question whether an idea is for an open call,
and the staff's calls (/convocatoria: the list, a new call, closing, results). The staff's
call buttons ride on the staff buttons' prefix (handlers/staff/buttons.py)."""

from handlers.calls import intake, staff_form
from handlers.engine.flow import Flow
from handlers.engine.state import Step
from handlers.staff.common import staff_only

FLOW = Flow(
    name="calls",
    questions={Step.CALL: intake.ask_call, **staff_form.QUESTIONS},
    answers={Step.CALL: intake.on_call, **staff_form.ANSWERS},
    typed=staff_form.TYPED,
    group_typed=staff_form.TYPED,
    staff_steps=staff_form.STEPS,
    commands={"call": staff_only(staff_form.show_calls, takes_argument=True)},
)

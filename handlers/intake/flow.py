"""The idea intake as one flow: the questions from the resident's role to the summary, and
changing an answer from it. Whether the idea is for an open call is the calls' flow."""

from handlers.engine.flow import Flow
from handlers.engine.state import Step
from handlers.intake.answers import INTAKE_ANSWERS
from handlers.intake.navigation import go_back
from handlers.intake.questions import QUESTIONS
from handlers.intake.review import on_edit, on_summary

FLOW = Flow(
    name="intake",
    questions=QUESTIONS,
    answers={**INTAKE_ANSWERS, Step.SUMMARY: on_summary, Step.EDIT: on_edit},
    typed=frozenset((Step.PROBLEM, Step.LOCATION, Step.IDEA, Step.NAME, Step.CONTACT)),
    back=go_back,
)

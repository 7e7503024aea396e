"""The idea intake as one flow: the questions from the resident's role to the summary, and
changing an answer from it. Whether the idea is for an open call is the calls' flow."""

from handlers.engine.flow import Flow
from handlers.engine.state import Step
from handlers.intake.answers import INTAKE_ANSWERS
from handlers.intake.navigation import go_back
from handlers.intake.questions import QUESTIONS
from handlers.intake.review import on_edit, on_summary
from handlers.intake.similar import (
    ask_similar,
    ask_similar_detail,
    on_similar,
    on_similar_detail,
)

FLOW = Flow(
    name="intake",
    questions={
        **QUESTIONS,
        Step.SIMILAR: ask_similar,
        Step.SIMILAR_DETAIL: ask_similar_detail,
    },
    answers={
        **INTAKE_ANSWERS,
        Step.SIMILAR: on_similar,
        Step.SIMILAR_DETAIL: on_similar_detail,
        Step.SUMMARY: on_summary,
        Step.EDIT: on_edit,
    },
    typed=frozenset(
        (Step.PROBLEM, Step.LOCATION, Step.IDEA, Step.NAME, Step.CONTACT, Step.SIMILAR_DETAIL)
    ),
    back=go_back,
)

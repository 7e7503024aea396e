"""A resident's rights as one flow: /mis_datos, /corregir, /borrar and /privacidad."""

from handlers.engine.flow import Flow
from handlers.privacy import rights

FLOW = Flow(
    name="privacy",
    questions=rights.QUESTIONS,
    answers=rights.ANSWERS,
    typed=frozenset(rights.TYPED),
    commands={
        "my_data": rights.show_my_data,
        "correct": rights.correct,
        "delete_me": rights.confirm_erase,
        "privacy": rights.show_consents,
    },
)

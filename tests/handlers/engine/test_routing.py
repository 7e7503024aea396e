"""The routing tables: built once from the list of flows, each step, button prefix and command
owned by exactly one flow, and a list of flows that does not fit together refused clearly."""

import subprocess
import sys
from collections import Counter
from dataclasses import replace

import pytest

from handlers.engine.flow import Flow, RoutesError, build_routes
from handlers.engine.state import Step
from handlers.flows import FLOWS, routes


def _owners(kind: str) -> Counter[object]:
    return Counter(key for flow in FLOWS for key in getattr(flow, kind))


def test_every_step_has_exactly_one_question_and_one_answer() -> None:
    questions, answers = _owners("questions"), _owners("answers")
    for step in Step:
        assert questions[step] == 1, f"{step}: {questions[step]} questions"
        assert answers[step] == 1, f"{step}: {answers[step]} answers"


def test_no_two_flows_claim_a_button_prefix_or_a_command() -> None:
    assert all(times == 1 for times in _owners("buttons").values())
    assert all(times == 1 for times in _owners("commands").values())


def test_every_flow_answers_its_own_typed_steps() -> None:
    for flow in FLOWS:
        for kind in ("typed", "group_typed", "staff_steps"):
            assert getattr(flow, kind) <= set(flow.answers), (flow.name, kind)


def test_the_tables_are_the_flows_together() -> None:
    built = routes()
    assert set(built.questions) == set(built.answers) == set(Step)
    assert built.typed == frozenset().union(*(flow.typed for flow in FLOWS))
    assert routes() is built  # built once


def test_a_module_alone_has_its_own_questions_whatever_was_imported_before() -> None:
    """No module fills in another's table: importing one flow changes no other's."""
    code = (
        "from handlers.intake.questions import QUESTIONS; n = len(QUESTIONS);"
        "import handlers.flows; from handlers.flows import routes; routes();"
        "assert len(QUESTIONS) == n, (n, len(QUESTIONS)); print(n)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _intake() -> Flow:
    return next(flow for flow in FLOWS if flow.name == "intake")


def _rest() -> list[Flow]:
    return [flow for flow in FLOWS if flow.name != "intake"]


def test_a_step_left_without_question_or_answer_is_named() -> None:
    intake = _intake()
    questions = {s: q for s, q in intake.questions.items() if s is not Step.PHOTOS}
    answers = {s: a for s, a in intake.answers.items() if s is not Step.PHOTOS}
    broken = replace(intake, questions=questions, answers=answers)
    with pytest.raises(RoutesError, match="step photos has no question"):
        build_routes([*_rest(), broken])


def test_a_step_two_flows_claim_is_named_with_both() -> None:
    intake = _intake()
    thief = Flow(name="thief", questions={Step.ROLE: intake.questions[Step.ROLE]},
                 answers={Step.ROLE: intake.answers[Step.ROLE]})  # fmt: skip
    with pytest.raises(RoutesError, match="question role is claimed by intake, thief"):
        build_routes([*FLOWS, thief])


def test_a_button_prefix_two_flows_claim_is_refused() -> None:
    events = next(flow for flow in FLOWS if flow.name == "events")
    copycat = Flow(name="copycat", buttons=dict(events.buttons))
    with pytest.raises(RoutesError, match="button prefix ev is claimed by events, copycat"):
        build_routes([*FLOWS, copycat])


def test_a_typed_step_a_flow_does_not_answer_is_refused() -> None:
    stray = replace(_intake(), typed=_intake().typed | {Step.BROADCAST_TEXT})
    with pytest.raises(RoutesError, match="intake: typed step bc_text is not one it answers"):
        build_routes([*_rest(), stray])


def test_the_first_look_at_messages_comes_from_one_flow() -> None:
    account = next(flow for flow in FLOWS if flow.name == "account")
    second = Flow(name="second", entry=account.entry)
    with pytest.raises(RoutesError, match="entry must come from exactly one flow"):
        build_routes([*FLOWS, second])
    with pytest.raises(RoutesError, match="entry must come from exactly one flow"):
        build_routes([replace(account, entry=None), *(f for f in FLOWS if f is not account)])

"""The routing tables: built once from the list of flows, each step, button prefix and command
owned by exactly one flow, and a list of flows that does not fit together refused clearly."""

import importlib
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from handlers.engine.flow import Flow, RoutesError, build_routes
from handlers.engine.state import Step
from handlers.flows import FLOWS, routes

HANDLERS = Path(__file__).resolve().parents[3] / "handlers"
# The machinery every flow plugs into, and the similar-ideas logic the intake, the staff
# commands and the digest share (handlers/similar: no conversation of its own).
NOT_FLOWS = {"engine", "similar"}


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


def _family_packages() -> list[str]:
    """The packages of handlers/ (folders with an __init__.py) other than the engine."""
    return sorted(path.parent.name for path in HANDLERS.glob("*/__init__.py")
                  if path.parent.name not in NOT_FLOWS)  # fmt: skip


def test_every_family_package_exports_one_flow_and_the_list_has_them_all() -> None:
    """A feature is found from the folder names: each family's flow.py exports its FLOW, named
    after its folder, and handlers/flows.py lists every one of them."""
    families = _family_packages()
    assert {"exports", "outbound", "staff"} <= set(families)
    for family in families:
        flow = importlib.import_module(f"handlers.{family}.flow").FLOW
        assert isinstance(flow, Flow) and flow.name == family, family
    assert sorted(flow.name for flow in FLOWS) == families


def test_a_flow_asks_answers_and_takes_buttons_with_its_own_package() -> None:
    """A step is asked and answered by the code of the family that owns it, not another's."""
    for flow in FLOWS:
        own = f"handlers.{flow.name}."
        handlers = [*flow.questions.values(), *flow.answers.values(), *flow.buttons.values()]
        strays = {h.__module__ for h in handlers if not h.__module__.startswith(own)}
        assert not strays, (flow.name, strays)


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

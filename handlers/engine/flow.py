"""A flow family as one value (its steps, questions, answers, buttons, commands), and the
routing tables built once from the list of flows, checked as they are built."""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from handlers.engine.state import Step
from handlers.engine.turn import (
    Answer,
    Back,
    ButtonHandler,
    Command,
    Entry,
    Question,
    Routes,
)


@dataclass(frozen=True, slots=True)
class Flow:
    """What one flow family brings to the conversation. Every step it names is its own: no
    other flow asks or answers it, and no other flow claims its button prefixes or commands."""

    name: str
    questions: Mapping[Step, Question] = field(default_factory=dict)
    answers: Mapping[Step, Answer] = field(default_factory=dict)
    # Steps where a typed number is a free answer ("Calle 80"), not the number of a button.
    typed: frozenset[Step] = frozenset()
    # Steps where, in the staff group, text and places are answers (the rest is talk).
    group_typed: frozenset[Step] = frozenset()
    # Steps of the staff's own flows: their buttons work in the group, /cancelar leaves them.
    staff_steps: frozenset[Step] = frozenset()
    buttons: Mapping[str, ButtonHandler] = field(default_factory=dict)  # work from any step
    commands: Mapping[str, Command] = field(default_factory=dict)  # by action name
    entry: Entry | None = None  # the first look at every message (one flow only)
    back: Back | None = None  # what a "back" button does (one flow only)


class RoutesError(ValueError):
    """The list of flows does not make one consistent conversation."""


def _claimed_twice(flows: Sequence[Flow], keys: Iterable[object], what: str) -> list[str]:
    """Problems for keys (steps, prefixes, actions) more than one flow claims."""
    counts = Counter(keys)
    problems = []
    for key, times in counts.items():
        if times > 1:
            owners = [f.name for f in flows if key in _owned(f, what)]
            problems.append(f"{what} {key!s} is claimed by {', '.join(owners)}")
    return problems


def _owned(flow: Flow, what: str) -> Iterable[object]:
    match what:
        case "question":
            return flow.questions
        case "answer":
            return flow.answers
        case "button prefix":
            return flow.buttons
        case "command":
            return flow.commands
    return ()


def _problems(flows: Sequence[Flow]) -> list[str]:
    problems: list[str] = []
    for what in ("question", "answer", "button prefix", "command"):
        keys = [key for flow in flows for key in _owned(flow, what)]
        problems += _claimed_twice(flows, keys, what)
    questions = {step for flow in flows for step in flow.questions}
    answers = {step for flow in flows for step in flow.answers}
    problems += [f"step {step} has no question" for step in Step if step not in questions]
    problems += [f"step {step} has no answer" for step in Step if step not in answers]
    for flow in flows:
        for kind in ("typed", "group_typed", "staff_steps"):
            strays = sorted(getattr(flow, kind) - set(flow.answers))
            problems += [
                f"{flow.name}: {kind} step {step} is not one it answers" for step in strays
            ]
        owns_questions = set(flow.questions) == set(flow.answers)
        if not owns_questions:
            problems.append(f"{flow.name}: asks and answers different steps")
    for hook in ("entry", "back"):
        givers = [flow.name for flow in flows if getattr(flow, hook) is not None]
        if len(givers) != 1:
            problems.append(f"{hook} must come from exactly one flow, not {givers or 'none'}")
    return problems


def build_routes(flows: Sequence[Flow]) -> Routes:
    """The routing tables of these flows; RoutesError naming every problem when they do not
    fit together (a step without a question, a button prefix claimed twice, ...)."""
    problems = _problems(flows)
    if problems:
        raise RoutesError("the flows do not fit together:\n  " + "\n  ".join(problems))
    entry = next(flow.entry for flow in flows if flow.entry is not None)
    back = next(flow.back for flow in flows if flow.back is not None)
    return Routes(
        questions={step: q for flow in flows for step, q in flow.questions.items()},
        answers={step: a for flow in flows for step, a in flow.answers.items()},
        typed=frozenset().union(*(flow.typed for flow in flows)),
        group_typed=frozenset().union(*(flow.group_typed for flow in flows)),
        staff_steps=frozenset().union(*(flow.staff_steps for flow in flows)),
        buttons={prefix: b for flow in flows for prefix, b in flow.buttons.items()},
        commands={action: c for flow in flows for action, c in flow.commands.items()},
        entry=entry,
        back=back,
    )

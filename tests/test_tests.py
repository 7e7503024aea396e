"""The tests' own rules: a test waits on an event, a condition or a moved clock, never on a
fixed sleep (a sleep long enough on this machine is too short on a busy one, and makes every
run slower). The few sleeps that pace a fake or play people are listed, each with its reason."""

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SLEEPING_MODULES = {"asyncio", "time", "anyio", "trio"}

# (file under tests/, the function it is in, the call as written): why it paces something
# instead of waiting for it. A new entry needs as good a reason; `asyncio.sleep(0)` (let the
# loop run what is ready) is never a wait and needs none.
PACING = {
    ("fakes/wait.py", "wait_for", "asyncio.sleep(every)"):
        "the one shared polling loop, between two looks at its condition",
    ("fakes/telegram_api.py", "_method",
     "asyncio.sleep(self.faults.random() * self.delay_seconds)"):
        "a slow Bot API answer, injected on purpose",
    ("bot/channels/telegram/test_http.py", "slow", "asyncio.sleep(0.6)"):
        "a server that answers after the client's default read time-out",
    ("bot/channels/telegram/test_load.py", "flood", "asyncio.sleep(rng.random() * 0.5)"):
        "the crowd writes at people's pace",
    ("bot/channels/telegram/test_load.py", "calmly", "asyncio.sleep(1.5)"):
        "calm residents write within the flood limits",
    ("bot/channels/telegram/test_load.py", "newcomer_after_a_while", "asyncio.sleep(3)"):
        "the newcomer comes once the crowd's backlog has built up",
    ("storage/test_postgres_database.py", "conversation", "asyncio.sleep(0.5)"):
        "a lock held longer than the lock pool's own wait (a library's time-out, in real time)",
}  # fmt: skip


def _sleep_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names a module sleeps through: modules (`asyncio`, `import time as t`) and
    functions (`from asyncio import sleep`)."""
    modules, functions = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name in SLEEPING_MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module in SLEEPING_MODULES:
            functions |= {a.asname or a.name for a in node.names if a.name == "sleep"}
    return modules, functions


def _is_zero(call: ast.Call) -> bool:
    return (
        len(call.args) == 1
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value == 0
        and not call.keywords
    )


def sleeps(source: str) -> Iterator[tuple[str, str, int]]:
    """Every sleep in `source` but `sleep(0)`: (enclosing function, the call, line)."""
    tree = ast.parse(source)
    modules, functions = _sleep_names(tree)

    def visit(node: ast.AST, function: str) -> Iterator[tuple[str, str, int]]:
        for child in ast.iter_child_nodes(node):
            inside = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inside = child.name
            if isinstance(child, ast.Call) and _sleeps(child.func) and not _is_zero(child):
                call = " ".join((ast.get_source_segment(source, child) or "").split())
                yield inside, call, child.lineno
            yield from visit(child, inside)

    def _sleeps(func: ast.expr) -> bool:
        if isinstance(func, ast.Attribute):
            return (
                func.attr == "sleep" and isinstance(func.value, ast.Name)
                and func.value.id in modules
            )  # fmt: skip
        return isinstance(func, ast.Name) and func.id in functions

    yield from visit(tree, "<module>")


def _all_sleeps() -> dict[tuple[str, str, str], list[int]]:
    found: dict[tuple[str, str, str], list[int]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        name = path.relative_to(TESTS).as_posix()
        for function, call, line in sleeps(path.read_text("utf-8")):
            found.setdefault((name, function, call), []).append(line)
    return found


def test_no_fixed_sleep_in_the_tests_but_the_listed_pacing_ones() -> None:
    unlisted = [
        f"tests/{name}:{lines[0]} {call} (in {function})"
        for (name, function, call), lines in _all_sleeps().items()
        if (name, function, call) not in PACING
    ]
    assert not unlisted, (
        "wait on an event, a condition (tests/fakes/wait.py), the outbox worker "
        "(Running.caught_up) or a moved clock instead of sleeping; a sleep that paces a fake "
        f"or plays people goes in PACING with its reason: {unlisted}"
    )


def test_every_listed_pacing_sleep_still_exists() -> None:
    gone = set(PACING) - set(_all_sleeps())
    assert not gone, f"no longer in the tests, take them off PACING: {gone}"


def test_the_sleep_finder_finds_sleeps_however_imported() -> None:
    source = (
        "import asyncio\nimport time as t\nfrom asyncio import sleep as nap\n"
        "async def a():\n    await asyncio.sleep(0.3)\n    await asyncio.sleep(0)\n"
        "    await nap(DELAY)\n"
        "def b():\n    t.sleep(1)\n    other.sleep(5)\n"
    )
    assert [(f, c) for f, c, _ in sleeps(source)] == [
        ("a", "asyncio.sleep(0.3)"),
        ("a", "nap(DELAY)"),
        ("b", "t.sleep(1)"),
    ]

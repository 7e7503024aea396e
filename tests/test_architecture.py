"""The dependency rules of DESIGN.md: handlers/ stays channel-agnostic, the engine imports no
flow, and no module imports itself back through others (no import circle, not even one
hidden in a function). And the project's shape: no `type: ignore` (the type checker's word
is fixed, not silenced), no function over MAX_FUNCTION_LINES."""

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM = {"telegram", "httpx", "aiohttp", "starlette", "apscheduler", "aiosqlite", "uvicorn",
            "prometheus_client"}  # fmt: skip
PROJECT = ("bot", "handlers", "storage")
TYPED = (*PROJECT, "bench", "tests")  # every folder mypy checks
MAX_FUNCTION_LINES = 50  # a function does one thing; a longer one is split into named steps
IGNORE = re.compile(r"#.*\btype:\s*ignore\b")
# Libraries handlers/ imports inside the one function that needs them: each costs start-up
# time (a second for matplotlib) that only an export or a digest should pay.
LAZY_LIBRARIES = {
    ("handlers.exports.tables", "openpyxl"),
    ("handlers.exports.tables", "openpyxl.cell"),
    ("handlers.exports.tables", "openpyxl.styles"),
    ("handlers.exports.importing", "openpyxl"),
    ("handlers.staff.chart", "matplotlib"),
    ("handlers.staff.chart", "matplotlib.figure"),
    ("handlers.staff.chart", "matplotlib.ticker"),
    # Ranking many similar-ideas candidates at once; the model's package has loaded it.
    ("handlers.similar.vectors", "numpy"),
    # About 70 ms, paid only where the database is PostgreSQL.
    ("storage.postgres", "psycopg"),
    ("storage.postgres", "psycopg.adapt"),
    ("storage.postgres", "psycopg_pool"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    """Every module of bot/, handlers/ and storage/ by its dotted name."""
    return {
        _module_name(path): path for folder in PROJECT for path in (ROOT / folder).rglob("*.py")
    }


MODULES = _modules()


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The dotted name an ImportFrom names, relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The project modules an import statement loads (a package's __init__ included)."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = _absolute(module, node)
        targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
    for target in targets:
        parts = target.split(".")
        for end in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            name = ".".join(parts[:end])
            if name in MODULES and name != module:
                yield name


def _local_imports(tree: ast.Module) -> set[ast.AST]:
    """Import statements inside a function (not run when the module is imported)."""
    local: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            local |= {n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
    return local


def _graph() -> dict[str, set[str]]:
    """Which project modules each one imports, at module level or inside a function."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text("utf-8"))
        edges: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= set(_imported(module, node))
        graph[module] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (a -> b -> ... -> a), or None (depth-first, colours)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for target in sorted(graph[module]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                found = visit(target)
                if found:
                    return found
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            found = visit(module)
            if found:
                return found
    return None


def test_handlers_import_no_platform_or_io_library() -> None:
    for path in (ROOT / "handlers").rglob("*.py"):
        assert not _imports(path) & PLATFORM, path


def test_handlers_and_storage_never_import_bot() -> None:
    for folder in ("handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            assert "bot" not in _imports(path), path


def test_storage_never_imports_handlers() -> None:
    for path in (ROOT / "storage").rglob("*.py"):
        assert "handlers" not in _imports(path), path


def test_no_import_circle_in_bot_handlers_or_storage() -> None:
    """Imports inside functions count too: a circle cannot be hidden by importing late."""
    cycle = _cycle(_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_engine_imports_no_flow() -> None:
    """handlers/engine/ is the machinery: the flows plug into it (handlers/flows.py lists
    them), it never reaches for one."""
    graph = _graph()
    for module in (name for name in MODULES if name.startswith("handlers.engine")):
        flows = {
            target
            for target in graph[module]
            if target.startswith("handlers.") and not target.startswith("handlers.engine")
        }
        assert not flows, f"{module} imports {sorted(flows)}"


def test_handlers_and_storage_import_inside_functions_only_heavy_libraries() -> None:
    """No project module is imported late (a sign of a circle being dodged); the libraries
    imported late are the listed heavy ones."""
    for folder in ("handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            module = _module_name(path)
            for node in _local_imports(ast.parse(path.read_text("utf-8"))):
                assert isinstance(node, ast.Import | ast.ImportFrom)
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [_absolute(module, node)]
                )
                for name in names:
                    assert (module, name) in LAZY_LIBRARIES, f"{module} imports {name} late"


def _ignores(source: str) -> list[int]:
    """The lines with a `# type: ignore` comment (the words inside a string do not count)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.start[0] for t in tokens if t.type == tokenize.COMMENT and IGNORE.match(t.string)]


def _long_functions(source: str) -> list[tuple[str, int]]:
    """Each function (nested ones too) longer than MAX_FUNCTION_LINES, with its length."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append((node.name, length))
    return found


def test_no_type_ignore_anywhere() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in TYPED
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in _ignores(path.read_text("utf-8"))
    ]
    assert found == [], "fix the types instead: " + ", ".join(found)


def test_no_function_in_bot_handlers_or_storage_is_over_50_lines() -> None:
    found = [
        f"{path.relative_to(ROOT)}::{name} ({length} lines)"
        for folder in PROJECT
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name, length in _long_functions(path.read_text("utf-8"))
    ]
    assert found == [], "split into well-named steps: " + ", ".join(found)


def test_the_shape_checks_find_what_they_look_for() -> None:
    ignored = 'x = 1\ny = f(x)  # type: ignore[arg-type]\nz = "# type: ignore"\n'
    assert _ignores(ignored) == [2]
    body = "".join(f"    x = {n}\n" for n in range(MAX_FUNCTION_LINES))
    assert _long_functions(f"def long():\n{body}") == [("long", MAX_FUNCTION_LINES + 1)]
    assert _long_functions(f"def short():\n{body[: body.rindex('    x')]}") == []

"""The dependency rules of DESIGN.md: handlers/ stays channel-agnostic."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM = {"telegram", "httpx", "aiohttp", "starlette", "apscheduler", "aiosqlite", "uvicorn"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


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

"""The README and the docs: every link they hold resolves inside the repository (no
../shared/ or a file that moved), so a lab's clone reads whole."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) and ![alt](target), and <a href="target">: what renders as a link.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=\"([^\"]+)\"")


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.DOTALL)  # code, not links
    return [a or b for a, b in LINK.findall(text)]


def _anchors(page: Path) -> set[str]:
    """GitHub's ids of a page's headings."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", page.read_text("utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_the_pages_exist_and_link_each_other() -> None:
    assert all(page.is_file() for page in PAGES)
    assert (ROOT / "docs" / "architecture.md") in PAGES
    linked = {link.split("#")[0] for link in _links(ROOT / "README.md")}
    assert {"docs/architecture.md", "bench/README.md"} <= linked


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository(page: Path) -> None:
    for link in _links(page):
        if re.match(r"^(https?|mailto):", link):
            continue  # a web address (BotFather, Meta's dashboard): not a file of ours
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.is_relative_to(ROOT), f"{page.name}: {link} points outside the repository"
        assert target.exists(), f"{page.name}: {link} does not exist"
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target), f"{page.name}: {link} has no such heading"

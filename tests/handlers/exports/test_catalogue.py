"""The public catalogue: only what residents allowed, no personal data (checked against the
database), photos only where allowed, and a page that renders and filters in a real headless
browser (Debian's chromium) opened from disk."""

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from handlers.engine.catalog import Catalog
from handlers.engine.settings import LabSettings
from handlers.exports.catalogue import Catalogue, mask
from storage.database import Database
from storage.models import Focus, IdeaFilter, NewIdea, Publish, Role
from tests.fakes.clock import FakeClock
from tests.handlers.exports.helpers import seed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NEEDS_CHROMIUM = "needs Debian's chromium: sudo apt-get install chromium (.ci/run installs it)"


async def add_talkative_idea(database: Database, now: datetime) -> str:
    """A resident who wrote their phone, e-mail and name into the idea itself."""
    async with database.transaction() as repos:
        resident = await repos.residents.get_or_create("telegram", "777", now)
        new = NewIdea(
            resident_id=resident.id, role=Role.RESIDENT, language="es",
            problem="Soy Dora Lucía Quintero y el parque no tiene luz; llámeme al 310 555 0123",
            idea="Escríbanme a dora.quintero@example.org para organizar la minga",
            category="public_space", focus=Focus.EXTERNAL, location_text="Calle 80 # 12-34",
            latitude=4.4812, longitude=-74.1102, anonymous=False,
            contact_name="Dora Lucía Quintero", contact="310 555 0123", publish=Publish.TEXT,
        )  # fmt: skip
        _, reference = await repos.ideas.create(new, prefix="MNG", year=2026, now=now)
    return reference


@pytest.fixture
async def published(database: Database, catalog: Catalog, clock: FakeClock,
                    tmp_path: Path) -> tuple[Path, list[str]]:  # fmt: skip
    references = await seed(database, clock.now())
    references.append(await add_talkative_idea(database, clock.now()))
    media = tmp_path / "media"
    for path in ("telegram/p0-0.jpg", "telegram/p3-0.jpg", "telegram/p3-1.jpg"):
        (media / path).parent.mkdir(parents=True, exist_ok=True)
        (media / path).write_bytes(b"\xff\xd8\xff\xe0 a photo")
    out = tmp_path / "catalogue"
    out.mkdir()
    catalogue = Catalogue(database.reader(), LabSettings(), catalog, media, out, clock.now())
    assert await catalogue.write() == 4  # the anonymous one did not allow it
    return out, references


async def test_only_allowed_ideas_and_no_personal_data(
    published: tuple[Path, list[str]], database: Database
) -> None:
    out, references = published
    page = (out / "index.html").read_text("utf-8")
    assert all(reference in page for reference in (references[0], references[1],
                                                   references[3], references[4]))  # fmt: skip
    assert references[2] not in page  # publish = no
    async for idea in database.reader().idea_search.stream(IdeaFilter()):
        for secret in (idea.contact_name, idea.contact):
            if secret:
                assert secret not in page, secret
                assert secret.split()[-1] not in page, secret  # not even a surname
        for number in (idea.latitude, idea.longitude):
            if number is not None:
                assert str(number) not in page and f"{number:.3f}" not in page
    assert "Calle 80 # 12-34" not in page  # an address is not a neighbourhood
    assert "La Flora" in page and "Danubio" in page  # neighbourhoods are
    assert "310 555 0123" not in page and "dora.quintero" not in page
    assert "[dato oculto]" in page
    # Text is data: the formula-looking problem is escaped, not markup.
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in page


async def test_photos_only_where_allowed(published: tuple[Path, list[str]]) -> None:
    out, references = published
    photos = sorted(p.name for p in (out / "photos").iterdir())
    assert photos == [f"{references[0]}-1.jpg"]  # idea 3 has photos but allowed text only
    assert f'src="photos/{references[0]}-1.jpg"' in (out / "index.html").read_text("utf-8")


# Spanish prepositions a name from the config must never follow bare: "compartió con
# Alcaldía Local de Usme" needs an article the name does not bring ("con la Alcaldía").
PREPOSITIONS = ("a", "ante", "con", "de", "desde", "en", "para", "por")


async def test_names_from_the_config_are_placed_where_no_article_is_needed(
    published: tuple[Path, list[str]], catalog: Catalog
) -> None:
    out, _ = published
    page = (out / "index.html").read_text("utf-8")
    lab = LabSettings()
    text = re.sub(r"<[^>]+>", "\n", page)  # what a reader sees, tag by tag
    for name in (lab.organisation, lab.name):
        for word in PREPOSITIONS:
            assert not re.search(rf"\b{word} {re.escape(name)}", text, re.IGNORECASE), (word, name)
    assert lab.organisation in text  # the organisation is still named, on its own line
    assert catalog.text("es", "catalogue.intro", lab=lab.name) in page


def test_mask_hides_contacts_typed_into_texts() -> None:
    assert mask("Llame al +57 300 555 0101 o a ana@x.org", "[x]") == "Llame al [x] o a [x]"
    assert mask("Calle 80 # 12-34, año 2026", "[x]") == "Calle 80 # 12-34, año 2026"


def chromium(*arguments: str) -> str:
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-dev-shm-usage", "--virtual-time-budget=3000", *arguments],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return result.stdout


@pytest.mark.skipif(CHROMIUM is None, reason=NEEDS_CHROMIUM)
async def test_the_page_renders_and_filters_in_a_headless_browser(
    published: tuple[Path, list[str]], tmp_path: Path
) -> None:
    out, _ = published
    url = (out / "index.html").as_uri()
    dom = chromium("--dump-dom", url)
    assert "Mostrando 4 de 4 ideas" in dom  # the page's script ran
    filtered = chromium("--dump-dom", url + "#category=mobility")
    assert "Mostrando 2 de 4 ideas" in filtered
    shown = re.findall(r'<article data-category="(\w+)"[^>]*?(hidden="")?>', filtered)
    assert sorted(c for c, hidden in shown if not hidden) == ["mobility", "mobility"]
    searched = chromium("--dump-dom", url + "#q=parque")
    assert "Mostrando 1 de 4 ideas" in searched
    screenshot = tmp_path / "catalogue.png"
    chromium(f"--screenshot={screenshot}", "--window-size=1200,1400", url)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

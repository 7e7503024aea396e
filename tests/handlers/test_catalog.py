"""The text catalogs: every key in both languages, with the same placeholders, all used."""

import re
from pathlib import Path

import pytest

from handlers.catalog import Catalog, CatalogError, placeholders

ROOT = Path(__file__).resolve().parents[2]


def test_every_key_exists_in_spanish_and_english(catalog: Catalog) -> None:
    assert catalog.keys("es") == catalog.keys("en")


def test_placeholders_match_between_languages(catalog: Catalog) -> None:
    for key in catalog.keys("es"):
        assert placeholders(catalog.raw("es", key)) == placeholders(catalog.raw("en", key)), key


def test_no_text_is_empty(catalog: Catalog) -> None:
    for language in ("es", "en"):
        for key in catalog.keys(language):
            assert catalog.raw(language, key).strip(), f"{language}:{key}"


def test_every_key_used_in_code_exists(catalog: Catalog) -> None:
    """A key written in code (t("x.y"), label keys) that the catalogs lack fails here."""
    used: set[str] = set()
    for path in [*ROOT.glob("handlers/**/*.py"), *ROOT.glob("bot/**/*.py")]:
        used |= set(re.findall(r'"((?:[a-z_]+)\.(?:[a-z_]+))"', path.read_text()))
    known = catalog.keys("es")
    sections = {key.split(".")[0] for key in known}
    missing = {key for key in used if key.split(".")[0] in sections and key not in known}
    assert not missing
    assert len(used & known) > 40  # the scan does find the keys the code uses


def test_spanish_speaks_with_usted_not_tu(catalog: Catalog) -> None:
    informal = re.compile(
        r"\b(tú|tu|tus|tienes|quieres|puedes|cuéntanos|escríbenos|envíanos)\b", re.I
    )
    for key in catalog.keys("es"):
        assert not informal.search(catalog.raw("es", key)), key


def test_a_lab_can_reword_a_text(tmp_path: Path) -> None:
    (tmp_path / "es.toml").write_text('[problem]\nask = "¿Qué pasa en su barrio?"\n', "utf-8")
    catalog = Catalog.load(tmp_path)
    assert catalog.text("es", "problem.ask") == "¿Qué pasa en su barrio?"
    assert catalog.text("en", "problem.ask").startswith("What is the problem?")


def test_an_override_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text('[problem]\nasks = "typo"\n', "utf-8")
    with pytest.raises(CatalogError, match=r"unknown text key 'problem\.asks'"):
        Catalog.load(tmp_path)


def test_an_override_that_drops_a_placeholder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "es.toml").write_text('[receipt]\nthanks = "¡Gracias!"\n', "utf-8")
    with pytest.raises(
        CatalogError, match=r"receipt.thanks must use the placeholders \{reference\}"
    ):
        Catalog.load(tmp_path)


def test_an_override_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "es.toml").write_text("[problem\n", "utf-8")
    with pytest.raises(CatalogError, match=r"es\.toml"):
        Catalog.load(tmp_path)

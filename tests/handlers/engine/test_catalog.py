"""The text catalogs: every key in both languages, with the same placeholders, all used."""

import re
from pathlib import Path

import pytest

from handlers.engine.catalog import (
    Catalog,
    CatalogError,
    entry_placeholders,
    plural_form,
    plural_forms_needed,
)

ROOT = Path(__file__).resolve().parents[3]


def test_every_key_exists_in_spanish_and_english(catalog: Catalog) -> None:
    assert catalog.keys("es") == catalog.keys("en")


def _all_placeholders(catalog: Catalog, language: str, key: str) -> set[str]:
    return entry_placeholders(catalog.forms(language, key))


def test_placeholders_match_between_languages(catalog: Catalog) -> None:
    for key in catalog.keys("es"):
        assert _all_placeholders(catalog, "es", key) == _all_placeholders(catalog, "en", key), key


def test_no_text_is_empty(catalog: Catalog) -> None:
    for language in ("es", "en"):
        for key in catalog.keys(language):
            for form in catalog.forms(language, key).values():
                assert form.strip(), f"{language}:{key}"


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
        for form in catalog.forms("es", key).values():
            assert not informal.search(form), key


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


# -- Plurals: every count chooses its CLDR form ------------------------------------------------

# Placeholders that carry a number of things ({number}, {position}, {id} are ordinals).
COUNTS = {"count", "total", "max", "min", "free", "capacity", "told", "entries", "winners",
          "shortlisted", "sent", "failed", "blocked", "skipped", "days", "minutes", "shown",
          "first", "last", "points", "files"}  # fmt: skip
# A number followed by a word ("{count} ideas", "{max} caracteres") must agree with it.
COUNTED_NOUN = re.compile(r"\{(" + "|".join(sorted(COUNTS)) + r")\}\s+(?!de\b|of\b|a\b|to\b)(\w+)")


def _texts(catalog: Catalog, language: str) -> list[tuple[str, str]]:
    return [(key, form) for key in sorted(catalog.keys(language))
            for form in catalog.forms(language, key).values()]  # fmt: skip


def test_counted_texts_have_the_forms_each_language_needs(catalog: Catalog) -> None:
    assert plural_forms_needed("en") == {"one", "other"}
    assert {"one", "other"} <= plural_forms_needed("es")
    assert catalog.counted_keys("es") == catalog.counted_keys("en")
    assert len(catalog.counted_keys("es")) > 20
    for language in ("es", "en"):
        for key in catalog.counted_keys(language):
            assert set(catalog.forms(language, key)) == plural_forms_needed(language), key


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_every_counted_text_uses_the_cldr_form_of_its_count(
    catalog: Catalog, language: str, count: int
) -> None:
    expected_form = {0: "other", 1: "one", 2: "other", 5: "other"}[count]
    assert plural_form(language, count) == expected_form
    for key in catalog.counted_keys(language):
        forms = catalog.forms(language, key)
        values = {name: count for name in _all_placeholders(catalog, language, key)}
        values = {name: f"<{name}>" if name not in COUNTS else count for name in values}
        shown = catalog.text(language, key, **{**values, "count": count})
        assert shown == forms[expected_form].format_map({**values, "count": count}), key


def test_a_count_without_its_forms_is_not_shown(catalog: Catalog) -> None:
    """Any text where a number is followed by a noun is a plural table (no "1 ideas")."""
    for language in ("es", "en"):
        for key, form in _texts(catalog, language):
            if COUNTED_NOUN.search(form):
                assert key in catalog.counted_keys(language), f"{language}:{key}: {form}"


def test_no_bare_number_in_parentheses(catalog: Catalog) -> None:
    """A count in parentheses says what it counts: "(3 caracteres)", never "(3)"."""
    bare = re.compile(r"\(\{(" + "|".join(sorted(COUNTS)) + r")\}\)")
    for language in ("es", "en"):
        for key, form in _texts(catalog, language):
            assert not bare.search(form), f"{language}:{key}"


def test_a_counted_text_needs_its_count(catalog: Catalog) -> None:
    with pytest.raises(TypeError, match=r"mine\.older"):
        catalog.text("es", "mine.older")


def test_a_lab_can_reword_a_counted_text_with_its_forms(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text(
        '[mine]\nolder = { one = "one more", other = "{count} more" }\n', "utf-8"
    )
    catalog = Catalog.load(tmp_path)
    assert catalog.text("en", "mine.older", count=1) == "one more"
    assert catalog.text("en", "mine.older", count=3) == "3 more"


def test_an_old_plain_override_of_a_counted_text_still_loads(tmp_path: Path) -> None:
    (tmp_path / "es.toml").write_text('[mine]\nolder = "(y {count} más)"\n', "utf-8")
    catalog = Catalog.load(tmp_path)
    assert catalog.text("es", "mine.older", count=1) == "(y 1 más)"


def test_an_override_missing_a_plural_form_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text('[mine]\nolder = { other = "{count} more" }\n', "utf-8")
    with pytest.raises(CatalogError, match=r"mine\.older must give the forms one, other"):
        Catalog.load(tmp_path)


def test_forms_on_a_text_without_a_count_are_refused(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text('[problem]\nask = { one = "a", other = "b" }\n', "utf-8")
    with pytest.raises(CatalogError, match=r"problem\.ask does not show a count"):
        Catalog.load(tmp_path)


def test_an_other_form_must_keep_every_placeholder(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text(
        '[mine]\nolder = { one = "(and {count} older one)", other = "(and more)" }\n', "utf-8"
    )
    with pytest.raises(CatalogError, match="other"):
        Catalog.load(tmp_path)


# -- Texts people read in chat ------------------------------------------------------------------


def test_no_backticks_in_chat_texts(catalog: Catalog) -> None:
    """Messages go without parse mode: Markdown would show as raw backticks."""
    for language in ("es", "en"):
        for key, form in _texts(catalog, language):
            assert "`" not in form, f"{language}:{key}"


def test_english_uses_english_quotes(catalog: Catalog) -> None:
    for key, form in _texts(catalog, "en"):
        if key.startswith("language."):
            continue  # the language question is asked in both languages
        assert "«" not in form and "»" not in form, key


def test_buttons_that_mean_the_same_say_it_the_same_way(catalog: Catalog) -> None:
    """Yes to news (of one's ideas, or of the lab) is one label, in "usted"."""
    for language in ("es", "en"):
        assert catalog.text(language, "consent.updates_yes") == catalog.text(
            language, "subscribe.yes"
        )


def test_privacy_buttons_say_what_they_do(catalog: Catalog) -> None:
    """Each /privacidad button names the action and what it applies to (not "No news")."""
    for language in ("es", "en"):
        keys = ("updates_on", "updates_off", "announcements_on", "announcements_off")
        labels = [catalog.text(language, f"consents.{key}") for key in keys]
        assert len(set(labels)) == 4
        assert all(len(label.split()) >= 4 for label in labels), labels

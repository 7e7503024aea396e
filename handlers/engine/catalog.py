"""Editable text catalogs (handlers/locales/<lang>.toml), with optional per-lab overrides.

A text that shows a count is a table of CLDR plural forms, e.g.
`older = { one = "(and 1 older one)", other = "(and {count} older ones)" }`; `text()` picks
the form Babel's plural rules give for the value named `count`.
"""

import string
import tomllib
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel import Locale

from handlers.engine.settings import LANGUAGES

Translator = Callable[..., str]
# A text: one string, or its plural forms by CLDR category ("one", "many", "other", ...).
Entry = str | dict[str, str]

CLDR_FORMS = frozenset({"zero", "one", "two", "few", "many", "other"})
COUNT = "count"  # the value whose number chooses the plural form


class CatalogError(ValueError):
    """A catalog or override file that cannot be used; the message names the file and key."""


def _is_plural(table: Mapping[str, Any]) -> bool:
    """A table of plural forms (not a section): only CLDR category names, with 'other'."""
    return "other" in table and set(table) <= CLDR_FORMS


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Entry]:
    flat: dict[str, Entry] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and _is_plural(value):
            if not all(isinstance(form, str) for form in value.values()):
                raise CatalogError(f"{name}: every plural form must be a string")
            flat[name] = dict(value)
        elif isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise CatalogError(f"{name}: a text must be a string, not {type(value).__name__}")
    return flat


def placeholders(text: str) -> set[str]:
    """The {names} a text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def entry_placeholders(entry: Entry) -> set[str]:
    """The {names} a text expects, across all its plural forms."""
    if isinstance(entry, str):
        return placeholders(entry)
    return set().union(*(placeholders(form) for form in entry.values()))


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def plural_form(language: str, count: int) -> str:
    """The CLDR plural category ('one', 'many', 'other'...) of `count` in `language`."""
    return str(_locale(language).plural_form(count))


def plural_forms_needed(language: str) -> frozenset[str]:
    """The forms a counted text must give in `language`, by its CLDR plural rules."""
    return frozenset(_locale(language).plural_form.tags) | {"other"}


def _read(path_or_text: str, source: str) -> dict[str, Entry]:
    try:
        return _flatten(tomllib.loads(path_or_text))
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{source}: {error}") from None


class Catalog:
    def __init__(self, texts: Mapping[str, Mapping[str, Entry]]) -> None:
        self._texts = {language: dict(entries) for language, entries in texts.items()}

    @classmethod
    def load(cls, override_dir: Path | None = None) -> "Catalog":
        """The built-in catalogs, with a lab's own wording from `override_dir` on top."""
        texts: dict[str, dict[str, Entry]] = {}
        for language in LANGUAGES:
            builtin = resources.files("handlers") / "locales" / f"{language}.toml"
            texts[language] = _read(builtin.read_text("utf-8"), f"locales/{language}.toml")
        if override_dir is not None:
            for language in LANGUAGES:
                path = override_dir / f"{language}.toml"
                if path.exists():
                    override = _checked_override(texts[language], path, language)
                    texts[language].update(override)
        return cls(texts)

    def languages(self) -> tuple[str, ...]:
        return tuple(self._texts)

    def keys(self, language: str) -> set[str]:
        return set(self._texts[language])

    def counted_keys(self, language: str) -> set[str]:
        """The keys whose text has plural forms (chosen by `count`)."""
        return {key for key, entry in self._texts[language].items() if isinstance(entry, dict)}

    def forms(self, language: str, key: str) -> dict[str, str]:
        """A text's plural forms; a plain text is its own 'other' form."""
        entry = self._texts[language][key]
        return dict(entry) if isinstance(entry, dict) else {"other": entry}

    def raw(self, language: str, key: str) -> str:
        """The text as written; for a counted text, its 'other' form."""
        return self.forms(language, key)["other"]

    def text(self, language: str, key: str, **values: object) -> str:
        entry = self._texts[language][key]
        if isinstance(entry, dict):
            count = values.get(COUNT)
            if not isinstance(count, int) or isinstance(count, bool):
                raise TypeError(f"{key} shows a count: pass count=<int> (got {count!r})")
            entry = entry.get(plural_form(language, count), entry["other"])
        return entry.format_map(values)

    def translator(self, language: str) -> Translator:
        def translate(key: str, **values: object) -> str:
            return self.text(language, key, **values)

        return translate


def _checked_override(builtin: Mapping[str, Entry], path: Path, language: str) -> dict[str, Entry]:
    """A lab's override may reword a text but not invent keys or drop placeholders."""
    override = _read(path.read_text("utf-8"), str(path))
    for key, entry in override.items():
        if key not in builtin:
            raise CatalogError(f"{path}: unknown text key {key!r} (see handlers/locales/)")
        expected = entry_placeholders(builtin[key])
        if isinstance(entry, dict):
            _check_forms(path, key, entry, builtin[key], language)
        if entry_placeholders(entry) != expected:
            names = ", ".join(sorted(expected)) or "none"
            raise CatalogError(f"{path}: {key} must use the placeholders {{{names}}}")
        if isinstance(entry, dict) and placeholders(entry["other"]) != expected:
            names = ", ".join(sorted(expected)) or "none"
            raise CatalogError(f"{path}: {key}: its 'other' form must use {{{names}}}")
    return override


def _check_forms(
    path: Path, key: str, forms: dict[str, str], builtin: Entry, language: str
) -> None:
    """Plural forms only where the text shows a count, and every form the language needs."""
    if isinstance(builtin, str):
        raise CatalogError(f"{path}: {key} does not show a count: give one text, not forms")
    needed = plural_forms_needed(language)
    if set(forms) != needed:
        raise CatalogError(f"{path}: {key} must give the forms {', '.join(sorted(needed))}")

"""Editable text catalogs (handlers/locales/<lang>.toml), with optional per-lab overrides."""

import string
import tomllib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from handlers.settings import LANGUAGES

Translator = Callable[..., str]


class CatalogError(ValueError):
    """A catalog or override file that cannot be used; the message names the file and key."""


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise CatalogError(f"{name}: a text must be a string, not {type(value).__name__}")
    return flat


def placeholders(text: str) -> set[str]:
    """The {names} a text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _read(path_or_text: str, source: str) -> dict[str, str]:
    try:
        return _flatten(tomllib.loads(path_or_text))
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{source}: {error}") from None


class Catalog:
    def __init__(self, texts: Mapping[str, Mapping[str, str]]) -> None:
        self._texts = {language: dict(entries) for language, entries in texts.items()}

    @classmethod
    def load(cls, override_dir: Path | None = None) -> "Catalog":
        """The built-in catalogs, with a lab's own wording from `override_dir` on top."""
        texts: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            builtin = resources.files("handlers") / "locales" / f"{language}.toml"
            texts[language] = _read(builtin.read_text("utf-8"), f"locales/{language}.toml")
        if override_dir is not None:
            for language in LANGUAGES:
                path = override_dir / f"{language}.toml"
                if path.exists():
                    texts[language].update(_checked_override(texts[language], path))
        return cls(texts)

    def languages(self) -> tuple[str, ...]:
        return tuple(self._texts)

    def keys(self, language: str) -> set[str]:
        return set(self._texts[language])

    def raw(self, language: str, key: str) -> str:
        return self._texts[language][key]

    def text(self, language: str, key: str, **values: object) -> str:
        return self._texts[language][key].format_map(values)

    def translator(self, language: str) -> Translator:
        def translate(key: str, **values: object) -> str:
            return self.text(language, key, **values)

        return translate


def _checked_override(builtin: Mapping[str, str], path: Path) -> dict[str, str]:
    """A lab's override may reword a text but not invent keys or drop placeholders."""
    override = _read(path.read_text("utf-8"), str(path))
    for key, text in override.items():
        if key not in builtin:
            raise CatalogError(f"{path}: unknown text key {key!r} (see handlers/locales/)")
        if placeholders(text) != placeholders(builtin[key]):
            expected = ", ".join(sorted(placeholders(builtin[key]))) or "none"
            raise CatalogError(f"{path}: {key} must use the placeholders {{{expected}}}")
    return override

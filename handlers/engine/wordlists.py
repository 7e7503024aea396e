"""The catalogs' word lists ([input] words_*), read once per catalog rather than per message."""

from functools import lru_cache

from handlers.engine.catalog import Catalog
from handlers.engine.matching import IGNORED_KEY, MEANINGS, Words, words

GREETING_KEY = "input.words_greeting"


@lru_cache(maxsize=8)
def typed_words(catalog: Catalog) -> Words:
    """The words for yes, no, back and none, and those that tell no button apart, in every
    language together (a typed "yes" counts in Spanish too)."""
    languages = catalog.languages()
    lists = {m: [catalog.raw(lang, f"input.words_{m}") for lang in languages] for m in MEANINGS}
    return Words.from_lists(lists, [catalog.raw(lang, IGNORED_KEY) for lang in languages])


@lru_cache(maxsize=8)
def greeting_words(catalog: Catalog) -> frozenset[str]:
    """Words that tell no problem ("hola", "buenas tardes", "por favor"), every language."""
    return frozenset(
        word
        for lang in catalog.languages()
        for key in (GREETING_KEY, IGNORED_KEY)
        for word in words(catalog.raw(lang, key).replace(",", " "))
    )

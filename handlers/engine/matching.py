"""Which button a typed answer names: "sí", "yes", "movilidad" or "2" instead of a tap.

Pure: the options (each with its label in every language) and the words from the catalogs
come in; the id of the one option the text names comes out, or None when it names none or
more than one (then the question is asked again).
"""

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from handlers.engine.buttons import ButtonId
from handlers.engine.textinput import fold

# Word lists in the catalogs ([input] words_<meaning>): what a typed word may mean, and the
# button values that carry that meaning (an "updates" yes is "on"; "off" unsubscribes).
MEANINGS: Mapping[str, frozenset[str]] = {
    "yes": frozenset(("yes", "on")),
    "no": frozenset(("no", "off")),
    "back": frozenset(("back",)),
    # "I have none" / "skip": "no" or "ninguna" at the idea, "no" at the contact question.
    "none": frozenset(("none", "skip")),
}
IGNORED_KEY = "input.words_ignored"


@dataclass(frozen=True, slots=True)
class Option:
    """A button as typing sees it: its id and its label in each language."""

    id: str
    labels: tuple[str, ...]

    @property
    def value(self) -> str:
        """What the button stands for: "consent:yes" -> "yes", "event:12:no" -> "no"."""
        return ButtonId.parse(self.id).value


@dataclass(frozen=True, slots=True)
class Words:
    """The catalogs' word lists, every language together (a typed "yes" counts in Spanish)."""

    meanings: Mapping[str, frozenset[str]]  # "yes" -> {"si", "yes", "claro", "de acuerdo"...}
    ignored: frozenset[str]  # words that never tell buttons apart: "y", "de", "por favor"...

    @classmethod
    def from_lists(cls, lists: Mapping[str, Iterable[str]], ignored: Iterable[str]) -> "Words":
        """From comma-separated catalog texts (one per language) to folded phrases."""
        meanings = {meaning: frozenset(_items(texts)) for meaning, texts in lists.items()}
        return cls(meanings, frozenset(w for text in _items(ignored) for w in text.split()))


def _items(texts: Iterable[str]) -> list[str]:
    return [phrase(item) for text in texts for item in text.split(",") if phrase(item)]


def words(text: str) -> list[str]:
    """The folded words of a text: no case, accents, emoji or punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(
        ch if unicodedata.category(ch)[0] in "LN" else " "
        for ch in decomposed
        if unicodedata.category(ch) != "Mn"  # the accents NFKD split off
    )
    return kept.split()


def phrase(text: str) -> str:
    return " ".join(words(text))


def _meanings(option: Option, known: Words) -> set[str]:
    """The phrases that name this option by what it means (its value, or a word for it)."""
    value = option.value
    names = {phrase(value)} - {""}
    for meaning, values in MEANINGS.items():
        if value in values:
            names |= set(known.meanings.get(meaning, ()))
            names.add(meaning)
    return names


def _vocabulary(option: Option, known: Words) -> set[str]:
    """Every word that belongs to this option: of its labels, its value and its meaning."""
    found = {w for label in option.labels for w in words(label)}
    found |= set(words(option.value))
    # A one-word synonym is a word of the option; a longer one counts only whole ("no acepto"
    # must not lend "acepto" to the "no" button).
    return found | {name for name in _meanings(option, known) if " " not in name}


def _base(word: str) -> str:
    """A word without its plural or its gender ending: "anónimo" and "anónima", "foto" and
    "fotos", "funcionaria" and "funcionario" name the same button. Short words ("no", "sí")
    are kept whole."""
    if len(word) > 4 and word.endswith("s"):
        word = word[:-1]
    if len(word) > 3 and word[-1] in "ao":
        word = word[:-1]
    return word


def _bases(found: Iterable[str]) -> set[str]:
    return {_base(word) for word in found}


def _only(ids: Iterable[str]) -> str | None:
    unique = set(ids)
    return unique.pop() if len(unique) == 1 else None


def match(text: str, options: Sequence[Option], known: Words, *, free_text: bool) -> str | None:
    """The id of the one option the text names, else None.

    At a step whose answer is free text (a problem, a name) only a whole label, or a whole
    word for a button ("no", "ninguna", "volver"), counts: "no tengo agua" is an idea, not
    the "no" of a button.
    """
    typed = fold(text)
    if not typed or not options:
        return None
    exact = [o.id for o in options if any(fold(label) == typed for label in o.labels)]
    if exact:
        return _only(exact)
    if free_text:
        return _only(o.id for o in options if phrase(text) in _meanings(o, known))
    if typed.isdigit():  # the button's number, as shown in a list
        index = int(typed) - 1
        return options[index].id if 0 <= index < len(options) else None
    said = phrase(text)
    named = [o.id for o in options if said in _meanings(o, known)]
    if named:
        return _only(named)
    wanted = set(said.split()) - known.ignored
    if not wanted:
        return None
    return _only(o.id for o in options if _bases(wanted) <= _bases(_vocabulary(o, known)))

"""The typed-answer matcher on its own: every fixed question's buttons, in both languages,
against labels written any which way, yes/no words, and text that names nothing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.engine.catalog import Catalog
from handlers.engine.matching import IGNORED_KEY, MEANINGS, Option, Words, match, phrase
from handlers.engine.settings import DEFAULT_CATEGORIES

CATALOG = Catalog.load()
LANGUAGES = CATALOG.languages()
# Every question with fixed buttons: its id prefix and value -> catalog key of the label.
QUESTIONS = {
    "role": {"resident": "role.resident", "official": "role.official",
             "contractor": "role.contractor"},
    "consent": {"yes": "consent.accept", "no": "consent.decline"},
    "focus": {"external": "focus.external", "internal": "focus.internal"},
    "identity": {"anonymous": "identity.anonymous", "named": "identity.named"},
    "publish": {"photos": "publish.photos", "text": "publish.text", "no": "publish.no"},
    "summary": {"send": "summary.send", "change": "summary.change", "discard": "summary.cancel"},
    "cancel": {"yes": "cancel.yes", "no": "cancel.no"},
    "restart": {"yes": "restart.yes", "no": "restart.no"},
    "resume": {"continue": "resume.continue", "restart": "resume.restart"},
    "upd": {"on": "consent.updates_yes", "no": "consent.updates_no"},
    "sub": {"yes": "subscribe.yes", "no": "subscribe.no"},
    "ev:7": {"yes": "events.yes", "no": "events.no"},
    "language": {"es": "language.es", "en": "language.en"},
}  # fmt: skip


def _options(prefix: str) -> tuple[Option, ...]:
    return tuple(
        Option(f"{prefix}:{value}", tuple(CATALOG.text(lang, key) for lang in LANGUAGES))
        for value, key in QUESTIONS[prefix].items()
    )


STEPS = {prefix: _options(prefix) for prefix in QUESTIONS}
STEPS["category"] = tuple(
    Option(f"category:{c.id}", tuple(c.label(lang) for lang in LANGUAGES))
    for c in DEFAULT_CATEGORIES
)
WORDS = Words.from_lists(
    {m: [CATALOG.raw(lang, f"input.words_{m}") for lang in LANGUAGES] for m in MEANINGS},
    [CATALOG.raw(lang, IGNORED_KEY) for lang in LANGUAGES],
)
ACCENTS = str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN")


@st.composite
def written(draw: st.DrawFn, label: str) -> str:
    """The label as someone might type it: any case, accents or not, emoji, punctuation."""
    text = "".join(ch.upper() if draw(st.booleans()) else ch.lower() for ch in label)
    if draw(st.booleans()):
        text = text.translate(ACCENTS)
    before = draw(st.sampled_from(("", "👉 ", "¡", " ")))
    after = draw(st.sampled_from(("", "!", ".", " 👍", "  ")))
    return before + text + after


@pytest.mark.parametrize("step", sorted(STEPS))
@given(data=st.data())
def test_a_label_written_any_way_in_either_language_is_its_button(step: str, data) -> None:
    options = STEPS[step]
    option = data.draw(st.sampled_from(options))
    label = data.draw(st.sampled_from(option.labels))
    assert match(data.draw(written(label)), options, WORDS, free_text=False) == option.id
    # At a free-text question too: the whole label is the button.
    assert match(label, options, WORDS, free_text=True) == option.id


@pytest.mark.parametrize("step", sorted(STEPS))
@given(data=st.data())
def test_yes_and_no_words_of_either_language_answer_a_yes_no_question(step: str, data) -> None:
    options = STEPS[step]
    meaning = data.draw(st.sampled_from(("yes", "no")))
    word = data.draw(st.sampled_from(sorted(WORDS.meanings[meaning])))
    meant = [o.id for o in options if o.value in MEANINGS[meaning]]
    found = match(data.draw(written(word)), options, WORDS, free_text=False)
    if len(meant) == 1:
        assert found == meant[0]
    else:  # not a yes/no question: a yes names no button (or one whose label says it)
        assert found is None or word in " ".join(t.casefold() for t in _labels(options, found))


def _labels(options: tuple[Option, ...], option_id: str) -> tuple[str, ...]:
    return next(o.labels for o in options if o.id == option_id)


@pytest.mark.parametrize("step", sorted(STEPS))
@given(text=st.text(max_size=30))
def test_at_a_free_text_question_only_a_whole_label_is_a_button(step: str, text: str) -> None:
    """...or a whole word for it ("no" for "I have none yet"), never a word among others."""
    options = STEPS[step]
    found = match(text, options, WORDS, free_text=True)
    value = (found or "").rpartition(":")[2]
    said = phrase(text)
    if found is not None and (said == phrase(value) or any(
        said in WORDS.meanings[meaning] for meaning, values in MEANINGS.items() if value in values
    )):  # fmt: skip
        return
    assert found is None or any(
        "".join(ch for ch in text.casefold() if ch.isalnum()).translate(ACCENTS).lower()
        == "".join(ch for ch in label.casefold() if ch.isalnum()).translate(ACCENTS).lower()
        for label in _labels(options, found)
    )


@pytest.mark.parametrize(
    ("step", "typed", "expected"),
    [("category", "movilidad", "category:mobility"), ("category", "Transport", "category:mobility"),
     ("category", "y", None), ("category", "and", None), ("category", "salud y educación", None),
     ("category", "3", "category:environment"), ("category", "espacio", "category:public_space"),
     ("role", "funcionario", "role:official"), ("role", "contractor", "role:contractor"),
     ("publish", "sí", None), ("publish", "sin fotos", "publish:text"),
     ("publish", "no", "publish:no"), ("publish", "con fotos", "publish:photos"),
     ("summary", "enviar", "summary:send"), ("summary", "sí", None),
     ("consent", "acepto", "consent:yes"), ("consent", "Sí, acepto ✅", "consent:yes"),
     ("consent", "no acepto", "consent:no"), ("consent", "yes no", None),
     ("upd", "Sí por favor", "upd:on"), ("ev:7", "voy", "ev:7:yes"),
     ("resume", "seguir", "resume:continue"), ("resume", "sí", None),
     ("identity", "anonimo", "identity:anonymous"), ("identity", "anonima", "identity:anonymous"),
     ("identity", "Anónimos", "identity:anonymous"), ("consent", "no acepto", "consent:no"),
     ("role", "funcionaria", "role:official"),
     ("role", "habitantes", "role:resident"), ("role", "contratistas", "role:contractor"),
     ("publish", "sin foto", "publish:text"), ("identity", "no", None),
     ("language", "english", "language:en"), ("focus", "interna", "focus:internal"),
     ("focus", "external", "focus:external"), ("cancel", "9", None)],
)  # fmt: skip
def test_typed_words_name_one_button_or_none(step: str, typed: str, expected: str | None) -> None:
    assert match(typed, STEPS[step], WORDS, free_text=False) == expected

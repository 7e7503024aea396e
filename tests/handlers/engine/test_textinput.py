"""Reading typed text: cleaning, limits, coordinates, contacts and label matching."""

from hypothesis import given
from hypothesis import strategies as st

from handlers.engine.textinput import (
    check_text,
    clean,
    fold,
    has_words,
    looks_like_contact,
    valid_coordinates,
)


def test_clean_drops_control_characters_and_outer_space() -> None:
    assert clean("  hola\x00 mundo\u202e \n") == "hola mundo"
    assert clean("a\n\n\n\n\nb") == "a\n\nb"


def test_emoji_with_joiners_survive_cleaning() -> None:
    family = "👨\u200d👩\u200d👧"
    assert clean(f"Familia {family}") == f"Familia {family}"


def test_words_and_no_words() -> None:
    assert has_words("Calle 80")
    assert has_words("80")
    assert not has_words("🚧😡!!")


def test_limits() -> None:
    assert check_text("", min_chars=2, max_chars=5).key == "input.empty"
    assert check_text("🙂", min_chars=2, max_chars=5).key == "input.emoji_only"
    assert check_text("a", min_chars=2, max_chars=5).key == "input.too_short"
    assert check_text("abcdef", min_chars=2, max_chars=5).key == "input.too_long"
    assert check_text("abc", min_chars=2, max_chars=5) is None


def test_coordinates() -> None:
    assert valid_coordinates(4.5, -74.1)
    assert valid_coordinates(-90, 180)
    assert not valid_coordinates(200, 0)
    assert not valid_coordinates(0, float("inf"))


def test_contacts() -> None:
    assert looks_like_contact("3001234567")
    assert looks_like_contact("+57 (300) 123-4567")
    assert looks_like_contact("ana.perez@correo.gov.co")
    assert not looks_like_contact("no tengo")
    assert not looks_like_contact("123")
    assert not looks_like_contact("ana@correo")


def test_fold_ignores_case_accents_and_emoji() -> None:
    assert fold("🏛️ Funcionario PÚBLICO") == fold("funcionario publico")


@given(st.text())
def test_clean_never_fails_and_is_stable(text: str) -> None:
    once = clean(text)
    assert clean(once) == once
    assert once == once.strip()


@given(st.text(max_size=3000))
def test_check_text_always_answers(text: str) -> None:
    problem = check_text(clean(text), min_chars=10, max_chars=1500)
    assert problem is None or problem.key.startswith("input.")

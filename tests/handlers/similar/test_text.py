"""The problem's words, without where it happens: what the model compares (handlers/similar)."""

import pytest

from handlers.similar.text import problem_words


@pytest.mark.parametrize(
    ("told", "compared"),
    [
        ("Hay un bache enorme en la vía principal", "Hay un bache enorme"),
        ("Los carros pasan muy rápido por la vía principal", "Los carros pasan muy rápido"),
        ("Hay un hueco gigante en la carrera 7 con 45", "Hay un hueco gigante"),
        ("Los buses no paran frente al colegio San Martín", "Los buses no paran"),
        ("The main road is full of potholes near the market", "The main road is full of potholes"),
        ("En la Calle 80 hay un hueco", "hay un hueco"),
    ],
)
def test_the_phrase_that_says_where_is_left_out(told: str, compared: str) -> None:
    assert problem_words(told) == compared


@pytest.mark.parametrize(
    ("told", "compared"),
    [
        # Only the place goes: the words after it stay.
        ("Hay un hueco en la calle y los carros se dañan", "Hay un hueco y los carros se dañan"),
        ("La vía está rota", "La vía está rota"),  # the place as the subject is the problem
        ("en la vía principal", "en la vía principal"),  # nothing but a place: kept whole
        ("Se acumula la basura", "Se acumula la basura"),
        ("Roban en la esquina de la panadería", "Roban de la panadería"),  # a lowercase name
    ],
)
def test_the_problem_itself_is_kept(told: str, compared: str) -> None:
    assert problem_words(told) == compared

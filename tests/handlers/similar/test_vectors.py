"""`cosines`: the whole candidate list scored at once (a neighbourhood-only lookup in a city
compares thousands) gives each candidate the score it gets alone, zeros included."""

from hypothesis import given
from hypothesis import strategies as st

from handlers.similar.vectors import cosine, cosines, pack, unpack

_values = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)


@given(
    st.lists(_values, min_size=8, max_size=8),
    st.lists(st.lists(_values, min_size=8, max_size=8), min_size=1, max_size=40),
)
def test_all_at_once_is_each_one_alone(query: list[float], stored: list[list[float]]) -> None:
    packed = [pack(vector) for vector in stored]
    alone = [cosine(query, unpack(data)) for data in packed]
    together = cosines(query, packed)
    assert len(together) == len(alone)
    assert all(abs(a - b) < 1e-9 for a, b in zip(together, alone, strict=True))


def test_all_zeros_score_zero_and_no_candidates_no_scores() -> None:
    assert cosines([1.0, 0.0], [pack([0.0, 0.0]), pack([0.5, 0.0])]) == [0.0, 1.0]
    assert cosines([0.0, 0.0], [pack([0.5, 0.5])]) == [0.0]
    assert cosines([1.0, 0.0], []) == []

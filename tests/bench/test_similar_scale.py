"""`python -m bench similar-scale` still works end to end on a small database: every lookup
is measured with its candidates, residents reach the category answer on the real dispatcher
both ways, the import stores a vector per idea, and the labelled set is scored (no timings
are checked here)."""

from pathlib import Path

import pytest

from bench import report, similar_scale


def test_the_similar_scale_benchmark_measures_every_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")
    result = similar_scale.run(2000, lookups=20, turns=2, import_rows=10,
                               cache=tmp_path / "cache", variants_count=64)  # fmt: skip

    lookups = result["lookups"]["rows"]
    assert len(lookups) == 20
    assert {r["kind"] for r in lookups} >= {"point", "picked"}
    assert sum(r["candidates"] for r in lookups) > 0  # the queries' places are where ideas are
    # The text is encoded exactly when there was something near to compare it with.
    assert all(r["encoded"] == (r["candidates"] > 0) for r in lookups)
    assert set(result["lookups"]["plans"]) == {"point", "picked"}
    turns = result["turns"]
    assert len(turns["encoder_ms"]) == len(turns["none_ms"]) == len(turns["added_ms"]) == 2
    assert result["import"]["imported"] == result["import"]["vectors"] == 10
    assert result["cost"]["rss_loaded_mib"] > result["cost"]["rss_before_mib"]
    assert result["quality"]["pairs"] >= 100
    saved = {p.name for p in (tmp_path / "results").glob("*.md")}
    assert saved == {"similar_scale.md", "similar_scale_turn.md", "similar_scale_cost.md",
                     "similar_scale_quality.md"}  # fmt: skip


def test_the_ideas_spread_over_the_city_and_the_lab_s_categories(tmp_path: Path) -> None:
    """The generated data is the shape the lookup narrows by: points across a city-sized
    area, a share with a neighbourhood only, every category, a vector for every idea."""
    import sqlite3

    path = similar_scale.prepared(3000, tmp_path, variants_count=64)
    with sqlite3.connect(path) as connection:
        total, points, vectors = connection.execute(
            "SELECT count(*), count(latitude), (SELECT count(*) FROM idea_vectors) FROM ideas"
        ).fetchone()
        south, north = connection.execute(
            "SELECT min(latitude), max(latitude) FROM ideas"
        ).fetchone()
        categories = {c for (c,) in connection.execute("SELECT DISTINCT category FROM ideas")}
    connection.close()
    assert total == vectors == 3000
    assert 0.7 < points / total < 0.9
    assert (north - south) * similar_scale.METERS_PER_DEGREE > 0.9 * similar_scale.SIDE_METERS
    assert categories == set(similar_scale.WEIGHTS)

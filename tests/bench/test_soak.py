"""A short crash run in the suite (`make soak` does at least 10 kills): `minga run` killed with
SIGKILL three times while residents write ideas and a broadcast goes out."""

from pathlib import Path

from bench.soak import soak


async def test_killed_three_times_nothing_is_lost_and_nothing_missed(tmp_path: Path) -> None:
    report = await soak(kills=3, residents=6, audience=60, seed=7, folder=tmp_path)
    assert report["kills"] == 3
    assert report["residents_with_one_idea"] == 6 and report["residents_with_more"] == 0
    assert report["broadcast_missed"] == 0
    assert report["broadcast_repeats"] <= 3  # at most the ones in flight at each kill
    assert report["integrity_check"] == "ok"

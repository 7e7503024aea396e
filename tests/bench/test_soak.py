"""Short crash runs in the suite (`make soak` does at least 10 kills): `minga run` killed with
SIGKILL three times while residents write ideas and a broadcast goes out, in polling mode and
in webhook mode. The residents never send anything twice: a message or a reply the kills lost
would leave its resident waiting, and fail here, rather than be covered by a resend."""

from pathlib import Path

import pytest

from bench.soak import Plan, Report, soak

PATIENT = 30.0  # seconds a resident waits for each answer (kills and restarts included)


def _nothing_lost(report: Report) -> None:
    assert report["kills"] == 3
    assert report["residents_left_waiting"] == 0
    assert report["residents_with_one_idea"] == 6 and report["residents_with_more"] == 0
    assert report["broadcast_missed"] == 0
    assert report["broadcast_repeats"] <= 3  # at most the ones in flight at each kill
    assert report["integrity_check"] == "ok"


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_killed_three_times_nobody_is_left_waiting_and_each_idea_is_filed_once(
    tmp_path: Path, webhook: bool
) -> None:
    plan = Plan(webhook=webhook, resend=False, patience=PATIENT)
    report = await soak(kills=3, residents=6, audience=60, seed=7, folder=tmp_path, plan=plan)
    _nothing_lost(report)
    if webhook:  # the kills did refuse deliveries, which Telegram then posted again
        assert report["webhook_deliveries_retried"] > 0

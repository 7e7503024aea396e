"""Issue 19's first proof, end to end against the fake Bot API: three `minga run` workers in
webhook mode on one PostgreSQL database, behind a round-robin load balancer, while 1,000
residents do the intake over webhooks and one worker, chosen at random, is SIGKILLed every 4
seconds and started again. Residents never send anything twice (Telegram posts again only a
delivery that got no 200): an update or a reply the kills lost would leave its resident
waiting, and fail here.

A few minutes of three workers' CPU: it runs under `make test-postgres` only (where
MINGA_TEST_DATABASE names the server), not again in the SQLite suite."""

from pathlib import Path

import pytest

from bench.soak_workers import Plan, soak_workers
from tests.fakes.postgres import TEST_DSN, fresh_database

RESIDENTS = 1000
KILL_EVERY = 4.0  # seconds

pytestmark = pytest.mark.skipif(
    TEST_DSN is None, reason="the workers' soak runs under make test-postgres only"
)


async def test_a_thousand_intakes_over_three_workers_one_killed_every_few_seconds(
    tmp_path: Path,
) -> None:
    assert TEST_DSN is not None
    plan = Plan(workers=3, residents=RESIDENTS, kill_every=KILL_EVERY)
    with fresh_database(TEST_DSN) as url:
        report = await soak_workers(url, plan, folder=tmp_path)
    assert report["kills"] >= 8, report  # a kill every few seconds, all through the run
    assert report["updates"] >= RESIDENTS * 11, report  # every step of every intake
    # Every idea filed exactly once.
    assert report["residents_with_one_idea"] == RESIDENTS, report
    assert report["residents_with_more"] == 0, report
    # No update lost: each one Telegram delivered is recorded as handled, and no resident
    # waits for an answer that never comes.
    assert report["updates_lost"] == 0, report
    assert report["residents_left_waiting"] == 0, report
    # Every resident's replies in order; a reply comes again only after a kill, once per kill.
    assert report["residents_replies_out_of_order"] == 0, report
    assert report["replies_repeated_without_a_kill"] == 0, report
    # The kills did cost deliveries, which Telegram then posted again.
    assert report["webhook_deliveries_retried"] > 0, report
